//! Table headers as OCR misreads them. The reader finds a table's columns by their header labels
//! ([`crate::lexicon`]); on a scan one misread label (`Prija` for `Prijs`) can leave a whole
//! column unnamed and every line of the invoice without its description. On OCR'd pages, a word
//! of a header line (one that already names two columns) that is one edit from a column label
//! is read as that label before the words are labelled, and so is a label of several words
//! with one of them misread (`Nazwa towaru lub usiugi`). Only the labelling sees the mended
//! words: values are always taken from the words as read.

use claimscan_doc::Document;

use crate::lexicon;
use crate::text::fold;
use crate::vocabulary::{exact_pages, in_case_of};

/// The document with its OCR'd table headers mended, or `None` when nothing changed.
pub fn mend(doc: &Document) -> Option<Document> {
    let exact = exact_pages(doc);
    let mut out: Option<Document> = None;
    for (pi, page) in doc.pages.iter().enumerate() {
        if exact[pi] {
            continue;
        }
        // looked for only when a tax label glued to its rate is met
        let tax_line = std::cell::OnceCell::new();
        // a VAT id whose country code OCR misread (`1T11816144000`) is labelled as the id it is
        for (wi, w) in page.words.iter().enumerate() {
            if crate::text::looks_like_vat_id(&w.text) {
                continue;
            }
            if let Some(id) = crate::text::country_code_misread(&w.text) {
                out.get_or_insert_with(|| doc.clone()).pages[pi].words[wi].text = id;
            }
        }
        for line in &page.lines {
            let folded: Vec<String> = line
                .words
                .iter()
                .map(|&w| fold(&page.words[w].text))
                .collect();
            // the words of labels already named, as the feature extractor finds them
            let mut named = vec![false; folded.len()];
            let mut labels = 0;
            let mut k = 0;
            while k < folded.len() {
                match lexicon::column_prefix(&folded[k..]) {
                    Some((_, m)) => {
                        named[k..k + m].iter_mut().for_each(|n| *n = true);
                        labels += 1;
                        k += m;
                    }
                    None => k += 1,
                }
            }
            mend_field_labels(doc, &mut out, pi, &line.words, &folded, &tax_line);
            if labels < 2 {
                continue;
            }
            let values = line
                .words
                .iter()
                .any(|&w| crate::rules::is_numeric(&page.words[w].text));
            // a label of several words with one of them misread, then single words
            let mut k = 0;
            while k < folded.len() {
                match lexicon::column_phrase_near(&folded[k..]) {
                    Some((j, spelling)) => {
                        let word = &mut out.get_or_insert_with(|| doc.clone()).pages[pi].words
                            [line.words[k + j]];
                        word.text = in_case_of(&word.text, &spelling.to_uppercase());
                        named[k..=k + j].iter_mut().for_each(|n| *n = true);
                        k += j + 1;
                    }
                    None => k += 1,
                }
            }
            for (k, &wi) in line.words.iter().enumerate() {
                if named[k] {
                    continue;
                }
                // glued labels and three letters one off only on a line of labels alone: item
                // blocks print labels beside their numbers (`Dto.%: 15`), and are read so
                let Some(label) = lexicon::column_near(&folded[k]).or_else(|| {
                    (!values)
                        .then(|| lexicon::column_glued_or_short(&folded[k]))
                        .flatten()
                }) else {
                    continue;
                };
                let word = &mut out.get_or_insert_with(|| doc.clone()).pages[pi].words[wi];
                word.text = in_case_of(&word.text, &label.to_uppercase());
            }
        }
    }
    out
}

/// Field labels OCR misread in one word (`Beteg-Nr.`, `Factuumr.:`, `INVOICENO.`) read as the
/// label ([`lexicon::field_misread`]) where a value follows on the line (a word with a digit) or
/// the word ends in a colon (the value under it). Words inside a label already spelt right
/// (`Rechnungs-Nr.` of `Rechnungs Nr.`) are left alone.
fn mend_field_labels(
    doc: &Document,
    out: &mut Option<Document>,
    pi: usize,
    words: &[usize],
    folded: &[String],
    tax_line: &std::cell::OnceCell<bool>,
) {
    let page = &doc.pages[pi];
    let text = |k: usize| page.words[words[k]].text.as_str();
    let digit = |k: usize| text(k).chars().any(|c| c.is_ascii_digit());
    // a value follows on the line, or the label ends in a colon (the value under it)
    let value_after = |k: usize| (k + 1 < words.len() && digit(k + 1)) || text(k).ends_with(':');
    let in_label = |k: usize| {
        (k.saturating_sub(lexicon::MAX_PHRASE_WORDS - 1)..=k)
            .any(|j| lexicon::field_prefix(&folded[j..]).is_some_and(|(_, n)| j + n > k))
    };
    let mut set = |k: usize, new: String| {
        out.get_or_insert_with(|| doc.clone()).pages[pi].words[words[k]].text = new;
    };
    let mut k = 0;
    while k < words.len() {
        // a label of two words, one misread (`Wartosé brutto` for `Wartość brutto`)
        if k + 1 < words.len()
            && value_after(k + 1)
            && !digit(k)
            && !digit(k + 1)
            && !in_label(k)
            && !in_label(k + 1)
        {
            let pair = format!("{} {}", folded[k], folded[k + 1]);
            if let Some((_, spelling)) = lexicon::field_misread(&pair) {
                if let [a, b] = spelling.split(' ').collect::<Vec<_>>()[..] {
                    set(k, respelt(text(k), a));
                    set(k + 1, respelt(text(k + 1), b));
                    k += 2;
                    continue;
                }
            }
        }
        if !value_after(k) {
            k += 1;
            continue;
        }
        let rate_lines_only = || !*tax_line.get_or_init(|| has_tax_line(page));
        if let Some(label) = label_glued_to_rate(text(k)).filter(|_| rate_lines_only()) {
            set(k, label);
        } else if !digit(k) && !in_label(k) {
            if let Some((_, spelling)) = lexicon::field_misread(&folded[k]) {
                set(k, respelt(text(k), spelling));
            }
        }
        k += 1;
    }
}

/// A label's spelling in the case of the word read, with the word's trailing punctuation.
fn respelt(read: &str, spelling: &str) -> String {
    let tail: String = read
        .chars()
        .rev()
        .take_while(|c| !c.is_alphanumeric())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    in_case_of(read, &spelling.to_uppercase()) + &tail
}

/// Whether a line of the page starts with a tax label read right and has an amount after it:
/// then lines with a tax label glued to a rate are the rates' breakdown (`VAT8% 11,33` above
/// `VAT 18 847,72`), and are left as read.
fn has_tax_line(page: &claimscan_doc::Page) -> bool {
    page.lines.iter().any(|line| {
        let folded: Vec<String> = line
            .words
            .iter()
            .map(|&w| fold(&page.words[w].text))
            .collect();
        (0..folded.len()).any(|k| {
            lexicon::field_prefix(&folded[k..]).is_some_and(|(f, n)| {
                f == lexicon::Field::Tax
                    && line.words[k + n..].iter().any(|&w| {
                        let t = &page.words[w].text;
                        t.chars().any(|c| c.is_ascii_digit()) && !t.ends_with('%')
                    })
            })
        })
    })
}

/// A tax label OCR glued to its rate (`BTW21%`, `TVA10%`, `Btw-bedrag21%`): the label's words
/// alone, as printed apart from the rate.
fn label_glued_to_rate(text: &str) -> Option<String> {
    let rate_at = text.find(|c: char| c.is_ascii_digit())?;
    let (label, rate) = text.split_at(rate_at);
    let rate_ok = rate.ends_with('%')
        && rate[..rate.len() - 1]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',');
    let tax = lexicon::field(&fold(label)) == Some(lexicon::Field::Tax);
    (rate_ok && tax && label.chars().any(char::is_alphabetic)).then(|| label.to_string())
}

#[cfg(test)]
mod tests {

    use super::*;
    use claimscan_doc::{Page, PageSource, Word};

    fn doc(words: &[&str], confidence: f32) -> Document {
        let words = words
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let x = 100.0 + 200.0 * i as f32;
                Word::new(*t, [x, 100.0, x + 150.0, 130.0], confidence, 2000.0, 3000.0)
            })
            .collect();
        Document::of_words(
            "t",
            vec![Page::new(0, 2000.0, 3000.0, None, PageSource::Input, words)],
        )
    }

    fn texts(d: &Document) -> Vec<&str> {
        d.pages[0].words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn misread_labels_of_a_header_line_are_mended() {
        let header = [
            "Regeì",
            "Artikelnr.",
            "Omschrijving",
            "Renhei",
            "Aantal",
            "Prija",
            "Bedrag",
        ];
        let mended = mend(&doc(&header, 0.9)).expect("mended");
        assert_eq!(
            texts(&mended),
            [
                "Regel",
                "Artikelnr.",
                "Omschrijving",
                "Eenheid",
                "Aantal",
                "Prijs",
                "Bedrag"
            ]
        );
    }

    #[test]
    fn a_label_of_several_words_with_one_misread_is_mended() {
        let header = [
            "Nazwa", "towaru", "lub", "usiugi", "Symbol", "Cena", "netto",
        ];
        let mended = mend(&doc(&header, 0.9)).expect("mended");
        assert_eq!(texts(&mended)[3], "uslugi");
    }

    #[test]
    fn glued_and_three_letter_labels_of_a_header_line_are_mended() {
        // set 73's inv000354: with three header words unnamed the page had no table header
        let header = [
            "Code",
            "Item",
            "description",
            "Qty",
            "VoM",
            "Rate",
            "Disc.%",
            "Linetotal",
        ];
        let mended = mend(&doc(&header, 0.9)).expect("mended");
        assert_eq!(texts(&mended)[4..], ["UoM", "Rate", "Disc %", "Line total"]);
        // an item block's row prints its labels beside their values: left as read
        let block = [
            "Cantidad:",
            "2,00",
            "Precio:",
            "224,29",
            "Dto.%:",
            "15",
            "Total:",
            "381,30",
        ];
        assert!(mend(&doc(&block, 0.9)).is_none());
    }

    #[test]
    fn other_lines_and_exact_pages_stay() {
        // not a header line: one label only
        assert!(mend(&doc(&["Prija", "Omschrijving", "PRESSFIT"], 0.9)).is_none());
        // a text layer or exact words are what was printed
        assert!(mend(&doc(&["Prija", "Omschrijving", "Aantal"], 1.0)).is_none());
    }

    #[test]
    fn tax_labels_glued_to_their_rate_come_apart() {
        assert_eq!(label_glued_to_rate("BTW21%").as_deref(), Some("BTW"));
        assert_eq!(label_glued_to_rate("TVA5,5%").as_deref(), Some("TVA"));
        assert_eq!(
            label_glued_to_rate("Btw-bedrag21%").as_deref(),
            Some("Btw-bedrag")
        );
        assert_eq!(label_glued_to_rate("21%"), None);
        assert_eq!(label_glued_to_rate("Rabatt10%"), None);
        assert_eq!(label_glued_to_rate("TVA21"), None);
    }
}
