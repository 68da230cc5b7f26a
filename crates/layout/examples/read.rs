//! `cargo run -p claimscan-layout --example read -- [--model DIR] FILE...`: prints the invoice read
//! from each file as JSON. FILE is a generator truth file (`*.truth.json`, its words) or word JSON
//! (`{"pages":[{"width","height","words":[{"text","bbox"}]}]}`, as `claimscan extract` accepts).
use std::path::Path;

use claimscan_doc::{Document, PageSource, SourceInfo, WordsInput, SCHEMA_VERSION};
use claimscan_layout::{truth::Truth, InvoiceReader};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut reader = InvoiceReader::rules();
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--model" {
            let dir = it.next().expect("--model DIR");
            reader = InvoiceReader::load(Path::new(dir))
                .unwrap_or_else(|e| panic!("{dir}: {e} ({})", e.code()));
        } else {
            files.push(a.clone());
        }
    }
    for f in files {
        let doc = if f.ends_with(".truth.json") {
            Truth::load(Path::new(&f)).expect("truth").document()
        } else {
            let bytes = std::fs::read(&f).expect("read");
            let pages = WordsInput::parse(&bytes).expect("word JSON").into_pages();
            let mut d = Document {
                schema_version: SCHEMA_VERSION.into(),
                source: SourceInfo {
                    path: f.clone(),
                    format: "words_json".into(),
                    bytes: bytes.len() as u64,
                    sha256: String::new(),
                },
                pages,
            };
            for p in &mut d.pages {
                p.source = PageSource::Input;
            }
            d
        };
        let inv = reader.read(&doc);
        println!("{}", serde_json::to_string_pretty(&inv).expect("json"));
    }
}
