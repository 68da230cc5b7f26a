//! `cargo run -p claimscan-layout --example dump -- DOC.truth.json`: every text line with each
//! word's rule label and truth label (`word/rule` or `word/rule!truth` where they differ).
use claimscan_layout::{geometry, labels::Label, rules, truth::Truth};

fn short(l: Label) -> &'static str {
    match l {
        Label::Other => "-",
        l => l.name(),
    }
}

fn main() {
    for path in std::env::args().skip(1) {
        let t = Truth::load(std::path::Path::new(&path)).expect("truth");
        let doc = t.document();
        let truth = t.tags(&doc);
        let doc = geometry::upright(&doc).unwrap_or(doc);
        let got = rules::label(&doc);
        println!("== {} {} {}", t.doc_id, t.kind, t.split);
        for (pi, page) in doc.pages.iter().enumerate() {
            println!("-- page {pi}");
            for line in &page.lines {
                let mut s = format!("{:5.0} ", line.bbox[1]);
                for &w in &line.words {
                    let (a, b) = (got[pi][w].label, truth[pi][w].label);
                    let x = page.words[w].bbox[0];
                    if a == b {
                        s += &format!("{}@{x:.0}/{} ", page.words[w].text, short(a));
                    } else {
                        s += &format!("{}@{x:.0}/{}!{} ", page.words[w].text, short(a), short(b));
                    }
                }
                println!("{s}");
            }
        }
    }
}
