//! Text normalisation shared by catalog names and invoice wording.
//!
//! * case and accents folded (`Umwälzpumpe` -> `umwalzpumpe`, `ł` -> `l`), punctuation dropped;
//! * numbers keep their decimal separator (`2,5` == `2.5`), trailing zeros go (`2.50` -> `2.5`);
//! * a number followed by a unit word becomes one token with a canonical unit: `5L`, `5 ltr`,
//!   `5 litres` -> `5l`; `180 mm` -> `180mm`; `2,2 kW` -> `2.2kw`; `1/2"` -> `1/2in`;
//! * dimensions stay one token: `600 x 1400` / `600X1400` -> `600x1400`, `DN 25` -> `dn25`,
//!   `25/6` and `25-60` are kept as written (model numbers);
//! * pack sizes: `pack of 10`, `10 pcs`, `pk 10`, `10/pk` -> `pk10`.
//!
//! Word abbreviations are *not* typed here: they are learned from confirmed lines
//! (see [`crate::model::Lexicon`]).

use unicode_normalization::UnicodeNormalization;

/// Canonical unit for a unit word, if it is one.
fn unit_of(word: &str) -> Option<&'static str> {
    Some(match word {
        "mm" => "mm",
        "cm" => "cm",
        "m" | "mtr" | "mtrs" | "meter" | "meters" | "metre" | "metres" | "lfm" | "lm" => "m",
        "l" | "lt" | "ltr" | "ltrs" | "litre" | "litres" | "liter" | "liters" | "litro"
        | "litri" | "litros" => "l",
        "ml" => "ml",
        "kw" => "kw",
        "w" | "watt" | "watts" => "w",
        "v" | "volt" | "volts" => "v",
        "a" | "amp" | "amps" => "a",
        "ma" => "ma",
        "ka" => "ka",
        "bar" => "bar",
        "kg" => "kg",
        "g" => "g",
        "in" | "inch" | "\"" | "zoll" => "in",
        "m2" => "m2",
        "m3h" => "m3h",
        _ => return None,
    })
}

/// Whether a lower-case word names a pack or piece unit (`pcs`, `stk`, `pz`, `ea`, `box`).
pub fn is_pack_word(w: &str) -> bool {
    matches!(
        w,
        "pack"
            | "pk"
            | "pkg"
            | "pcs"
            | "pces"
            | "st"
            | "stk"
            | "szt"
            | "pz"
            | "pzs"
            | "ud"
            | "uds"
            | "ea"
            | "box"
            | "vpe"
    )
}

/// Fold case and accents; map everything that is not a letter/digit/`.`/`,`/`/`/`-`/`"`/`+` to space.
pub fn fold(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'ł' | 'Ł' => 'l',
            'ø' | 'Ø' => 'o',
            'ß' => {
                s.push_str("ss");
                continue;
            }
            'æ' | 'Æ' => {
                s.push_str("ae");
                continue;
            }
            '×' => 'x',
            '″' | '”' | '“' => '"',
            _ => c,
        };
        for l in c.to_lowercase() {
            if l.is_alphanumeric() || matches!(l, '.' | ',' | '/' | '-' | '"' | '+') {
                s.push(l);
            } else {
                s.push(' ');
            }
        }
    }
    s
}

fn is_num(t: &str) -> bool {
    !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.as_bytes()[0].is_ascii_digit()
}

/// Clean one raw piece: decimal commas to points, strip stray separators, trailing zeros of decimals.
fn clean_piece(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len());
    for (i, &c) in b.iter().enumerate() {
        let prev_d = i > 0 && b[i - 1].is_ascii_digit();
        let next_d = i + 1 < b.len() && b[i + 1].is_ascii_digit();
        match c {
            b',' | b'.' => {
                if prev_d && next_d {
                    out.push('.');
                }
            }
            b'-' | b'/' | b'+' => {
                if i > 0 && i + 1 < b.len() {
                    out.push(c as char);
                }
            }
            b'"' => {
                if prev_d {
                    out.push('"');
                }
            }
            _ => out.push(c as char),
        }
    }
    // 2.50 -> 2.5, 3.0 -> 3
    strip_zeros(&out)
}

fn strip_zeros(t: &str) -> String {
    if !t.contains('.') {
        return t.to_string();
    }
    let mut out = String::with_capacity(t.len());
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' && i > 0 && b[i - 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let frac = &t[i + 1..j];
            let trimmed = frac.trim_end_matches('0');
            if !trimmed.is_empty() {
                out.push('.');
                out.push_str(trimmed);
            }
            i = j;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Split a glued number+unit (`5l`, `180mm`, `2.2kw`, `1/2"`) into canonical form.
fn canon_glued(t: &str) -> String {
    if let Some(num) = t.strip_suffix('"') {
        if num
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'/' || b == b'.')
            && !num.is_empty()
        {
            return format!("{num}in");
        }
    }
    let b = t.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return t.to_string();
    }
    let k = b
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'.'))
        .unwrap_or(b.len());
    if k == b.len() || k == 0 {
        return t.to_string();
    }
    let (num, rest) = t.split_at(k);
    if let Some(u) = unit_of(rest) {
        return format!("{num}{u}");
    }
    t.to_string()
}

/// Normalised tokens of a text (see module docs).
pub fn tokens(text: &str) -> Vec<String> {
    let folded = fold(text);
    let raw: Vec<String> = folded
        .split_whitespace()
        .map(clean_piece)
        .filter(|t| !t.is_empty() && t != "-" && t != "/")
        .collect();
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let t = &raw[i];
        let next = raw.get(i + 1).map(String::as_str);
        let next2 = raw.get(i + 2).map(String::as_str);
        // "600 x 1400" -> "600x1400"
        if is_num(t) && next == Some("x") && next2.is_some_and(|n| n.as_bytes()[0].is_ascii_digit())
        {
            out.push(format!("{t}x{}", canon_glued(next2.unwrap())));
            i += 3;
            continue;
        }
        // "pack of 10" / "pk 10" -> "pk10";  "10 pcs" -> "pk10"
        if (t == "pack" || t == "pk") && next == Some("of") && next2.is_some_and(is_num) {
            out.push(format!("pk{}", next2.unwrap()));
            i += 3;
            continue;
        }
        if (t == "pack" || t == "pk" || t == "vpe") && next.is_some_and(is_num) {
            out.push(format!("pk{}", next.unwrap()));
            i += 2;
            continue;
        }
        if is_num(t) && next.is_some_and(|n| n != "st" && is_pack_word(n)) {
            out.push(format!("pk{t}"));
            i += 2;
            continue;
        }
        // "DN 25" -> "dn25"
        if (t == "dn" || t == "pn") && next.is_some_and(is_num) {
            out.push(format!("{t}{}", next.unwrap()));
            i += 2;
            continue;
        }
        out.push(canon_glued(t));
        i += 1;
    }
    // "5 ltr" -> "5l", "180 mm" -> "180mm", "600x1400 mm" -> "600x1400mm", "1/2 inch" -> "1/2in"
    let mut merged: Vec<String> = Vec::with_capacity(out.len());
    let mut k = 0;
    while k < out.len() {
        let t = &out[k];
        let numeric_end =
            t.as_bytes()[0].is_ascii_digit() && t.as_bytes()[t.len() - 1].is_ascii_digit();
        if numeric_end {
            if let Some(u) = out.get(k + 1).and_then(|n| unit_of(n)) {
                merged.push(format!("{t}{u}"));
                k += 2;
                continue;
            }
        }
        merged.push(t.clone());
        k += 1;
    }
    merged
}

/// Tokens joined by single spaces (for string-similarity measures).
pub fn canonical(text: &str) -> String {
    tokens(text).join(" ")
}

/// Does a token carry a number (size, power, model number...)?
pub fn has_digit(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit())
}

/// EAN-13 / GTIN-8/12/13/14 check digit validation.
pub fn gtin_valid(code: &str) -> bool {
    let b = code.as_bytes();
    if !matches!(b.len(), 8 | 12 | 13 | 14) || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = b.len();
    let mut sum = 0u32;
    for (i, &c) in b[..n - 1].iter().rev().enumerate() {
        let d = (c - b'0') as u32;
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    (10 - sum % 10) % 10 == (b[n - 1] - b'0') as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> String {
        canonical(s)
    }

    #[test]
    fn units_and_pack_sizes() {
        assert_eq!(t("Canister 5L"), "canister 5l");
        assert_eq!(t("Canister 5 ltr"), "canister 5l");
        assert_eq!(t("Canister 5 litres"), "canister 5l");
        assert_eq!(t("Pump 180 mm"), t("PUMP 180MM"));
        assert_eq!(t("2,2 kW"), "2.2kw");
        assert_eq!(t("2.20 KW"), "2.2kw");
        assert_eq!(t("Press fitting pack of 10"), "press fitting pk10");
        assert_eq!(t("fitting 10 pcs"), "fitting pk10");
        assert_ne!(t("5L"), t("10L"));
    }

    #[test]
    fn dimensions() {
        assert_eq!(t("Radiator 600 x 1400 mm"), "radiator 600x1400mm");
        assert_eq!(t("RADIATOR 600X1400MM"), "radiator 600x1400mm");
        assert_eq!(t("Ball valve DN 25"), "ball valve dn25");
        assert_eq!(t("ball valve DN25"), "ball valve dn25");
        assert_eq!(t("valve 1/2\""), "valve 1/2in");
        assert_eq!(t("valve 1/2 inch"), "valve 1/2in");
        assert_eq!(t("cable 25/6"), "cable 25/6");
        assert_eq!(t("CIRCA E 25-60"), "circa e 25-60");
        assert_eq!(t("NYM-J 3x1,5"), "nym-j 3x1.5");
    }

    #[test]
    fn case_accents_punctuation() {
        assert_eq!(t("Umwälzpumpe, Größe: Ø 25!"), "umwalzpumpe grosse o 25");
        assert_eq!(t("Zawór kulowy (łazienka)"), "zawor kulowy lazienka");
        assert_eq!(t("A - B / C"), "a b c");
    }

    #[test]
    fn gtin_checksum() {
        assert!(gtin_valid("4057312001191"));
        assert!(!gtin_valid("4057312001192"));
        assert!(gtin_valid("96385074")); // GTIN-8
        assert!(!gtin_valid("40573120011"));
        assert!(!gtin_valid("40573120011a1"));
    }
}
