//! Label words of invoices in the eight languages we read (en, fr, de, es, it, pl, nl, pt), folded
//! with [`crate::text::fold`]. Used by the rule reader to find labels and table headers, and by the
//! feature extractor as keyword-class features.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A table column, named by its header label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Pos,
    Code,
    Description,
    Qty,
    Unit,
    UnitPrice,
    Discount,
    NetPrice,
    VatRate,
    Amount,
}

impl Column {
    pub const ALL: [Column; 10] = [
        Column::Pos,
        Column::Code,
        Column::Description,
        Column::Qty,
        Column::Unit,
        Column::UnitPrice,
        Column::Discount,
        Column::NetPrice,
        Column::VatRate,
        Column::Amount,
    ];
}

/// A header or totals label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    InvoiceNo,
    Date,
    Due,
    Customer,
    CustomerNo,
    Order,
    VatId,
    Currency,
    Subtotal,
    Tax,
    Total,
    Carried,
    Brought,
    Page,
    Title,
    Extra,
}

impl Field {
    pub const ALL: [Field; 16] = [
        Field::InvoiceNo,
        Field::Date,
        Field::Due,
        Field::Customer,
        Field::CustomerNo,
        Field::Order,
        Field::VatId,
        Field::Currency,
        Field::Subtotal,
        Field::Tax,
        Field::Total,
        Field::Carried,
        Field::Brought,
        Field::Page,
        Field::Title,
        Field::Extra,
    ];
}

const COLUMNS: &[(Column, &str)] = &[
    (Column::Pos, "# | line | pos | n | lig | lin | nr | riga | regel | lp | no | item no"),
    (
        Column::Code,
        "code | item | product code | part no | ref | code article | reference | art nr | artikel nr | artikelnr | artikel | \
         artnr | artno | partno | itemno | codigo | articulo | codice | cod art | articolo | kod | indeks | symbol | art nr | artigo | sku | item code",
    ),
    (
        Column::Description,
        "description | item description | product | designation | libelle | bezeichnung | artikelbezeichnung | \
         beschreibung | descripcion | concepto | descrizione | descrizione articolo | nazwa towaru lub uslugi | nazwa | \
         opis | omschrijving | descricao | designacao | produkt",
    ),
    (
        Column::Qty,
        "qty | quantity | qte | quantite | menge | anz | anzahl | cant | cantidad | qta | quantita | ilosc | il | aantal | \
         aant | qtd | quant | quantidade",
    ),
    (
        Column::Unit,
        "unit | uom | u | unite | me | einh | einheit | ud | unidad | um | jm | eenh | eenheid | un | unid",
    ),
    (
        Column::UnitPrice,
        "unit price | price | rate | pu ht | prix unit | pu | einzelpreis | e preis | preis me | preis | precio | \
         precio unit | prezzo | prezzo unit | cena netto | cena jedn | cena | prijs | stukprijs | preco unit | preco",
    ),
    (
        Column::Discount,
        "disc % | discount | disc | remise % | rem | remise | rabatt % | rabatt | rab | dto % | dto | sconto % | sc % | \
         sconto | rabat % | rabat | korting % | korting | krt | desc % | desc",
    ),
    (
        Column::NetPrice,
        "net price | net | pu net | prix net | nettopreis | netto ep | precio neto | prezzo netto | cena po rabacie | \
         netto prijs | preco liquido",
    ),
    (
        Column::VatRate,
        "vat % | vat | tva % | tx tva | mwst % | ust % | iva % | % iva | aliq | stawka | vat % | btw % | btw | taxa | \
         iva",
    ),
    (
        Column::Amount,
        "amount | total | line total | value | montant ht | total ht | montant | gesamt | betrag | gesamtpreis | importe | \
         importo | totale | wartosc netto | wartosc | bedrag | totaal | valor | montante",
    ),
];

const FIELDS: &[(Field, &str)] = &[
    (
        Field::InvoiceNo,
        "invoice no | invoice # | invoice number | inv no | facture n | n facture | numero | \
         rechnungs nr | rechnungsnummer | beleg nr | rechnung nr | factura n | n factura | factura no | \
         fattura n | n fattura | faktura nr | nr faktury | numer | faktura vat nr | factuurnummer | factuurnr | \
         nummer | fatura n | n fatura | fatura no | credit note no | avoir n",
    ),
    (
        Field::Date,
        "date | invoice date | tax point | date de facture | date facture | datum | rechnungsdatum | belegdatum | fecha | \
         fecha factura | data | data fattura | data documento | data wystawienia | factuurdatum | data de emissao | \
         data emissao | fecha de emision",
    ),
    (
        Field::Due,
        "due date | payment due | echeance | date d echeance | fallig am | zahlbar bis | vencimiento | scadenza | \
         termin platnosci | vervaldatum | data de vencimento",
    ),
    (
        Field::Customer,
        "bill to | invoice to | customer | sold to | client | facture a | adresse de facturation | kunde | \
         rechnungsempfanger | rechnungsanschrift | cliente | facturar a | spett le | spettle | destinatario | nabywca | \
         odbiorca | klant | factuuradres | aan | exmo s sr s | exmos srs",
    ),
    (
        Field::CustomerNo,
        "account no | customer ref | customer no | code client | n client | kunden nr | kundennummer | cod cliente | \
         nr klienta | klantnummer | debiteurnr | n cliente",
    ),
    (
        Field::Order,
        "your order | po number | order ref | votre commande | ref commande | ihre bestellung | auftrags nr | su pedido | \
         pedido n | vs ordine | rif ordine | zamowienie nr | uw referentie | ordernr | v encomenda | requisicao",
    ),
    (
        Field::VatId,
        "vat reg no | vat no | vat id | n tva | tva intracom | n tva intracommunautaire | ust idnr | ust id | uid nr | \
         nif | cif | nif cif | p iva | partita iva | piva | nip | btw nr | btw nummer | btw id | contribuinte | vat reg | \
         vat number",
    ),
    (
        Field::Currency,
        "currency | devise | wahrung | moneda | valuta | waluta | munt | moeda",
    ),
    (
        Field::Subtotal,
        "subtotal | net total | total excl vat | goods value | total ht | montant ht | nettobetrag | summe netto | \
         warenwert | base imponible | imponibile | totale imponibile | razem netto | wartosc netto | subtotaal | \
         totaal excl btw | total iliquido | base tributavel | sub total",
    ),
    (
        Field::Tax,
        "vat | total vat | vat amount | tva | total tva | montant tva | mwst | ust | zzgl mwst | iva | cuota iva | \
         totale iva | imposta | kwota vat | btw | btw bedrag | total iva",
    ),
    (
        Field::Total,
        "total | total due | amount due | invoice total | total ttc | net a payer | montant ttc | gesamtbetrag | \
         rechnungsbetrag | endbetrag | total factura | total a pagar | totale fattura | totale documento | \
         totale da pagare | razem brutto | do zaplaty | wartosc brutto | totaal incl btw | te betalen | totaal | \
         total eur | grand total",
    ),
    (
        Field::Carried,
        "carried forward | subtotal c f | a reporter | report a suivre | ubertrag | zwischensumme ubertrag | \
         suma y sigue | a trasladar | a riportare | segue | do przeniesienia | transport | over te brengen | a transportar",
    ),
    (
        Field::Brought,
        "brought forward | subtotal b f | report | report precedent | ubertrag von seite | suma anterior | trasladado | \
         riporto | da riporto | z przeniesienia | van vorige pagina | transporte",
    ),
    (Field::Page, "page | seite | pagina | pag | strona | str | blad"),
    (
        Field::Title,
        "tax invoice | sales invoice | credit note | avoir | facture d avoir | rechnung | gutschrift | \
         factura rectificativa | abono | nota di credito | faktura vat | faktura korygujaca | korekta faktury | \
         creditnota | creditfactuur | factuur | nota de credito",
    ),
    (
        Field::Extra,
        "ean | gtin | barcode | gencod | mfr ref | manuf code | mpn | ref fab | ref fournisseur | herst nr | \
         hersteller art nr | ref fabricante | cod produttore | kod producenta | fabrikantcode",
    ),
];

fn split(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.split('|').map(str::trim).filter(|s| !s.is_empty())
}

struct Index {
    columns: HashMap<&'static str, Column>,
    fields: HashMap<&'static str, Field>,
    /// Single-word column labels, for prefix matches of truncated headers, in list order.
    column_words: Vec<(&'static str, Column)>,
    /// Column labels of several words, for near matches of misread ones, in list order.
    column_phrases: Vec<(&'static str, Column)>,
    /// Single-word field labels, for near matches of misread ones, in list order.
    field_words: Vec<(&'static str, Field)>,
    /// Field labels of several words, for near matches of misread ones.
    field_phrases: Vec<(&'static str, Field)>,
    /// Every field label of six characters or more written without its spaces (`fatturan`),
    /// for near matches of OCR'd labels.
    field_glued: Vec<(String, Field)>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut columns = HashMap::new();
        let mut column_words = Vec::new();
        let mut column_phrases = Vec::new();
        for (c, list) in COLUMNS {
            for l in split(list) {
                columns.entry(l).or_insert(*c);
                if l.contains(' ') {
                    column_phrases.push((l, *c));
                } else {
                    column_words.push((l, *c));
                }
            }
        }
        let mut fields = HashMap::new();
        let mut field_words = Vec::new();
        let mut field_phrases = Vec::new();
        for (f, list) in FIELDS {
            for l in split(list) {
                fields.entry(l).or_insert(*f);
                if l.contains(' ') {
                    field_phrases.push((l, *f));
                } else {
                    field_words.push((l, *f));
                }
            }
        }
        let field_glued = fields
            .iter()
            .map(|(l, f)| (l.chars().filter(|c| *c != ' ').collect::<String>(), *f))
            .filter(|(g, _)| g.chars().count() >= 6)
            .collect();
        Index {
            columns,
            fields,
            column_words,
            column_phrases,
            field_words,
            field_phrases,
            field_glued,
        }
    })
}

/// The column a folded header phrase names, if any.
pub fn column(folded: &str) -> Option<Column> {
    index().columns.get(folded).copied()
}

/// The label a folded phrase is, if any (exact match on the phrase).
pub fn field(folded: &str) -> Option<Field> {
    index().fields.get(folded).copied()
}

/// The one-word label a folded word of six letters or more is one edit away from: OCR's
/// `fubrikantcode` for `fabrikantcode`.
pub fn field_near(folded_word: &str) -> Option<Field> {
    if folded_word.chars().count() < 6 {
        return None;
    }
    index()
        .field_words
        .iter()
        .find(|(l, _)| l.len() >= 6 && strsim::levenshtein(l, folded_word) <= 1)
        .map(|(_, f)| *f)
}

/// The label a folded word of six characters or more is one edit away from, where the labels
/// include their phrases written without spaces (`fatturan` for `fattura n`): what OCR makes
/// of a label (`ractuurnr` for `factuurnr`, `numser` for `nummer`). `None` when two labels of
/// different fields are that near.
pub fn field_near_glued(folded_word: &str) -> Option<Field> {
    let n = folded_word.chars().count();
    if n < 6 || !folded_word.chars().all(char::is_alphabetic) {
        return None;
    }
    let mut found: Option<Field> = None;
    for (glued, f) in &index().field_glued {
        // one edit changes the length by at most one: most labels are ruled out without a
        // distance
        if glued.chars().count().abs_diff(n) <= 1 && strsim::levenshtein(glued, folded_word) <= 1 {
            match found {
                Some(g) if g != *f => return None,
                _ => found = Some(*f),
            }
        }
    }
    found
}

/// The one-word column label a folded word of four letters or more is one edit away from
/// (`prija` for `prijs`, `regei` for `regel`), or, from five letters, whose start it is one edit
/// away from (`renhei` for a cut `eenheid`): what OCR makes of a table header. `None` when
/// labels of two columns are that near, and for words that are a label already.
pub fn column_near(folded_word: &str) -> Option<&'static str> {
    let n = folded_word.chars().count();
    if n < 4 || !folded_word.chars().all(char::is_alphabetic) || column(folded_word).is_some() {
        return None;
    }
    // a word as near a header field's label (`date`, one edit from the column `rate`): the
    // line is more likely a grid of invoice details than a table header
    let near_field = |w: &str| {
        index()
            .field_words
            .iter()
            .any(|(l, _)| l.chars().count() >= 4 && strsim::levenshtein(l, w) <= 1)
    };
    if near_field(folded_word) {
        return None;
    }
    let mut found: Option<(&'static str, Column)> = None;
    for (label, c) in &index().column_words {
        let m = label.chars().count();
        if m < 4 || m + 1 < n {
            continue;
        }
        let near = strsim::levenshtein(label, folded_word) <= 1
            || (n >= 5
                && m > n
                && strsim::levenshtein(&label.chars().take(n).collect::<String>(), folded_word)
                    <= 1);
        if near {
            match found {
                Some((_, f)) if f != *c => return None,
                Some(_) => {}
                None => found = Some((label, *c)),
            }
        }
    }
    found.map(|(l, _)| l)
}

/// Whether a folded word is the first word of a label of several words of field `f` (`manuf`
/// of `manuf code`): a label whose other words the layout put in another column.
pub fn starts_field_phrase(folded_word: &str, f: Field) -> bool {
    index()
        .field_phrases
        .iter()
        .any(|(l, g)| *g == f && l.split(' ').next() == Some(folded_word))
}

/// A column label OCR glued together (`linetotal` for `line total`, `disc%` for `disc %`: a
/// narrow gap read as none), or a label of three letters with one letter misread (`vom` for
/// `uom`): the label, spelt with its spaces. `None` for a word that is a label already, one that
/// is a header field's label, and when labels of two columns are that near. Meant for the
/// unnamed words of a line that already names two columns: on their own, three letters one
/// letter off match too much.
pub fn column_glued_or_short(folded_word: &str) -> Option<&'static str> {
    if folded_word.contains(' ')
        || column(folded_word).is_some()
        || field(folded_word).is_some()
        || !folded_word.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let n = folded_word.chars().count();
    let three_letters = n == 3 && folded_word.chars().all(char::is_alphabetic);
    let near = |label: &str| {
        if label.contains(' ') {
            n >= 4 && label.chars().filter(|c| *c != ' ').eq(folded_word.chars())
        } else {
            three_letters
                && label.chars().count() == 3
                && label
                    .chars()
                    .zip(folded_word.chars())
                    .filter(|(a, b)| a != b)
                    .count()
                    == 1
        }
    };
    let index = index();
    let mut found = index
        .column_phrases
        .iter()
        .chain(&index.column_words)
        .filter(|(label, _)| near(label));
    let (label, c) = found.next()?;
    found.all(|(_, d)| d == c).then_some(*label)
}

/// A field label as OCR misreads it in one word, glued or not (`beteg nr` for `beleg nr`,
/// `factuumr` for `factuurnr`, `invoiceno` for `invoice no`, `sechnunssnummer` for
/// `rechnungsnummer`): the label's field and spelling. Both sides are compared in the shapes OCR
/// confuses (`rn` and `m`; `i`, `1` and `l`; `0` and `o`) without spaces, and may then differ by
/// one edit, two for labels of twelve letters or more. Only labels of six letters or more; `None`
/// for a word that is a label already, or near labels of two fields.
pub fn field_misread(folded_word: &str) -> Option<(Field, &'static str)> {
    if field(folded_word).is_some()
        || column(folded_word).is_some()
        || !folded_word.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let shape = |s: &str| -> String {
        s.replace(' ', "")
            .replace("rn", "m")
            .chars()
            .map(|c| match c {
                'i' | '1' => 'l',
                '0' => 'o',
                c => c,
            })
            .collect()
    };
    let read = shape(folded_word);
    let n = read.chars().count();
    if n < 5 {
        return None;
    }
    let mut near: Vec<(usize, &'static str, Field)> = Vec::new();
    for (label, f) in &index().fields {
        let want = shape(label);
        let m = want.chars().count();
        let max = match m {
            0..=5 => continue,
            6..=11 => 1,
            _ => 2,
        };
        if m.abs_diff(n) > max {
            continue;
        }
        let d = strsim::levenshtein(&want, &read);
        if d <= max {
            near.push((d, label, *f));
        }
    }
    // the nearest, in a fixed order (the index is a hash map)
    near.sort();
    let &(d, label, f) = near.first()?;
    near.iter()
        .all(|&(e, _, g)| e > d || g == f)
        .then_some((f, label))
}

/// A column label of several words that the folded words starting a line spell with one word
/// of four letters or more one edit off (`nazwa towaru lub usiugi` for `... uslugi`): the
/// position of that word and its spelling in the label. The longest such label wins.
pub fn column_phrase_near(folded_words: &[String]) -> Option<(usize, &'static str)> {
    for n in (2..=folded_words.len().min(MAX_PHRASE_WORDS)).rev() {
        let read = &folded_words[..n];
        for (label, _) in &index().column_phrases {
            let words: Vec<&'static str> = label.split(' ').collect();
            if words.len() != n {
                continue;
            }
            let differ: Vec<usize> = (0..n).filter(|&i| words[i] != read[i]).collect();
            if let [i] = differ[..] {
                if words[i].chars().count() >= 4 && strsim::levenshtein(words[i], &read[i]) <= 1 {
                    return Some((i, words[i]));
                }
            }
        }
    }
    None
}

/// A field label of several words that the folded words starting a line spell with one word
/// of five letters or more one edit off and the others exact (`wartose brutto` for `wartosc
/// brutto`): the field and the label's word count. The longest such label wins; `None` when
/// labels of two fields are that near at that length.
pub fn field_phrase_near(folded_words: &[String]) -> Option<(Field, usize)> {
    for n in (2..=folded_words.len().min(MAX_PHRASE_WORDS)).rev() {
        let read = &folded_words[..n];
        let mut found: Option<Field> = None;
        for (label, f) in &index().field_phrases {
            let words: Vec<&str> = label.split(' ').collect();
            if words.len() != n {
                continue;
            }
            let differ: Vec<usize> = (0..n).filter(|&i| words[i] != read[i]).collect();
            let near = match differ[..] {
                [i] => {
                    words[i].chars().count() >= 5
                        && read[i].chars().all(char::is_alphabetic)
                        && strsim::levenshtein(words[i], &read[i]) <= 1
                }
                _ => false,
            };
            if near {
                match found {
                    Some(g) if g != *f => return None,
                    _ => found = Some(*f),
                }
            }
        }
        if let Some(f) = found {
            return Some((f, n));
        }
    }
    None
}

/// Longest word count of any label phrase (for greedy phrase matching).
pub const MAX_PHRASE_WORDS: usize = 5;

/// Whether any single folded word occurs in some label (used as a cheap feature).
pub fn word_classes(folded_word: &str) -> (Option<Column>, Option<Field>) {
    (column(folded_word), field(folded_word))
}

/// The label a folded line prefix starts with (longest phrase first), and how many words it used.
pub fn field_prefix(folded_words: &[String]) -> Option<(Field, usize)> {
    for n in (1..=folded_words.len().min(MAX_PHRASE_WORDS)).rev() {
        let phrase = folded_words[..n].join(" ");
        if let Some(f) = field(&phrase) {
            return Some((f, n));
        }
    }
    None
}

/// The column a folded word sequence starts with (longest phrase first), and how many words.
/// A header cut short by its column width (`Eenhe` for `Eenheid`) matches by prefix.
pub fn column_prefix(folded_words: &[String]) -> Option<(Column, usize)> {
    for n in (1..=folded_words.len().min(MAX_PHRASE_WORDS)).rev() {
        let phrase = folded_words[..n].join(" ");
        if let Some(c) = column(&phrase) {
            return Some((c, n));
        }
    }
    let first = folded_words.first()?;
    if first.len() >= 3 && first.chars().all(|c| c.is_alphabetic()) {
        for (l, c) in &index().column_words {
            if l.len() > first.len() && l.starts_with(first.as_str()) {
                return Some((*c, 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {

    /// What OCR made of labels on seed 73's train scans and photos, and words that must stay.
    #[test]
    fn field_labels_misread_in_one_word_are_found() {
        let f = |w: &str| field_misread(w).map(|(f, _)| f);
        assert_eq!(f("beteg nr"), Some(Field::InvoiceNo));
        assert_eq!(f("geieg nr"), Some(Field::InvoiceNo));
        assert_eq!(f("factuumr"), Some(Field::InvoiceNo));
        assert_eq!(f("invoiceno"), Some(Field::InvoiceNo));
        assert_eq!(f("sechnunssnummer"), Some(Field::InvoiceNo));
        // labels spelt right, and words far from any label
        assert_eq!(f("beleg nr"), None);
        assert_eq!(f("rechnung"), None);
        assert_eq!(f("heizkorper"), None);
        assert_eq!(f("nr"), None);
    }
    use super::*;
    use crate::text::fold;

    #[test]
    fn finds_labels() {
        assert_eq!(column(&fold("Qté")), Some(Column::Qty));
        assert_eq!(column(&fold("P.U. NET")), Some(Column::NetPrice));
        assert_eq!(column(&fold("Preis/ME")), Some(Column::UnitPrice));
        assert_eq!(field(&fold("Rechnungs-Nr.")), Some(Field::InvoiceNo));
        assert_eq!(field(&fold("Total excl. VAT")), Some(Field::Subtotal));
        let words: Vec<String> = ["TOTAL", "DUE", "31,072.54"]
            .iter()
            .map(|w| fold(w))
            .collect();
        assert_eq!(field_prefix(&words), Some((Field::Total, 2)));
    }

    #[test]
    fn labels_ocr_misread_or_glued_are_near() {
        assert_eq!(
            field_near_glued(&fold("ractuurnr.")),
            Some(Field::InvoiceNo)
        );
        assert_eq!(field_near_glued(&fold("numser")), Some(Field::InvoiceNo));
        assert_eq!(field_near_glued(&fold("Fatturan")), Some(Field::InvoiceNo));
        assert_eq!(field_near_glued(&fold("Rechnungsdatun")), Some(Field::Date));
        // short words and words near no label
        assert_eq!(field_near_glued(&fold("numer")), None);
        assert_eq!(field_near_glued(&fold("Heizkörper")), None);
    }

    #[test]
    fn field_labels_of_several_words_misread_are_near() {
        let words = |t: &str| t.split(' ').map(fold).collect::<Vec<_>>();
        assert_eq!(
            field_phrase_near(&words("Wartosé brutto PLN 2.255,09")),
            Some((Field::Total, 2))
        );
        assert_eq!(
            field_phrase_near(&words("Rechnungsbetrsg 12")),
            None,
            "one word: field_near_glued's business"
        );
        // one word off, of five letters or more in the label; the others exact
        assert_eq!(
            field_phrase_near(&words("Totl due 12,00")),
            Some((Field::Total, 2))
        );
        assert_eq!(field_phrase_near(&words("Totl dux 12,00")), None);
        assert_eq!(field_phrase_near(&words("vat n0 12")), None);
        assert_eq!(field_phrase_near(&words("Wartose brutta")), None);
        assert_eq!(field_phrase_near(&words("Invoice number")), None);
    }

    #[test]
    fn column_headers_misread_are_near_their_label() {
        assert_eq!(column_near(&fold("Prija")), Some("prijs"));
        assert_eq!(column_near(&fold("Regeì")), Some("regel"));
        assert_eq!(column_near(&fold("Renhei")), Some("eenheid"));
        assert_eq!(column_near(&fold("Bedrog")), Some("bedrag"));
        // labels, short words, numbers and wording near no label
        assert_eq!(column_near(&fold("Prijs")), None);
        assert_eq!(column_near(&fold("BIW")), None);
        assert_eq!(column_near(&fold("2,00")), None);
        assert_eq!(column_near(&fold("PRESSFIT")), None);
        assert_eq!(column_near(&fold("adaptor")), None);
        // a header field's label (one edit from `rate`) is not a misread column
        assert_eq!(column_near(&fold("DATE")), None);
        let words = |t: &str| t.split(' ').map(fold).collect::<Vec<_>>();
        assert_eq!(
            column_phrase_near(&words("Nazwa towaru lub usiugi Symbol")),
            Some((3, "uslugi"))
        );
        assert_eq!(column_phrase_near(&words("Nazwa towaru lub uslugi")), None);
        assert_eq!(column_phrase_near(&words("Cena jedn")), None);
    }

    #[test]
    fn column_labels_glued_or_short_and_misread_are_near_their_label() {
        assert_eq!(
            column_glued_or_short(&fold("Linetotal")),
            Some("line total")
        );
        assert_eq!(column_glued_or_short(&fold("Disc.%")), Some("disc %"));
        assert_eq!(column_glued_or_short(&fold("VoM")), Some("uom"));
        // labels, header fields, numbers and other words
        assert_eq!(column_glued_or_short(&fold("Qty")), None);
        assert_eq!(column_glued_or_short(&fold("Line total")), None);
        assert_eq!(column_glued_or_short(&fold("VAT")), None);
        assert_eq!(column_glued_or_short(&fold("2,00")), None);
        assert_eq!(column_glued_or_short(&fold("PRESSFIT")), None);
    }
}
