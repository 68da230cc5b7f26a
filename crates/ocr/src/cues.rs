//! The language to read a document with, from what its letterhead prints rather than from how its
//! words sound: the supplier's country (a telephone number's calling code, a VAT id's country
//! prefix) and the document's title word (`Faktura`, `Rechnung`, `Factura`...).
//!
//! whatlang guesses from letter trigrams, and an English read of a letterhead is mostly names,
//! streets and a few labels read with errors: on seed 73's OCR'd training documents it named 10
//! of 43 wrong (Polish as Portuguese or Dutch, German as Dutch, English as French). A calling
//! code or a VAT prefix survives OCR as digits and capitals, and the title word is the largest
//! print on the page. The country comes first: where an invoice's labels are English and its
//! supplier Spanish (`Romero Fontanería y Calefacción S.L.`), names and streets carry the
//! country's letters, and every model reads English labels alike.

/// The Tesseract model for a country's names and streets (ISO 3166 code: `PL` -> `pol`); `None`
/// where the country has several languages (Belgium, Switzerland, Luxembourg) or claimscan has
/// no model for it (Sweden).
pub fn country_language(country: &str) -> Option<&'static str> {
    Some(match country {
        "DE" | "AT" => "deu",
        "FR" => "fra",
        "ES" => "spa",
        "IT" => "ita",
        "PL" => "pol",
        "NL" => "nld",
        "PT" => "por",
        "GB" | "IE" => "eng",
        _ => return None,
    })
}

/// International calling codes of the countries claimscan reads, longest first.
const CALLING_CODES: [(&str, &str); 17] = [
    ("351", "PT"),
    ("352", "LU"),
    ("353", "IE"),
    ("49", "DE"),
    ("43", "AT"),
    ("41", "CH"),
    ("33", "FR"),
    ("32", "BE"),
    ("34", "ES"),
    ("39", "IT"),
    ("31", "NL"),
    ("48", "PL"),
    ("44", "GB"),
    ("46", "SE"),
    ("45", "DK"),
    ("47", "NO"),
    ("30", "GR"),
];

/// The country of a telephone number's first word: `+48`, `(+49)`, `+4930123456`. Only a `+`
/// with nothing but digits after it (an amount such as `+17,53` has a separator); the code
/// alone (2-3 digits) or a whole number glued to it (8 or more digits).
fn calling_country(word: &str) -> Option<&'static str> {
    let w = word.trim_start_matches('(').trim_end_matches(')');
    let digits = w.strip_prefix('+')?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n = digits.len();
    CALLING_CODES
        .iter()
        .find(|(code, _)| {
            if n == code.len() {
                digits == *code
            } else {
                n >= 8 && digits.starts_with(code)
            }
        })
        .map(|(_, country)| *country)
}

/// The country of a VAT id written as one word (`PL3582295040`, `ATU83062816`, `DE123456789`,
/// `NIP:PL...` with its label glued), by its prefix and the length its country's ids have.
fn vat_country(word: &str) -> Option<&'static str> {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let w = w.rsplit(':').next().unwrap_or(w);
    // (prefix, country, characters after the prefix, of which digits at least)
    const FORMS: [(&str, &str, usize, usize); 14] = [
        ("ATU", "AT", 8, 8),
        ("DE", "DE", 9, 9),
        ("ES", "ES", 9, 7),
        ("IT", "IT", 11, 11),
        ("FR", "FR", 11, 9),
        ("NL", "NL", 12, 11),
        ("PL", "PL", 10, 10),
        ("PT", "PT", 9, 9),
        ("GB", "GB", 9, 9),
        ("IE", "IE", 8, 7),
        ("BE", "BE", 10, 10),
        ("LU", "LU", 8, 8),
        ("SE", "SE", 12, 12),
        ("CHE", "CH", 9, 9),
    ];
    FORMS.iter().find_map(|&(prefix, country, len, digits)| {
        let rest = w.strip_prefix(prefix)?;
        let ok = rest.len() == len
            && rest.chars().all(|c| c.is_ascii_alphanumeric())
            && rest.chars().filter(char::is_ascii_digit).count() >= digits;
        ok.then_some(country)
    })
}

/// The language a document's title word names: `FAKTURA` Polish, `Rechnung` German, `Factura`
/// Spanish, `Fattura` Italian, `Facture` French, `Factuur` Dutch, `Fatura` Portuguese,
/// `Invoice` English; compounds count (`Rechnungsnummer`, `Factuurdatum`).
fn title_language(word: &str) -> Option<&'static str> {
    const TITLES: [(&str, &str); 8] = [
        ("faktur", "pol"),
        ("rechnung", "deu"),
        ("factura", "spa"),
        ("fattura", "ita"),
        ("facture", "fra"),
        ("factuur", "nld"),
        ("fatura", "por"),
        ("invoice", "eng"),
    ];
    let w: String = word
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    TITLES
        .iter()
        .find(|(t, _)| w.starts_with(t))
        .map(|(_, l)| *l)
}

/// The one language most of `votes` name, if one has more votes than every other.
fn majority(votes: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    let mut count: Vec<(&'static str, usize)> = Vec::new();
    for v in votes {
        match count.iter_mut().find(|(l, _)| *l == v) {
            Some((_, n)) => *n += 1,
            None => count.push((v, 1)),
        }
    }
    count.sort_by_key(|c| std::cmp::Reverse(c.1));
    match count.as_slice() {
        [(l, _)] => Some(*l),
        [(l, a), (_, b), ..] if a > b => Some(*l),
        _ => None,
    }
}

/// The language the words' countries name (calling codes and VAT ids), then their title words;
/// `None` when neither names one language.
pub fn language_by_cues(words: &[&str]) -> Option<&'static str> {
    let countries = words
        .iter()
        .filter_map(|w| calling_country(w).or_else(|| vat_country(w)));
    majority(countries.filter_map(country_language))
        .or_else(|| majority(words.iter().filter_map(|w| title_language(w))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_come_from_calling_codes_and_vat_ids_not_from_amounts_or_codes() {
        assert_eq!(calling_country("+48"), Some("PL"));
        assert_eq!(calling_country("(+351)"), Some("PT"));
        assert_eq!(calling_country("+4930123456"), Some("DE"));
        // an amount with a plus mark, a quantity, an unknown code
        assert_eq!(calling_country("+17,53"), None);
        assert_eq!(calling_country("+17"), None);
        assert_eq!(calling_country("48"), None);
        assert_eq!(vat_country("PL3582295040"), Some("PL"));
        assert_eq!(vat_country("NIP:PL3582295040"), Some("PL"));
        assert_eq!(vat_country("ATU83062816"), Some("AT"));
        assert_eq!(vat_country("ESB12345678"), Some("ES"));
        assert_eq!(vat_country("NL123456789B01"), Some("NL"));
        // product codes that start like a prefix but have another length
        assert_eq!(vat_country("PL246371"), None);
        assert_eq!(vat_country("DE-4711"), None);
        assert_eq!(vat_country("ITEM"), None);
    }

    #[test]
    fn the_country_wins_over_the_title_and_ties_name_nothing() {
        // seed 73's inv000055, read with the English probe: whatlang said Portuguese
        let polish = "Szymanski & Kowalski Sp. z 0.0. ul, Dabrowski 58 25-216 Warszawa +48 39 696 \
                      2269 FAKTURA VAT + : ODBIORCA NUMER: FV 0035658";
        let words: Vec<&str> = polish.split(' ').collect();
        assert_eq!(language_by_cues(&words), Some("pol"));
        // English labels, a Spanish supplier: the names are Spanish
        let words = [
            "Romero", "&", "Molina", "Madrid", "+34", "71", "Invoice", "No.",
        ];
        assert_eq!(language_by_cues(&words), Some("spa"));
        // no country: the title
        let words = ["LORPRO", "AG", "«41", "RECHNUNG", "Rechnungsnummer:"];
        assert_eq!(language_by_cues(&words), Some("deu"));
        // a Belgian or Swiss number names no language; the title does
        let words = ["+32", "Factuur", "BE0123456789"];
        assert_eq!(language_by_cues(&words), Some("nld"));
        // two countries as often: the title decides; without one, nothing
        let words = ["+48", "+49", "Faktura"];
        assert_eq!(language_by_cues(&words), Some("pol"));
        assert_eq!(language_by_cues(&["+48", "+49"]), None);
        assert_eq!(language_by_cues(&["Lorem", "ipsum"]), None);
    }
}
