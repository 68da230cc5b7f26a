//! OCR specks out of the labeller's sight, and letter-spaced titles read as the word they are.
//!
//! On scans and photos Tesseract reads dirt, rules, bullets and the edges of logos as words of
//! their own: `.`, `-`, `=`, `*`, `°`, `»`, `‚` (about three per scanned page of seed 73's train
//! split, none of which the generator's printed words hold). The layout model was trained on the
//! words an invoice prints, where a value follows its label (`Numéro: R-101036`); a speck between
//! them (`Numéro: - R-101036`, `fattura. N.: = INV-06295`) moves the value away from its label in
//! every line feature (its position in the line, the label to its left and how far, its left
//! neighbour) and the model, sure of itself, calls it nothing.
//!
//! [`hide`] gives a copy of the document for labelling only, whose OCR'd lines no longer list
//! such words (the page keeps them, so word indices and tags still line up with the input), and
//! [`tag_as_nothing`] tags those words as nothing afterwards. Marks that invoices print as words
//! of their own stay: currency signs, `%`, `&`, `#`, `:` and the middle dot; a speck between a
//! legal form and a field label is read as the middle dot footers print there (`KG · USt-ID: DE...`),
//! and an inch mark after a number stays (`802 " nickel-p`).

use claimscan_doc::{BBox, Document};

use crate::labels::{Label, Tag, Tags};

/// A word with no letter or digit that invoices do not print on its own: a speck.
pub fn is_speck(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(char::is_alphanumeric)
        && crate::text::currency_of(text).is_none()
        && !text
            .chars()
            .any(|c| matches!(c, '%' | '&' | '#' | ':' | '·'))
}

/// The document as the labeller should see it: on OCR'd pages, lines without their specks (a
/// line of specks only is gone) and letter-spaced titles as one word. `None` when nothing
/// changed.
pub fn hide(doc: &Document) -> Option<Document> {
    let exact = crate::vocabulary::exact_pages(doc);
    let mut out: Option<Document> = None;
    for (pi, page) in doc.pages.iter().enumerate() {
        if exact[pi] {
            continue;
        }
        let titles: Vec<(usize, usize)> = page
            .lines
            .iter()
            .enumerate()
            .filter_map(|(li, _)| letter_spaced_title(page, li).map(|n| (li, n)))
            .collect();
        if titles.is_empty() && !page.words.iter().any(|w| is_speck(&w.text)) {
            continue;
        }
        let copy = out.get_or_insert_with(|| doc.clone());
        let p = &mut copy.pages[pi];
        for &(li, n) in &titles {
            let run: Vec<usize> = p.lines[li].words[..n].to_vec();
            let text: String = run.iter().map(|&w| p.words[w].text.as_str()).collect();
            let bbox = union(run.iter().map(|&w| p.words[w].bbox));
            let first = &mut p.words[run[0]];
            first.text = text;
            first.bbox = bbox;
            p.lines[li].words.drain(1..n);
        }
        // a speck between a legal form and a field label is the separator footers print there
        // (`GmbH · USt-ID: DE...`, read `-` or `.`): it stays, as the mark printed (elsewhere,
        // `NUMÉRO - DATE` over a row of values, `, Subtotal`, it is a speck)
        let mut separators = Vec::new();
        for line in &p.lines {
            let folded: Vec<String> = line
                .words
                .iter()
                .map(|&w| crate::text::fold(&p.words[w].text))
                .collect();
            for (k, &w) in line.words.iter().enumerate() {
                if is_speck(&p.words[w].text)
                    && k > 0
                    && crate::assemble::ends_a_name(&p.words[line.words[k - 1]].text)
                    && crate::lexicon::field_prefix(&folded[k + 1..]).is_some()
                {
                    separators.push(w);
                }
            }
        }
        for &w in &separators {
            p.words[w].text = "·".into();
        }
        let words = &p.words;
        let (pw, ph) = (p.width.max(1.0), p.height.max(1.0));
        p.lines.retain_mut(|line| {
            let mut left: Option<&str> = None;
            line.words.retain(|&w| {
                let t = words[w].text.as_str();
                let keep = !is_speck(t) || inch_mark(t, left);
                left = Some(t);
                keep
            });
            if line.words.is_empty() {
                return false;
            }
            let b = union(line.words.iter().map(|&w| words[w].bbox));
            line.bbox = b;
            line.norm = [b[0] / pw, b[1] / ph, b[2] / pw, b[3] / ph];
            line.text = line
                .words
                .iter()
                .map(|&w| words[w].text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            true
        });
    }
    out
}

/// The box around all of `boxes`.
fn union(boxes: impl Iterator<Item = BBox>) -> BBox {
    boxes.reduce(crate::assemble::union).unwrap_or_default()
}

/// A title printed letter-spaced at a line's start (`R E C H N U N G`, `FACTU U R`, `Í NVO C E`),
/// which OCR reads as letters and pieces and the generator's words, like a text layer, hold as
/// one word (`RECHNUNG RECHNUNGS-NR. RE137164`): the number of its words. At least three
/// capital-only pieces of at most five letters, two of them single letters, five letters in
/// all, in a font at least 1.3 times the page's usual height (a description's `RADIA V T` or
/// `50 M RING GREY E` is in the body font, and a title starts its line).
fn letter_spaced_title(page: &claimscan_doc::Page, li: usize) -> Option<usize> {
    const TITLE_HEIGHT: f32 = 1.3;
    let line = &page.lines[li];
    let capitals = |t: &str| {
        let n = t.chars().count();
        (1..=5).contains(&n) && t.chars().all(|c| c.is_alphabetic() && c.is_uppercase())
    };
    let n = line
        .words
        .iter()
        .take_while(|&&w| capitals(&page.words[w].text))
        .count();
    let run = &line.words[..n];
    let singles = run
        .iter()
        .filter(|&&w| page.words[w].text.chars().count() == 1)
        .count();
    let letters: usize = run
        .iter()
        .map(|&w| page.words[w].text.chars().count())
        .sum();
    if n < 3 || singles < 2 || letters < 5 {
        return None;
    }
    let height = |w: usize| page.words[w].bbox[3] - page.words[w].bbox[1];
    let mut all: Vec<f32> = (0..page.words.len()).map(height).collect();
    all.sort_by(f32::total_cmp);
    let mut mine: Vec<f32> = run.iter().map(|&w| height(w)).collect();
    mine.sort_by(f32::total_cmp);
    (mine[n / 2] >= TITLE_HEIGHT * all[all.len() / 2]).then_some(n)
}

/// Tags the words [`hide`] kept from the labeller (specks, a title's pieces after its first) as
/// nothing, sure: `tags` are of `doc`, the document given to [`hide`], and `seen` is what it
/// gave.
pub fn tag_as_nothing(doc: &Document, seen: &Document, tags: &mut Tags) {
    for ((page, seen), ptags) in doc.pages.iter().zip(&seen.pages).zip(tags.iter_mut()) {
        let listed = |p: &claimscan_doc::Page| {
            let mut l = vec![false; p.words.len()];
            for line in &p.lines {
                for &w in &line.words {
                    l[w] = true;
                }
            }
            l
        };
        let (before, after) = (listed(page), listed(seen));
        for (w, t) in ptags.iter_mut().enumerate() {
            if before[w] && !after[w] {
                *t = Tag {
                    label: Label::Other,
                    prob: 1.0,
                };
            }
        }
    }
}

/// An inch or foot mark after a number (`802 " nickel-p`): printed, not a speck.
fn inch_mark(text: &str, left: Option<&str>) -> bool {
    matches!(text, "\"" | "'" | "”" | "″" | "’")
        && left.is_some_and(|l| l.chars().last().is_some_and(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::{Page, PageSource, Word};

    fn page(source: PageSource, words: &[(&str, [f32; 4])]) -> Document {
        let words = words
            .iter()
            .map(|(t, b)| Word::new(*t, *b, 0.9, 1000.0, 1000.0))
            .collect();
        Document::of_words("t", vec![Page::new(0, 1000.0, 1000.0, None, source, words)])
    }

    #[test]
    fn specks_are_marks_invoices_do_not_print_alone() {
        for s in [
            ".", "-", "=", "*", "°", "»", "‚", "—", "'", "\"", "*.", "+", ";", ",",
        ] {
            assert!(is_speck(s), "{s:?}");
        }
        for s in [
            "%", "€", "£", "$", "&", "#", ":", "%:", "#:", "·", "a", "1", "-5", "(1)",
        ] {
            assert!(!is_speck(s), "{s:?}");
        }
    }

    #[test]
    fn an_ocr_line_loses_its_specks_and_the_page_keeps_its_words() {
        let words = [
            ("Numéro:", [100.0, 100.0, 200.0, 120.0]),
            ("-", [210.0, 108.0, 220.0, 112.0]),
            ("R-101036", [230.0, 100.0, 330.0, 120.0]),
            ("=", [600.0, 300.0, 610.0, 310.0]),
        ];
        let doc = page(PageSource::Ocr, &words);
        let hidden = hide(&doc).expect("specks hidden");
        let p = &hidden.pages[0];
        assert_eq!(p.words.len(), 4, "word indices stay");
        let listed: Vec<&str> = p
            .lines
            .iter()
            .flat_map(|l| l.words.iter().map(|&w| p.words[w].text.as_str()))
            .collect();
        assert_eq!(listed, ["Numéro:", "R-101036"]);
        assert_eq!(p.lines.len(), 1, "a line of a speck only is gone");
        assert_eq!(p.lines[0].text, "Numéro: R-101036");
        let mut tags = vec![vec![
            Tag {
                label: Label::Total,
                prob: 0.5
            };
            4
        ]];
        tag_as_nothing(&doc, &hidden, &mut tags);
        let labels: Vec<Label> = tags[0].iter().map(|t| t.label).collect();
        assert_eq!(
            labels,
            [Label::Total, Label::Other, Label::Total, Label::Other]
        );
        // a speck before a field label is the footer's separator
        let footer = [
            ("GmbH", [100.0, 900.0, 160.0, 920.0]),
            ("-", [170.0, 908.0, 180.0, 912.0]),
            ("USt-ID:", [190.0, 900.0, 260.0, 920.0]),
            ("DE984579711", [270.0, 900.0, 400.0, 920.0]),
        ];
        let doc = page(PageSource::Ocr, &footer);
        let hidden = hide(&doc).expect("separator marked");
        let p = &hidden.pages[0];
        assert_eq!(p.lines[0].words.len(), 4);
        assert_eq!(p.words[1].text, "·");
        // between two labels, it is a speck
        let labels = [
            ("NUMÉRO", [100.0, 100.0, 200.0, 120.0]),
            ("-", [210.0, 108.0, 220.0, 112.0]),
            ("DATE", [230.0, 100.0, 300.0, 120.0]),
        ];
        let hidden = hide(&page(PageSource::Ocr, &labels)).expect("speck hidden");
        assert_eq!(hidden.pages[0].lines[0].words, [0, 2]);
        // an inch mark after a number is printed
        let inch = [
            ("802", [100.0, 100.0, 160.0, 120.0]),
            ("\"", [170.0, 100.0, 180.0, 110.0]),
            ("nickel-p", [190.0, 100.0, 300.0, 120.0]),
            (".", [310.0, 115.0, 315.0, 120.0]),
        ];
        let hidden = hide(&page(PageSource::Ocr, &inch)).expect("speck hidden");
        assert_eq!(hidden.pages[0].lines[0].words, [0, 1, 2]);
        // a letter-spaced title is one word, a description's letters are not
        let title = [
            ("R", [100.0, 90.0, 130.0, 140.0]),
            ("E", [150.0, 90.0, 180.0, 140.0]),
            ("C", [200.0, 90.0, 230.0, 140.0]),
            ("HNUNG", [250.0, 90.0, 400.0, 140.0]),
            ("RECHNUNGS-NR.", [450.0, 105.0, 600.0, 125.0]),
            ("RE137164", [620.0, 105.0, 720.0, 125.0]),
            ("PANEL", [100.0, 300.0, 160.0, 320.0]),
            ("RADIA", [170.0, 300.0, 230.0, 320.0]),
            ("V", [240.0, 300.0, 250.0, 320.0]),
            ("T", [260.0, 300.0, 270.0, 320.0]),
        ];
        let doc = page(PageSource::Ocr, &title);
        let seen = hide(&doc).expect("title joined");
        let p = &seen.pages[0];
        assert_eq!(p.lines[0].text, "RECHNUNG RECHNUNGS-NR. RE137164");
        assert_eq!(p.words[0].bbox, [100.0, 90.0, 400.0, 140.0]);
        assert_eq!(p.lines[1].text, "PANEL RADIA V T");
        let mut tags = vec![vec![
            Tag {
                label: Label::Total,
                prob: 0.5
            };
            title.len()
        ]];
        tag_as_nothing(&doc, &seen, &mut tags);
        let other: Vec<usize> = (0..title.len())
            .filter(|&w| tags[0][w].label == Label::Other)
            .collect();
        assert_eq!(other, [1, 2, 3]);
        // a text layer prints what it prints
        assert!(hide(&page(PageSource::TextLayer, &words)).is_none());
    }
}
