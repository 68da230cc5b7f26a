//! Helpers shared by the end-to-end tests in `tests/`: paths, fixtures, and builders of bad input.

use std::path::{Path, PathBuf};

/// The checkout's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The generator's committed fixture set (see training-data/README.md).
pub fn fixtures_dir() -> PathBuf {
    root().join("training-data/fixtures")
}

/// Fixture documents (PDFs and images) with their truth files, sorted.
pub fn fixture_docs() -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut out = Vec::new();
    let mut stack = vec![fixtures_dir()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let ext = p
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if matches!(
                ext.as_str(),
                "pdf" | "jpg" | "jpeg" | "png" | "tif" | "tiff" | "webp"
            ) {
                let truth = truth_for(&p);
                out.push((p, truth));
            }
        }
    }
    out.sort();
    out
}

fn truth_for(doc: &Path) -> Option<PathBuf> {
    let stem = doc.file_stem()?.to_string_lossy().to_string();
    let t = doc.with_file_name(format!("{stem}.truth.json"));
    t.exists().then_some(t)
}

/// A syntactically minimal PDF with `pages` pages, each showing `text` in Helvetica.
/// The cross-reference table is computed, so strict readers accept it.
pub fn minimal_pdf(pages: usize, text: &str) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    // 1: catalog, 2: pages, 3: font, then (page, content) pairs.
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages
    ));
    objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".into());
    for i in 0..pages {
        let content_id = 5 + 2 * i;
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ));
        let stream = format!(
            "BT /F1 12 Tf 72 770 Td ({}) Tj 0 -20 Td (Page {} of {}) Tj ET",
            text.replace('(', "\\(").replace(')', "\\)"),
            i + 1,
            pages
        );
        objects.push(format!(
            "<< /Length {} >>\nstream\n{}\nendstream",
            stream.len(),
            stream
        ));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, body).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A real PNG of `w`x`h` white pixels: tiny on disk, huge decoded (a decompression bomb).
pub fn bomb_png(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::NoFilter,
    );
    image::ImageEncoder::write_image(enc, img.as_raw(), w, h, image::ExtendedColorType::L8)
        .expect("encode");
    out
}

/// A photo of something that is not a document: smooth colour gradients and soft blobs, as a
/// JPEG. Stands in for "a cat photo": texture, no text.
pub fn no_text_photo() -> Vec<u8> {
    let (w, h) = (1200u32, 900u32);
    let mut img = image::RgbImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let blob = ((fx * 9.0).sin() * (fy * 7.0).cos() * 40.0) as i32;
        let fur = (((x * 7 + y * 13) % 17) as i32) - 8;
        let r = (140.0 + 60.0 * fx) as i32 + blob + fur;
        let g = (110.0 + 40.0 * fy) as i32 + blob / 2 + fur;
        let b = (80.0 + 30.0 * (1.0 - fx)) as i32 + fur;
        *p = image::Rgb([
            r.clamp(0, 255) as u8,
            g.clamp(0, 255) as u8,
            b.clamp(0, 255) as u8,
        ]);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("encode");
    out
}

/// Normalises a string for "does this value appear in the text" checks: lowercase, no spaces.
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(|c| c.to_lowercase())
        .collect()
}
