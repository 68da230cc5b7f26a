//! Writes a page image cleaned the way the OCR path cleans it, so that other tools (the
//! `tesseract` CLI, an image viewer) can be run on exactly what our engine sees.
//!
//! `cargo run --example prepare -p claimscan-imaging -- scan|scan-unlit|scan-straight|photo|none IN.png OUT.png`
//! (with `SHARPNESS=1`: print the input's `edge_sharpness` instead, which decides whether the
//! photo clean-up sharpens it; with `MOTION=1`: print the four deepest camera-shake candidates
//! of `deblur::motion_candidates` on the photo cleaned up to the shake step).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, input, output] = args.as_slice() else {
        eprintln!("usage: prepare scan|scan-unlit|scan-straight|photo|none IN OUT");
        std::process::exit(2);
    };
    let opts = match kind.as_str() {
        "scan" => claimscan_imaging::PrepareOptions::scan(),
        "photo" => claimscan_imaging::PrepareOptions::photo(),
        // the scan clean-up without lighting normalisation, to see what that step costs
        "scan-unlit" => claimscan_imaging::PrepareOptions {
            normalise_lighting: false,
            ..claimscan_imaging::PrepareOptions::scan()
        },
        // the scan clean-up without the deskew rotation
        "scan-straight" => claimscan_imaging::PrepareOptions {
            deskew: false,
            ..claimscan_imaging::PrepareOptions::scan()
        },
        _ => claimscan_imaging::PrepareOptions::none(),
    };
    let gray = match image::open(input) {
        Ok(i) => i.to_luma8(),
        Err(e) => {
            eprintln!("{input}: {e}");
            std::process::exit(1);
        }
    };
    if std::env::var_os("MOTION").is_some() {
        // the photo clean-up up to the shake step (sheet, lighting), then the deepest cepstrum
        // dips: what the reader's shake retry would divide out
        let upto = claimscan_imaging::PrepareOptions {
            rescale: false,
            deskew: false,
            sharpen: None,
            ..claimscan_imaging::PrepareOptions::photo()
        };
        let g = claimscan_imaging::prepare(gray, &upto).image;
        for m in claimscan_imaging::deblur::motion_candidates(&g, 4) {
            println!(
                "{input}: length {:.1} angle {:.0} strength {:.2}",
                m.length, m.angle, m.strength
            );
        }
        return;
    }
    if std::env::var_os("SHARPNESS").is_some() {
        println!(
            "{input}: sharpness {:.3}",
            claimscan_imaging::edge_sharpness(&gray)
        );
        return;
    }
    let started = std::time::Instant::now();
    let p = claimscan_imaging::prepare(gray, &opts);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("{input}: {ms:.0} ms, {:?}", p.info);
    if let Err(e) = p.image.save(output) {
        eprintln!("{output}: {e}");
        std::process::exit(1);
    }
}
