//! The rule reader: labels words from keywords and geometry, with no model.
//!
//! - Header fields: a label phrase (`Invoice No.`, `Rechnungsdatum`, `N° TVA`...) with its value to
//!   the right on the same line, or below it when labels form a grid row.
//! - Supplier name: the first name with a legal form (`GmbH`, `plc`, `S.p.A.`...) on the first
//!   page that is not in the customer block.
//! - Totals: the last lines that start with a subtotal / tax / total label, rightmost amount.
//! - Line items: the table header row (at least three column labels), column x-ranges from its
//!   words, rows below it until the totals; or, without a table header, item blocks whose numbers
//!   follow labels (`Q.TÀ: 5 nr  PREZZO UNIT.: 3,23 ... IMPORTO: 12,10`).

use claimscan_doc::{Document, Page};

use crate::labels::{Label, Tag, Tags};
use crate::lexicon::{self, Column, Field};
use crate::text::{self, fold};

/// Words of one text line, left to right, with folded text.
struct LineView<'a> {
    idx: Vec<usize>,
    folded: Vec<String>,
    page: &'a Page,
    height: f32,
}

impl<'a> LineView<'a> {
    fn new(page: &'a Page, li: usize) -> Self {
        let idx = page.lines[li].words.clone();
        let folded = idx.iter().map(|&i| fold(&page.words[i].text)).collect();
        let mut hs: Vec<f32> = idx
            .iter()
            .map(|&i| page.words[i].bbox[3] - page.words[i].bbox[1])
            .collect();
        hs.sort_by(f32::total_cmp);
        let height = hs.get(hs.len() / 2).copied().unwrap_or(10.0).max(1.0);
        LineView {
            idx,
            folded,
            page,
            height,
        }
    }

    fn bbox(&self, k: usize) -> [f32; 4] {
        self.page.words[self.idx[k]].bbox
    }

    fn text(&self, k: usize) -> &str {
        &self.page.words[self.idx[k]].text
    }

    /// Gap between word k-1 and word k.
    fn gap_before(&self, k: usize) -> f32 {
        if k == 0 {
            f32::INFINITY
        } else {
            self.bbox(k)[0] - self.bbox(k - 1)[2]
        }
    }

    fn breaks_before(&self, k: usize) -> bool {
        k == 0
            || self.gap_before(k) > 0.9 * self.height
            || self.text(k - 1).ends_with(':')
            || matches!(self.text(k - 1), "·" | "|" | "-" | "•")
            // a speck OCR read before a label (`. Fattura n.:`) is no text to run on from
            || !self.text(k - 1).chars().any(char::is_alphanumeric)
    }
}

/// Labels every word of the document by rules.
pub fn label(doc: &Document) -> Tags {
    let mut tags: Tags = doc
        .pages
        .iter()
        .map(|p| vec![Tag::default(); p.words.len()])
        .collect();
    header_fields(doc, &mut tags);
    supplier_name(doc, &mut tags);
    totals(doc, &mut tags);
    let mut prev: Option<Vec<Col>> = None;
    for (pi, page) in doc.pages.iter().enumerate() {
        match table(page, &mut tags[pi], prev.as_deref()) {
            Some(cols) => prev = Some(cols),
            None => blocks(page, &mut tags[pi]),
        }
    }
    tags
}

fn set(tags: &mut [Tag], words: &[usize], label: Label) {
    for &w in words {
        tags[w] = Tag { label, prob: 1.0 };
    }
}

/// Label phrases found in a line: (field, first word, word count).
fn line_labels(v: &LineView) -> Vec<(Field, usize, usize)> {
    let mut out = Vec::new();
    let mut k = 0;
    // A label starts where the text breaks, or right after another label: a title and the
    // number's label printed close together (`RECHNUNG Rechnungs-Nr. INV-53304`, `ABONO Numero
    // R-149442`) are two labels, and the longest phrase has already been taken at the first.
    // Only an exact label counts there: a near one right after a label is more often the
    // label's own word again (`FATTURA N. FATTURA FA/013102`: `fattura`, one edit from
    // `fatturan`).
    let mut after_label = false;
    while k < v.idx.len() {
        let breaks = v.breaks_before(k);
        if after_label || breaks {
            if let Some((f, n)) = lexicon::field_prefix(&v.folded[k..]) {
                out.push((f, k, n));
                k += n;
                after_label = true;
                continue;
            }
        }
        if breaks {
            // an OCR'd label one character off (`ractuurnr.`, `numser`, `wartose brutto`), or
            // glued (`fatturan`)
            let ocr = v.page.words[v.idx[k]].confidence < 1.0;
            if let Some((f, n)) = lexicon::field_phrase_near(&v.folded[k..]).filter(|_| ocr) {
                out.push((f, k, n));
                k += n;
                after_label = true;
                continue;
            }
            if let Some(f) = lexicon::field_near_glued(&v.folded[k]).filter(|_| ocr) {
                out.push((f, k, 1));
                k += 1;
                after_label = true;
                continue;
            }
        }
        after_label = false;
        k += 1;
    }
    out
}

fn header_fields(doc: &Document, tags: &mut Tags) {
    let mut found_number = false;
    let mut found_date = false;
    let mut found_vat = false;
    let mut found_currency = false;
    for (pi, page) in doc.pages.iter().enumerate() {
        for li in 0..page.lines.len() {
            let v = LineView::new(page, li);
            let labels = line_labels(&v);
            for (j, &(f, k, n)) in labels.iter().enumerate() {
                let wanted = match f {
                    Field::InvoiceNo if !found_number => Label::InvoiceNumber,
                    Field::Date if !found_date => Label::InvoiceDate,
                    Field::VatId if !found_vat => Label::SupplierVatId,
                    Field::Currency if !found_currency => Label::Currency,
                    _ => continue,
                };
                let end = labels.get(j + 1).map(|l| l.1).unwrap_or(v.idx.len());
                let mut value: Vec<usize> = (k + n..end).collect();
                // value words stop at the next big gap
                if let Some(cut) = value.iter().position(|&q| q > k + n && v.breaks_before(q)) {
                    value.truncate(cut);
                }
                let mut words: Vec<usize> = value.iter().map(|&q| v.idx[q]).collect();
                if words.is_empty() {
                    // grid: the value is under the label, in the next line
                    let x0 = v.bbox(k)[0];
                    let x1 = labels
                        .get(j + 1)
                        .map(|l| v.bbox(l.1)[0])
                        .unwrap_or(page.width);
                    if let Some(next) = page.lines.get(li + 1) {
                        words = next
                            .words
                            .iter()
                            .copied()
                            .filter(|&w| {
                                let b = page.words[w].bbox;
                                b[0] >= x0 - v.height && b[0] < x1 - v.height * 0.5
                            })
                            .collect();
                    }
                }
                if words.is_empty() {
                    continue;
                }
                let joined: Vec<&str> =
                    words.iter().map(|&w| page.words[w].text.as_str()).collect();
                let ok = match wanted {
                    Label::InvoiceNumber => {
                        let pos = joined
                            .iter()
                            .position(|t| t.chars().any(|c| c.is_ascii_digit()));
                        match pos {
                            Some(p) => {
                                // "FV 58874": a short letter prefix belongs to the number
                                let prefix = p > 0
                                    && joined[p - 1].len() <= 4
                                    && joined[p - 1].chars().all(|c| c.is_ascii_uppercase());
                                words = if prefix {
                                    vec![words[p - 1], words[p]]
                                } else {
                                    vec![words[p]]
                                };
                                true
                            }
                            None => false,
                        }
                    }
                    Label::InvoiceDate => {
                        let pos = joined.iter().position(|t| text::parse_date(t).is_some());
                        match pos {
                            Some(p) => {
                                words = vec![words[p]];
                                true
                            }
                            None => false,
                        }
                    }
                    Label::SupplierVatId => {
                        let pos = joined.iter().position(|t| text::looks_like_vat_id(t));
                        match pos {
                            Some(p) => {
                                words = vec![words[p]];
                                true
                            }
                            None => false,
                        }
                    }
                    Label::Currency => {
                        let pos = joined.iter().position(|t| text::currency_of(t).is_some());
                        match pos {
                            Some(p) => {
                                words = vec![words[p]];
                                true
                            }
                            None => false,
                        }
                    }
                    _ => false,
                };
                if ok {
                    set(&mut tags[pi], &words, wanted);
                    match wanted {
                        Label::InvoiceNumber => found_number = true,
                        Label::InvoiceDate => found_date = true,
                        Label::SupplierVatId => found_vat = true,
                        Label::Currency => found_currency = true,
                        _ => {}
                    }
                }
            }
        }
    }
    // a VAT id printed without a label (footer "Name · ATU12345678")
    if !found_vat {
        'outer: for (pi, page) in doc.pages.iter().enumerate() {
            for (wi, w) in page.words.iter().enumerate() {
                if text::looks_like_vat_id(&w.text)
                    && w.text.chars().take(2).all(|c| c.is_ascii_uppercase())
                {
                    tags[pi][wi] = Tag {
                        label: Label::SupplierVatId,
                        prob: 1.0,
                    };
                    break 'outer;
                }
            }
        }
    }
}

const LEGAL_FORMS: &[&str] = &[
    "plc",
    "ltd",
    "limited",
    "llp",
    "gmbh",
    "gesmbh",
    "ag",
    "kg",
    "ohg",
    "ek",
    "sarl",
    "sas",
    "sa",
    "eurl",
    "sl",
    "slu",
    "spa",
    "srl",
    "snc",
    "sas",
    "bv",
    "nv",
    "vof",
    "lda",
    "sp z oo",
    "spzoo",
    "sp j",
    "sc",
    "co",
    "oy",
    "ab",
    "sro",
    "inc",
    "llc",
    "unipessoal lda",
    "sa de cv",
];

fn has_legal_form(folded: &[String]) -> bool {
    for n in 1..=3.min(folded.len()) {
        let tail = folded[folded.len() - n..].join(" ");
        if LEGAL_FORMS.contains(&tail.as_str()) {
            return true;
        }
    }
    false
}

/// Segments of a line (split at big gaps and separators), as word positions.
fn segments(v: &LineView) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..=v.idx.len() {
        if k == v.idx.len() || v.breaks_before(k) || matches!(v.text(k), "·" | "|" | "•") {
            if start < k {
                out.push(start..k);
            }
            start = if k < v.idx.len() && matches!(v.text(k), "·" | "|" | "•") {
                k + 1
            } else {
                k
            };
        }
    }
    out.into_iter()
        .filter(|r| !matches!(v.text(r.start), "·" | "|" | "•"))
        .collect()
}

fn supplier_name(doc: &Document, tags: &mut Tags) {
    let Some(page) = doc.pages.first() else {
        return;
    };
    // customer blocks: the label's x and y; names just below it belong to the customer
    let mut customer: Vec<[f32; 4]> = Vec::new();
    for li in 0..page.lines.len() {
        let v = LineView::new(page, li);
        for (f, k, n) in line_labels(&v) {
            if f == Field::Customer {
                let mut b = v.bbox(k);
                b[2] = v.bbox(k + n - 1)[2];
                customer.push(b);
            }
        }
    }
    let in_customer = |b: [f32; 4], h: f32| {
        customer.iter().any(|c| {
            let below = b[1] >= c[1] - h * 0.5 && b[1] <= c[3] + h * 6.0;
            let aligned = (b[0] - c[0]).abs() < h * 3.0 || (b[0] > c[0] && b[0] < c[2] + h * 2.0);
            below && aligned
        })
    };
    let mut best: Option<(f32, Vec<usize>)> = None;
    for li in 0..page.lines.len() {
        let v = LineView::new(page, li);
        for seg in segments(&v) {
            let folded: Vec<String> = v.folded[seg.clone()]
                .iter()
                .filter(|f| !f.is_empty())
                .cloned()
                .collect();
            if folded.len() < 2 || !has_legal_form(&folded) {
                continue;
            }
            // a label phrase in front (e.g. "Bill to") disqualifies
            if lexicon::field_prefix(&folded).is_some() {
                continue;
            }
            let b = v.bbox(seg.start);
            if in_customer(b, v.height) {
                continue;
            }
            // earlier and bigger is better
            let score = -b[1] / page.height + v.height / page.height * 5.0;
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, seg.map(|k| v.idx[k]).collect()));
            }
        }
    }
    if let Some((_, words)) = best {
        set(&mut tags[0], &words, Label::SupplierName);
    }
}

fn totals(doc: &Document, tags: &mut Tags) {
    let sep = crate::assemble::document_sep(doc);
    let mut last: [Option<(usize, Vec<usize>, bool)>; 3] = [None, None, None];
    for (pi, page) in doc.pages.iter().enumerate() {
        for li in 0..page.lines.len() {
            let v = LineView::new(page, li);
            let labels = line_labels(&v);
            for (j, &(f, k0, n)) in labels.iter().enumerate() {
                let slot = match f {
                    Field::Subtotal => 0,
                    Field::Tax => 1,
                    Field::Total => 2,
                    _ => continue,
                };
                let end = labels.get(j + 1).map(|l| l.1).unwrap_or(v.idx.len());
                // the amount after the label (a "1 234,56" split in two is taken whole)
                let Some(k) = (k0 + n..end).find(|&k| text::looks_like_money(v.text(k))) else {
                    continue;
                };
                let mut words = vec![v.idx[k]];
                if k > k0 + n && v.gap_before(k) < v.height * 0.5 && v.text(k - 1).len() <= 3 {
                    let glued = format!("{} {}", v.text(k - 1), v.text(k));
                    if text::parse_number(&glued, sep).is_some()
                        && v.text(k - 1).chars().all(|c| c.is_ascii_digit())
                    {
                        words.insert(0, v.idx[k - 1]);
                    }
                }
                let has_rate = v.folded[k0 + n..k]
                    .iter()
                    .any(|w| w.contains('%') || w.chars().any(|c| c.is_ascii_digit()));
                // for tax prefer the line without a rate (the total of all rates)
                if slot == 1 {
                    if let Some((_, _, prev_rate)) = &last[1] {
                        if !*prev_rate && has_rate {
                            continue;
                        }
                    }
                }
                last[slot] = Some((pi, words, has_rate));
            }
        }
    }
    for (slot, label) in [Label::Subtotal, Label::Tax, Label::Total]
        .into_iter()
        .enumerate()
    {
        if let Some((pi, words, _)) = &last[slot] {
            set(&mut tags[*pi], words, label);
        }
    }
}

fn column_label(c: Column) -> Label {
    match c {
        Column::Code => Label::LineCode,
        Column::Description => Label::LineDescription,
        Column::Qty => Label::LineQuantity,
        Column::Unit => Label::LineUnit,
        Column::UnitPrice => Label::LineUnitPrice,
        Column::Discount => Label::LineDiscount,
        Column::NetPrice => Label::LineNetPrice,
        Column::Amount => Label::LineAmount,
        Column::Pos | Column::VatRate => Label::LineOther,
    }
}

/// Column phrases of a line: (column, first word, word count); and how many words with a letter
/// or digit matched none.
fn column_phrases(v: &LineView) -> (Vec<(Column, usize, usize)>, usize) {
    let mut out = Vec::new();
    let mut unknown = 0;
    let mut k = 0;
    while k < v.idx.len() {
        if let Some((c, n)) = lexicon::column_prefix(&v.folded[k..]) {
            out.push((c, k, n));
            k += n;
        } else {
            // a speck or a ruling read as a word (`|`, `.`) names nothing and is not wording
            if !v.folded[k].is_empty() {
                unknown += 1;
            }
            k += 1;
        }
    }
    (out, unknown)
}

#[derive(Clone)]
struct Col {
    kind: Column,
    x0: f32,
    x1: f32,
}

/// A table header repeated on a later page, with labels OCR lost (`Art.-Nr.`, `Menge`, `Einh.`
/// gone from page 2 of set 73's `inv000196`, its quantities then read as prices): the columns
/// the earlier page's header names and this one lacks are added, shifted as the labels both
/// read are shifted. Only when at least two labels are read on both, each shifted alike
/// (within two percent of the page's width), and a borrowed column overlaps none read here.
fn borrow_columns(cols: &mut Vec<Col>, prev: &[Col], page_width: f32) {
    let shifts: Vec<f32> = cols
        .iter()
        .filter_map(|c| {
            let p = prev.iter().find(|p| p.kind == c.kind)?;
            Some(c.x0 - p.x0)
        })
        .collect();
    if shifts.len() < 2 {
        return;
    }
    let mut sorted = shifts.clone();
    sorted.sort_by(f32::total_cmp);
    let dx = sorted[sorted.len() / 2];
    if shifts.iter().any(|s| (s - dx).abs() > 0.02 * page_width) {
        return;
    }
    for p in prev {
        if cols.iter().any(|c| c.kind == p.kind) {
            continue;
        }
        let (x0, x1) = (p.x0 + dx, p.x1 + dx);
        if cols.iter().any(|c| c.x0 < x1 && x0 < c.x1) {
            continue;
        }
        cols.push(Col {
            kind: p.kind,
            x0,
            x1,
        });
    }
    cols.sort_by(|a, b| a.x0.total_cmp(&b.x0));
}

/// Whether a word is a number (a trailing `%` allowed).
pub(crate) fn is_numeric(t: &str) -> bool {
    text::parse_number(t.trim_end_matches('%'), None).is_some()
}

/// Finds the item table of a page by its header row and labels its cells. Returns the header's
/// columns, or `None` when the page has no table header. `prev` is the columns of the table on
/// an earlier page: an OCR'd header missing some of them borrows them ([`borrow_columns`]).
fn table(page: &Page, tags: &mut [Tag], prev: Option<&[Col]>) -> Option<Vec<Col>> {
    let mut header: Option<(usize, Vec<Col>)> = None;
    for li in 0..page.lines.len() {
        let v = LineView::new(page, li);
        let (phrases, unknown) = column_phrases(&v);
        let kinds: Vec<Column> = phrases.iter().map(|p| p.0).collect();
        let numeric = kinds
            .iter()
            .any(|k| matches!(k, Column::Qty | Column::Amount | Column::UnitPrice));
        if phrases.len() >= 3
            && numeric
            && unknown * 2 <= phrases.len()
            && !v
                .idx
                .iter()
                .any(|&w| text::looks_like_money(&page.words[w].text))
        {
            let mut cols: Vec<Col> = phrases
                .iter()
                .map(|&(kind, k, n)| Col {
                    kind,
                    x0: v.bbox(k)[0],
                    x1: v.bbox(k + n - 1)[2],
                })
                .collect();
            fix_columns(&mut cols, &v, &phrases);
            let ocr = v.idx.iter().any(|&w| page.words[w].confidence < 1.0);
            if let Some(prev) = prev.filter(|_| ocr) {
                borrow_columns(&mut cols, prev, page.width);
            }
            header = Some((li, cols));
            break;
        }
    }
    let (hl, cols) = header?;
    let mut prev_item_bottom = page.lines[hl].bbox[3];
    let mut items_seen = false;
    for li in hl + 1..page.lines.len() {
        let v = LineView::new(page, li);
        if !has_qty_like(&v) {
            let labels = line_labels(&v);
            // "Transport" both carries a sum forward and brings it: before any item it is the latter
            if !items_seen && labels.iter().any(|l| l.0 == Field::Carried) {
                continue;
            }
            if labels.iter().any(|l| {
                matches!(
                    l.0,
                    Field::Subtotal | Field::Total | Field::Tax | Field::Carried | Field::Page
                )
            }) {
                break;
            }
        }
        if let Some((f, _)) = lexicon::field_prefix(&v.folded) {
            match f {
                Field::Brought if !has_qty_like(&v) => continue,
                Field::Extra => {
                    let all: Vec<usize> = v.idx.clone();
                    set(tags, &all, Label::LineOther);
                    continue;
                }
                _ => {}
            }
        }
        // a label anywhere in the row ("6.444,91 Übertrag von Seite:") that carries a sum
        if (0..v.idx.len()).any(|k| {
            matches!(
                lexicon::field_prefix(&v.folded[k..]),
                Some((Field::Brought | Field::Carried, _))
            )
        }) && !has_qty_like(&v)
        {
            continue;
        }
        // far below the last item: the table has ended
        let top = page.lines[li].bbox[1];
        if top - prev_item_bottom > v.height * 6.0 {
            break;
        }
        prev_item_bottom = page.lines[li].bbox[3];
        items_seen = true;
        let mut prev_col: Option<(usize, Column)> = None;
        for k in 0..v.idx.len() {
            let b = v.bbox(k);
            let t = v.text(k);
            let numeric = is_numeric(t);
            let overlap = |c: &Col| (b[2].min(c.x1) - b[0].max(c.x0)).max(0.0);
            let mut kind = cols
                .iter()
                .max_by(|a, c| overlap(a).total_cmp(&overlap(c)))
                .filter(|c| overlap(c) > 0.0)
                .map(|c| c.kind);
            if let Some((pk, pc)) = prev_col {
                if pk + 1 == k
                    && v.gap_before(k) < v.height * 0.45
                    && matches!(pc, Column::Description)
                    && kind != Some(Column::Description)
                    && !(numeric && kind.is_some())
                {
                    kind = Some(pc);
                }
            }
            let kind = kind.unwrap_or_else(|| {
                if numeric {
                    cols.iter()
                        .min_by(|a, c| dist(b, a).total_cmp(&dist(b, c)))
                        .map(|c| c.kind)
                        .unwrap_or(Column::Description)
                } else {
                    cols.iter()
                        .filter(|c| c.x0 <= b[0] + 1.0)
                        .filter(|c| {
                            matches!(c.kind, Column::Description | Column::Code | Column::Unit)
                        })
                        .max_by(|a, c| a.x0.total_cmp(&c.x0))
                        .or_else(|| cols.iter().min_by(|a, c| dist(b, a).total_cmp(&dist(b, c))))
                        .map(|c| c.kind)
                        .unwrap_or(Column::Description)
                }
            });
            prev_col = Some((k, kind));
            tags[v.idx[k]] = Tag {
                label: column_label(kind),
                prob: 1.0,
            };
        }
    }
    Some(cols)
}

fn has_qty_like(v: &LineView) -> bool {
    // a product row has at least two numbers (quantity and amount)
    (0..v.idx.len()).filter(|&k| is_numeric(v.text(k))).count() >= 2
        && (0..v.idx.len())
            .filter(|&k| text::looks_like_money(v.text(k)))
            .count()
            >= 2
}

fn dist(b: [f32; 4], c: &Col) -> f32 {
    if b[2] < c.x0 {
        c.x0 - b[2]
    } else if b[0] > c.x1 {
        b[0] - c.x1
    } else {
        0.0
    }
}

/// Repairs ambiguous headers: two code columns (the second is the description), none for the
/// description (the widest text column is), a net price without a unit price.
fn fix_columns(cols: &mut [Col], _v: &LineView, _phrases: &[(Column, usize, usize)]) {
    let has_desc = cols.iter().any(|c| c.kind == Column::Description);
    if !has_desc {
        // the code-like column followed by the widest free space holds the descriptions
        // ("Artikel" is the description in Dutch, the article number in German)
        let zone =
            |i: usize, cols: &[Col]| cols.get(i + 1).map(|n| n.x0 - cols[i].x0).unwrap_or(0.0);
        let codes: Vec<usize> = (0..cols.len())
            .filter(|&i| cols[i].kind == Column::Code)
            .collect();
        let widest_code = codes
            .iter()
            .copied()
            .max_by(|&a, &b| zone(a, cols).total_cmp(&zone(b, cols)));
        let widest_any = (0..cols.len()).max_by(|&a, &b| zone(a, cols).total_cmp(&zone(b, cols)));
        if let Some(i) = widest_code {
            if codes.len() >= 2 || widest_any == Some(i) {
                cols[i].kind = Column::Description;
            }
        }
    }
    // two amount-like columns: the last is the amount, an earlier "total"/"value" is a price
    let amounts: Vec<usize> = (0..cols.len())
        .filter(|&i| cols[i].kind == Column::Amount)
        .collect();
    if amounts.len() >= 2 {
        for &i in &amounts[..amounts.len() - 1] {
            cols[i].kind = Column::UnitPrice;
        }
    }
}

/// Item blocks without a table header: a line of labelled numbers (`Q.TÀ: 5 nr PREZZO UNIT.:
/// 3,23 ... IMPORTO: 12,10`) under a line with the code and the description.
fn blocks(page: &Page, tags: &mut [Tag]) {
    let mut last_kv: Option<usize> = None;
    for li in 0..page.lines.len() {
        let v = LineView::new(page, li);
        let mut labels: Vec<(Column, usize, usize)> = Vec::new();
        let mut k = 0;
        while k < v.idx.len() {
            if let Some((c, n)) = lexicon::column_prefix(&v.folded[k..]) {
                if v.text(k + n - 1).ends_with(':') {
                    labels.push((c, k, n));
                    k += n;
                    continue;
                }
            }
            k += 1;
        }
        if labels.len() < 2
            || !labels
                .iter()
                .any(|l| l.0 == Column::Amount || l.0 == Column::Qty)
        {
            continue;
        }
        for (j, &(c, k, n)) in labels.iter().enumerate() {
            let end = labels.get(j + 1).map(|l| l.1).unwrap_or(v.idx.len());
            let words: Vec<usize> = (k + n..end).map(|q| v.idx[q]).collect();
            if c == Column::Qty && words.len() >= 2 {
                // "5 nr": quantity then unit
                set(tags, &words[..1], Label::LineQuantity);
                set(tags, &words[1..], Label::LineUnit);
            } else {
                set(tags, &words, column_label(c));
            }
        }
        // the description line(s) above, after the previous block
        let from = last_kv.map(|l| l + 1).unwrap_or(li.saturating_sub(1));
        let from = from.max(li.saturating_sub(2));
        for dl in from..li {
            let d = LineView::new(page, dl);
            if lexicon::field_prefix(&d.folded).is_some() {
                continue;
            }
            let mut start = 0;
            if dl == from && d.idx.len() >= 2 {
                // the code: the first segment when it is short and has a digit ("LP 31521"),
                // else a first word with a digit
                let seg_end = (1..d.idx.len())
                    .find(|&k| d.breaks_before(k))
                    .unwrap_or(d.idx.len());
                let seg_has_digit =
                    (0..seg_end).any(|k| d.text(k).chars().any(|c| c.is_ascii_digit()));
                if seg_end <= 2 && seg_end < d.idx.len() && seg_has_digit {
                    start = seg_end;
                } else if d.text(0).chars().any(|c| c.is_ascii_digit()) {
                    start = 1;
                }
                set(tags, &d.idx[..start], Label::LineCode);
            }
            set(tags, &d.idx[start..], Label::LineDescription);
        }
        last_kv = Some(li);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::eval;
    use crate::truth::Truth;
    use crate::InvoiceReader;

    fn fixture(name: &str) -> Truth {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../training-data/fixtures");
        Truth::load(&dir.join(format!("{name}.truth.json"))).unwrap()
    }

    /// Digital PDFs and scans (their truth words, no OCR): every header field and every line.
    #[test]
    fn reads_digital_and_scanned_fixtures_exactly() {
        let reader = InvoiceReader::rules();
        for name in [
            "fx01_digital_de_multipage",
            "fx02_digital_fr_credit",
            "fx03_digital_en_twoline",
            "fx04_digital_it_blocks",
            "fx05_digital_pl_iso",
            "fx06_scan_es",
            "fx07_scan_nl_binarized",
        ] {
            let t = fixture(name);
            let got = reader.read(&t.document());
            let want = t.invoice();
            let h = eval::header_correct(&got, &want);
            assert!(
                h.iter().all(|x| *x),
                "{name}: header {h:?}\n{:#?}\n{:#?}",
                got.header,
                want.header
            );
            let (c, p, n) = eval::line_counts(&got, &want);
            assert_eq!((c, p), (n, n), "{name}: lines {got:#?}");
            assert!(got.errors.is_empty(), "{name}: {:?}", got.errors);
            assert!(
                got.confidence > 0.8,
                "{name}: confidence {}",
                got.confidence
            );
            assert_eq!(got.reader.as_deref(), Some("rules"));
        }
    }

    /// Credit notes keep their signs; a multi-page invoice drops the carried-forward rows.
    #[test]
    fn credit_note_and_page_break() {
        let reader = InvoiceReader::rules();
        let got = reader.read(&fixture("fx02_digital_fr_credit").document());
        assert_eq!(got.header.total, Some(-8183.45));
        assert_eq!(got.header.invoice_date.as_deref(), Some("2024-11-16"));
        let got = reader.read(&fixture("fx01_digital_de_multipage").document());
        assert_eq!(got.lines.len(), 48);
        assert!(got.lines.iter().all(|l| l.amount != Some(6444.91)));
        assert!(got.boxes.contains_key("total"));
    }

    /// One OCR'd header line of words (text, left, right) on a 2480-px-wide page.
    /// An OCR'd page of text lines, each `(y, [(text, x0), ...])`, words 150 px wide.
    fn ocr_page(index: usize, lines: &[(f32, &[(&str, f32)])]) -> claimscan_doc::Page {
        use claimscan_doc::{Page, PageSource, Word};
        let (w, h) = (2480.0, 3508.0);
        let words = lines
            .iter()
            .flat_map(|(y, ws)| {
                ws.iter()
                    .map(move |&(t, x)| Word::new(t, [x, *y, x + 150.0, y + 40.0], 0.9, w, h))
            })
            .collect();
        Page::new(index, w, h, Some(300.0), PageSource::Ocr, words)
    }

    #[test]
    fn a_repeated_header_with_labels_lost_borrows_the_first_pages_columns() {
        let row: &[(&str, f32)] = &[
            ("PRESSFIT", 500.0),
            ("elbow", 660.0),
            ("2,00", 1450.0),
            ("St.", 1580.0),
            ("8,91", 1800.0),
            ("17,82", 2150.0),
        ];
        let first: &[(&str, f32)] = &[
            ("Beschreibung", 500.0),
            ("Menge", 1450.0),
            ("Einh.", 1580.0),
            ("Preis", 1800.0),
            ("Gesamt", 2150.0),
        ];
        // page 2, scanned a little to the right: `Menge` and `Einh.` not read
        let second: &[(&str, f32)] = &[
            ("Beschreibung", 512.0),
            ("Preis", 1812.0),
            ("Gesamt", 2162.0),
        ];
        let shifted: Vec<(&str, f32)> = row.iter().map(|&(t, x)| (t, x + 12.0)).collect();
        let doc = claimscan_doc::Document::of_words(
            "two.json",
            vec![
                ocr_page(0, &[(400.0, first), (500.0, row)]),
                ocr_page(1, &[(400.0, second), (500.0, &shifted)]),
            ],
        );
        let tags = super::label(&doc);
        for (pi, page) in doc.pages.iter().enumerate() {
            let of = |t: &str| {
                let w = page.words.iter().position(|w| w.text == t).expect("word");
                tags[pi][w].label
            };
            assert_eq!(of("2,00"), crate::labels::Label::LineQuantity, "page {pi}");
            assert_eq!(of("8,91"), crate::labels::Label::LineUnitPrice, "page {pi}");
        }
    }

    fn header_line(words: &[(&str, f32, f32)]) -> claimscan_doc::Document {
        use claimscan_doc::{Document, Page, PageSource, Word};
        let (w, h) = (2480.0, 3508.0);
        let words = words
            .iter()
            .map(|&(t, x0, x1)| Word::new(t, [x0, 354.0, x1, 407.0], 0.9, w, h))
            .collect();
        Document::of_words(
            "line.json",
            vec![Page::new(0, w, h, Some(300.0), PageSource::Ocr, words)],
        )
    }

    /// The number's label printed right after the title, closer than a break (set 99's
    /// `inv000104`, `inv000032`: the number was lost), and a title's word again after the
    /// label, which is not a second label (`inv000168`).
    #[test]
    fn a_label_right_after_a_title_is_a_label() {
        let reader = InvoiceReader::rules();
        let doc = header_line(&[
            ("RECHNUNG", 128.0, 368.0),
            ("Rechnungs-Nr.", 415.0, 613.0),
            ("INV-53304", 633.0, 801.0),
            ("Belegdatum:", 850.0, 1013.0),
            ("16.10.2024", 1034.0, 1202.0),
        ]);
        let got = reader.read(&doc);
        assert_eq!(got.header.invoice_number.as_deref(), Some("INV-53304"));
        assert_eq!(got.header.invoice_date.as_deref(), Some("2024-10-16"));
        let doc = header_line(&[
            ("ABONO", 128.0, 300.0),
            ("Numero", 340.0, 480.0),
            ("R-149442", 500.0, 680.0),
        ]);
        assert_eq!(
            reader.read(&doc).header.invoice_number.as_deref(),
            Some("R-149442")
        );
        let doc = header_line(&[
            ("FATTURA", 148.0, 535.0),
            ("N.", 592.0, 619.0),
            ("FATTURA", 632.0, 779.0),
            ("FA/013102", 802.0, 1006.0),
            ("DATA", 1067.0, 1150.0),
            ("FATTURA:", 1164.0, 1318.0),
            ("17/03/2024", 1345.0, 1566.0),
        ]);
        assert_eq!(
            reader.read(&doc).header.invoice_number.as_deref(),
            Some("FA/013102")
        );
    }

    /// A total whose thousands group carries the currency mark (`€80 006,21`, set 61's
    /// `inv000125`: read 6.21).
    #[test]
    fn a_thousands_group_with_its_currency_mark_is_part_of_the_amount() {
        let doc = header_line(&[
            ("Total", 1500.0, 1620.0),
            ("TTC", 1640.0, 1720.0),
            ("€80", 2082.0, 2160.0),
            ("006,21", 2180.0, 2313.0),
        ]);
        let got = InvoiceReader::rules().read(&doc);
        assert_eq!(got.header.total, Some(80006.21));
    }

    /// A broken total is reported with a stable code and lowers the confidence.
    #[test]
    fn inconsistent_total_is_flagged() {
        let t = fixture("fx03_digital_en_twoline");
        let mut doc = t.document();
        let page = &mut doc.pages[0];
        let w = page
            .words
            .iter_mut()
            .find(|w| w.text == "31,072.54")
            .unwrap();
        w.text = "31,072.55".into();
        let got = InvoiceReader::rules().read(&doc);
        assert!(
            got.errors.iter().any(|e| e.code == "totals_mismatch"),
            "{:?}",
            got.errors
        );
        assert!(got.confidence < 0.5);
    }
}
