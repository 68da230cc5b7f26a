//! Normalisation shared by every reader: folding words for keyword lookup, locale-aware numbers,
//! dates to ISO 8601, currencies to ISO 4217, VAT ids.

/// Lower-cases, strips accents and keeps only letters, digits, `%` and `#`, with single spaces.
/// `"Qté."` → `"qte"`, `"P.U. HT"` → `"pu ht"`, `"N° facture"` → `"n facture"`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c == 'º' || c == 'ª' {
            continue;
        }
        let base = strip_accent(c);
        if base.is_alphanumeric() || base == '%' || base == '#' {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            for l in base.to_lowercase() {
                out.push(l);
            }
        } else if c.is_whitespace() || c == '/' || c == '-' || c == '_' {
            space = true;
        }
        // other punctuation (. : ° º ' ,) is dropped without a break: "Nr." = "nr", "Q.tà" = "qta"
    }
    out
}

fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ą' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ą' => 'A',
        'ç' | 'ć' | 'č' => 'c',
        'Ç' | 'Ć' | 'Č' => 'C',
        'è' | 'é' | 'ê' | 'ë' | 'ę' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' | 'Ę' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ł' => 'l',
        'Ł' => 'L',
        'ñ' | 'ń' => 'n',
        'Ñ' | 'Ń' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ś' | 'š' => 's',
        'Ś' | 'Š' => 'S',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        'Ź' | 'Ż' | 'Ž' => 'Z',
        'ß' => 's',
        c => c,
    }
}

/// Decimal separator of a document's amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalSep {
    Comma,
    Point,
}

/// Currency signs and codes that may be glued to an amount.
const CURRENCY_MARKS: &[&str] = &[
    "EUR", "GBP", "PLN", "CHF", "SEK", "USD", "€", "£", "$", "zł", "kr", "Fr.",
];

/// Strips currency marks, signs and brackets; returns (negative, core text).
/// A word without the currency mark printed before it (`€80` -> `80`, the first group of
/// `€80 006,21`).
pub fn without_currency_prefix(text: &str) -> &str {
    CURRENCY_MARKS
        .iter()
        .find_map(|m| text.strip_prefix(m))
        .unwrap_or(text)
}

/// Starts with a digit and ends with a separator and two digits (`5.522,42`, `30,65`).
fn cents_shaped(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 4
        && b[0].is_ascii_digit()
        && b[b.len() - 1].is_ascii_digit()
        && b[b.len() - 2].is_ascii_digit()
        && matches!(b[b.len() - 3], b'.' | b',')
}

fn strip_number_decoration(text: &str) -> (bool, String) {
    let mut t = text.trim().to_string();
    for m in CURRENCY_MARKS {
        if let Some(rest) = t.strip_prefix(m) {
            t = rest.trim().to_string();
        }
        if let Some(rest) = t.strip_suffix(m) {
            t = rest.trim().to_string();
        }
    }
    // a mark OCR read after the cents (`5.522,42.`, `281,14,`, `177,96:`, `105,00"`: 74 words
    // on seeds 73 and 61 train, none printed so); only after two decimals, so a position `1.`
    // or a date stays as it was
    if let Some(rest) = t.strip_suffix(['.', ',', ':', ';', '"', '\'', '’']) {
        if cents_shaped(rest) {
            t = rest.to_string();
        }
    }
    // and a mark read before it (`"30,65`, `‚118,40`, `:12,50`, `+17,53`: 35 words on the same
    // sets, all of positive amounts). Not `“`, `‘`, `«` or `=`: those are as often a minus OCR
    // misread (`“1.229,28` for `-1.229,28`: 11 of the 50 on those sets), and a leading `.` or
    // `,` may be a lost digit's group.
    if let Some(rest) = t.strip_prefix(['"', '’', '‚', '„', '»', ':', '+', '\'', '*', '°'])
    {
        if cents_shaped(rest) {
            t = rest.to_string();
        }
    }
    let mut neg = false;
    if t.starts_with('(') && t.ends_with(')') && t.len() > 2 {
        neg = true;
        t = t[1..t.len() - 1].to_string();
    }
    for minus in ['-', '−', '–'] {
        if let Some(rest) = t.strip_prefix(minus) {
            neg = !neg;
            t = rest.to_string();
        } else if let Some(rest) = t.strip_suffix(minus) {
            if !rest.is_empty() {
                neg = !neg;
                t = rest.to_string();
            }
        }
    }
    (neg, t)
}

fn is_group_sep(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | '\'' | '’' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}'
    )
}

/// Parses a number as printed, with the document's decimal separator when known.
///
/// Accepts `1.234,56`, `1,234.56`, `1 234,56`, `1'234.56`, `-12,00`, `12.50-`, `(3.00)`, `€ 5,00`,
/// `1234`. Without a known separator, a final `.dd`/`,dd` (one or two digits) is decimal and a
/// final group of three digits is a thousands group.
pub fn parse_number(text: &str, sep: Option<DecimalSep>) -> Option<f64> {
    let (neg, core) = strip_number_decoration(text);
    if core.is_empty() || !core.chars().next()?.is_ascii_digit() {
        return None;
    }
    if !core.chars().all(|c| c.is_ascii_digit() || is_group_sep(c)) {
        return None;
    }
    if !core.chars().last()?.is_ascii_digit() {
        return None;
    }
    let dec = match sep {
        Some(DecimalSep::Comma) => Some(','),
        Some(DecimalSep::Point) => Some('.'),
        None => {
            // the last separator decides: 1-2 digits after it → decimal; 3 → grouping
            let last = core.char_indices().rfind(|(_, c)| !c.is_ascii_digit());
            match last {
                Some((i, c)) if c == '.' || c == ',' => {
                    let after = core.len() - i - 1;
                    if after == 3 {
                        None
                    } else {
                        Some(c)
                    }
                }
                _ => None,
            }
        }
    };
    // The decimal mark more than once: OCR read the grouping mark as it (`9,419,11` on a page
    // of `1.234,56`). Taken as grouping then, all but the last, when the last has one or two
    // digits after it (the threes are checked below).
    let decs = dec.map_or(0, |d| core.matches(d).count());
    if decs > 1 {
        let d = dec?;
        let frac = core.rsplit_once(d).map_or(0, |(_, f)| f.len());
        if !(1..=2).contains(&frac) {
            return None;
        }
    }
    let mut s = String::with_capacity(core.len());
    let mut seen_dec = 0;
    for c in core.chars() {
        if c.is_ascii_digit() {
            s.push(c);
        } else if Some(c) == dec {
            seen_dec += 1;
            if seen_dec == decs {
                s.push('.');
            }
        }
    }
    // grouping must be in threes: reject dates and "12.5.3" style garbage
    let int_part = match dec {
        Some(d) => core.rsplit_once(d).map(|(i, _)| i).unwrap_or(&core),
        None => &core,
    };
    let groups: Vec<&str> = int_part.split(|c: char| !c.is_ascii_digit()).collect();
    if groups.len() > 1
        && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// Whether a word looks like an amount with two decimals (`1.234,56`, `-12.50`, `€5,00`).
pub fn looks_like_money(text: &str) -> bool {
    let (_, core) = strip_number_decoration(text);
    let b = core.as_bytes();
    b.len() >= 4
        && b[b.len() - 1].is_ascii_digit()
        && b[b.len() - 2].is_ascii_digit()
        && (b[b.len() - 3] == b'.' || b[b.len() - 3] == b',')
        && core.chars().next().is_some_and(|c| c.is_ascii_digit())
        && core.chars().all(|c| c.is_ascii_digit() || is_group_sep(c))
}

/// Guesses the decimal separator from the money-like words of a document.
pub fn detect_decimal_sep<'a>(words: impl Iterator<Item = &'a str>) -> Option<DecimalSep> {
    let (mut comma, mut point) = (0, 0);
    for w in words {
        if looks_like_money(w) {
            let (_, core) = strip_number_decoration(w);
            match core.as_bytes()[core.len() - 3] {
                b',' => comma += 1,
                b'.' => point += 1,
                _ => {}
            }
        }
    }
    match (comma, point) {
        (0, 0) => None,
        (c, p) if c >= p => Some(DecimalSep::Comma),
        _ => Some(DecimalSep::Point),
    }
}

/// Parses a printed date into `YYYY-MM-DD`: `dd.mm.yyyy`, `dd/mm/yyyy`, `dd-mm-yyyy`, `yyyy-mm-dd`
/// (also two-digit years, read as 20yy).
pub fn parse_date(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches([',', ';', '.']);
    let parts: Vec<&str> = t.split(['.', '/', '-']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    let (y, m, d) = if parts[0].len() == 4 {
        (n[0], n[1], n[2])
    } else if parts[2].len() == 4 {
        (n[2], n[1], n[0])
    } else if parts[2].len() == 2 && parts[0].len() <= 2 {
        (2000 + n[2], n[1], n[0])
    } else {
        return None;
    };
    if !(1990..=2100).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// The currency of the country a VAT id's code names (`DE...` EUR, `PL...` PLN, `GB...` GBP),
/// where the country has one currency.
pub fn currency_of_vat_id(vat_id: &str) -> Option<&'static str> {
    let code: String = vat_id.chars().take(2).collect();
    Some(match code.as_str() {
        "AT" | "BE" | "CY" | "DE" | "EE" | "EL" | "ES" | "FI" | "FR" | "HR" | "IE" | "IT"
        | "LT" | "LU" | "LV" | "MT" | "NL" | "PT" | "SI" | "SK" => "EUR",
        "PL" => "PLN",
        "GB" | "XI" => "GBP",
        "CH" => "CHF",
        "CZ" => "CZK",
        "HU" => "HUF",
        "SE" => "SEK",
        "DK" => "DKK",
        "RO" => "RON",
        _ => return None,
    })
}

/// The ISO 4217 code a word names, if any (`€` → EUR, `zł` → PLN, `kr` → SEK, `Fr.` → CHF).
pub fn currency_of(text: &str) -> Option<&'static str> {
    let t = text
        .trim()
        .trim_matches(|c: char| c == '(' || c == ')' || c == ':' || c == ',');
    for (code, marks) in [
        ("EUR", &["EUR", "€", "Euro"][..]),
        ("GBP", &["GBP", "£"][..]),
        ("PLN", &["PLN", "zł", "zl"][..]),
        ("CHF", &["CHF", "Fr.", "SFr."][..]),
        ("SEK", &["SEK", "kr", "kr."][..]),
        ("USD", &["USD", "$", "US$"][..]),
    ] {
        for m in marks {
            if t == *m
                || (t.len() > m.len()
                    && (t.starts_with(m) || t.ends_with(m))
                    && parse_number(t, None).is_some())
            {
                return Some(code);
            }
        }
    }
    None
}

/// Whether a word looks like a European VAT id: a country prefix and 8-12 digits/letters
/// (`ATU84522729`, `GB678747902`, `FR16401985241`), or a bare Polish NIP / Spanish NIF shape.
pub fn looks_like_vat_id(text: &str) -> bool {
    let t: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if t.len() < 8 || t.len() > 15 {
        return false;
    }
    let b = t.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    if b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase() {
        return digits >= 7 && COUNTRY_PREFIXES.iter().any(|p| t.starts_with(p));
    }
    // ES NIF/CIF: letter + 7 digits + check char; PL NIP: 10 digits
    (b[0].is_ascii_uppercase() && digits >= 7 && t.len() == 9) || (digits == 10 && t.len() == 10)
}

const COUNTRY_PREFIXES: &[&str] = &[
    "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "GB", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
];

/// Cleans a VAT id for output: as printed, with letters that OCR reads for digits (`O` for `0`,
/// `S` for `5`, ...) put back where the country's format has only digits (`PLO889254451` ->
/// `PL0889254451`). At most two such letters, and only when the result has the format.
pub fn normalise_vat_id(text: &str) -> String {
    // no id ends in a mark: a speck or quote OCR read after it (`FR42505079050"`) goes
    let t = country_code_mended(text.trim().trim_end_matches(|c: char| !c.is_alphanumeric()));
    if let Some(m) = country_code_misread(&t) {
        return m;
    }
    vat_digits_repaired(&t).unwrap_or(t)
}

/// A VAT id whose country code OCR read with a digit for a letter (`1T11816144000`,
/// `G8547880232`, `1E3166487C`) or with a stroke doubled (`I1E3906623A`): the code mended, when
/// the id then has its country's format and no other reading does.
pub fn country_code_misread(t: &str) -> Option<String> {
    let chars: Vec<char> = t.chars().collect();
    // one of the code's two characters read as a letter: a number is no VAT id
    if chars.len() < 8
        || COUNTRY_PREFIXES.iter().any(|p| t.starts_with(p))
        || !chars[..2].iter().any(char::is_ascii_uppercase)
    {
        return None;
    }
    let letter = |c: char| match c {
        '1' | 'l' | '|' | '!' => Some('I'),
        '8' => Some('B'),
        '0' => Some('O'),
        '5' => Some('S'),
        '6' => Some('G'),
        '2' => Some('Z'),
        c if c.is_ascii_uppercase() => Some(c),
        _ => None,
    };
    let mut found = None;
    for skip in [None, Some(1)] {
        let kept: Vec<char> = chars
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, c)| *c)
            .collect();
        let (Some(a), Some(b)) = (letter(kept[0]), letter(kept[1])) else {
            continue;
        };
        let read: String = [a, b]
            .into_iter()
            .chain(kept[2..].iter().copied())
            .collect();
        let read = vat_digits_repaired(&read).unwrap_or(read);
        if vat_well_formed(&read) {
            if found.is_some() {
                return None;
            }
            found = Some(read);
        }
    }
    found
}

/// Whether a VAT id has its country's format (length, and digits where the format has them).
pub fn vat_well_formed(t: &str) -> bool {
    let country: String = t.chars().take(2).collect();
    let body: Vec<char> = t
        .chars()
        .skip(2)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if country == "IE" {
        // seven digits and one or two letters (`3906623A`, `1234567WA`)
        let digits = body.iter().take_while(|c| c.is_ascii_digit()).count();
        return digits == 7
            && (1..=2).contains(&(body.len() - digits))
            && body[digits..].iter().all(|c| c.is_ascii_uppercase());
    }
    let Some(f) = vat_format(&country) else {
        return false;
    };
    f.lengths.contains(&body.len())
        && body.iter().enumerate().all(|(k, &c)| match f.letter {
            Some((at, want)) if k == at => c == want,
            _ => k < f.first_digit || (f.last_any && k + 1 == body.len()) || c.is_ascii_digit(),
        })
}

/// A VAT id with OCR debris before its country code: a speck read as a quote or a comma
/// (`'PT466911121`), or the `I` of `IE` or `IT` read as a bracket or a bar (`[E1149779C`). As
/// printed when no country code comes out of it.
fn country_code_mended(t: &str) -> String {
    let mut chars = t.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    if first.is_ascii_alphanumeric() {
        return t.to_string();
    }
    let rest = chars.as_str();
    let country = |s: &str| COUNTRY_PREFIXES.iter().any(|p| s.starts_with(p));
    let as_i = format!("I{rest}");
    if matches!(first, '[' | '|' | '!') && !country(rest) && country(&as_i) {
        return as_i;
    }
    let trimmed = t.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    if country(trimmed) {
        trimmed.to_string()
    } else {
        t.to_string()
    }
}

/// Where a VAT number (the letters and digits after the two-letter country code) must have
/// digits, by the EU's published formats.
struct VatFormat {
    lengths: &'static [usize],
    /// Positions before this may hold letters (FR's key, AT's `U`).
    first_digit: usize,
    /// A fixed letter at a position (NL's `B`, AT's `U`).
    letter: Option<(usize, char)>,
    /// The last position may hold a letter (ES's check character).
    last_any: bool,
}

fn vat_format(country: &str) -> Option<VatFormat> {
    let (lengths, first_digit, letter): (&'static [usize], usize, Option<(usize, char)>) =
        match country {
            "AT" => (&[9], 1, Some((0, 'U'))),
            "BE" | "PL" | "SK" => (&[10], 0, None),
            "BG" => (&[9, 10], 0, None),
            "CZ" => (&[8, 9, 10], 0, None),
            "DE" | "EE" | "EL" | "PT" => (&[9], 0, None),
            "DK" | "FI" | "HU" | "LU" | "MT" | "SI" => (&[8], 0, None),
            "FR" => (&[11], 2, None),
            "HR" | "IT" | "LV" => (&[11], 0, None),
            "LT" => (&[9, 12], 0, None),
            "NL" => (&[12], 0, Some((9, 'B'))),
            "SE" => (&[12], 0, None),
            "GB" => (&[9, 12], 0, None),
            // a letter or digit, seven digits, a letter or digit
            "ES" => (&[9], 1, None),
            _ => return None,
        };
    Some(VatFormat {
        lengths,
        first_digit,
        letter,
        last_any: country == "ES",
    })
}

fn vat_digits_repaired(t: &str) -> Option<String> {
    let country: String = t.chars().take(2).collect();
    if !country.chars().all(|c| c.is_ascii_uppercase()) {
        return None;
    }
    let VatFormat {
        lengths,
        first_digit,
        letter,
        last_any,
    } = vat_format(&country)?;
    let body: Vec<(usize, char)> = t
        .char_indices()
        .skip(2)
        .filter(|(_, c)| c.is_ascii_alphanumeric())
        .collect();
    if !lengths.contains(&body.len()) {
        return vat_extra_letter_dropped(t, &body, lengths, first_digit, letter, last_any);
    }
    let mut out: Vec<char> = t.chars().collect();
    let char_pos = |byte: usize| t[..byte].chars().count();
    let mut fixed = 0;
    for (k, &(byte, c)) in body.iter().enumerate() {
        if let Some((at, want)) = letter {
            if k == at {
                if c != want {
                    return None;
                }
                continue;
            }
        }
        // a French key is digits or letters other than O and I: those are misread digits
        let fr_key = country == "FR" && matches!(c, 'O' | 'o' | 'I' | 'l');
        if (k < first_digit && !fr_key) || c.is_ascii_digit() || (last_any && k + 1 == body.len()) {
            continue;
        }
        let d = match c {
            'O' | 'o' | 'D' | 'Q' => '0',
            'I' | 'l' | 'i' => '1',
            'Z' | 'z' => '2',
            'S' | 's' => '5',
            'G' => '6',
            'B' => '8',
            _ => return None,
        };
        out[char_pos(byte)] = d;
        fixed += 1;
    }
    (fixed > 0 && fixed <= 2).then(|| out.into_iter().collect())
}

/// A VAT id one character too long with a letter where the format has only digits
/// (`DES502658866`, `BE0O770883353`: a speck or a doubled stroke read as a letter): without that
/// letter, when exactly one such letter makes it fit the format with no other change.
fn vat_extra_letter_dropped(
    t: &str,
    body: &[(usize, char)],
    lengths: &[usize],
    first_digit: usize,
    letter: Option<(usize, char)>,
    last_any: bool,
) -> Option<String> {
    let n = body.len().checked_sub(1)?;
    if !lengths.contains(&n) {
        return None;
    }
    let fits = |skip: usize| {
        body.iter()
            .enumerate()
            .filter(|(k, _)| *k != skip)
            .enumerate()
            .all(|(k, (_, &(_, c)))| match letter {
                Some((at, want)) if k == at => c == want,
                _ => k < first_digit || c.is_ascii_digit() || (last_any && k + 1 == n),
            })
    };
    let mut drops = (first_digit..body.len())
        .filter(|&k| body[k].1.is_ascii_alphabetic() && letter.is_none_or(|(at, _)| k != at))
        .filter(|&k| fits(k));
    let (Some(k), None) = (drops.next(), drops.next()) else {
        return None;
    };
    let byte = body[k].0;
    let c = body[k].1;
    Some(format!("{}{}", &t[..byte], &t[byte + c.len_utf8()..]))
}

/// Whether two amounts are equal to the cent (with a little slack for float error).
pub fn money_eq(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005 + 1e-9 * a.abs().max(b.abs())
}

/// An invoice number as OCR misreads it: a speck or rule read before it (`‚RE137164`,
/// `—AVO59133`) or after it (`FV82132.`, `26)`) is dropped, and a run of `O` between a capital,
/// digit or separator and a digit is zeros (`REO78706`, `FO0040640`, `REOO30005`: the
/// prefix's last letter is taken for the number's first zero; `Fo65779` with a small `o` too).
/// An `S` between two digits is a 5 (`R-000S3687`). An `O` that starts the number, or that a
/// letter follows, stays (`SO-4411`, `POS12`). None of the 1,200 truth numbers of seeds 73, 89
/// and 61 ends in a mark or has an `S` between digits. For OCR'd pages only: what a text layer
/// prints is what the distributor wrote.
pub fn mend_ocr_invoice_number(read: &str) -> String {
    let trimmed = read
        .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '#')
        .trim_end_matches(|c: char| !c.is_alphanumeric());
    let chars: Vec<char> = trimmed.chars().collect();
    let is_o = |c: char| c == 'O' || c == 'o';
    let mut out = String::with_capacity(trimmed.len());
    for (i, &c) in chars.iter().enumerate() {
        let zero = is_o(c) && {
            let start = i - chars[..i].iter().rev().take_while(|&&p| is_o(p)).count();
            let end = i + chars[i..].iter().take_while(|&&n| is_o(n)).count();
            start > 0
                && (chars[start - 1].is_ascii_uppercase()
                    || chars[start - 1].is_ascii_digit()
                    || matches!(chars[start - 1], '-' | '/'))
                && chars.get(end).is_some_and(|n| n.is_ascii_digit())
        };
        let five = c == 'S'
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        out.push(if zero {
            '0'
        } else if five {
            '5'
        } else {
            c
        });
    }
    if out.is_empty() {
        read.to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_vat_id_names_its_country_currency() {
        assert_eq!(currency_of_vat_id("DE123456789"), Some("EUR"));
        assert_eq!(currency_of_vat_id("PL1234567890"), Some("PLN"));
        assert_eq!(currency_of_vat_id("GB123456789"), Some("GBP"));
        assert_eq!(currency_of_vat_id("B12345678"), None);
    }

    #[test]
    fn vat_ids_get_their_country_code_back() {
        let n = normalise_vat_id;
        // seed 73's train scans and photos
        assert_eq!(n("1T11816144000"), "IT11816144000");
        assert_eq!(n("G8547880232"), "GB547880232");
        assert_eq!(n("1E3166487C"), "IE3166487C");
        assert_eq!(n("I1E3906623A"), "IE3906623A");
        // what is no VAT id stays as read
        assert_eq!(n("18547880232"), "18547880232");
        assert_eq!(n("5112345678"), "5112345678");
        assert_eq!(n("1T118161"), "1T118161");
        assert_eq!(country_code_misread("DE123456789"), None);
    }

    #[test]
    fn ocr_invoice_numbers_get_their_zeros_back() {
        let m = mend_ocr_invoice_number;
        // seed 73's train scans and photos
        assert_eq!(m("REO78706"), "RE078706");
        assert_eq!(m("FO0040640"), "F00040640");
        assert_eq!(m("—AVO59133"), "AV059133");
        assert_eq!(m("‚RE137164"), "RE137164");
        assert_eq!(m("R-O42107"), "R-042107");
        // an O that starts a number or comes before a letter is a letter
        assert_eq!(m("SO-4411"), "SO-4411");
        assert_eq!(m("POS12"), "POS12");
        assert_eq!(m("O1234"), "O1234");
        assert_eq!(m("FV 105030"), "FV 105030");
        // runs of O, a small o after a capital, an S between digits, a mark after the number
        // (seeds 61 and 89)
        assert_eq!(m("REOO30005"), "RE0030005");
        assert_eq!(m("Fo65779"), "F065779");
        assert_eq!(m("R-000S3687"), "R-00053687");
        assert_eq!(m("FV82132."), "FV82132");
        // what could be letters stays
        assert_eq!(m("Foss769"), "Foss769");
        assert_eq!(m("FA/S8882"), "FA/S8882");
        assert_eq!(m("SOO-12"), "SOO-12");
    }
    use super::*;

    #[test]
    fn folds_labels() {
        assert_eq!(fold("Qté."), "qte");
        assert_eq!(fold("P.U. HT"), "pu ht");
        assert_eq!(fold("N° facture:"), "n facture");
        assert_eq!(fold("Q.TÀ:"), "qta");
        assert_eq!(fold("Rechnungs-Nr."), "rechnungs nr");
        assert_eq!(fold("Wartość"), "wartosc");
    }

    #[test]
    fn numbers_by_locale() {
        let c = Some(DecimalSep::Comma);
        let p = Some(DecimalSep::Point);
        assert_eq!(parse_number("1.234,56", c), Some(1234.56));
        // the grouping mark misread as the decimal one (set 61's `inv000358`)
        assert_eq!(parse_number("9,419,11", c), Some(9419.11));
        assert_eq!(parse_number("1.234.56", p), Some(1234.56));
        assert_eq!(parse_number("12,34,56", c), None);
        assert_eq!(parse_number("9,419,110", c), None);
        assert_eq!(parse_number("12.5.3", p), None);
        assert_eq!(parse_number("1,234.56", p), Some(1234.56));
        assert_eq!(parse_number("1 234,56", c), Some(1234.56));
        assert_eq!(parse_number("1'234.56", p), Some(1234.56));
        assert_eq!(parse_number("-4.546,90", c), Some(-4546.90));
        assert_eq!(parse_number("50.000", p), Some(50.0));
        assert_eq!(parse_number("12,00", c), Some(12.0));
        assert_eq!(parse_number("€5,00", c), Some(5.0));
        assert_eq!(parse_number("12.50-", p), Some(-12.5));
        assert_eq!(parse_number("1.234,56", None), Some(1234.56));
        assert_eq!(parse_number("1,234", None), Some(1234.0));
        assert_eq!(parse_number("abc", None), None);
        assert_eq!(parse_number("VE3920951", None), None);
        assert_eq!(parse_number("04.06.2023", c), None);
    }

    /// A mark OCR read after the cents or before the amount is not part of it; a position's dot,
    /// a date ending in one and an amount that lost its first digits stay what they were.
    #[test]
    fn a_mark_read_after_the_cents_or_before_the_amount_is_dropped() {
        let c = Some(DecimalSep::Comma);
        assert_eq!(parse_number("5.522,42.", c), Some(5522.42));
        assert_eq!(parse_number("281,14,", None), Some(281.14));
        assert_eq!(parse_number("177,96:", c), Some(177.96));
        assert_eq!(parse_number("105,00\"", c), Some(105.0));
        assert!(looks_like_money("5.522,42."));
        assert_eq!(parse_number("1.", None), None);
        assert_eq!(parse_number("24.01.2024.", c), None);
        assert!(!looks_like_money("20."));
        // and before the amount
        assert_eq!(parse_number("\"30,65", c), Some(30.65));
        assert_eq!(parse_number("‚118,40", c), Some(118.4));
        assert!(looks_like_money("+17,53"));
        // a minus misread as a quote or `=` is not taken for a plus
        assert_eq!(parse_number("“1.229,28", c), None);
        assert_eq!(parse_number("=175,29", c), None);
        assert_eq!(parse_number(".298,15", c), None);
        assert_eq!(parse_number("\"12", None), None);
    }

    /// Formats cents the way each locale style prints them.
    fn format(cents: i64, group: &str, dec: char) -> String {
        let neg = cents < 0;
        let c = cents.unsigned_abs();
        let int = (c / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i).is_multiple_of(3) {
                grouped.push_str(group);
            }
            grouped.push(ch);
        }
        format!("{}{grouped}{dec}{:02}", if neg { "-" } else { "" }, c % 100)
    }

    /// Every locale style round-trips, for many magnitudes, with the separator detected from the
    /// amounts themselves (a property test over a deterministic sweep).
    #[test]
    fn every_locale_style_round_trips() {
        let styles: [(&str, char); 5] = [(".", ','), (",", '.'), (" ", ','), ("'", '.'), ("", ',')];
        let mut x: i64 = 7;
        for _ in 0..400 {
            x = (x * 7919 + 104_729) % 10_000_000_000;
            for cents in [x, -x, x % 100_000, x % 1_000] {
                for (group, dec) in styles {
                    let t = format(cents, group, dec);
                    let sep = detect_decimal_sep(std::iter::once(t.as_str()));
                    let want = cents as f64 / 100.0;
                    let got = parse_number(&t, sep);
                    assert!(
                        got.is_some_and(|g| money_eq(g, want)),
                        "{t}: {got:?} != {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn dates_to_iso() {
        assert_eq!(parse_date("04.06.2023").as_deref(), Some("2023-06-04"));
        assert_eq!(parse_date("26/05/2023").as_deref(), Some("2023-05-26"));
        assert_eq!(parse_date("10-08-2024").as_deref(), Some("2024-08-10"));
        assert_eq!(parse_date("2024-08-10").as_deref(), Some("2024-08-10"));
        assert_eq!(parse_date("2024-125526"), None);
        assert_eq!(parse_date("31.13.2023"), None);
    }

    #[test]
    fn currencies_and_vat_ids() {
        assert_eq!(currency_of("€"), Some("EUR"));
        assert_eq!(currency_of("zł"), Some("PLN"));
        assert_eq!(currency_of("GBP"), Some("GBP"));
        assert_eq!(currency_of("€5,00"), Some("EUR"));
        assert_eq!(currency_of("Euro-Pal"), None);
        assert!(looks_like_vat_id("ATU84522729"));
        assert!(looks_like_vat_id("GB678747902"));
        assert!(!looks_like_vat_id("FA/0055779"));
        assert!(!looks_like_vat_id("GR2176596"));
    }

    #[test]
    fn vat_ids_get_their_digits_back_where_the_format_has_digits() {
        assert_eq!(normalise_vat_id("PLO889254451"), "PL0889254451");
        assert_eq!(normalise_vat_id("DEO50855398,"), "DE050855398");
        assert_eq!(normalise_vat_id("FR42505079050\""), "FR42505079050");
        assert_eq!(normalise_vat_id("ATU7780359S"), "ATU77803595");
        assert_eq!(normalise_vat_id("NL 8O1234567B01"), "NL 801234567B01");
        assert_eq!(normalise_vat_id("FR07 8282406S7"), "FR07 828240657");
        // as printed when nothing is wrong, the format is unknown, or the length is off
        assert_eq!(normalise_vat_id("DE 050 855 398"), "DE 050 855 398");
        assert_eq!(normalise_vat_id("IE1705006B"), "IE1705006B");
        assert_eq!(
            normalise_vat_id("CHE-052.285.962 MWST"),
            "CHE-052.285.962 MWST"
        );
        // one letter too many where the format has digits only
        assert_eq!(normalise_vat_id("BE0O258912475"), "BE0258912475");
        assert_eq!(normalise_vat_id("DES502658866"), "DE502658866");
        assert_eq!(normalise_vat_id("NL801234567B01X"), "NL801234567B01");
        // two letters, either of which could be the extra one: as printed
        assert_eq!(normalise_vat_id("DEOS02658866"), "DEOS02658866");
        assert_eq!(normalise_vat_id("DE5026588666"), "DE5026588666");
        // a French key has no O or I
        assert_eq!(normalise_vat_id("FRO4434980612"), "FR04434980612");
        assert_eq!(normalise_vat_id("FRXY434980612"), "FRXY434980612");
        // three letters in digit places is not a misread number
        assert_eq!(normalise_vat_id("DEOOO855398"), "DEOOO855398");
        // a letter no digit looks like
        assert_eq!(normalise_vat_id("DE05X855398"), "DE05X855398");
        // debris before the country code (set 73's train scans and photos)
        assert_eq!(normalise_vat_id("'PT466911121"), "PT466911121");
        assert_eq!(normalise_vat_id("[E1149779C"), "IE1149779C");
        assert_eq!(normalise_vat_id("|T11816144000"), "IT11816144000");
        assert_eq!(normalise_vat_id("'12345"), "'12345");
        // Spain: a letter or digit, seven digits, a letter or digit
        assert_eq!(normalise_vat_id("ESAB4979995"), "ESA84979995");
        assert_eq!(normalise_vat_id("ESBO01020746"), "ESB01020746");
        assert_eq!(normalise_vat_id("ES12345678Z"), "ES12345678Z");
        assert_eq!(normalise_vat_id("ESX1234567L"), "ESX1234567L");
        assert_eq!(normalise_vat_id("ESBR4476685"), "ESBR4476685");
    }
}
