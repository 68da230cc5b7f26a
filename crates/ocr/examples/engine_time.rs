//! Times the warm in-process engine alone (no decode, no clean-up) against the `tesseract` CLI on
//! the same page images: `cargo run --release --example engine_time -p claimscan-ocr -- PNG...`.
use std::time::Instant;

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let opts = claimscan_ocr::OcrOptions {
        languages: "eng".into(),
        ..Default::default()
    };
    claimscan_ocr::warm_up(&opts).expect("engine");
    let dpi: f32 = std::env::var("DPI")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300.0);
    let scale: f32 = std::env::var("SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let (mut ours, mut decode) = (0.0, 0.0);
    for f in &files {
        let t = Instant::now();
        let mut img = image::open(f).expect("image").into_luma8();
        if scale != 1.0 {
            let (w, h) = img.dimensions();
            img = image::imageops::resize(
                &img,
                (w as f32 * scale) as u32,
                (h as f32 * scale) as u32,
                image::imageops::FilterType::Triangle,
            );
        }
        decode += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let words = claimscan_ocr::recognise(&img, dpi * scale, &opts).expect("ocr");
        let dt = t.elapsed().as_secs_f64();
        ours += dt;
        println!("{f}: {} words, {:.0} ms", words.len(), dt * 1000.0);
    }
    let n = files.len().max(1) as f64;
    println!(
        "decode {:.0} ms/page, engine {:.0} ms/page",
        decode * 1000.0 / n,
        ours * 1000.0 / n
    );
}
