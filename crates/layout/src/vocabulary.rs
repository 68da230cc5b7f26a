//! Corrects OCR character confusions in line descriptions against a vocabulary: the words of the
//! program's catalog (product names and maker part numbers).
//!
//! Tesseract confuses shapes: `H05VV-F` is read `HOSVV-F`, `NYM-J` is read `NYM-)`, the series
//! `BORA 6S` is read `BORA 65`. Arithmetic cannot repair a description, but the catalog knows
//! how our products are written. A description word is changed only on evidence:
//!
//! - the word is not in the vocabulary, and exactly one spelling that differs from it by one or
//!   two confusable characters (`0/O/D`, `1/I/L`, `5/S`, `8/B`, `6/G`, `2/Z`, `)/]/J`) is; only
//!   for words of four characters or more, where such a match is no accident;
//! - a shorter word (`65`) is changed only beside the word before it: when that pair is not in
//!   the vocabulary but exactly one confusable spelling of it is (`BORA 6S`), and the word before
//!   is followed by few different words in the catalog (a series name, not `TYPE`);
//! - never on exact pages (a PDF's text layer, given words without doubt): what is printed there
//!   is what the distributor wrote, typos included.
//!
//! Words of other brands are left as they are unless one confusion turns them into a word of
//! ours. Words are never split or joined. On 4,699 generated invoice lines (every kind, every
//! split) the correction changes no correctly read description; on held-out scans and photos it
//! fixes 13 of the wrongly read ones (see `pipelines/layout/README.md`).

use std::collections::{HashMap, HashSet};

use claimscan_doc::{Document, Invoice, PageSource};

/// Most distinct words that may follow a word for the pair rule to trust it: a series name is
/// followed by a handful of model names, a generic word (`TYPE`) by dozens.
const MAX_FOLLOWERS: usize = 8;

/// Shortest word (in letters, digits and the confusable marks) the single-word rule corrects.
const MIN_WORD: usize = 4;

/// What a character (upper-cased) may have been printed as, when OCR read it.
fn confusions(c: char) -> &'static [char] {
    match c {
        '0' => &['O', 'D'],
        'O' => &['0', 'D'],
        'D' => &['0', 'O'],
        '1' => &['I', 'L'],
        'I' => &['1'],
        'L' => &['1'],
        '5' => &['S'],
        'S' => &['5'],
        '8' => &['B'],
        'B' => &['8'],
        '6' => &['G'],
        'G' => &['6'],
        '2' => &['Z'],
        'Z' => &['2'],
        ')' | ']' => &['J'],
        '|' => &['I', '1'],
        _ => &[],
    }
}

/// The words of a catalog, upper-cased, with the pairs in which they follow each other.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    words: HashSet<String>,
    pairs: HashSet<(String, String)>,
    followers: HashMap<String, usize>,
}

impl Vocabulary {
    /// From texts that spell our products: catalog names, maker part numbers.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut v = Vocabulary::default();
        let mut follow: HashMap<String, HashSet<String>> = HashMap::new();
        for t in texts {
            let words: Vec<String> = t.split_whitespace().map(str::to_uppercase).collect();
            for w in &words {
                v.words.insert(w.clone());
            }
            for p in words.windows(2) {
                v.pairs.insert((p[0].clone(), p[1].clone()));
                follow.entry(p[0].clone()).or_default().insert(p[1].clone());
            }
        }
        v.followers = follow.into_iter().map(|(k, s)| (k, s.len())).collect();
        v
    }

    /// From a catalog: each product's name and maker part number.
    pub fn from_catalog(catalog: &claimscan_matching::Catalog) -> Self {
        Self::from_texts(
            catalog
                .products
                .iter()
                .flat_map(|p| std::iter::once(p.name.as_str()).chain(p.mpn.as_deref())),
        )
    }

    /// Number of distinct words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The description with its confusions corrected, or `None` when nothing was changed.
    pub fn correct(&self, description: &str) -> Option<String> {
        let words: Vec<&str> = description.split_whitespace().collect();
        let mut out: Vec<String> = Vec::with_capacity(words.len());
        let mut changed = false;
        for (i, w) in words.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| words[j].to_uppercase());
            let fixed = self
                .correct_word(w)
                .or_else(|| prev.and_then(|p| self.correct_after(&p, w)));
            changed |= fixed.is_some();
            out.push(fixed.unwrap_or_else(|| w.to_string()));
        }
        changed.then(|| out.join(" "))
    }

    /// Corrects the descriptions of the invoice's lines that were read from OCR'd pages of
    /// `doc`. Returns how many lines changed.
    pub fn correct_invoice(&self, doc: &Document, inv: &mut Invoice) -> usize {
        if self.is_empty() {
            return 0;
        }
        let exact = exact_pages(doc);
        let mut n = 0;
        for line in &mut inv.lines {
            let page = line.boxes.get("description").map(|b| b.page);
            if page.is_none_or(|p| exact.get(p).copied().unwrap_or(false)) {
                continue;
            }
            if let Some(d) = line.description.as_deref().and_then(|d| self.correct(d)) {
                line.description = Some(d);
                n += 1;
            }
        }
        n
    }

    /// A word of [`MIN_WORD`] or more characters that is not ours, when exactly one confusable
    /// spelling of it is.
    fn correct_word(&self, w: &str) -> Option<String> {
        let core = w
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || !confusions(*c).is_empty())
            .count();
        if core < MIN_WORD || !w.is_ascii() || self.words.contains(&w.to_uppercase()) {
            return None;
        }
        let mut found = variants(w).filter(|v| self.words.contains(v));
        let one = found.next()?;
        found.next().is_none().then(|| with_case_of(w, &one))
    }

    /// A short word after `prev` (upper-cased) when the pair is not ours but exactly one
    /// confusable spelling of it is, and `prev` is followed by few different words.
    fn correct_after(&self, prev: &str, w: &str) -> Option<String> {
        if !w.is_ascii() || self.followers.get(prev).copied().unwrap_or(0) > MAX_FOLLOWERS {
            return None;
        }
        let key = |s: String| (prev.to_string(), s);
        if self.pairs.contains(&key(w.to_uppercase())) {
            return None;
        }
        let mut found = variants(w).filter(|v| self.pairs.contains(&key(v.clone())));
        let one = found.next()?;
        found.next().is_none().then(|| with_case_of(w, &one))
    }
}

/// Pages whose words are exactly what was printed: a PDF's text layer, or given words with no
/// recognition doubt (every confidence 1).
pub fn exact_pages(doc: &Document) -> Vec<bool> {
    doc.pages
        .iter()
        .map(|p| {
            p.source == PageSource::TextLayer
                || (p.source == PageSource::Input && p.words.iter().all(|w| w.confidence >= 1.0))
        })
        .collect()
}

/// Upper-cased spellings of an ASCII word with one or two of its characters replaced by what
/// they may have been printed as (distinct, the word itself excluded).
fn variants(w: &str) -> impl Iterator<Item = String> {
    let up: Vec<char> = w.to_ascii_uppercase().chars().collect();
    let spots: Vec<usize> = (0..up.len())
        .filter(|&i| !confusions(up[i]).is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (k, &i) in spots.iter().enumerate() {
        for &a in confusions(up[i]) {
            let mut one = up.clone();
            one[i] = a;
            out.push(one.iter().collect());
            for &j in &spots[k + 1..] {
                for &b in confusions(up[j]) {
                    let mut two = one.clone();
                    two[j] = b;
                    out.push(two.iter().collect());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out.into_iter()
}

/// `spelling` (upper case) written in the case of `read`, letter by letter.
fn with_case_of(read: &str, spelling: &str) -> String {
    read.chars()
        .zip(spelling.chars())
        .map(|(r, s)| {
            if r.is_lowercase() {
                s.to_ascii_lowercase()
            } else {
                s
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::{LineItem, Page, SourceInfo, ValueBox, Word};

    fn vocab() -> Vocabulary {
        Vocabulary::from_texts([
            "Installation cable ELVOCAB H05VV-F 3x1.5 100 m",
            "Installation cable BRIXO NYM-J 5x2.5",
            "Borehole pump BORA 6S 2-6 0.39 kW",
            "Borehole pump BORA 4S 2-12 0.54 kW",
            "Panel radiator RADIA V type 10 300x600 mm",
            "Panel radiator RADIA V type 11 300x600 mm",
            "Panel radiator RADIA C type 20 300x600 mm",
            "Panel radiator RADIA C type 21 300x600 mm",
            "Panel radiator RADIA VM type 22 300x600 mm",
            "Panel radiator RADIA VM type 33 300x600 mm",
            "Panel radiator RADIA VM type B 300x600 mm",
            "Panel radiator RADIA VM type 8S 300x600 mm",
            "Panel radiator RADIA VM type 1 300x600 mm",
            "Grille LINEAR 150x100 white",
            "LI1171413",
        ])
    }

    #[test]
    fn confusions_in_long_words_are_corrected_in_the_case_read() {
        let v = vocab();
        assert_eq!(
            v.correct("KABEL ELVOCAB HOSVV-F 2x0.75").as_deref(),
            Some("KABEL ELVOCAB H05VV-F 2x0.75")
        );
        assert_eq!(v.correct("cab NYM-) 4x").as_deref(), Some("cab NYM-J 4x"));
        assert_eq!(
            v.correct("INL PMP LINEA L11171413").as_deref(),
            Some("INL PMP LINEA LI1171413")
        );
        assert_eq!(v.correct("cable elvocab").as_deref(), None);
    }

    #[test]
    fn short_words_only_beside_a_series() {
        let v = vocab();
        assert_eq!(
            v.correct("BORA 65 16-12 BOREHOLE PUMP").as_deref(),
            Some("BORA 6S 16-12 BOREHOLE PUMP")
        );
        assert_eq!(v.correct("Bora 45").as_deref(), Some("Bora 4S"));
        // TYPE is followed by many words: `type 8` stays, though `type B` is ours
        assert_eq!(v.correct("RADIA V type 8"), None);
        // short words alone are never corrected
        assert_eq!(v.correct("65 PUMP"), None);
    }

    #[test]
    fn words_that_are_ours_or_ambiguous_or_foreign_stay() {
        let v = vocab();
        // ours as printed
        assert_eq!(v.correct("BRIXO NYM-J 5x2.5 LINEAR"), None);
        // a typo that is not a shape confusion (generator-style swap) stays
        assert_eq!(v.correct("Grille Grlile"), None);
        // another brand's word stays
        assert_eq!(v.correct("AIRMAX FLOWAIR"), None);
        // non-ASCII words are not touched
        assert_eq!(v.correct("Flachheizkôrper"), None);
        // two spellings would fit: no change
        let two = Vocabulary::from_texts(["AB5S", "ABS5"]);
        assert_eq!(two.correct("AB55"), None);
        let one = Vocabulary::from_texts(["AB5S"]);
        assert_eq!(one.correct("AB55").as_deref(), Some("AB5S"));
    }

    #[test]
    fn exact_pages_are_left_as_printed() {
        let v = vocab();
        let page = |i, source, conf: f32| {
            let words = vec![Word::new(
                "HOSVV-F",
                [10.0, 10.0, 90.0, 30.0],
                conf,
                1000.0,
                1000.0,
            )];
            Page::new(i, 1000.0, 1000.0, None, source, words)
        };
        let doc = Document {
            schema_version: claimscan_doc::SCHEMA_VERSION.into(),
            source: SourceInfo {
                path: "t".into(),
                format: "words_json".into(),
                bytes: 0,
                sha256: String::new(),
            },
            pages: vec![
                page(0, PageSource::TextLayer, 1.0),
                page(1, PageSource::Ocr, 0.6),
                page(2, PageSource::Input, 1.0),
            ],
        };
        let line = |p: usize| LineItem {
            description: Some("ELVOCAB HOSVV-F".into()),
            boxes: [(
                "description".to_string(),
                ValueBox {
                    page: p,
                    bbox: [0.0; 4],
                },
            )]
            .into(),
            ..LineItem::default()
        };
        let mut inv = Invoice {
            lines: vec![line(0), line(1), line(2)],
            ..Invoice::default()
        };
        assert_eq!(v.correct_invoice(&doc, &mut inv), 1);
        let got: Vec<_> = inv
            .lines
            .iter()
            .map(|l| l.description.clone().unwrap())
            .collect();
        assert_eq!(
            got,
            ["ELVOCAB HOSVV-F", "ELVOCAB H05VV-F", "ELVOCAB HOSVV-F"]
        );
    }
}
