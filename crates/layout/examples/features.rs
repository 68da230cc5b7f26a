//! `cargo run -p claimscan-layout --example features -- --data DIR --out FILE.csv [--split train]
//! [--data DIR2 ...] [--cord CORD_TRAIN_DIR]`: exports the per-word features and truth labels of
//! the generator's documents (and optionally CORD receipts) for `pipelines/layout/train.py`, with
//! the same extractor the model reader runs at inference.
use std::io::{BufWriter, Write};
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let all = |k: &str| -> Vec<String> {
        args.windows(2)
            .filter(|w| w[0] == k)
            .map(|w| w[1].clone())
            .collect()
    };
    let one = |k: &str| all(k).into_iter().next();
    let out = one("--out").expect("--out FILE");
    let split = one("--split").unwrap_or_else(|| "train".into());
    let mut w = BufWriter::new(std::fs::File::create(&out).expect("create --out"));
    let (mut docs, mut rows) = (0usize, 0usize);
    for data in all("--data") {
        for f in claimscan_layout::truth::truth_files(Path::new(&data)) {
            let t = claimscan_layout::truth::Truth::load(&f).expect("truth");
            if split != "all" && t.split != split {
                continue;
            }
            rows += claimscan_layout::features::export_truth(&t, &mut w, docs == 0).expect("write");
            docs += 1;
        }
    }
    let mut receipts = 0;
    for cord in all("--cord") {
        let mut files: Vec<_> = std::fs::read_dir(Path::new(&cord).join("json"))
            .expect("CORD json dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let name = f.file_stem().unwrap().to_string_lossy().to_string();
            if let Some(r) =
                claimscan_layout::external::cord_receipt(&std::fs::read(&f).unwrap(), &name)
            {
                rows += claimscan_layout::features::export_labelled(
                    &r.doc,
                    &r.tags,
                    &format!("cord_{name}"),
                    "cord",
                    &mut w,
                )
                .expect("write");
                receipts += 1;
            }
        }
    }
    w.flush().expect("flush");
    eprintln!(
        "features: {docs} documents + {receipts} CORD receipts, {rows} words, {} features (schema {}) -> {out}",
        claimscan_layout::features::count(),
        claimscan_layout::features::SCHEMA_VERSION
    );
}
