//! From per-word labels to an [`Invoice`]: header values (normalised), line items (rows,
//! multi-line descriptions, item blocks, page breaks), then the arithmetic checks that feed
//! confidence. Shared by the rule reader and the model reader.

use std::collections::{BTreeMap, HashMap, HashSet};

use claimscan_doc::{BBox, Document, Header, Invoice, InvoiceIssue, LineItem, Page, ValueBox};

use crate::labels::{Label, Tags};
use crate::lexicon::{self, Field};
use crate::repair;
use crate::text::{self, DecimalSep};

/// Consecutive words of one text line that share a label.
#[derive(Debug, Clone)]
struct Span {
    page: usize,
    label: Label,
    /// The line's index and the position of the last word in it; the position of the first.
    last: (usize, usize),
    first: usize,
    text: String,
    bbox: BBox,
    /// Mean word probability (to choose between spans) and the lowest (for confidence).
    prob: f32,
    min: f32,
}

/// The box around both.
pub(crate) fn union(a: BBox, b: BBox) -> BBox {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

/// Spans of each label, in reading order.
/// Whether the document groups thousands with spaces: no amount carries a punctuation thousands
/// separator (`1.234,56`, `1,234.56`, `1'234.56`).
fn space_grouped(doc: &Document) -> bool {
    !doc.words().any(|w| {
        text::looks_like_money(&w.text)
            && w.text
                .chars()
                .filter(|c| matches!(c, '.' | ',' | '\'' | '’'))
                .count()
                >= 2
    })
}

fn spans(doc: &Document, tags: &Tags) -> BTreeMap<Label, Vec<Span>> {
    let spaced = space_grouped(doc);
    let mut out: BTreeMap<Label, Vec<Span>> = BTreeMap::new();
    for (pi, page) in doc.pages.iter().enumerate() {
        let Some(ptags) = tags.get(pi) else { continue };
        for (li, line) in page.lines.iter().enumerate() {
            let mut cur: Option<(Label, Span, usize)> = None;
            for (k, &wi) in line.words.iter().enumerate() {
                let tag = ptags.get(wi).copied().unwrap_or_default();
                let w = &page.words[wi];
                match &mut cur {
                    Some((l, span, n)) if *l == tag.label => {
                        span.last = (li, k);
                        span.text.push(' ');
                        span.text.push_str(&w.text);
                        span.bbox = union(span.bbox, w.bbox);
                        span.prob += tag.prob;
                        span.min = span.min.min(tag.prob);
                        *n += 1;
                    }
                    _ => {
                        if let Some((l, mut span, n)) = cur.take() {
                            span.prob /= n as f32;
                            out.entry(l).or_default().push(span);
                        }
                        cur = Some((
                            tag.label,
                            Span {
                                page: pi,
                                label: tag.label,
                                last: (li, k),
                                first: k,
                                text: w.text.clone(),
                                bbox: w.bbox,
                                prob: tag.prob,
                                min: tag.prob,
                            },
                            1,
                        ));
                    }
                }
            }
            if let Some((l, mut span, n)) = cur.take() {
                span.prob /= n as f32;
                out.entry(l).or_default().push(span);
            }
        }
    }
    // money spans: the last word, with a thousands group split off by a space ("1 234,56");
    // names: the whole name, when the model left a word of it out
    for list in out.values_mut() {
        for s in list.iter_mut() {
            if s.label == Label::SupplierName {
                extend_name(doc, tags, s);
            }
            if matches!(s.label, Label::Subtotal | Label::Tax | Label::Total) {
                let page = &doc.pages[s.page];
                let (text, bbox) = numeric_text(
                    page,
                    &page.lines[s.last.0].words,
                    s.last.1,
                    spaced,
                    &tags[s.page],
                );
                s.text = text;
                s.bbox = bbox;
            }
        }
    }
    out
}

/// Extends a name span over unlabelled words next to it in its visual row (a normal word space
/// away, same height, no separator or label in between): "Maes Sanitair" + "& Verwarming NV".
/// Words of another row that the line builder merged in (a small address line under a big
/// letterhead) are stepped over.
fn extend_name(doc: &Document, tags: &Tags, s: &mut Span) {
    let page = &doc.pages[s.page];
    let line = &page.lines[s.last.0].words;
    let label = |wi: usize| {
        tags[s.page]
            .get(wi)
            .map(|t| t.label)
            .unwrap_or(Label::Other)
    };
    let span_words: Vec<usize> = line[s.first..=s.last.1].to_vec();
    let h = span_words
        .iter()
        .map(|&wi| page.words[wi].bbox[3] - page.words[wi].bbox[1])
        .fold(0.0f32, f32::max)
        .max(1.0);
    let yc = span_words
        .iter()
        .map(|&wi| (page.words[wi].bbox[1] + page.words[wi].bbox[3]) * 0.5)
        .sum::<f32>()
        / span_words.len() as f32;
    // the words of the span's own visual row, left to right
    let row: Vec<usize> = line
        .iter()
        .copied()
        .filter(|&wi| {
            let b = page.words[wi].bbox;
            let wh = b[3] - b[1];
            ((b[1] + b[3]) * 0.5 - yc).abs() < 0.35 * h && wh > 0.7 * h && wh < 1.4 * h
        })
        .collect();
    let Some(mut first) = row.iter().position(|&wi| wi == span_words[0]) else {
        return;
    };
    let Some(mut last) = row
        .iter()
        .position(|&wi| wi == span_words[span_words.len() - 1])
    else {
        return;
    };
    // a word the name may take: one labelled nothing or the name, or a word without a digit
    // labelled a field whose values have digits (`DE PRO Installatietechniek V.O.F.`: the
    // model took the last two words for the invoice number)
    let nameable = |wi: usize| {
        let digitless = !page.words[wi].text.chars().any(|c| c.is_ascii_digit());
        match label(wi) {
            Label::Other | Label::SupplierName => true,
            Label::InvoiceNumber
            | Label::InvoiceDate
            | Label::SupplierVatId
            | Label::Subtotal
            | Label::Tax
            | Label::Total => digitless,
            _ => false,
        }
    };
    let free = |wi: usize| {
        let t = page.words[wi].text.as_str();
        nameable(wi) && !t.contains(':') && t.chars().any(|c| c.is_alphabetic() || c == '&')
    };
    let close = |a: usize, b: usize| page.words[b].bbox[0] - page.words[a].bbox[2] < 0.8 * h;
    // an `&` between two names, printed with wider spaces and often read `8` or a currency sign
    // (`Keller & Schmidt KG`, `Vidal € Romero S.A.`, `Romero €: Sanz S.A.`, `Nowak $ Dabrowski`):
    // stepped over to the name on its other side (`clean_name` gives the `&` back)
    let amp = |wi: usize| {
        matches!(
            page.words[wi].text.as_str(),
            "&" | "+" | "8" | "8:" | "€" | "€." | "€:" | "£" | "£:" | "$" | "$:" | "Ey"
        ) && matches!(
            label(wi),
            // the model takes a misread `&` for what it looks like
            Label::Other | Label::SupplierName | Label::Currency
        )
    };
    let wide = |a: usize, b: usize| page.words[b].bbox[0] - page.words[a].bbox[2] < 1.5 * h;
    let named = |wi: usize| page.words[wi].text.starts_with(char::is_uppercase);
    loop {
        if first > 0 && free(row[first - 1]) && close(row[first - 1], row[first]) {
            first -= 1;
        } else if first >= 2
            && amp(row[first - 1])
            && named(row[first])
            && wide(row[first - 2], row[first - 1])
            && wide(row[first - 1], row[first])
            && free(row[first - 2])
            && named(row[first - 2])
        {
            // the model took the name after the `&` alone (`Sanz S.A.` of `Romero € Sanz S.A.`)
            first -= 2;
        } else if first >= 1
            && amp(row[first])
            && wide(row[first - 1], row[first])
            && free(row[first - 1])
            && named(row[first - 1])
        {
            // or started it at the `&` (`& Cano S.L.` of `Iglesias & Cano S.L.`)
            first -= 1;
        } else {
            break;
        }
    }
    // a legal form ending the name, set a little apart (`Keller & Schmidt  KG`)
    let form = |wi: usize| is_legal_form(&page.words[wi].text) && nameable(wi);
    // the last word of a legal form of several words, read with `0` for `o` (`Sp. z 0.0.`)
    let form_end = |last: usize| {
        (1..=2).any(|k| {
            last + 1 >= k
                && LEGAL_FORMS.contains(
                    &row[last + 1 - k..=last + 1]
                        .iter()
                        .map(|&wi| form_letters(&page.words[wi].text).replace('0', "o"))
                        .collect::<Vec<_>>()
                        .join(" ")
                        .as_str(),
                )
        }) && nameable(row[last + 1])
    };
    loop {
        let next = |last: usize| {
            last + 1 < row.len()
                && ((free(row[last + 1]) && close(row[last], row[last + 1]))
                    || (form(row[last + 1]) && wide(row[last], row[last + 1]))
                    || (form_end(last) && close(row[last], row[last + 1])))
        };
        if next(last) {
            last += 1;
        } else if last + 2 < row.len()
            && amp(row[last + 1])
            && wide(row[last], row[last + 1])
            && wide(row[last + 1], row[last + 2])
            && free(row[last + 2])
            && named(row[last + 2])
        {
            last += 2;
        } else {
            break;
        }
    }
    let words = &row[first..=last];
    if words.len() != span_words.len() || words.iter().zip(&span_words).any(|(a, b)| a != b) {
        s.text = words
            .iter()
            .map(|&wi| page.words[wi].text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        for &wi in words {
            s.bbox = union(s.bbox, page.words[wi].bbox);
        }
    }
}

/// The number ending at word `k` of a text line: the word itself, or, when the word just before
/// it (a normal word space away) is a 1-3 digit group and this word starts with three digits, both
/// (`1 234,56` printed with a space as thousands separator).
fn numeric_text(
    page: &Page,
    line_words: &[usize],
    k: usize,
    spaced: bool,
    tags: &[crate::labels::Tag],
) -> (String, BBox) {
    let w = &page.words[line_words[k]];
    if k > 0 {
        let p = &page.words[line_words[k - 1]];
        let label_of = |i: usize| tags.get(i).map(|t| t.label).unwrap_or(Label::Other);
        let (this, prev) = (label_of(line_words[k]), label_of(line_words[k - 1]));
        let h = (w.bbox[3] - w.bbox[1]).max(1.0);
        let gap = w.bbox[0] - p.bbox[2];
        // the first group may carry the sign and the currency mark (`€80 006,21`)
        let head = text::without_currency_prefix(p.text.trim_start_matches(['-', '−', '(']))
            .trim_start_matches(['-', '−', '(']);
        let group = w.text.chars().take_while(|c| c.is_ascii_digit()).count() == 3
            && !w.text.chars().nth(3).is_some_and(|c| c.is_ascii_digit());
        let short = (1..=3).contains(&head.len()) && head.chars().all(|c| c.is_ascii_digit());
        // the same label on both parts, or an unlabelled group a word space away on a page that
        // groups thousands with spaces
        let glue = prev == this || (spaced && prev == Label::Other && gap < 0.6 * h);
        if group && short && glue {
            return (format!("{} {}", p.text, w.text), union(p.bbox, w.bbox));
        }
    }
    (w.text.clone(), w.bbox)
}

/// The document's currency from the marks printed on it (most frequent ISO code).
pub fn document_currency(doc: &Document) -> Option<&'static str> {
    currency_marks(doc)
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c)
}

/// How many words of the document mark each currency (ISO code -> words): a mark alone, or on
/// an amount with decimals (`$32243` is a code `S32243` read with a dollar, not a price).
fn currency_marks(doc: &Document) -> BTreeMap<&'static str, usize> {
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for w in doc.words() {
        let digits = w.text.chars().any(|c| c.is_ascii_digit());
        if digits && !w.text.contains([',', '.']) {
            continue;
        }
        if let Some(c) = text::currency_of(&w.text) {
            *counts.entry(c).or_default() += 1;
        }
    }
    counts
}

/// The decimal separator of the document.
pub fn document_sep(doc: &Document) -> Option<DecimalSep> {
    text::detect_decimal_sep(doc.words().map(|w| w.text.as_str()))
}

/// Parses an amount span: the whole span, else its last money-looking word.
fn amount_of(span: &str, sep: Option<DecimalSep>) -> Option<f64> {
    if let Some(v) = text::parse_number(span, sep) {
        return Some(v);
    }
    let words: Vec<&str> = span.split_whitespace().collect();
    // "1 234,56": try the last two words glued, then the last word alone
    if words.len() >= 2 {
        let glued = format!("{} {}", words[words.len() - 2], words[words.len() - 1]);
        let head = text::without_currency_prefix(words[words.len() - 2]);
        if head.len() <= 3 {
            if let Some(v) = text::parse_number(&glued, sep) {
                return Some(v);
            }
        }
    }
    words.iter().rev().find_map(|w| text::parse_number(w, sep))
}

struct Picked {
    value: String,
    /// The words as read, before normalising.
    read: String,
    min: f32,
    page: usize,
    bbox: BBox,
}

/// The document's one VAT id, where the model labelled none: the only word, as mended, with a
/// country's VAT id format (`FR64239588630` behind a label OCR garbled, `intrecommunautaire:`),
/// at 0.5, as sure as a VAT id not found. A second id (the customer's, as reverse-charge invoices
/// print it) makes it no one's. Every generated invoice of seed 73 whose ids are printed as one
/// word prints exactly one: the supplier's (390 of 400).
fn the_one_vat_id(doc: &Document) -> Option<Picked> {
    let mut found: Option<Picked> = None;
    for (page, p) in doc.pages.iter().enumerate() {
        for w in &p.words {
            let read = w.text.trim_matches(|c: char| !c.is_alphanumeric());
            let id = text::normalise_vat_id(read);
            if !text::vat_well_formed(&id) {
                continue;
            }
            match &found {
                Some(f) if f.value != id => return None,
                Some(_) => {}
                None => {
                    found = Some(Picked {
                        value: id,
                        read: w.text.clone(),
                        min: 0.5,
                        page,
                        bbox: w.bbox,
                    })
                }
            }
        }
    }
    found
}

/// Picks the best span of a header label whose normalised value is valid.
fn pick(
    spans: Option<&Vec<Span>>,
    prefer_last_page: bool,
    normalise: impl Fn(&str) -> Option<String>,
) -> Option<Picked> {
    let spans = spans?;
    let mut best: Option<(f32, Picked)> = None;
    for s in spans {
        let Some(value) = normalise(&s.text) else {
            continue;
        };
        // small bonus by page so that ties go to the first (or last) page
        let page_bonus = if prefer_last_page {
            s.page as f32 * 1e-3
        } else {
            -(s.page as f32) * 1e-3
        };
        let score = s.prob + page_bonus;
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((
                score,
                Picked {
                    value,
                    read: s.text.clone(),
                    min: s.min,
                    page: s.page,
                    bbox: s.bbox,
                },
            ));
        }
    }
    best.map(|(_, p)| p)
}

/// A supplier name without what OCR and logos add at its ends: words with no letter or digit
/// (`. Termoidraulica`, `© Vogel`, `S.A. -.`), a lone small letter before a capital (`s
/// VISMAT`), a doubled final period (`S.p.A..`), and a logo's wordmark repeating the name's
/// first word in capitals (`MULDER Mulder Technische Groothandel BV`).
fn clean_name(s: &str) -> Option<String> {
    let t = clean_text(s)?;
    let mut words: Vec<&str> = t.split_whitespace().collect();
    // `&` and `+` stay: a name starting with one was cut, which lowers its confidence below
    let debris = |w: &str| !w.chars().any(char::is_alphanumeric) && !w.starts_with(['&', '+']);
    while words.len() > 1 && debris(words[0]) {
        words.remove(0);
    }
    // a speck read before the first word (`‚Installationsbedarf`, `\\VOGTERM`), and a first
    // word with a brace or bar in it (`Lw} Installatiegroothandel`): no name has either
    if let Some(first) = words.first_mut() {
        *first =
            first.trim_start_matches(['‚', '„', '"', '\'', '\\', '`', '|', '‘', '’', '“', '”']);
    }
    if words.len() > 2 && words[0].contains(['{', '}', '[', ']', '|', '\\']) {
        words.remove(0);
    }
    // a logo's mark read before the name (`(vi) VIDMAT ...`)
    if words.len() > 2
        && words[0].starts_with('(')
        && words[0].ends_with(')')
        && words[0].chars().filter(|c| c.is_alphabetic()).count() <= 3
    {
        words.remove(0);
    }
    while words.len() > 1 && debris(words[words.len() - 1]) {
        words.pop();
    }
    // specks read as a small word after the legal form that ends the name (`... KG ae`)
    if words.len() > 2 {
        let last = words[words.len() - 1];
        if last.chars().count() <= 2
            && last.chars().all(|c| c.is_lowercase())
            && is_legal_form(words[words.len() - 2])
        {
            words.pop();
        }
    }
    if words.len() > 2 {
        let first = words[0];
        // one or two small letters, a comma or dot after them (`s VISMAT`, `sp SMIELEK`, `pa,
        // Szymanski`), but not a name's particle (`de Vries & Bakker B.V.`: 30 of the
        // generator's names start with `de`)
        let letters = first.trim_end_matches([',', '.']);
        let lone_small = (1..=2).contains(&letters.chars().count())
            && letters.chars().all(|c| c.is_lowercase())
            && !matches!(
                letters,
                "de" | "da" | "di" | "do" | "du" | "la" | "le" | "el" | "al"
            );
        let wordmark = first.chars().count() > 2
            && first.chars().all(|c| !c.is_lowercase())
            && words[1].to_uppercase() == first
            && words[1] != first;
        if (lone_small && words[1].starts_with(char::is_uppercase)) || wordmark {
            words.remove(0);
        }
    }
    // `&` read as `8`, `6`, `4`, `8:`, `€.`, `£`, `$` or `Ey` between two names (`Wójcik 8
    // Zielinski`, `Kozlowski 6 Zielinski`, `Romero 4 Molina`, `Cano €. Ortega`): no company name
    // of the generator's 1,800 (a third with `&`) has a lone digit
    let amp_misread = |w: &str| {
        let mut cs = w.chars();
        let first = cs.next();
        let rest: Vec<char> = cs.collect();
        w == "Ey"
            || (matches!(first, Some('8' | '6' | '4' | '€' | '&' | '£' | '$'))
                && rest.len() <= 1
                && rest.iter().all(|c| c.is_ascii_punctuation()))
    };
    let mut amp: Vec<String> = (0..words.len())
        .map(|i| {
            let named = |w: Option<&&str>| w.is_some_and(|w| w.starts_with(char::is_uppercase));
            let between = i > 0 && named(words.get(i - 1)) && named(words.get(i + 1));
            if amp_misread(words[i]) && between {
                "&".to_string()
            } else {
                words[i].to_string()
            }
        })
        .collect();
    legal_form_misread(&mut amp);
    if let Some(last) = amp.last_mut() {
        if let Some(form) = dotted_form(last) {
            *last = form.to_string();
        }
    }
    let mut out = amp.join(" ");
    if out.ends_with("..") {
        out.pop();
    }
    clean_text(&out)
}

/// A word's letters and digits in lower case, as legal forms are compared (`Sp.j.` -> `spj`).
fn form_letters(w: &str) -> String {
    w.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a word is a legal form of one word (`GmbH`, `Ltd.`, `Sp.j.`), or one of two letters
/// that ends a name (`NV`, `S.A.`, `Co.`).
fn is_legal_form(w: &str) -> bool {
    let letters = form_letters(w);
    LEGAL_FORMS.contains(&letters.as_str())
        || ["nv", "bv", "sa", "ag", "sl", "oy", "ab", "co", "spj"].contains(&letters.as_str())
}

/// Whether a word is the last word of a company name's legal form (`GmbH`, `S.A.`, the `o.o.` of
/// `Sp. z o.o.`).
pub(crate) fn ends_a_name(w: &str) -> bool {
    is_legal_form(w) || form_letters(w) == "oo"
}

/// Legal forms as their letters (`sp z oo` for `Sp. z o.o.`): what a name's last word or words
/// are checked against by [`legal_form_misread`].
const LEGAL_FORMS: &[&str] = &[
    "plc", "ltd", "limited", "gmbh", "gesmbh", "kg", "sarl", "sas", "bvba", "srl", "spa", "snc",
    "vof", "lda", "sp z oo", "sp j", "teoranta",
];

/// A legal form at a name's end with one letter misread (`Hughes ple` for `plc`), or with `0`
/// for `o` (`Sp. z 0.0.`): the letters are mended in place, its punctuation kept. Forms of
/// three letters or more only (`SA` and `AG` are too near other words), and only where the
/// name does not end in a form already.
fn legal_form_misread(words: &mut [String]) {
    let letters = form_letters;
    let n = words.len();
    for k in [3usize, 1] {
        if n < k + 1 {
            continue;
        }
        let tail: Vec<String> = words[n - k..].iter().map(|w| letters(w)).collect();
        let joined = tail.join(" ");
        // `Sp.j.` is one word, `Sp. j` two: forms are compared without their spaces
        let bare = |f: &str| f.replace(' ', "");
        if LEGAL_FORMS.iter().any(|f| bare(f) == bare(&joined)) {
            return;
        }
        let digits_as_letters = joined.replace('0', "o");
        let target = LEGAL_FORMS.iter().find(|f| {
            f.chars().count() >= 3
                && f.chars().count() == joined.chars().count()
                && (**f == digits_as_letters
                    || (k == 1
                        && !joined.chars().any(|c| c.is_ascii_digit())
                        && f.chars()
                            .zip(joined.chars())
                            .filter(|(a, b)| a != b)
                            .count()
                            == 1))
        });
        let Some(target) = target else { continue };
        // mend letter by letter, in each word's case, keeping every other character
        let mut want = target.chars().filter(|c| *c != ' ');
        for w in &mut words[n - k..] {
            let upper = w
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase)
                && w.chars().filter(|c| c.is_alphabetic()).count() > 1;
            *w = w
                .chars()
                .map(|c| {
                    if !c.is_alphanumeric() {
                        return c;
                    }
                    let t = want.next().unwrap_or(c);
                    if t.to_lowercase().eq(c.to_lowercase()) {
                        c
                    } else if upper || (c.is_uppercase() && !c.is_ascii_digit()) {
                        t.to_ascii_uppercase()
                    } else {
                        t
                    }
                })
                .collect();
        }
        return;
    }
}

/// Legal forms written with a dot after each abbreviated part.
const DOTTED_FORMS: &[&str] = &[
    "e.K.", "e.V.", "S.r.l.", "S.p.A.", "S.a.s.", "S.n.c.", "S.A.", "S.L.", "S.L.U.", "B.V.",
    "N.V.", "Sp.j.",
];

/// The dotted legal form a name's last word is with a dot or two lost (`eK.` for `e.K.`,
/// `S.r.l` for `S.r.l.`): same letters in the same case, and a dot already printed, so that a
/// form the distributor writes without dots (`Srl`, `BV`) stays as printed.
fn dotted_form(word: &str) -> Option<&'static str> {
    if !word.contains('.') || !word.chars().all(|c| c.is_alphabetic() || c == '.') {
        return None;
    }
    let letters = |w: &str| w.chars().filter(|c| *c != '.').collect::<String>();
    DOTTED_FORMS
        .iter()
        .copied()
        .find(|f| f.len() > word.len() && letters(f) == letters(word))
}

/// An invoice number's words without a speck read after them (`INV-127651 »-`); `None` without
/// a digit.
fn invoice_number_text(s: &str) -> Option<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let end = words
        .iter()
        .rposition(|w| w.chars().any(char::is_alphanumeric))
        .map_or(0, |i| i + 1);
    clean_text(&words[..end].join(" ")).filter(|t| t.chars().any(|c| c.is_ascii_digit()))
}

fn clean_text(s: &str) -> Option<String> {
    let t = s.trim().trim_end_matches([',', ';', ':']).trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Marks OCR reads after the last letter of a description. None of 15,234 generated truth
/// descriptions (seeds 73, 89 and 61) ends in a letter followed by one of them.
const END_MARKS: &[char] = &['"', '\'', '°', '‘', '’', '“', '”', ','];

/// A description without the debris OCR reads from table rules and scan edges at its ends:
/// leading or trailing words with no letter or digit (`|`, `—`, `~~`, `=`). No description in the
/// generator's 4,800 truth lines starts or ends with such a word.
///
/// On OCR'd words (`read`), also the quote, dash or rule marks glued to the front of the first
/// word (`‘LED`, `-HYDROTEC`, `"CIRCA`): a scan's speck or a column rule read with it, and
/// [`END_MARKS`] glued to the last letter. A leading `«` stays: OCR reads it for an `I` too
/// (`«N-LINE`, which the vocabulary mends to `IN-LINE`). None of 8,141 generated truth descriptions (seeds
/// 99 and 31) starts with anything but a letter or a digit. On a text layer, what is printed
/// stays.
fn clean_description(s: &str, read: bool) -> Option<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let has_alnum = |w: &&str| w.chars().any(char::is_alphanumeric);
    let start = words.iter().position(has_alnum)?;
    let end = words.iter().rposition(has_alnum)?;
    let mut words = words[start..=end].to_vec();
    if read {
        const SPECKS: &[char] = &[
            '‘', '’', '\'', '"', '„', '“', '”', '`', '-', '—', '–', '_', '~', '|', '*', '·', '•',
            '=', ':', ';', ',', '.',
        ];
        words[0] = words[0].trim_start_matches(SPECKS);
        // a quote, degree or comma mark read after a word's last letter (`... 600X600 MM'`,
        // `36W°`); after a digit it is an inch mark (`1 1/4"`) and stays
        if let Some(last) = words.last_mut() {
            let t = last.trim_end_matches(END_MARKS);
            if t.len() < last.len() && t.chars().last().is_some_and(char::is_alphabetic) {
                *last = t;
            }
        }
        while words.len() > 1 && speck_at_end(&words) {
            words.pop();
        }
        if words.len() > 1 && speck_at_start(&words) {
            words.remove(0);
        }
        if let Some(i) = label_tail(&words) {
            words.truncate(i);
        }
    }
    clean_text(&words.join(" "))
}

/// Where an OCR'd description ends in another column's label and value read into its line
/// (`... reducing socket 3/4"x3/ ALIO.: 22`, `... Type 79 F TX TVA: 20`, `... Réf.`,
/// `... 15-70 „Fabrikantcode`): the position of the label, when it comes after two words or
/// more and at most two value words (with a digit, or of at most two characters) follow it.
/// Labels (three letters or more) are a VAT rate's, a price's, a quantity's, an amount's, a
/// code's or a maker reference's, exact, or one edit off when they end in `:` or `.`.
fn label_tail(words: &[&str]) -> Option<usize> {
    use lexicon::Column as C;
    let value = |w: &&str| w.chars().any(|c| c.is_ascii_digit()) || w.chars().count() <= 2;
    // a barcode printed inside the description (`... EAN 4057312`) is the distributor's wording
    const WORDING: &[&str] = &["ean", "gtin", "barcode", "gencod"];
    // one edit off only where the word ends like a label (`ALIO.:`), not in wording (`press`)
    let label = |f: &str, marked: bool| {
        let near = |f: &str| marked.then(|| lexicon::column_near(f)).flatten();
        let column = lexicon::column(f).or_else(|| near(f).and_then(lexicon::column));
        let field =
            lexicon::field(f).or_else(|| marked.then(|| lexicon::field_near_glued(f)).flatten());
        // labels of three letters or more (`pu` also ends a cut `pure`), and not a discount's
        // (`Early payment discount 2%` is wording)
        f.chars().filter(|c| c.is_alphabetic()).count() >= 3
            && (matches!(
                column,
                Some(C::VatRate | C::UnitPrice | C::NetPrice | C::Qty | C::Amount | C::Code)
            ) || (field == Some(Field::Extra) && !WORDING.contains(&f)))
    };
    (2..words.len()).find(|&i| {
        let tail = &words[i..];
        let folded: Vec<String> = tail.iter().take(2).map(|w| text::fold(w)).collect();
        let marked = |w: &str| w.ends_with([':', '.']);
        let (n, found) = if folded.len() == 2
            && label(&format!("{} {}", folded[0], folded[1]), marked(tail[1]))
        {
            (2, true)
        } else {
            (
                1,
                !folded[0].is_empty() && label(&folded[0], marked(tail[0])),
            )
        };
        found && tail.len() - n <= 2 && tail[n..].iter().all(value)
    })
}

/// Whether `word`, at one end of an OCR'd description whose other words are `rest`, is a speck
/// read as a letter: a lone accented letter (`È`, `Ô`, `ñ`, `ì`), or a lone small letter other
/// than `keep` beside a description in capitals (`... CIRCA SOLAR i`, `o GRILLE ...`).
///
/// Of 17,148 generated truth descriptions (seeds 99, 32 and 53) one ends in a lone accented
/// letter (`à`), and of the 7,208 in capitals two end in a lone small letter other than `m`
/// (which ends five, as a unit: `... 200 m`); none of 22,133 (seeds 99, 32, 53, 71) starts with
/// either.
fn lone_letter_speck(word: &str, rest: &[&str], keep: Option<char>) -> bool {
    let mut cs = word.chars();
    let (Some(c), None) = (cs.next(), cs.next()) else {
        return false;
    };
    let capitals = || {
        let letters: Vec<char> = rest
            .iter()
            .flat_map(|w| w.chars())
            .filter(|c| c.is_alphabetic())
            .collect();
        letters.len() >= 6 && letters.iter().all(|c| c.is_uppercase())
    };
    (c.is_alphabetic() && !c.is_ascii())
        || (c.is_ascii_lowercase() && Some(c) != keep && capitals())
}

/// The last word of an OCR'd description is a speck ([`lone_letter_speck`]; a small `m` stays).
fn speck_at_end(words: &[&str]) -> bool {
    words
        .split_last()
        .is_some_and(|(last, before)| lone_letter_speck(last, before, Some('m')))
}

/// The first word of an OCR'd description is a speck ([`lone_letter_speck`]).
fn speck_at_start(words: &[&str]) -> bool {
    words
        .split_first()
        .is_some_and(|(first, after)| lone_letter_speck(first, after, None))
}

/// One item while being assembled.
#[derive(Debug, Default, Clone)]
struct Item {
    code: Vec<String>,
    description: Vec<String>,
    quantity: Option<String>,
    unit: Option<String>,
    unit_price: Option<String>,
    net_price: Option<String>,
    discount: Option<String>,
    amount: Option<String>,
    probs: Vec<f32>,
    boxes: BTreeMap<String, ValueBox>,
    /// Height of the first row of the description.
    desc_height: Option<f32>,
}

/// The labelled content of one text line of the table.
#[derive(Debug, Default, Clone)]
struct Row {
    fields: BTreeMap<Label, (String, BBox, f32)>,
    page: usize,
    /// The page's words are exactly what was printed (a text layer): boxes are font line boxes.
    exact: bool,
}

impl Row {
    fn has(&self, l: Label) -> bool {
        self.fields.contains_key(&l)
    }
}

fn rows(doc: &Document, tags: &Tags) -> Vec<Row> {
    let spaced = space_grouped(doc);
    let exact = crate::vocabulary::exact_pages(doc);
    let mut out = Vec::new();
    for (pi, page) in doc.pages.iter().enumerate() {
        let Some(ptags) = tags.get(pi) else { continue };
        let mut page_labels: Vec<Vec<Label>> = page
            .lines
            .iter()
            .map(|line| {
                let labels = code_tail_to_description(
                    line.words
                        .iter()
                        .map(|&wi| ptags.get(wi).copied().unwrap_or_default().label)
                        .collect(),
                );
                let texts: Vec<&str> = line
                    .words
                    .iter()
                    .map(|&wi| page.words[wi].text.as_str())
                    .collect();
                word_after_a_number_code_to_description(labels, &texts)
            })
            .collect();
        column_out_of_descriptions(page, &mut page_labels);
        code_run_on_to_description(page, &mut page_labels);
        for (line, labels) in page.lines.iter().zip(page_labels) {
            let mut row = Row {
                page: pi,
                exact: exact.get(pi).copied().unwrap_or(false),
                ..Default::default()
            };
            let mut last_of: BTreeMap<Label, usize> = BTreeMap::new();
            for (k, &wi) in line.words.iter().enumerate() {
                let mut tag = ptags.get(wi).copied().unwrap_or_default();
                tag.label = labels[k];
                if !tag.label.is_line() {
                    continue;
                }
                last_of.insert(tag.label, k);
                let w = &page.words[wi];
                let e = row
                    .fields
                    .entry(tag.label)
                    .or_insert_with(|| (String::new(), w.bbox, 1.0));
                if !e.0.is_empty() {
                    e.0.push(' ');
                }
                // a description takes the spaces OCR saw but did not read (`RAL90` -> `RAL 90`,
                // see `claimscan_ocr::mark_unread_spaces`); numbers and codes stay as read
                if tag.label == Label::LineDescription && !row.exact {
                    e.0.push_str(&mark_read_for_a_space(&w.spaced_text()));
                } else if tag.label == Label::LineDescription {
                    e.0.push_str(&w.spaced_text());
                } else {
                    e.0.push_str(&w.text);
                }
                e.1 = union(e.1, w.bbox);
                e.2 = e.2.min(tag.prob); // the least sure word of the field
            }
            // numbers: the last labelled word (with a split-off thousands group), not every word
            for (l, k) in last_of {
                if matches!(
                    l,
                    Label::LineQuantity
                        | Label::LineUnitPrice
                        | Label::LineNetPrice
                        | Label::LineAmount
                ) {
                    let (text, bbox) = numeric_text(page, &line.words, k, spaced, ptags);
                    if let Some(e) = row.fields.get_mut(&l) {
                        e.0 = text;
                        e.1 = bbox;
                    }
                }
            }
            let useful = row.fields.keys().any(|l| *l != Label::LineOther);
            if useful {
                out.push(row);
            }
        }
    }
    out
}

/// The end of a description that sits in a column of its own: on at least three text lines of
/// a page, the description's last words start at the same place (within half a word height)
/// after a gap more than twice as wide as the gaps between its other words. That is the next
/// column (a code `T84045`, a VAT rate `19`) run into the description because the columns are
/// close, not wording: a description that merely ends alike on several lines (`... RAL 9016`)
/// keeps its ordinary spacing. The column's words become the line's code when they hold a digit
/// and the line has none, else they are dropped from the description. Returns how many lines
/// changed.
fn column_out_of_descriptions(page: &Page, labels: &mut [Vec<Label>]) -> usize {
    /// Where a line's description could end in another column: the line, the positions of the
    /// words after a wide gap, where the first of them starts, and the line's word height.
    struct Tail {
        line: usize,
        words: Vec<usize>,
        x0: f32,
        height: f32,
    }
    let mut tails: Vec<Tail> = Vec::new();
    for (li, line) in page.lines.iter().enumerate() {
        let desc: Vec<usize> = (0..line.words.len())
            .filter(|&k| labels[li][k] == Label::LineDescription)
            .collect();
        if desc.len() < 3 {
            continue;
        }
        let bbox = |k: usize| page.words[line.words[k]].bbox;
        let gaps: Vec<f32> = desc
            .windows(2)
            .map(|w| bbox(w[1])[0] - bbox(w[0])[2])
            .collect();
        let mut heights: Vec<f32> = desc.iter().map(|&k| bbox(k)[3] - bbox(k)[1]).collect();
        heights.sort_by(f32::total_cmp);
        let height = heights[heights.len() / 2];
        // every wide gap with two or more words before it and at most three after it
        for g in 1..gaps.len() {
            if desc.len() - (g + 1) > 3 {
                continue;
            }
            let mut others: Vec<f32> = gaps
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != g)
                .map(|(_, v)| *v)
                .collect();
            others.sort_by(f32::total_cmp);
            let usual = others[(others.len() - 1) / 2].max(1.0);
            if gaps[g] > 2.0 * usual {
                tails.push(Tail {
                    line: li,
                    words: desc[g + 1..].to_vec(),
                    x0: bbox(desc[g + 1])[0],
                    height,
                });
            }
        }
    }
    // the earliest break of each line that starts at the same place on three or more lines
    let mut taken: BTreeMap<usize, &Tail> = BTreeMap::new();
    for t in &tails {
        let aligned: HashSet<usize> = tails
            .iter()
            .filter(|u| (u.x0 - t.x0).abs() <= 0.5 * t.height.min(u.height))
            .map(|u| u.line)
            .collect();
        if aligned.len() >= 3 {
            let e = taken.entry(t.line).or_insert(t);
            if t.words.len() > e.words.len() {
                *e = t;
            }
        }
    }
    for t in taken.values() {
        let line = &page.lines[t.line];
        // the column's own words end at the line's next wide gap (`T481 | 19`: a code, then a
        // VAT rate)
        let own = tails
            .iter()
            .filter(|u| u.line == t.line && u.words.len() < t.words.len())
            .map(|u| t.words.len() - u.words.len())
            .min()
            .unwrap_or(t.words.len());
        let has_code = labels[t.line].contains(&Label::LineCode);
        let digit = t.words[..own].iter().any(|&k| {
            page.words[line.words[k]]
                .text
                .chars()
                .any(|c| c.is_ascii_digit())
        });
        let code = digit && !has_code && own <= 2;
        for (i, &k) in t.words.iter().enumerate() {
            labels[t.line][k] = if code && i < own {
                Label::LineCode
            } else {
                Label::LineOther
            };
        }
    }
    taken.len()
}

/// Code words the model read at the end of a description that are its last words (`... AIR
/// GRILLE 100X300 WHITE`, `... 6KA EL9842059`, the last word at 0.5-0.7 code against 0.7-1.0
/// description for the words before it): the words right after a line's description that the
/// model took for a code, as far as each follows the one before with an ordinary word space (at
/// most 1.6 times the median gap between the line's description words), unless the line has a
/// code before its description or a code starts at the same place (within half a word height)
/// on two other lines of the page: a code column. Returns how many lines changed.
fn code_run_on_to_description(page: &Page, labels: &mut [Vec<Label>]) -> usize {
    let bbox = |line: usize, k: usize| page.words[page.lines[line].words[k]].bbox;
    let code_starts: Vec<(usize, f32, f32)> = labels
        .iter()
        .enumerate()
        .filter_map(|(li, ls)| {
            let k = ls.iter().position(|l| *l == Label::LineCode)?;
            let b = bbox(li, k);
            Some((li, b[0], b[3] - b[1]))
        })
        .collect();
    let mut changed = 0;
    for (li, ls) in labels.iter_mut().enumerate() {
        let desc: Vec<usize> = (0..ls.len())
            .filter(|&k| ls[k] == Label::LineDescription)
            .collect();
        let (Some(&first), Some(&last)) = (desc.first(), desc.last()) else {
            continue;
        };
        if desc.len() < 2 || ls[..first].contains(&Label::LineCode) {
            continue;
        }
        let run = ls[last + 1..]
            .iter()
            .take_while(|l| **l == Label::LineCode)
            .count();
        if run == 0 {
            continue;
        }
        let b0 = bbox(li, last + 1);
        let column = code_starts
            .iter()
            .filter(|(o, x, h)| *o != li && (x - b0[0]).abs() <= 0.5 * h.min(b0[3] - b0[1]))
            .count()
            >= 2;
        if column {
            continue;
        }
        let mut gaps: Vec<f32> = desc
            .windows(2)
            .map(|w| bbox(li, w[1])[0] - bbox(li, w[0])[2])
            .collect();
        gaps.sort_by(f32::total_cmp);
        let usual = gaps[(gaps.len() - 1) / 2].max(1.0);
        let mut k = last + 1;
        while k <= last + run && bbox(li, k)[0] - bbox(li, k - 1)[2] <= 1.6 * usual {
            k += 1;
        }
        if k > last + 1 {
            for l in &mut ls[last + 1..k] {
                *l = Label::LineDescription;
            }
            changed += 1;
        }
    }
    changed
}

/// A text line's labels, with code words that follow the description given to the
/// description when the line's code was already printed before it (`HF 62525507 | LED PNL
/// KALTMANN NORDIC`: `NORDIC` is the description's end that ran under the next column, not a
/// second code). Where the code column comes after the description, nothing changes. A single
/// description word right before the code, with the description after it (`NFL | 2503615 |
/// Circulatiepomp CIRCA E`), is the first word of a two-word code.
fn code_tail_to_description(mut labels: Vec<Label>) -> Vec<Label> {
    let Some(first_desc) = labels.iter().position(|l| *l == Label::LineDescription) else {
        return labels;
    };
    // a code of two words (`NFL 2503615`) whose first word was taken for the description's:
    // one description word, then code words, then the description
    if let Some(code) = labels.iter().position(|l| *l == Label::LineCode) {
        let code_end = (code..labels.len())
            .find(|&i| labels[i] != Label::LineCode)
            .unwrap_or(labels.len());
        let desc_after = labels[code_end..]
            .iter()
            .take_while(|l| **l == Label::LineDescription)
            .count();
        if first_desc + 1 == code && desc_after >= 2 {
            labels[first_desc] = Label::LineCode;
            return code_tail_to_description(labels);
        }
    }
    if !labels[..first_desc].contains(&Label::LineCode) {
        return labels;
    }
    let last_desc = labels
        .iter()
        .rposition(|l| *l == Label::LineDescription)
        .unwrap_or(first_desc);
    // only code words inside or right after the description (before any number column)
    let mut end = last_desc + 1;
    while end < labels.len() && labels[end] == Label::LineCode {
        end += 1;
    }
    for l in &mut labels[first_desc..end] {
        if *l == Label::LineCode {
            *l = Label::LineDescription;
        }
    }
    labels
}

/// A word of letters only that the model took for the second word of a code, after a code word
/// with a digit and before the description (`V.92359 | CBL | H79VV-F 2x1.23 AIRMAX`), is the
/// description's first word: codes of two words print their letters first (`RZF 22182539`, all
/// 1,464 two-word codes of seeds 73, 61 and 89), never after the number. Not after a position
/// number taken for a code (`6 | TRANS | Freight`: `TRANS` is the code), and not a speck of two
/// letters (`ne`).
fn word_after_a_number_code_to_description(mut labels: Vec<Label>, texts: &[&str]) -> Vec<Label> {
    for k in 1..labels.len().saturating_sub(1) {
        if labels[k - 1] == Label::LineCode
            && labels[k] == Label::LineCode
            && labels[k + 1] == Label::LineDescription
            && texts[k - 1].chars().count() >= 4
            && texts[k - 1].chars().any(|c| c.is_ascii_digit())
            && texts[k].chars().count() >= 3
            && texts[k].chars().all(char::is_alphabetic)
        {
            labels[k] = Label::LineDescription;
        }
    }
    labels
}

/// A word space OCR read as a comma or an apostrophe in an OCR'd description
/// (`KALTMANN,NORDIC`, `1100X450'CURVED`, `ELVO'RCBO`): the mark, between three letters or
/// digits and two capitals, is a space. No description of seeds 73, 61 and 89 prints one so
/// (8 read words on seeds 73 and 61 train do); `dell'Industria` and `2,5` stay.
fn mark_read_for_a_space(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    for (i, &c) in chars.iter().enumerate() {
        let split = matches!(c, ',' | '\'')
            && i >= 3
            && chars[i - 3..i].iter().all(|c| c.is_alphanumeric())
            && chars.len() >= i + 3
            && chars[i + 1..i + 3].iter().all(|c| c.is_uppercase());
        out.push(if split { ' ' } else { c });
    }
    out
}

/// Whether a row has a value (text with a digit) in a column other than the description.
fn values(row: &Row) -> bool {
    row.fields
        .iter()
        .any(|(l, (t, ..))| *l != Label::LineDescription && t.chars().any(|c| c.is_ascii_digit()))
}

fn absorb(item: &mut Item, row: &Row) {
    for (label, (text, bbox, prob)) in &row.fields {
        let vb = ValueBox {
            page: row.page,
            bbox: *bbox,
        };
        let key = match label {
            Label::LineCode => {
                item.code.push(text.clone());
                "product_code"
            }
            Label::LineDescription
                if !item.description.is_empty()
                    && is_reference_line(text, values(row))
                    && !wrapped_wording(item, row, text, *bbox) =>
            {
                continue
            }
            Label::LineDescription => {
                item.desc_height.get_or_insert(bbox[3] - bbox[1]);
                item.description.push(text.clone());
                "description"
            }
            Label::LineQuantity => {
                item.quantity.get_or_insert_with(|| text.clone());
                "quantity"
            }
            Label::LineUnit => {
                item.unit.get_or_insert_with(|| text.clone());
                "unit"
            }
            Label::LineUnitPrice => {
                item.unit_price.get_or_insert_with(|| text.clone());
                "unit_price"
            }
            Label::LineNetPrice => {
                item.net_price.get_or_insert_with(|| text.clone());
                "net_price"
            }
            Label::LineDiscount => {
                item.discount.get_or_insert_with(|| text.clone());
                "discount_pct"
            }
            Label::LineAmount => {
                item.amount.get_or_insert_with(|| text.clone());
                "amount"
            }
            _ => continue,
        };
        item.probs.push(*prob);
        item.boxes
            .entry(key.to_string())
            .and_modify(|b| b.bbox = union(b.bbox, *bbox))
            .or_insert(vb);
    }
}

/// A continuation line shaped like a reference (`EAN 4057312008855`) that is the description
/// wrapping onto it: on a text layer, with no label's colon and in the description's own size
/// (a distributor's wording ending `... cable 15 m EAN 4057312008855`). Printed references are
/// labelled `EAN:` and set smaller; OCR's ink boxes cannot tell the sizes apart (capitals and
/// digits against words with descenders), so OCR'd pages keep the reference rule.
fn wrapped_wording(item: &Item, row: &Row, text: &str, bbox: BBox) -> bool {
    row.exact
        && !text.contains(':')
        && item
            .desc_height
            .is_some_and(|h| bbox[3] - bbox[1] >= 0.95 * h)
}

/// Groups labelled rows into items. A row with an amount anchors an item. Other rows (wrapped
/// descriptions, the description line of an item block) join the anchor after them when the
/// document's anchors carry no description (blocks: description first, numbers below), else the
/// anchor before them.
fn items(rows: &[Row]) -> Vec<Item> {
    let anchors: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].has(Label::LineAmount))
        .collect();
    if anchors.is_empty() {
        return Vec::new();
    }
    // a stray word taken for wording on the numbers' row (a VAT rate `19` printed beside them)
    // does not make it a description
    let worded = |row: &Row| {
        row.fields
            .get(&Label::LineDescription)
            .is_some_and(|(t, _, _)| t.chars().filter(|c| c.is_alphabetic()).count() >= 4)
    };
    let with_desc = anchors.iter().filter(|&&i| worded(&rows[i])).count();
    let desc_before = with_desc * 2 < anchors.len();
    let mut groups: Vec<Vec<usize>> = anchors.iter().map(|&a| vec![a]).collect();
    let mut ai = 0;
    #[allow(clippy::needless_range_loop)]
    for i in 0..rows.len() {
        while ai < anchors.len() && anchors[ai] < i {
            ai += 1;
        }
        if ai < anchors.len() && anchors[ai] == i {
            continue;
        }
        // ai: index of the first anchor after row i
        let target = if desc_before {
            if ai < anchors.len() {
                Some(ai)
            } else {
                None
            }
        } else if ai > 0 {
            Some(ai - 1)
        } else if ai < anchors.len() && !rows[i].has(Label::LineQuantity) {
            Some(ai)
        } else {
            None
        };
        if let Some(t) = target {
            groups[t].push(i);
        }
    }
    groups
        .into_iter()
        .zip(&anchors)
        .map(|(mut g, &anchor)| {
            g.sort_unstable();
            // the stray word on the numbers' row of a block whose wording came before it
            let stray = desc_before
                && !worded(&rows[anchor])
                && g.iter()
                    .any(|&i| i != anchor && rows[i].has(Label::LineDescription));
            let mut item = Item::default();
            for i in g {
                if stray && i == anchor {
                    let mut row = rows[i].clone();
                    row.fields.remove(&Label::LineDescription);
                    absorb(&mut item, &row);
                } else {
                    absorb(&mut item, &rows[i]);
                }
            }
            item
        })
        .collect()
}

/// The price a line's amount is figured from, as printed: the unit price, or the net price where
/// it is the only price printed.
fn price_text(item: &Item) -> Option<&str> {
    item.unit_price.as_deref().or(item.net_price.as_deref())
}

/// Line-level and invoice-level check results.
struct LineCheck {
    arithmetic: Option<bool>,
}

fn check_line(line: &LineItem, discount: Option<f64>, net: Option<f64>) -> LineCheck {
    let (Some(q), Some(a)) = (line.quantity, line.amount) else {
        return LineCheck { arithmetic: None };
    };
    // the prices the amount may be figured from
    let mut prices = Vec::new();
    if let Some(n) = net {
        prices.push(n);
    }
    if let Some(p) = line.unit_price {
        prices.push(p);
        if let Some(d) = discount {
            prices.push(((p * (1.0 - d / 100.0)) * 100.0).round() / 100.0);
            prices.push(p * (1.0 - d / 100.0));
        }
    }
    if prices.is_empty() {
        return LineCheck { arithmetic: None };
    }
    LineCheck {
        arithmetic: Some(prices.iter().any(|&p| repair::ties(q, p, a))),
    }
}

/// Subtotal, tax and total read on OCR'd pages that break the sums, recovered from them
/// ([`repair::repair_totals`]); each change is reported as `total_repaired`. Whether any was.
fn apply_total_repairs(
    doc: &Document,
    sep: Option<DecimalSep>,
    exact_pages: &[bool],
    header: &mut Header,
    read: &[Option<(String, usize)>; 3],
    errors: &mut Vec<InvoiceIssue>,
    lines_sum: Option<f64>,
) -> bool {
    let on_ocr = read.iter().any(Option::is_some)
        && read
            .iter()
            .flatten()
            .all(|(_, page)| !exact_pages.get(*page).copied().unwrap_or(true));
    if !on_ocr {
        return false;
    }
    // every amount the invoice prints
    let printed: Vec<f64> = doc
        .words()
        .filter(|w| text::looks_like_money(&w.text))
        .filter_map(|w| amount_of(&w.text, sep))
        .collect();
    let values = [header.subtotal, header.tax, header.total];
    let totals = [0, 1, 2].map(|i| repair::Total {
        value: values[i],
        text: read[i].as_ref().map(|(t, _)| t.as_str()),
    });
    let fixes = repair::repair_totals(totals, lines_sum, &printed);
    for &(i, v) in &fixes {
        let (name, field) = match i {
            0 => ("subtotal", &mut header.subtotal),
            1 => ("tax", &mut header.tax),
            _ => ("total", &mut header.total),
        };
        errors.push(issue(
            "total_repaired",
            format!(
                "{name}: {} -> {v:.2} (the sums)",
                read[i]
                    .as_ref()
                    .map_or("not found".to_string(), |(t, _)| format!("read as {t}"))
            ),
        ));
        *field = Some(v);
    }
    !fixes.is_empty()
}

fn issue(code: &str, message: String) -> InvoiceIssue {
    InvoiceIssue {
        code: code.to_string(),
        message,
    }
}

/// Builds the invoice from labels.
pub fn assemble(doc: &Document, tags: &Tags) -> Invoice {
    let sep = document_sep(doc);
    let spans = spans(doc, tags);
    let mut inv = Invoice::default();
    let mut header = Header::default();
    let mut field_conf: BTreeMap<String, f32> = BTreeMap::new();
    let mut boxes: BTreeMap<String, ValueBox> = BTreeMap::new();
    let mut put = |name: &str, p: &Option<Picked>, field_conf: &mut BTreeMap<String, f32>| {
        if let Some(p) = p {
            field_conf.insert(name.to_string(), p.min);
            boxes.insert(
                name.to_string(),
                ValueBox {
                    page: p.page,
                    bbox: p.bbox,
                },
            );
        }
    };

    let mut supplier = pick(spans.get(&Label::SupplierName), false, clean_name);
    if let Some(p) = supplier.as_mut() {
        // a name that starts with a connector was cut: "& Verwarming NV" (lower case is not a sign:
        // "van der Berg BV")
        if p.value.starts_with(['&', '+']) {
            p.min = p.min.min(0.3);
        }
    }
    put("supplier_name", &supplier, &mut field_conf);
    header.supplier_name = supplier.map(|p| p.value);

    let vat = pick(spans.get(&Label::SupplierVatId), false, |s| {
        clean_text(s).map(|t| text::normalise_vat_id(&t))
    });
    let vat = vat.or_else(|| the_one_vat_id(doc));
    put("supplier_vat_id", &vat, &mut field_conf);
    header.supplier_vat_id = vat.map(|p| p.value);

    let number = pick(spans.get(&Label::InvoiceNumber), false, invoice_number_text);
    put("invoice_number", &number, &mut field_conf);
    // Pages whose words are exactly what was printed: a PDF's text layer, or given words that
    // carry no recognition doubt (every confidence 1, as in transcriptions and the generator's
    // truth). Their numbers are never taken for misreads.
    let exact_pages = crate::vocabulary::exact_pages(doc);
    header.invoice_number = number.map(|p| {
        if !exact_pages.get(p.page).copied().unwrap_or(true) {
            text::mend_ocr_invoice_number(&p.value)
        } else {
            p.value
        }
    });

    let date = pick(spans.get(&Label::InvoiceDate), false, |s| {
        s.split_whitespace().find_map(text::parse_date)
    });
    put("invoice_date", &date, &mut field_conf);
    header.invoice_date = date.map(|p| p.value);
    if header.invoice_date.is_none() {
        // no labelled date: the first date printed (receipts often have no label)
        let first = doc.pages.iter().enumerate().find_map(|(pi, page)| {
            page.lines
                .iter()
                .flat_map(|l| l.words.iter())
                .find_map(|&wi| {
                    text::parse_date(&page.words[wi].text).map(|d| (pi, page.words[wi].bbox, d))
                })
        });
        if let Some((page, bbox, d)) = first {
            let p = Some(Picked {
                read: d.clone(),
                value: d,
                min: 0.3,
                page,
                bbox,
            });
            put("invoice_date", &p, &mut field_conf);
            header.invoice_date = p.map(|p| p.value);
        }
    }

    let currency = pick(spans.get(&Label::Currency), false, |s| {
        s.split_whitespace()
            .find_map(|w| text::currency_of(w).map(str::to_string))
    });
    put("currency", &currency, &mut field_conf);
    // the labelled mark, unless another currency is marked more often on the document (OCR reads
    // `€` as `$`, `UID:` as `USD:`)
    let marks = currency_marks(doc);
    let most = marks.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c);
    header.currency = match (currency.map(|p| p.value), most) {
        (Some(c), Some(m)) if marks.get(c.as_str()).copied().unwrap_or(0) < marks[m] => {
            Some(m.to_string())
        }
        (c, m) => c.or_else(|| m.map(str::to_string)),
    };
    if !field_conf.contains_key("currency") && header.currency.is_some() {
        field_conf.insert("currency".into(), 0.99);
    }
    // no mark read at all (a scan whose `€` signs OCR lost): the currency of the supplier's
    // country, by its VAT id, less sure than a mark
    if header.currency.is_none() {
        if let Some(c) = header
            .supplier_vat_id
            .as_deref()
            .and_then(text::currency_of_vat_id)
        {
            header.currency = Some(c.to_string());
            field_conf.insert("currency".into(), 0.5);
        }
    }

    let money = |s: &str| amount_of(s, sep).map(|v| v.to_string());
    let subtotal = pick(spans.get(&Label::Subtotal), true, money);
    let tax = pick(spans.get(&Label::Tax), true, money);
    let total = pick(spans.get(&Label::Total), true, money);
    put("subtotal", &subtotal, &mut field_conf);
    put("tax", &tax, &mut field_conf);
    put("total", &total, &mut field_conf);
    let totals_read =
        [&subtotal, &tax, &total].map(|p| p.as_ref().map(|p| (p.read.clone(), p.page)));
    header.subtotal = subtotal.and_then(|p| p.value.parse().ok());
    header.tax = tax.and_then(|p| p.value.parse().ok());
    header.total = total.and_then(|p| p.value.parse().ok());

    // lines
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let mut line_ok = Vec::new();
    let mut items = items(&rows(doc, tags));
    quantities_in_their_column_format(&mut items, sep, &exact_pages);
    quantities_read_without_their_mark(&mut items, sep, &exact_pages);
    quantities_read_as_prices(&mut items, sep);
    let num = |s: &Option<String>| s.as_deref().and_then(|t| amount_of(t, sep));
    let discount_of = |item: &Item| {
        item.discount
            .as_deref()
            .and_then(|t| text::parse_number(t.trim_end_matches('%'), sep))
    };
    let read: Vec<repair::LineNumbers> = items
        .iter()
        .map(|item| repair::LineNumbers {
            quantity: num(&item.quantity),
            unit_price: price_text(item).and_then(|t| amount_of(t, sep)),
            amount: num(&item.amount),
            quantity_text: item.quantity.as_deref(),
            unit_price_text: price_text(item),
            amount_text: item.amount.as_deref(),
            exact: item
                .boxes
                .values()
                .all(|b| exact_pages.get(b.page).copied().unwrap_or(false)),
            after_discount: match (
                num(&item.net_price),
                num(&item.unit_price),
                discount_of(item),
            ) {
                (Some(n), Some(_), _) => Some(n),
                (None, Some(p), Some(d)) => Some(p * (1.0 - d / 100.0)),
                _ => None,
            },
        })
        .collect();
    // A discount column, or a net price beside the unit price, on at least a quarter of the
    // lines (one stray label does not make a discount invoice).
    let discounted = items
        .iter()
        .filter(|i| i.discount.is_some() || (i.net_price.is_some() && i.unit_price.is_some()))
        .count();
    let evidence = repair::evidence(&read, discounted * 4 >= items.len().max(1));
    // Repairs on the line's own evidence, then the subtotal settles lines where two numbers could
    // be the misread one.
    let mut fixes: Vec<(Vec<repair::Repair>, Vec<repair::Repair>)> = read
        .iter()
        .map(|l| repair::repair_or_alternatives(l, evidence))
        .collect();
    let amount_after = |l: &repair::LineNumbers, rs: &[repair::Repair]| {
        rs.iter()
            .rev()
            .find(|r| r.field == repair::Field::Amount)
            .map(|r| r.to)
            .or(l.amount)
    };
    let mut lines_sum: f64 = read
        .iter()
        .zip(&fixes)
        .filter_map(|(l, f)| amount_after(l, &f.0))
        .sum();
    for (l, (sure, either)) in read.iter().zip(fixes.iter_mut()) {
        let amount = amount_after(l, sure);
        if let Some(r) = repair::settle(either, amount, lines_sum, header.subtotal) {
            if let (repair::Field::Amount, Some(a)) = (r.field, amount) {
                lines_sum += r.to - a;
            }
            sure.push(r);
        }
    }
    for (n, (item, numbers)) in items.iter().zip(&read).enumerate() {
        let mut net = num(&item.net_price);
        let discount = discount_of(item);
        let (mut quantity, mut unit_price_raw, mut amount) =
            (numbers.quantity, num(&item.unit_price), numbers.amount);
        let repairs = &fixes[n].0;
        for r in repairs {
            match r.field {
                repair::Field::Quantity => quantity = Some(r.to),
                // the price figured from is the unit price, or the net price when it stands alone
                repair::Field::UnitPrice if item.unit_price.is_some() => {
                    unit_price_raw = Some(r.to)
                }
                repair::Field::UnitPrice => net = Some(r.to),
                repair::Field::Amount => amount = Some(r.to),
            }
        }
        let unit_price = unit_price_raw.or(net);
        let description = clean_description(&item.description.join(" "), !numbers.exact);
        let code = clean_text(&item.code.join(" "));
        let mut line = LineItem {
            description,
            product_code: code,
            quantity,
            unit: item.unit.as_deref().and_then(clean_text),
            unit_price,
            amount,
            confidence: 0.0,
            boxes: item.boxes.clone(),
        };
        let min_prob = item.probs.iter().copied().fold(1.0f32, f32::min);
        let mut check = check_line(&line, discount, net);
        let base = min_prob.clamp(0.0, 1.0);
        if !repairs.is_empty() {
            // A repaired line agrees with itself by construction: it counts as unchecked, and
            // a manager sees what was changed.
            check.arithmetic = None;
            for r in repairs {
                errors.push(issue(
                    "line_repaired",
                    format!(
                        "line {}: {} {} -> {} ({})",
                        n + 1,
                        r.field.name(),
                        r.from
                            .map_or("not found".to_string(), |v| format!("read as {v}")),
                        r.to,
                        r.why
                    ),
                ));
            }
        }
        line.confidence = match check.arithmetic {
            Some(true) => base,
            Some(false) => {
                errors.push(issue(
                    "line_arithmetic",
                    format!(
                        "line {}: quantity × unit price does not give the amount",
                        n + 1
                    ),
                ));
                0.2 * base
            }
            None => 0.7 * base,
        };
        if line.description.is_none() {
            line.confidence *= 0.5;
        }
        line_ok.push(check.arithmetic);
        lines.push(line);
    }
    unit_column_in_descriptions(&mut lines, &exact_pages);
    units_from_other_lines(&mut lines);
    codes_from_descriptions(&mut lines);

    let line_sum: f64 = lines.iter().filter_map(|l| l.amount).sum();
    let lines_tie = !lines.is_empty()
        && line_ok.iter().all(|c| *c == Some(true))
        && fixes.iter().all(|f| f.0.is_empty());
    let totals_repaired = apply_total_repairs(
        doc,
        sep,
        &exact_pages,
        &mut header,
        &totals_read,
        &mut errors,
        lines_tie.then_some(line_sum),
    );

    // invoice-level checks
    let mut doc_checks_ok = true;
    if let (Some(s), false) = (header.subtotal, lines.is_empty()) {
        if !text::money_eq(line_sum, s) {
            doc_checks_ok = false;
            errors.push(issue(
                "lines_sum_mismatch",
                format!("the lines add up to {line_sum:.2}, the subtotal is {s:.2}"),
            ));
        }
    }
    match (header.subtotal, header.tax, header.total) {
        (Some(s), Some(t), Some(tot)) => {
            if !text::money_eq(s + t, tot) {
                doc_checks_ok = false;
                errors.push(issue(
                    "totals_mismatch",
                    format!("subtotal {s:.2} + tax {t:.2} != total {tot:.2}"),
                ));
            }
        }
        _ => {
            doc_checks_ok = false;
        }
    }
    for (name, present) in [
        ("invoice_number", header.invoice_number.is_some()),
        ("invoice_date", header.invoice_date.is_some()),
        ("supplier_name", header.supplier_name.is_some()),
        ("total", header.total.is_some()),
    ] {
        if !present {
            errors.push(issue("field_missing", format!("{name} was not found")));
        }
    }
    if lines.is_empty() {
        errors.push(issue("no_lines", "no line items were found".into()));
    }

    // invoice confidence: header field probabilities × line confidences, lifted when the sums agree
    // invoice confidence: the least sure header field or line, cut when a check fails
    let header_min = crate::HEADER_FIELDS
        .iter()
        .map(|f| {
            field_conf.get(*f).copied().unwrap_or(match *f {
                "supplier_vat_id" | "currency" => 0.5,
                _ => 0.2,
            })
        })
        .fold(1.0f32, f32::min);
    let lines_min = if lines.is_empty() {
        0.1
    } else {
        lines.iter().map(|l| l.confidence).fold(1.0f32, f32::min)
    };
    let arithmetic_ok = line_ok.iter().all(|c| *c != Some(false));
    // A repaired number is a guess a manager confirms: the invoice ranks with those whose
    // checks failed, not above them.
    let repaired = fixes.iter().any(|f| !f.0.is_empty()) || totals_repaired;
    let mut conf = header_min.min(lines_min);
    if !(doc_checks_ok && arithmetic_ok) || repaired {
        conf *= 0.3;
    }
    inv.confidence = conf.clamp(0.0, 1.0);
    inv.header = header;
    inv.lines = lines;
    inv.field_confidence = field_conf;
    inv.boxes = boxes;
    inv.errors = errors;
    inv
}

/// Quantities printed with three decimals (`25,000`, `2,000` under a decimal comma) where OCR
/// read one mark as the other (`2.000`, which the locale parses as two thousand: seed 73's
/// `inv000043`): on OCR'd pages, when at least two other quantities of the invoice show the
/// three-decimal format, a quantity of one to three digits, the other mark and three digits is
/// that format too. Returns how many were mended.
fn quantities_in_their_column_format(
    items: &mut [Item],
    sep: Option<DecimalSep>,
    exact_pages: &[bool],
) -> usize {
    let (mark, other) = match sep {
        Some(DecimalSep::Comma) => (',', '.'),
        Some(DecimalSep::Point) => ('.', ','),
        None => return 0,
    };
    let shaped = |t: &str, m: char| {
        t.split_once(m).is_some_and(|(a, b)| {
            (1..=3).contains(&a.len())
                && a.chars().all(|c| c.is_ascii_digit())
                && b.len() == 3
                && b.chars().all(|c| c.is_ascii_digit())
        })
    };
    let in_format = items
        .iter()
        .filter(|i| i.quantity.as_deref().is_some_and(|q| shaped(q, mark)))
        .count();
    if in_format < 2 {
        return 0;
    }
    let mut mended = 0;
    for item in items.iter_mut() {
        let on_ocr = quantity_on_ocr_page(item, exact_pages);
        if let Some(q) = item.quantity.as_mut() {
            if on_ocr && shaped(q, other) {
                *q = q.replacen(other, &mark.to_string(), 1);
                mended += 1;
            }
        }
    }
    mended
}

/// Whether an item's quantity was read on an OCR'd page (not a text layer).
fn quantity_on_ocr_page(item: &Item, exact_pages: &[bool]) -> bool {
    item.boxes
        .get("quantity")
        .is_some_and(|b| !exact_pages.get(b.page).copied().unwrap_or(true))
}

/// Quantities printed with two decimals (`2,00`, `-5,00`) whose mark OCR did not read (`200`,
/// `-500`: seed 61's `inv000032`, seed 73's `inv000374`, where the other rows read `5,00`,
/// `10,00`): on OCR'd pages, when at least two other quantities of the invoice show the
/// two-decimal format, a quantity read as a whole number of three digits or more ending in `00`
/// is that format with its mark lost (a quantity of two hundred prints `200,00` there). Returns
/// how many were mended.
fn quantities_read_without_their_mark(
    items: &mut [Item],
    sep: Option<DecimalSep>,
    exact_pages: &[bool],
) -> usize {
    let mark = match sep {
        Some(DecimalSep::Comma) => ',',
        Some(DecimalSep::Point) => '.',
        None => return 0,
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    let two_decimals = |t: &str| {
        t.strip_prefix('-')
            .unwrap_or(t)
            .split_once(mark)
            .is_some_and(|(a, b)| {
                (1..=3).contains(&a.len()) && digits(a) && b.len() == 2 && digits(b)
            })
    };
    let in_format = items
        .iter()
        .filter(|i| i.quantity.as_deref().is_some_and(two_decimals))
        .count();
    if in_format < 2 {
        return 0;
    }
    let mut mended = 0;
    for item in items.iter_mut() {
        let on_ocr = quantity_on_ocr_page(item, exact_pages);
        let Some(q) = item.quantity.as_mut().filter(|_| on_ocr) else {
            continue;
        };
        let (sign, whole) = match q.strip_prefix('-') {
            Some(w) => ("-", w),
            None => ("", q.as_str()),
        };
        if whole.len() >= 3 && digits(whole) && whole.ends_with("00") {
            let (units, cents) = whole.split_at(whole.len() - 2);
            *q = format!("{sign}{units}{mark}{cents}");
            mended += 1;
        }
    }
    mended
}

/// A quantity printed like money (`25,00`) that the model took for the unit price, with the
/// unit price taken for a net price or discount (seed 101's photo `inv000060`: `25,00 40,76
/// 1019,00` read as no quantity, price 25, net price 40.76): when a line has no quantity, a
/// whole-number unit price `q` and another price `p` beside it with `q x p` = the amount (to the
/// cent), `q` is the quantity and `p` the unit price. Three numbers of one row that multiply out
/// are no accident. Returns how many lines changed.
fn quantities_read_as_prices(items: &mut [Item], sep: Option<DecimalSep>) -> usize {
    let value = |t: &Option<String>| t.as_deref().and_then(|t| amount_of(t, sep));
    let mut changed = 0;
    for item in items.iter_mut().filter(|i| i.quantity.is_none()) {
        let (Some(q), Some(a)) = (value(&item.unit_price), value(&item.amount)) else {
            continue;
        };
        if q == 0.0 || q.fract() != 0.0 {
            continue;
        }
        let ties = |p: f64| (q * p - a).abs() <= 0.011 + 1e-6 * a.abs();
        let (moved, key) = if value(&item.net_price).is_some_and(ties) {
            (item.net_price.take(), "net_price")
        } else if value(&item.discount).is_some_and(ties) {
            (item.discount.take(), "discount_pct")
        } else {
            continue;
        };
        item.quantity = item.unit_price.take();
        item.unit_price = moved;
        let price_box = item.boxes.remove(key);
        if let Some(b) = item.boxes.remove("unit_price") {
            item.boxes.insert("quantity".into(), b);
        }
        if let Some(b) = price_box {
            item.boxes.insert("unit_price".into(), b);
        }
        changed += 1;
    }
    changed
}

/// Whether a description's continuation line is a labelled reference printed under it (`EAN
/// 4057312000002`, `Hersteller-Art.-Nr.: TM61725`, `EAN: 40573... Fabrikantcode: EL4208897`) or
/// a bare barcode with a valid check digit: the item's codes, not its wording. Labels may be one
/// letter misread (`Fubrikantcode`). The same words inside the description's own line stay
/// (`... 30W EAN 40573...`), and so does a label with no value after it on a row with no
/// value anywhere (`values_elsewhere`: another column's text with a digit): a description cut
/// short after its `EAN` (`... W/OUT OXYGEN BARRIER` / `EAN`, set 61's `inv000038`) wraps that
/// word, it prints no reference; a label whose values fell in other columns (`Fabrikantcode` of
/// `EAN: 40573... Fabrikantcode: PF5675367`, set 99's `inv000363`) is one.
fn is_reference_line(text: &str, values_elsewhere: bool) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let barcode = |w: &&str| {
        claimscan_matching::normalize::gtin_valid(w.trim_matches(|c: char| !c.is_ascii_digit()))
    };
    if !words.is_empty() && words.iter().all(barcode) {
        return true;
    }
    let folded: Vec<String> = text::fold(text)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let label_at = |k: usize| match lexicon::field_prefix(&folded[k..]) {
        Some((Field::Extra, n)) => Some(n),
        _ => (lexicon::field_near(&folded[k]) == Some(Field::Extra)
            // the start of a label whose other words were read into another column (`Manuf.`
            // of `Manuf. code: AM33107`, the code labelled a code): a label when values are
            || (k + 1 == folded.len()
                && values_elsewhere
                && lexicon::starts_field_phrase(&folded[k], Field::Extra)))
        .then_some(1),
    };
    let (mut k, mut values) = (0, 0);
    while k < folded.len() {
        if let Some(n) = label_at(k) {
            k += n;
        } else if k > 0 && folded[k].chars().any(|c| c.is_ascii_digit()) {
            k += 1;
            values += 1;
        } else {
            return false;
        }
    }
    values > 0 || (k > 0 && values_elsewhere)
}

/// Whether a folded word sequence starts like a totals line (end of the item table).
pub fn is_totals_label(folded_words: &[String]) -> bool {
    matches!(
        lexicon::field_prefix(folded_words),
        Some((
            Field::Subtotal | Field::Total | Field::Tax | Field::Carried,
            _
        ))
    )
}

/// The shape of a product code: letters as `A`, digits as `9`, the rest as printed
/// (`NFL 2503615` -> `AAA 9999999`).
fn code_shape(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_alphabetic() {
                'A'
            } else if c.is_ascii_digit() {
                '9'
            } else {
                c
            }
        })
        .collect()
}

/// A line's code read into its description: a line with no code whose description starts with
/// one or two words shaped like the codes of at least two other lines of the invoice (`NEL
/// 1957527 Paneelradiator ...` beside codes `NFL 2503615`, `NFL 8136504`) gets them as its code.
/// Only shapes with a digit count. Returns how many lines changed.
fn codes_from_descriptions(lines: &mut [LineItem]) -> usize {
    let mut shapes: HashMap<String, usize> = HashMap::new();
    for c in lines.iter().filter_map(|l| l.product_code.as_deref()) {
        *shapes.entry(code_shape(c)).or_default() += 1;
    }
    let mut changed = 0;
    for l in lines.iter_mut().filter(|l| l.product_code.is_none()) {
        let Some(d) = l.description.as_deref() else {
            continue;
        };
        let words: Vec<&str> = d.split_whitespace().collect();
        let taken = (1..=2.min(words.len().saturating_sub(1))).find(|&k| {
            let head = words[..k].join(" ");
            let shape = code_shape(&head);
            shape.contains('9') && shapes.get(&shape).copied().unwrap_or(0) >= 2
        });
        if let Some(k) = taken {
            l.product_code = Some(words[..k].join(" "));
            l.description = Some(words[k..].join(" "));
            changed += 1;
        }
    }
    changed
}

/// A unit column read into the descriptions: when the same pack word (`ea`, `pz`, `st`) ends
/// the descriptions of at least three unit-less lines of OCR'd pages, and of at least half the
/// invoice's lines, it is a column, not wording: it is moved to those lines' unit. (A photo's
/// skew can put a narrow unit column in a description's row band.) Returns how many lines
/// changed.
fn unit_column_in_descriptions(lines: &mut [LineItem], exact_pages: &[bool]) -> usize {
    let pack_word = |l: &LineItem| {
        trailing_word_of_unitless_ocr_line(l, exact_pages)
            .filter(|w| claimscan_matching::normalize::is_pack_word(&w.to_lowercase()))
    };
    let mut count: HashMap<String, usize> = HashMap::new();
    for w in lines.iter().filter_map(pack_word) {
        *count.entry(w).or_default() += 1;
    }
    let Some((word, n)) = count.into_iter().max_by_key(|(w, n)| (*n, w.clone())) else {
        return 0;
    };
    if n < 3 || n * 2 < lines.len() {
        return 0;
    }
    let mut changed = 0;
    for l in lines.iter_mut() {
        if pack_word(l).as_deref() == Some(word.as_str()) {
            last_word_to_unit(l);
            changed += 1;
        }
    }
    changed
}

/// The last word of a unit-less line's description read on an OCR'd page, when the description
/// has more words than that one.
fn trailing_word_of_unitless_ocr_line(l: &LineItem, exact_pages: &[bool]) -> Option<String> {
    let page = l.boxes.get("description")?.page;
    if exact_pages.get(page).copied().unwrap_or(true) {
        return None;
    }
    trailing_word_of_unitless_line(l)
}

/// The last word of a unit-less line's description, when the description has more words than
/// that one.
fn trailing_word_of_unitless_line(l: &LineItem) -> Option<String> {
    if l.unit.is_some() {
        return None;
    }
    let (head, last) = l.description.as_deref()?.trim_end().rsplit_once(' ')?;
    (!head.trim().is_empty()).then(|| last.to_string())
}

/// Moves the last word of a line's description to its unit.
fn last_word_to_unit(l: &mut LineItem) {
    let d = l.description.take().unwrap_or_default();
    match d.trim_end().rsplit_once(' ') {
        Some((head, last)) => {
            l.unit = Some(last.to_string());
            l.description = Some(head.trim_end().to_string());
        }
        None => l.description = Some(d),
    }
}

/// A unit read into its line's description: a unit-less line whose description ends with a word
/// that is the unit of another line of the invoice (`... 50 M RING un.` where other lines read
/// `un.`; on a text layer, `... TYPE 11 60 pc` printed tight against its unit column) gets it
/// back as its unit. Of 22,133 generated truth descriptions (seeds 99, 32, 53, 71), 2 end with a
/// unit the invoice uses that is also their own. Returns how many lines changed.
fn units_from_other_lines(lines: &mut [LineItem]) -> usize {
    let units: HashSet<String> = lines
        .iter()
        .filter_map(|l| l.unit.as_deref())
        .map(str::to_lowercase)
        .collect();
    let mut changed = 0;
    for l in lines.iter_mut() {
        if trailing_word_of_unitless_line(l).is_some_and(|w| units.contains(&w.to_lowercase())) {
            last_word_to_unit(l);
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The supplier name as the model left it (only its first word labelled) on a line of
    /// OCR'd words (text, left, right), assembled.
    fn name_from_first_word(words: &[(&str, f32, f32)]) -> Option<String> {
        name_labelled_at(words, 0)
    }

    /// The same with only word `k` labelled.
    fn name_labelled_at(words: &[(&str, f32, f32)], k: usize) -> Option<String> {
        let mut labels = vec![Label::Other; words.len()];
        labels[k] = Label::SupplierName;
        name_with_labels(words, &labels)
    }

    /// The supplier name of one line of words (text, x0, x1) with these labels.
    fn name_with_labels(words: &[(&str, f32, f32)], labels: &[Label]) -> Option<String> {
        use claimscan_doc::{PageSource, Word};
        let (w, h) = (2480.0, 3508.0);
        let words: Vec<Word> = words
            .iter()
            .map(|&(t, x0, x1)| Word::new(t, [x0, 494.0, x1, 529.0], 0.9, w, h))
            .collect();
        let n = words.len();
        let doc = Document::of_words(
            "name.json",
            vec![Page::new(0, w, h, Some(300.0), PageSource::Ocr, words)],
        );
        let tags = vec![labels
            .iter()
            .map(|&label| crate::labels::Tag { label, prob: 0.9 })
            .collect::<Vec<_>>()];
        assert_eq!(tags[0].len(), n);
        assemble(&doc, &tags).header.supplier_name
    }

    /// The model took the end of a name for the invoice number (seed 97's `inv000388`, a scan
    /// auto-approved with `DE PRO` for its supplier): words without a digit are the name's.
    #[test]
    fn a_name_goes_on_over_digitless_words_labelled_a_numeric_field() {
        let (s, n) = (Label::SupplierName, Label::InvoiceNumber);
        let row = [
            ("DE", 436.0, 499.0),
            ("PRO", 516.0, 615.0),
            ("Installatietechniek", 631.0, 1045.0),
            ("V.O.F.", 1060.0, 1196.0),
        ];
        assert_eq!(
            name_with_labels(&row, &[s, s, n, n]).as_deref(),
            Some("DE PRO Installatietechniek V.O.F.")
        );
        // a word with a digit labelled the number is the number
        let number = [
            ("DE", 436.0, 499.0),
            ("PRO", 516.0, 615.0),
            ("RE124054", 631.0, 800.0),
        ];
        assert_eq!(
            name_with_labels(&number, &[s, s, n]).as_deref(),
            Some("DE PRO")
        );
        // a description word is no name's
        let line = [
            ("DE", 436.0, 499.0),
            ("PRO", 516.0, 615.0),
            ("Radiator", 631.0, 800.0),
        ];
        assert_eq!(
            name_with_labels(&line, &[s, s, Label::LineDescription]).as_deref(),
            Some("DE PRO")
        );
    }

    /// A VAT id the model did not label is the document's one well-formed id (seed 61's
    /// `inv000148`, behind `intrecommunautaire:`); a second id makes it no one's.
    #[test]
    fn the_one_vat_id_printed_is_the_suppliers() {
        use claimscan_doc::{PageSource, Word};
        let (w, h) = (2480.0, 3508.0);
        let doc = |texts: &[&str]| {
            let words: Vec<Word> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let x = 100.0 + 300.0 * i as f32;
                    Word::new(*t, [x, 494.0, x + 250.0, 529.0], 0.9, w, h)
                })
                .collect();
            Document::of_words(
                "vat.json",
                vec![Page::new(0, w, h, Some(300.0), PageSource::Ocr, words)],
            )
        };
        let one = |texts: &[&str]| the_one_vat_id(&doc(texts)).map(|p| p.value);
        assert_eq!(
            one(&[
                "TVA",
                "intrecommunautaire:",
                "FR64239588630",
                "FR64239588630."
            ]),
            Some("FR64239588630".to_string())
        );
        // OCR's `O` for `0` is mended as in a labelled id
        assert_eq!(
            one(&["NIP:", "PLO889254451"]),
            Some("PL0889254451".to_string())
        );
        // the supplier's and the customer's: no one's
        assert_eq!(one(&["DE123456789", "ATU12345678"]), None);
        // no country's format: an IBAN, an order number
        assert_eq!(one(&["DE89370400440532013000", "PL70", "ORD34798"]), None);
    }

    /// The model may take only the name after the `&` (`Sanz S.A.`), or start the name at the
    /// `&`; OCR reads that `&` as a currency sign, and `o.o.` as `0.0.` (seed 73's scans and
    /// photos `inv000240`, `inv000117`, `inv000055`).
    #[test]
    fn a_name_goes_back_over_an_ampersand_read_as_a_currency_sign() {
        let sign = [
            ("Romero", 126.0, 288.0),
            ("€:", 300.0, 329.0),
            ("Sanz", 342.0, 444.0),
            ("S.A.", 456.0, 539.0),
        ];
        assert_eq!(
            name_labelled_at(&sign, 2).as_deref(),
            Some("Romero & Sanz S.A.")
        );
        let dollar = [
            ("Nowak", 235.0, 400.0),
            ("$", 416.0, 458.0),
            ("Dabrowski", 474.0, 731.0),
            ("S.A.", 746.0, 842.0),
        ];
        assert_eq!(
            name_labelled_at(&dollar, 2).as_deref(),
            Some("Nowak & Dabrowski S.A.")
        );
        let at_amp = [
            ("Iglesias", 200.0, 380.0),
            ("&", 400.0, 430.0),
            ("Cano", 450.0, 560.0),
            ("S.L.", 575.0, 650.0),
        ];
        assert_eq!(
            name_labelled_at(&at_amp, 1).as_deref(),
            Some("Iglesias & Cano S.L.")
        );
        let polish = [
            ("Szymanski", 205.0, 423.0),
            ("&", 439.0, 474.0),
            ("Kowalski", 490.0, 680.0),
            ("Sp.", 694.0, 758.0),
            ("z", 771.0, 792.0),
            ("0.0.", 804.0, 875.0),
        ];
        assert_eq!(
            name_from_first_word(&polish).as_deref(),
            Some("Szymanski & Kowalski Sp. z o.o.")
        );
        // a lower-case word before the sign is no name (`total € Sanz`)
        let lower = [
            ("total", 126.0, 288.0),
            ("€:", 300.0, 329.0),
            ("Sanz", 342.0, 444.0),
        ];
        assert_eq!(name_labelled_at(&lower, 2).as_deref(), Some("Sanz"));
    }

    /// An `&` (or its misreading) set apart between two names, and a legal form set apart at
    /// the end, are the name's (set 99's `inv000373`, `inv000197`: `Keller`, `Bakker`).
    #[test]
    fn a_name_goes_on_over_a_spaced_ampersand_and_its_legal_form() {
        let spaced = [
            ("Keller", 976.0, 1155.0),
            ("&", 1188.0, 1215.0),
            ("Schmidt", 1249.0, 1454.0),
            ("KG", 1486.0, 1547.0),
        ];
        assert_eq!(
            name_from_first_word(&spaced).as_deref(),
            Some("Keller & Schmidt KG")
        );
        let misread = [
            ("Bakker", 1188.0, 1403.0),
            ("8", 1425.0, 1468.0),
            ("Jansen", 1488.0, 1711.0),
            ("BVBA", 1737.0, 1919.0),
        ];
        assert_eq!(
            name_from_first_word(&misread).as_deref(),
            Some("Bakker & Jansen BVBA")
        );
        // a word far off is another column, and a lower-case word after an `&` no name
        let far = [("Keller", 976.0, 1155.0), ("Rechnung", 1900.0, 2100.0)];
        assert_eq!(name_from_first_word(&far).as_deref(), Some("Keller"));
        let lower = [
            ("Keller", 976.0, 1155.0),
            ("8", 1188.0, 1215.0),
            ("stuks", 1249.0, 1400.0),
        ];
        assert_eq!(name_from_first_word(&lower).as_deref(), Some("Keller"));
    }

    #[test]
    fn a_quantity_taken_for_the_price_is_the_quantity_when_the_row_multiplies_out() {
        let item =
            |q: Option<&str>, p: &str, net: Option<&str>, disc: Option<&str>, a: &str| Item {
                quantity: q.map(Into::into),
                unit_price: Some(p.into()),
                net_price: net.map(Into::into),
                discount: disc.map(Into::into),
                amount: Some(a.into()),
                ..Item::default()
            };
        let comma = Some(DecimalSep::Comma);
        let fields = |i: &Item| {
            (
                i.quantity.clone(),
                i.unit_price.clone(),
                i.net_price.clone(),
                i.discount.clone(),
            )
        };
        let s = |t: &str| Some(t.to_string());
        // seed 101's inv000060: `25,00 40,76 1019,00`; a price read as a discount
        let mut items = vec![
            item(None, "25,00", Some("40,76"), None, "1019,00"),
            item(None, "2", None, Some("4,45"), "8,90"),
        ];
        assert_eq!(quantities_read_as_prices(&mut items, comma), 2);
        assert_eq!(fields(&items[0]), (s("25,00"), s("40,76"), None, None));
        assert_eq!(fields(&items[1]), (s("2"), s("4,45"), None, None));
        // a price that is no whole number, numbers that do not multiply out, a line with its
        // quantity: as read
        let mut kept = vec![
            item(None, "25,50", Some("40,76"), None, "1039,38"),
            item(None, "25,00", Some("40,00"), None, "1019,00"),
            item(Some("3"), "25,00", Some("40,76"), None, "1019,00"),
        ];
        assert_eq!(quantities_read_as_prices(&mut kept, comma), 0);
        assert_eq!(fields(&kept[2]), (s("3"), s("25,00"), s("40,76"), None));
    }

    /// An item with only its quantity, read on page 0.
    fn quantity_item(q: &str) -> Item {
        Item {
            quantity: Some(q.into()),
            boxes: [(
                "quantity".to_string(),
                ValueBox {
                    page: 0,
                    bbox: [0.0; 4],
                },
            )]
            .into(),
            ..Item::default()
        }
    }

    /// The items' quantities as text (empty: none).
    fn quantities(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| i.quantity.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn a_quantity_whose_mark_was_not_read_takes_its_columns_two_decimals() {
        let (item, qs) = (quantity_item, quantities);
        let comma = Some(DecimalSep::Comma);
        // seed 61's inv000032: `200` and `500` among `5,00` and `10,00`; a credit note's `-500`
        let mut items = vec![
            item("5,00"),
            item("200"),
            item("10,00"),
            item("-500"),
            item("1000"),
        ];
        assert_eq!(
            quantities_read_without_their_mark(&mut items, comma, &[false]),
            3
        );
        assert_eq!(qs(&items), ["5,00", "2,00", "10,00", "-5,00", "10,00"]);
        // under a decimal point
        let mut point = vec![item("2.00"), item("-4.00"), item("300")];
        quantities_read_without_their_mark(&mut point, Some(DecimalSep::Point), &[false]);
        assert_eq!(qs(&point), ["2.00", "-4.00", "3.00"]);
        // whole numbers not ending in 00, or of two digits, are as read; one other quantity in
        // the format is no column's; a text layer is as printed
        let mut kept = vec![
            item("5,00"),
            item("10,00"),
            item("250"),
            item("50"),
            item("2"),
        ];
        assert_eq!(
            quantities_read_without_their_mark(&mut kept, comma, &[false]),
            0
        );
        let mut lone = vec![item("5,00"), item("200")];
        assert_eq!(
            quantities_read_without_their_mark(&mut lone, comma, &[false]),
            0
        );
        let mut exact = vec![item("5,00"), item("10,00"), item("200")];
        assert_eq!(
            quantities_read_without_their_mark(&mut exact, comma, &[true]),
            0
        );
    }

    #[test]
    fn a_quantity_read_with_the_other_mark_takes_its_columns_format() {
        let (item, qs) = (quantity_item, quantities);
        let comma = Some(DecimalSep::Comma);
        let mut items = vec![item("25,000"), item("2.000"), item("12,000"), item("1.250")];
        assert_eq!(
            quantities_in_their_column_format(&mut items, comma, &[false]),
            2
        );
        assert_eq!(qs(&items), ["25,000", "2,000", "12,000", "1,250"]);
        // under a decimal point, the other way round
        let mut point = vec![item("3.000"), item("5,000"), item("10.000")];
        quantities_in_their_column_format(&mut point, Some(DecimalSep::Point), &[false]);
        assert_eq!(qs(&point), ["3.000", "5.000", "10.000"]);
        // one other quantity in the format is no column's format; a text layer is as printed;
        // a thousand with decimals stays
        let mut lone = vec![item("25,000"), item("2.000")];
        assert_eq!(
            quantities_in_their_column_format(&mut lone, comma, &[false]),
            0
        );
        let mut exact = vec![item("25,000"), item("2.000"), item("12,000")];
        assert_eq!(
            quantities_in_their_column_format(&mut exact, comma, &[true]),
            0
        );
        let mut big = vec![item("25,000"), item("12,000"), item("1.000,000")];
        assert_eq!(
            quantities_in_their_column_format(&mut big, comma, &[false]),
            0
        );
    }

    #[test]
    fn a_unit_read_into_a_description_comes_back_when_other_lines_use_it() {
        let mut lines = vec![
            described("ELVOCAB NYM-J 3x1.5 100 M RING", Some("un.")),
            described("ELVOCAB NYM-J 5x2.5 50 M RING un.", None),
            described("RADIA V type 22 SET", None),
        ];
        assert_eq!(units_from_other_lines(&mut lines), 1);
        assert_eq!(
            lines[1].description.as_deref(),
            Some("ELVOCAB NYM-J 5x2.5 50 M RING")
        );
        assert_eq!(lines[1].unit.as_deref(), Some("un."));
        // a word no other line uses as its unit stays
        assert_eq!(lines[2].description.as_deref(), Some("RADIA V type 22 SET"));
        // a line with its own unit keeps its description's last word
        let mut own = vec![
            described("A 3x1.5", Some("un.")),
            described("B 5x2.5 un.", Some("un.")),
        ];
        assert_eq!(units_from_other_lines(&mut own), 0);
    }

    fn described(d: &str, unit: Option<&str>) -> LineItem {
        LineItem {
            description: Some(d.into()),
            unit: unit.map(str::to_string),
            boxes: [(
                "description".to_string(),
                ValueBox {
                    page: 0,
                    bbox: [0.0; 4],
                },
            )]
            .into(),
            ..LineItem::default()
        }
    }

    #[test]
    fn an_invoice_number_loses_a_speck_read_after_it() {
        assert_eq!(
            invoice_number_text("INV-127651 »-").as_deref(),
            Some("INV-127651")
        );
        assert_eq!(
            invoice_number_text("FV 105030").as_deref(),
            Some("FV 105030")
        );
        assert_eq!(invoice_number_text("Nr. -"), None);
    }

    #[test]
    fn supplier_names_lose_what_ocr_and_logos_add_at_their_ends() {
        let c = |s: &str| clean_name(s).unwrap();
        assert_eq!(c("Wójcik 8 Zielinski S.A."), "Wójcik & Zielinski S.A.");
        // seed 61's and seed 73's scans and photos (2026-12-07, fourth session)
        assert_eq!(
            c("Kozlowski 6 Zielinski S.A."),
            "Kozlowski & Zielinski S.A."
        );
        assert_eq!(c("Romero 4 Molina S.L."), "Romero & Molina S.L.");
        assert_eq!(
            c("sp SMIELEK Plumbing Supplies AB"),
            "SMIELEK Plumbing Supplies AB"
        );
        assert_eq!(
            c("pa, Szymanski Hydro-Term Sp. z o.o."),
            "Szymanski Hydro-Term Sp. z o.o."
        );
        assert_eq!(
            c("‘HOFPRO Elektrogroßhandel GmbH"),
            "HOFPRO Elektrogroßhandel GmbH"
        );
        // a name's particle stays
        assert_eq!(
            c("de Boer Elektrotechniek B.V."),
            "de Boer Elektrotechniek B.V."
        );
        assert_eq!(c("Studio 8 design"), "Studio 8 design");
        assert_eq!(
            c(". Termoidraulica Rossi S.n.c."),
            "Termoidraulica Rossi S.n.c."
        );
        assert_eq!(
            c("Kozlowski Hurtownia Instalacyjna S.A. -."),
            "Kozlowski Hurtownia Instalacyjna S.A."
        );
        assert_eq!(
            c("s VISMAT Elektrotechniek V.O.F."),
            "VISMAT Elektrotechniek V.O.F."
        );
        assert_eq!(
            c("Termoidraulica Bruno S.p.A.."),
            "Termoidraulica Bruno S.p.A."
        );
        assert_eq!(
            c("MULDER Mulder Technische Groothandel BV"),
            "Mulder Technische Groothandel BV"
        );
        // what set-r's train scans and photos made of `&`, legal forms and first words
        assert_eq!(c("Castillo €. Navarro S.L."), "Castillo & Navarro S.L.");
        assert_eq!(c("Iglesias 8: Navarro S.A."), "Iglesias & Navarro S.A.");
        assert_eq!(c("Iglesias Ey Cano S.L."), "Iglesias & Cano S.L.");
        assert_eq!(c("Romero £ Sanz S.A."), "Romero & Sanz S.A.");
        assert_eq!(
            c("(vi) VIDMAT Material Eléctrico S.A."),
            "VIDMAT Material Eléctrico S.A."
        );
        assert_eq!(
            c("Frank & Wagner GmbH & Co. KG ae"),
            "Frank & Wagner GmbH & Co. KG"
        );
        assert_eq!(c("Rossi Impianti di"), "Rossi Impianti di");
        // a dotted legal form with a dot lost; one printed without dots stays
        assert_eq!(c("Frank & Wagner eK."), "Frank & Wagner e.K.");
        assert_eq!(c("MANELEK Forniture S.r.l"), "MANELEK Forniture S.r.l.");
        assert_eq!(c("Bianchi Impianti Srl"), "Bianchi Impianti Srl");
        assert_eq!(c("Trade Supplies Hughes ple"), "Trade Supplies Hughes plc");
        assert_eq!(
            c("Kowalski & Kozlowski Sp. z 0.0."),
            "Kowalski & Kozlowski Sp. z o.o."
        );
        assert_eq!(
            c("Lw} Installatiegroothandel Willems NV"),
            "Installatiegroothandel Willems NV"
        );
        assert_eq!(
            c("‚Installationsbedarf Schmidt e.K."),
            "Installationsbedarf Schmidt e.K."
        );
        assert_eq!(
            c("\\VOGTERM Elektrogroßhandel GmbH"),
            "VOGTERM Elektrogroßhandel GmbH"
        );
        // names as printed stay
        for name in [
            "van der Berg BV",
            "BECPRO Elektrogroßhandel Ges.m.b.H.",
            "Keller & Frank AG",
            "MULDER MULDER BV",
            "& Verwarming NV",
            "Cano & Ortega S.L.",
            "Bakker & Jansen BVBA",
            "Pipe & Pump Centre Ltd",
            "Sanitair & Verwarming SAS",
            "Kowalski Hurtownia Instalacyjna Sp. z o.o.",
            "Zieliński Elektro-Hurt Sp.j.",
        ] {
            assert_eq!(c(name), name);
        }
    }

    #[test]
    fn a_code_read_into_the_description_is_taken_back_by_its_shape() {
        let coded = |code: &str, d: &str| LineItem {
            product_code: Some(code.into()),
            ..described(d, None)
        };
        let mut lines = vec![
            coded("NFL 2503615", "Circulatiepomp CIRCA E 25-50"),
            coded("NFL 8136504", "Circulatiepomp CIRCA N 15-40"),
            described("NEL 1957527 Paneelradiator TERMICA TERMO type 28", None),
            described("2 LAG ISOFLEX 18X32", None),
            described("Kleine orderkosten", None),
        ];
        assert_eq!(codes_from_descriptions(&mut lines), 1);
        assert_eq!(lines[2].product_code.as_deref(), Some("NEL 1957527"));
        assert_eq!(
            lines[2].description.as_deref(),
            Some("Paneelradiator TERMICA TERMO type 28")
        );
        assert_eq!(lines[3].product_code, None);
        // one other line with that shape is no column
        let mut one = vec![
            coded("NFL 2503615", "Circulatiepomp CIRCA E 25-50"),
            described("NEL 1957527 Paneelradiator", None),
        ];
        assert_eq!(codes_from_descriptions(&mut one), 0);
    }

    #[test]
    fn a_unit_column_read_into_the_descriptions_is_moved_to_the_unit() {
        let mut lines = vec![
            described("VENTA EC Duct fan 315 ea", None),
            described("GRILLE LINEAR Air grille 400x200 al ea", None),
            described("TERMICA TERMO Panel radiator type 0 ea", None),
            described("Transport", None),
        ];
        assert_eq!(unit_column_in_descriptions(&mut lines, &[false]), 3);
        assert_eq!(
            lines[0].description.as_deref(),
            Some("VENTA EC Duct fan 315")
        );
        assert_eq!(lines[0].unit.as_deref(), Some("ea"));
        assert_eq!(lines[3].description.as_deref(), Some("Transport"));
        assert_eq!(lines[3].unit, None);
    }

    #[test]
    fn descriptions_ending_alike_stay_unless_a_pack_word_ends_most_unit_less_ocr_lines() {
        let three = |end: &str, unit: Option<&str>| {
            (0..3)
                .map(|i| described(&format!("RADIA V type {i} {end}"), unit))
                .collect::<Vec<_>>()
        };
        // not a pack word
        assert_eq!(
            unit_column_in_descriptions(&mut three("mm", None), &[false]),
            0
        );
        // a text layer prints what it prints
        assert_eq!(
            unit_column_in_descriptions(&mut three("ea", None), &[true]),
            0
        );
        // the unit was read: the word is wording
        assert_eq!(
            unit_column_in_descriptions(&mut three("box", Some("pcs")), &[false]),
            0
        );
        // fewer than half the lines
        let mut few = three("ea", None);
        few.extend((0..4).map(|_| described("Pump", None)));
        assert_eq!(unit_column_in_descriptions(&mut few, &[false]), 0);
        // two lines are no column
        let mut two = three("ea", None);
        two.pop();
        assert_eq!(unit_column_in_descriptions(&mut two, &[false]), 0);
    }

    #[test]
    fn descriptions_lose_ocr_debris_at_their_ends_only() {
        assert_eq!(
            clean_description("| — ELVOCAB cable 3 x 1.5 - 50 m ~~ ", false).as_deref(),
            Some("ELVOCAB cable 3 x 1.5 - 50 m")
        );
        assert_eq!(clean_description("— |", true), None);
        // a speck read as a letter at the row's end, on OCR'd words only
        assert_eq!(
            clean_description("PANEELRADIATOR TYPE 21 RADIA VM À", true).as_deref(),
            Some("PANEELRADIATOR TYPE 21 RADIA VM")
        );
        assert_eq!(
            clean_description("CIRCULATIEPOMP 15-80 CIRCA SOLAR i", true).as_deref(),
            Some("CIRCULATIEPOMP 15-80 CIRCA SOLAR")
        );
        assert_eq!(
            clean_description("PANEELRADIATOR TYPE 21 RADIA VM À", false).as_deref(),
            Some("PANEELRADIATOR TYPE 21 RADIA VM À")
        );
        assert_eq!(
            clean_description("o GRILLE LINEAR 100X150 AIR GRILLE", true).as_deref(),
            Some("GRILLE LINEAR 100X150 AIR GRILLE")
        );
        assert_eq!(
            clean_description("ì Inbedrijfstelling", true).as_deref(),
            Some("Inbedrijfstelling")
        );
        assert_eq!(
            clean_description("a Panel radiator", true).as_deref(),
            Some("a Panel radiator")
        );
        // a mark after the last letter, read from a speck
        assert_eq!(
            clean_description("AIRMAX BREEZE RAD TPE 75 600X600 MM'", true).as_deref(),
            Some("AIRMAX BREEZE RAD TPE 75 600X600 MM")
        );
        assert_eq!(
            clean_description("AIRMAX AMX 546x791 36W°", true).as_deref(),
            Some("AIRMAX AMX 546x791 36W")
        );
        assert_eq!(
            clean_description("«N-LINE PUMP LINEA 40-20", true).as_deref(),
            Some("«N-LINE PUMP LINEA 40-20")
        );
        assert_eq!(
            clean_description("AIRMAX AMX 546x791 36W°", false).as_deref(),
            Some("AIRMAX AMX 546x791 36W°")
        );
        // a unit, a capital, a small letter after small letters, an inch mark stay
        for kept in [
            "ISOFLEX 2 M",
            "PERTA 200 m",
            "Grille black p",
            "GRILLE LINEAR R",
            "THREADA tee 1 1/4\"",
        ] {
            assert_eq!(clean_description(kept, true).as_deref(), Some(kept));
        }
        assert_eq!(
            clean_description("Pump 1/2\" -", false).as_deref(),
            Some("Pump 1/2\"")
        );
        // glued to the first word: removed from OCR'd words, kept as printed on a text layer
        assert_eq!(
            clean_description("‘LED PNL 600x600", true).as_deref(),
            Some("LED PNL 600x600")
        );
        assert_eq!(
            clean_description("-HYDROTEC AQUAFLOW 1/2\"", true).as_deref(),
            Some("HYDROTEC AQUAFLOW 1/2\"")
        );
        assert_eq!(
            clean_description("\"Special\" tap", false).as_deref(),
            Some("\"Special\" tap")
        );
    }

    #[test]
    fn code_words_after_the_description_join_it_when_the_code_came_first() {
        use Label::*;
        assert_eq!(
            code_tail_to_description(vec![
                LineCode,
                LineCode,
                LineDescription,
                LineDescription,
                LineCode,
                LineQuantity
            ]),
            [
                LineCode,
                LineCode,
                LineDescription,
                LineDescription,
                LineDescription,
                LineQuantity
            ]
        );
        // a code column after the description stays a code
        let after = vec![LineDescription, LineDescription, LineCode, LineQuantity];
        assert_eq!(code_tail_to_description(after.clone()), after);
        // a code past the number columns is not the description's end
        let far = vec![LineCode, LineDescription, LineQuantity, LineCode];
        assert_eq!(code_tail_to_description(far.clone()), far);
    }

    #[test]
    fn a_description_word_before_the_code_is_the_codes_first_word() {
        use Label::*;
        // `NFL | 2503615 | Circulatiepomp CIRCA E ...`
        assert_eq!(
            code_tail_to_description(vec![
                LineDescription,
                LineCode,
                LineDescription,
                LineDescription,
                LineQuantity
            ]),
            [
                LineCode,
                LineCode,
                LineDescription,
                LineDescription,
                LineQuantity
            ]
        );
        // two description words first, or only one after: left as labelled
        let two = vec![
            LineDescription,
            LineDescription,
            LineCode,
            LineDescription,
            LineDescription,
        ];
        assert_eq!(code_tail_to_description(two.clone()), two);
        let short = vec![LineDescription, LineCode, LineDescription, LineQuantity];
        assert_eq!(code_tail_to_description(short.clone()), short);
    }

    #[test]
    fn a_comma_or_apostrophe_read_for_a_space_is_one() {
        assert_eq!(mark_read_for_a_space("KALTMANN,NORDIC"), "KALTMANN NORDIC");
        assert_eq!(mark_read_for_a_space("1100X450'CURVED"), "1100X450 CURVED");
        assert_eq!(mark_read_for_a_space("drum,EAN"), "drum EAN");
        for kept in [
            "dell'Industria",
            "2,5",
            "1.234,56",
            "Fi/Ls",
            "EL'X",
            "CIRC.PMP",
        ] {
            assert_eq!(mark_read_for_a_space(kept), kept);
        }
    }

    #[test]
    fn a_word_of_letters_after_a_number_code_starts_the_description() {
        use Label::*;
        let labels = vec![
            LineCode,
            LineCode,
            LineDescription,
            LineDescription,
            LineQuantity,
        ];
        // `V.92359 | CBL | H79VV-F 2x1.23 ...`
        assert_eq!(
            word_after_a_number_code_to_description(
                labels.clone(),
                &["V.92359", "CBL", "H79VV-F", "2x1.23", "4"]
            ),
            [
                LineCode,
                LineDescription,
                LineDescription,
                LineDescription,
                LineQuantity
            ]
        );
        // a two-word code prints its letters first (`RZF 22182539`), and a second word with a
        // digit is still the code's
        for texts in [
            ["RZF", "22182539", "Circulatiepomp", "CIRCA", "4"],
            ["V.92359", "B2", "H79VV-F", "2x1.23", "4"],
            ["6", "TRANS", "Freight", "1", "4"],
            ["PF.72411", "ne", "PERSFITTING", "PRESSFIT", "2"],
        ] {
            assert_eq!(
                word_after_a_number_code_to_description(labels.clone(), &texts),
                labels,
                "{texts:?}"
            );
        }
    }

    /// A page of text lines, each a list of (word, left, right) on its own row, with the
    /// labels of its words.
    fn table_page(rows: &[&[(&str, f32, f32, Label)]]) -> (Page, Vec<Vec<Label>>) {
        let mut words = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            let y = 100.0 + 60.0 * r as f32;
            for (t, x0, x1, _) in row.iter() {
                words.push(claimscan_doc::Word::new(
                    *t,
                    [*x0, y, *x1, y + 40.0],
                    0.9,
                    2000.0,
                    3000.0,
                ));
            }
        }
        let page = Page::new(
            0,
            2000.0,
            3000.0,
            None,
            claimscan_doc::PageSource::Input,
            words,
        );
        let flat: Vec<Label> = rows.iter().flat_map(|r| r.iter().map(|w| w.3)).collect();
        let labels = page
            .lines
            .iter()
            .map(|l| l.words.iter().map(|&wi| flat[wi]).collect())
            .collect();
        (page, labels)
    }

    #[test]
    fn a_column_run_into_the_descriptions_is_taken_out_of_them() {
        use Label::*;
        // a code column at x = 946 after descriptions that end anywhere before it
        let (page, mut labels) = table_page(&[
            &[
                ("RAD", 130.0, 185.0, LineDescription),
                ("RADIA", 199.0, 282.0, LineDescription),
                ("VM", 291.0, 333.0, LineDescription),
                ("7016", 849.0, 915.0, LineDescription),
                ("T29971", 946.0, 1041.0, LineDescription),
                ("5", 1298.0, 1312.0, LineQuantity),
            ],
            &[
                ("RAD", 130.0, 185.0, LineDescription),
                ("PNL", 201.0, 254.0, LineDescription),
                ("9016", 826.0, 890.0, LineDescription),
                ("T47606", 946.0, 1045.0, LineDescription),
                ("1", 1298.0, 1307.0, LineQuantity),
            ],
            &[
                ("CIRC", 130.0, 200.0, LineDescription),
                ("PUMP", 210.0, 290.0, LineDescription),
                ("1x230V", 300.0, 400.0, LineDescription),
                ("T12249", 947.0, 1040.0, LineDescription),
                ("19", 1100.0, 1130.0, LineDescription),
            ],
        ]);
        assert_eq!(column_out_of_descriptions(&page, &mut labels), 3);
        assert_eq!(labels[0][4], LineCode);
        assert_eq!(labels[1][3], LineCode);
        // a code, then a second column: the code, and a word dropped
        assert_eq!(&labels[2][3..], [LineCode, LineOther]);
        assert_eq!(labels[0][..4], [LineDescription; 4]);
    }

    #[test]
    fn a_code_read_at_a_descriptions_end_with_a_word_space_is_its_last_word() {
        use Label::*;
        let (page, mut labels) = table_page(&[
            // `WHITE` one word space after the description, then a code far off
            &[
                ("AIR", 130.0, 180.0, LineDescription),
                ("GRILLE", 192.0, 300.0, LineDescription),
                ("100X300", 312.0, 440.0, LineDescription),
                ("WHITE", 452.0, 550.0, LineCode),
                ("T12926", 700.0, 800.0, LineCode),
                ("5", 1298.0, 1312.0, LineQuantity),
            ],
            // a code column: codes start at x = 946 on three lines
            &[
                ("RAD", 130.0, 185.0, LineDescription),
                ("PNL", 197.0, 254.0, LineDescription),
                ("9016", 866.0, 930.0, LineDescription),
                ("T47606", 946.0, 1045.0, LineCode),
            ],
            &[
                ("RAD", 130.0, 185.0, LineDescription),
                ("PNL", 197.0, 254.0, LineDescription),
                ("T47607", 946.0, 1045.0, LineCode),
            ],
            &[
                ("CIRC", 130.0, 200.0, LineDescription),
                ("PUMP", 212.0, 290.0, LineDescription),
                ("T12249", 947.0, 1040.0, LineCode),
            ],
            // a code before the description: the code is the line's own
            &[
                ("T1", 20.0, 60.0, LineCode),
                ("CIRC", 130.0, 200.0, LineDescription),
                ("PUMP", 212.0, 290.0, LineDescription),
                ("EL98", 302.0, 380.0, LineCode),
            ],
        ]);
        let before = labels.clone();
        assert_eq!(code_run_on_to_description(&page, &mut labels), 1);
        assert_eq!(&labels[0][3..], [LineDescription, LineCode, LineQuantity]);
        assert_eq!(&labels[1..], &before[1..]);
    }

    #[test]
    fn descriptions_ending_alike_with_ordinary_spacing_keep_their_ends() {
        use Label::*;
        let row: &[(&str, f32, f32, Label)] = &[
            ("HK", 130.0, 170.0, LineDescription),
            ("RADIA", 180.0, 260.0, LineDescription),
            ("RAL", 270.0, 320.0, LineDescription),
            ("9016", 330.0, 390.0, LineDescription),
            ("1", 1298.0, 1307.0, LineQuantity),
        ];
        let (page, mut labels) = table_page(&[row, row, row, row]);
        let before = labels.clone();
        assert_eq!(column_out_of_descriptions(&page, &mut labels), 0);
        assert_eq!(labels, before);
        // one wide gap on two lines only is no column
        let wide: &[(&str, f32, f32, Label)] = &[
            ("HK", 130.0, 170.0, LineDescription),
            ("RADIA", 180.0, 260.0, LineDescription),
            ("9016", 330.0, 390.0, LineDescription),
            ("T1", 946.0, 990.0, LineDescription),
        ];
        let (page, mut labels) = table_page(&[wide, wide, row]);
        assert_eq!(column_out_of_descriptions(&page, &mut labels), 0);
    }

    #[test]
    fn a_vat_rate_on_the_numbers_row_of_item_blocks_is_not_their_wording() {
        let row = |fields: &[(Label, &str)]| Row {
            fields: fields
                .iter()
                .map(|(l, t)| (*l, (t.to_string(), [0.0; 4], 0.9)))
                .collect(),
            page: 0,
            exact: false,
        };
        use Label::*;
        // blocks: wording first, then `Menge: 5 ... USt%: 19 ... Betrag: 414,75`
        let rows = [
            row(&[(LineDescription, "PEXA 32x2.9 100 m PX3053486")]),
            row(&[
                (LineQuantity, "5,00"),
                (LineDescription, "19"),
                (LineAmount, "414,75"),
            ]),
            row(&[(LineDescription, "RADIA C type 10 RAC2001391")]),
            row(&[
                (LineQuantity, "8,00"),
                (LineDescription, "19"),
                (LineAmount, "1.584,40"),
            ]),
            row(&[(LineDescription, "Montagearbeiten")]),
            row(&[(LineQuantity, "1,00"), (LineAmount, "91,58")]),
        ];
        let got = items(&rows);
        let described: Vec<String> = got.iter().map(|i| i.description.join(" ")).collect();
        assert_eq!(
            described,
            [
                "PEXA 32x2.9 100 m PX3053486",
                "RADIA C type 10 RAC2001391",
                "Montagearbeiten"
            ]
        );
        assert_eq!(got[1].amount.as_deref(), Some("1.584,40"));
    }

    #[test]
    fn another_columns_label_and_value_at_the_end_of_an_ocr_description_go() {
        let cut = |d: &str| clean_description(d, true).unwrap();
        assert_eq!(
            cut("Panel radiator CALOREX CX type 56 ALIO.: 22"),
            "Panel radiator CALOREX CX type 56"
        );
        assert_eq!(
            cut("Panel Radiator Type 79 F TX TVA: 20"),
            "Panel Radiator Type 79 F"
        );
        assert_eq!(
            cut("BRIXO BX PANEL RADIATOR Réf."),
            "BRIXO BX PANEL RADIATOR"
        );
        assert_eq!(
            cut("UMW.PUMPE CIRCA 15-70 „Fabrikantcode"),
            "UMW.PUMPE CIRCA 15-70"
        );
        // wording that looks like a label stays: a barcode in the description, a cut `pure`,
        // a discount line, a word one edit from a label without a label's `:`
        for kept in [
            "CIRCA 20-70 130 mm CIRC.PMP EAN 4057312",
            "RAD RADIA V type 10 550x2000mm pu",
            "Early payment discount 2%",
            "CALOREX CX Multilayer press",
        ] {
            assert_eq!(cut(kept), kept);
        }
        // exact pages keep everything
        assert_eq!(
            clean_description("Panel radiator type 56 ALIO.: 22", false).unwrap(),
            "Panel radiator type 56 ALIO.: 22"
        );
    }

    #[test]
    fn reference_lines_under_a_description_are_not_its_wording() {
        assert!(is_reference_line("Hersteller-Art.-Nr.: TM61725", false));
        assert!(is_reference_line("EAN 4057312000002", false));
        assert!(is_reference_line("Mfr ref: CI5914362", false));
        assert!(!is_reference_line("RADIATEUR", false));
        assert!(!is_reference_line(
            "EAN plug adapter for pump housings",
            false
        ));
        // a label alone: the end of a description cut short, not a reference
        assert!(!is_reference_line("EAN", false));
        assert!(!is_reference_line("Herst.-Nr.:", false));
        // ... unless the row's values fell in other columns
        assert!(is_reference_line("Fabrikantcode", true));
        // the start of `Manuf. code: AM33107`, the rest in the code column (set 73's inv000030)
        assert!(is_reference_line("Manuf.", true));
        assert!(!is_reference_line("Manuf.", false));
        assert!(!is_reference_line("Manuf. steel", true));
        assert!(!is_reference_line("RADIATEUR", true));
        assert!(is_reference_line(
            "EAN: 4057312132062 Fubrikantcode: EL4208897",
            false
        ));
        assert!(is_reference_line("4057312000002", false));
        // not a valid barcode, not labelled: wording
        assert!(!is_reference_line("4057312000003", false));
        assert!(!is_reference_line("100 m", false));
        let row = |t: &str| Row {
            fields: [(Label::LineDescription, (t.to_string(), [0.0; 4], 1.0))].into(),
            page: 0,
            exact: false,
        };
        let mut item = Item::default();
        absorb(&mut item, &row("ELVOCAB cable 3 x 1.5"));
        absorb(&mut item, &row("Herst.-Nr.: EL40916"));
        absorb(&mut item, &row("50 m"));
        assert_eq!(item.description, ["ELVOCAB cable 3 x 1.5", "50 m"]);
        // a description that is only a reference is still read
        let mut only = Item::default();
        absorb(&mut only, &row("EAN 4057312000002"));
        assert_eq!(only.description, ["EAN 4057312000002"]);
        // on a text layer, a description wrapping onto an unlabelled `EAN ...` in its own size
        // keeps it (set 99's digital `inv000340`); a labelled or smaller reference line does not
        let text_row = |t: &str, height: f32| Row {
            fields: [(
                Label::LineDescription,
                (t.to_string(), [0.0, 0.0, 500.0, height], 1.0),
            )]
            .into(),
            page: 0,
            exact: true,
        };
        let mut wrapped = Item::default();
        absorb(&mut wrapped, &text_row("DRAIN PMP 550 cable 15 m", 40.0));
        absorb(&mut wrapped, &text_row("EAN 4057312008855", 40.0));
        absorb(&mut wrapped, &text_row("EAN: 4057312000002", 40.0));
        absorb(&mut wrapped, &text_row("EAN 4057312000002", 33.0));
        assert_eq!(
            wrapped.description,
            ["DRAIN PMP 550 cable 15 m", "EAN 4057312008855"]
        );
    }
}
