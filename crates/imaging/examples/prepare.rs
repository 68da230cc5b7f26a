//! Writes a page image cleaned the way the OCR path cleans it, so that other tools (the
//! `tesseract` CLI, an image viewer) can be run on exactly what our engine sees.
//!
//! `cargo run --example prepare -p claimscan-imaging -- scan|photo|none IN.png OUT.png`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, input, output] = args.as_slice() else {
        eprintln!("usage: prepare scan|photo|none IN OUT");
        std::process::exit(2);
    };
    let opts = match kind.as_str() {
        "scan" => claimscan_imaging::PrepareOptions::scan(),
        "photo" => claimscan_imaging::PrepareOptions::photo(),
        _ => claimscan_imaging::PrepareOptions::none(),
    };
    let gray = match image::open(input) {
        Ok(i) => i.to_luma8(),
        Err(e) => {
            eprintln!("{input}: {e}");
            std::process::exit(1);
        }
    };
    let p = claimscan_imaging::prepare(gray, &opts);
    println!("{input}: {:?}", p.info);
    if let Err(e) = p.image.save(output) {
        eprintln!("{output}: {e}");
        std::process::exit(1);
    }
}
