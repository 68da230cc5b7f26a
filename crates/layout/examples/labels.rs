//! `cargo run -p claimscan-layout --example labels -- MODEL_DIR DOC.words.json [LINES]`: the
//! first LINES (default 40) text lines of each page of a read document (a `--read-cache` file of
//! `claimscan model eval`) with each word's model label and rule label (`word/model` or
//! `word/model|rule` where they differ), after the header mending the reader applies. For finding
//! why a value read on a scan or photo was not taken.
use claimscan_doc::Document;
use claimscan_layout::{geometry, headers, labels::Label, rules, ModelReader};

fn short(l: Label) -> &'static str {
    match l {
        Label::Other => "-",
        l => l.name(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = ModelReader::load(std::path::Path::new(&args[0])).expect("model");
    let doc: Document =
        serde_json::from_slice(&std::fs::read(&args[1]).expect("words file")).expect("words");
    let max_lines: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(40);
    let doc = geometry::upright(&doc).unwrap_or(doc);
    let doc = headers::mend(&doc).unwrap_or(doc);
    let by_model = model.label(&doc).expect("labels");
    let by_rules = rules::label(&doc);
    for (pi, page) in doc.pages.iter().enumerate() {
        println!("-- page {pi}");
        for line in page.lines.iter().take(max_lines) {
            let mut s = format!("{:5.0} ", line.bbox[1]);
            for &w in &line.words {
                let (m, r) = (by_model[pi][w], by_rules[pi][w].label);
                s += &page.words[w].text;
                s += &format!("/{}", short(m.label));
                if m.label != r {
                    s += &format!("|{}", short(r));
                }
                s += &format!("({:.2}) ", m.prob);
            }
            println!("{s}");
        }
    }
}
