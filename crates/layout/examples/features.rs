//! `cargo run -p claimscan-layout --example features -- --data DIR --out FILE.csv [--split train]`:
//! exports the per-word features and truth labels of the generator's documents for
//! `pipelines/layout/train.py` (the same extractor the model reader runs at inference).
use std::io::{BufWriter, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let data = get("--data").expect("--data DIR");
    let out = get("--out").expect("--out FILE");
    let split = get("--split").unwrap_or_else(|| "train".into());
    let files = claimscan_layout::truth::truth_files(std::path::Path::new(&data));
    let mut w = BufWriter::new(std::fs::File::create(&out).expect("create --out"));
    let (mut docs, mut rows) = (0usize, 0usize);
    for f in files {
        let t = claimscan_layout::truth::Truth::load(&f).expect("truth");
        if split != "all" && t.split != split {
            continue;
        }
        rows += claimscan_layout::features::export_truth(&t, &mut w, docs == 0).expect("write");
        docs += 1;
    }
    w.flush().expect("flush");
    eprintln!(
        "features: {docs} documents, {rows} words, {} features (schema {}) -> {out}",
        claimscan_layout::features::count(),
        claimscan_layout::features::SCHEMA_VERSION
    );
}
