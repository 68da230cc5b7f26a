//! Arithmetic repair of a line item's numbers.
//!
//! On scans and photos, OCR drops or misreads digits: a quantity column read as nothing, `8` for
//! `3`, `72,18` for `72,78`, `17061` for `170,61`. A line's three numbers are tied by
//! quantity × unit price = amount, so one missing or misread number can often be recovered from
//! the other two. A repair is accepted only on evidence:
//! - the invoice prices plainly (no discount column, and its other complete lines add up as
//!   quantity × unit price), so the tie holds on this invoice;
//! - a misread number is one OCR edit away from the value the tie implies (one digit changed,
//!   dropped or added), and no other of the three numbers could be the misread one;
//! - a number printed without its decimal separator sits among prices that all show decimals.
//!
//! A repaired line is not trusted like a line read right: `assemble` keeps its confidence below
//! the automation threshold and records a `line_repaired` issue, so a manager sees what changed.

/// The three numbers of a line as read, with their printed texts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LineNumbers<'a> {
    pub quantity: Option<f64>,
    pub unit_price: Option<f64>,
    pub amount: Option<f64>,
    pub quantity_text: Option<&'a str>,
    pub unit_price_text: Option<&'a str>,
    pub amount_text: Option<&'a str>,
    /// The words come from a PDF's text layer: they are exactly what was printed, so nothing is
    /// misread and only a number the reader missed is filled in.
    pub exact: bool,
    /// The price the amount is figured from after the line's discount: the net price printed
    /// beside the unit price, or the unit price less the discount read (`None`: neither read).
    pub after_discount: Option<f64>,
}

/// Which number was repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Quantity,
    UnitPrice,
    Amount,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Quantity => "quantity",
            Field::UnitPrice => "unit price",
            Field::Amount => "amount",
        }
    }
}

/// One repaired number.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    pub field: Field,
    /// The value as read (`None`: not found).
    pub from: Option<f64>,
    pub to: f64,
    /// What the repair rests on, for the review message.
    pub why: &'static str,
}

/// What the whole invoice says about its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Quantity × unit price = amount holds on this invoice (no discounts).
    pub plain: bool,
    /// Prices and amounts are printed with decimals (a number without them lost its separator).
    pub decimals: bool,
    /// No line was read complete and no discount was seen: nothing tells whether the tie holds.
    pub unknown: bool,
    /// The invoice gives discounts, and its complete lines add up as quantity × the price after
    /// their discount.
    pub discounted: bool,
}

/// The tolerance of quantity × unit price against the amount (rounding of unit prices).
fn tolerance(q: f64) -> f64 {
    0.011 + 0.006 * q.abs()
}

/// Whether quantity × price gives the amount (or its negative, on credit lines), within the
/// rounding of prices. The line check of `assemble` uses the same test.
pub(crate) fn ties(q: f64, p: f64, a: f64) -> bool {
    let t = tolerance(q);
    (q * p - a).abs() <= t || (q * p + a).abs() <= t
}

/// Digits after the decimal separator as printed (1 or 2 after the last `.` or `,`), else 0.
fn printed_decimals(text: &str) -> usize {
    let t = text.trim_end_matches(|c: char| !c.is_ascii_digit());
    match t.rfind(['.', ',']) {
        Some(i) => {
            let after = t[i + 1..].chars().filter(|c| c.is_ascii_digit()).count();
            if (1..=2).contains(&after) {
                after
            } else {
                0
            }
        }
        None => 0,
    }
}

fn has_separator(text: &str) -> bool {
    text.contains(['.', ','])
}

fn digits(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Whether `value`, printed the way `printed` is (or with `usual` decimals, when the separator
/// itself was misread), differs from it by exactly one digit edit.
fn one_edit_away(value: f64, printed: &str, usual: usize) -> bool {
    let read = digits(printed);
    if read.is_empty() {
        return false;
    }
    [printed_decimals(printed), usual].iter().any(|&dec| {
        let want = digits(&format!("{:.*}", dec, value.abs()));
        want != read && strsim::levenshtein(&want, &read) <= 1
    })
}

/// The invoice-level evidence, from all lines as read.
pub fn evidence(lines: &[LineNumbers], any_discount: bool) -> Evidence {
    let (mut tied, mut untied) = (0usize, 0usize);
    let (mut tied_after, mut untied_after) = (0usize, 0usize);
    for l in lines {
        if let (Some(q), Some(p), Some(a)) = (l.quantity, l.unit_price, l.amount) {
            if ties(q, p, a) {
                tied += 1;
            } else {
                untied += 1;
            }
        }
        if let (Some(q), Some(p), Some(a)) = (l.quantity, l.after_discount, l.amount) {
            if ties(q, p, a) {
                tied_after += 1;
            } else {
                untied_after += 1;
            }
        }
    }
    let money: Vec<&str> = lines
        .iter()
        .flat_map(|l| [l.unit_price_text, l.amount_text])
        .flatten()
        .collect();
    let with_decimals = money.iter().filter(|t| printed_decimals(t) == 2).count();
    Evidence {
        plain: !any_discount && tied >= 1 && tied >= untied,
        unknown: !any_discount && tied == 0 && untied == 0,
        decimals: money.len() >= 4 && with_decimals * 10 >= money.len() * 9,
        discounted: any_discount && tied_after >= 1 && tied_after >= untied_after,
    }
}

/// The repairs of one line (empty when it needs none or the evidence does not decide).
/// Also returns the alternatives when more than one of the three numbers could be the misread
/// one (`72,18` for `72,78`, or `12,13` for `12,03`?): the invoice's subtotal can decide between
/// them, see [`settle`].
pub fn repair_or_alternatives(line: &LineNumbers, ev: Evidence) -> (Vec<Repair>, Vec<Repair>) {
    let mut out = Vec::new();
    let mut alternatives = Vec::new();
    let (mut q, mut p, mut a) = (line.quantity, line.unit_price, line.amount);
    // 1. Separators. A price or amount printed without one (`17061`), taken as cents when the
    //    invoice's other prices show decimals or when that makes the line add up; a quantity
    //    printed with three decimals (`20,000`) and read as thousands, when that makes it add up.
    let tie_with = |q: Option<f64>, p: Option<f64>, a: Option<f64>| matches!((q, p, a), (Some(q), Some(p), Some(a)) if ties(q, p, a));
    if let (Some(v), Some(t), false) = (q, line.quantity_text, line.exact) {
        let c: Vec<char> = t.trim().chars().collect();
        let three = c.len() >= 5
            && matches!(c[c.len() - 4], '.' | ',')
            && c[c.len() - 3..].iter().all(|d| d.is_ascii_digit());
        // `1,000` read as `1000`: OCR lost the separator of the three decimals
        let lost = c.len() >= 4 && c.iter().all(char::is_ascii_digit) && t.trim().ends_with("000");
        if (three || lost) && tie_with(Some(v / 1000.0), p, a) {
            out.push(Repair {
                field: Field::Quantity,
                from: Some(v),
                to: v / 1000.0,
                why: if three {
                    "printed with three decimals"
                } else {
                    "printed with three decimals, the separator not read"
                },
            });
            q = Some(v / 1000.0);
        }
    }
    for field in [Field::UnitPrice, Field::Amount] {
        let (value, text) = match field {
            Field::UnitPrice => (p, line.unit_price_text),
            _ => (a, line.amount_text),
        };
        let (Some(v), Some(t), false) = (value, text, line.exact) else {
            continue;
        };
        if has_separator(t) || digits(t).len() < 3 {
            continue;
        }
        let to = v / 100.0;
        // on a discount line, the price after the discount read scales with the unit price
        // (`23572` for `235,72` at 20% off: 50 × 188,58 = 9.429,00)
        let after = |to: f64| line.after_discount.filter(|_| v != 0.0).map(|e| e * to / v);
        let adds_up = match field {
            Field::UnitPrice => tie_with(q, Some(to), a) || tie_with(q, after(to), a),
            _ => tie_with(q, p, Some(to)),
        };
        if ev.decimals || adds_up {
            out.push(Repair {
                field,
                from: Some(v),
                to,
                why: if adds_up {
                    "printed without its decimal separator (the line adds up with it)"
                } else {
                    "printed without the decimal separator the invoice's other prices show"
                },
            });
            match field {
                Field::UnitPrice => p = Some(to),
                _ => a = Some(to),
            }
        }
    }
    if tie_with(q, p, a) {
        return (out, alternatives);
    }
    // 2a. On a discount invoice whose lines add up after their discounts: a missing quantity from
    //     the amount and the price after discount, when it comes out whole.
    if let (true, None, Some(e), Some(a)) = (ev.discounted, q, line.after_discount, a) {
        let r = if e.abs() > 0.0 { (a / e).round() } else { 0.0 };
        if r != 0.0 && ties(r, e, a) {
            out.push(Repair {
                field: Field::Quantity,
                from: None,
                to: r,
                why: "amount ÷ price after discount",
            });
        }
        return (out, alternatives);
    }
    // 2b. ... and on a line of it that shows no discount (none read), when the amount ÷ the unit
    //     price comes out whole to the cent (`Inbetriebnahme | | 258,18 | 258,18`: the `1`
    //     lost). To the cent, not within `ties`' rounding: a discount OCR lost can come out
    //     whole too (20 × 273,74 at 25% off = 4.106,20, near 15 × 273,74 = 4.106,10).
    if let (true, None, None, Some(p), Some(a)) = (ev.discounted, q, line.after_discount, p, a) {
        let r = if p.abs() > 0.0 { (a / p).round() } else { 0.0 };
        if r != 0.0 && (r * p - a).abs() < 0.006 {
            out.push(Repair {
                field: Field::Quantity,
                from: None,
                to: r,
                why: "amount ÷ unit price (the line shows no discount)",
            });
        }
        return (out, alternatives);
    }
    // 2-3 rest on the tie holding on this invoice. With no complete line to tell, only a missing
    // quantity is filled, and only when it comes out whole.
    if !(ev.plain || ev.unknown && q.is_none()) {
        return (out, alternatives);
    }
    match (q, p, a) {
        // 2. One number missing: the other two give it.
        (None, Some(p), Some(a)) if p.abs() > 0.0 => {
            let r = (a / p).round();
            if r != 0.0 && ties(r, p, a) {
                out.push(Repair {
                    field: Field::Quantity,
                    from: None,
                    to: r,
                    why: "amount ÷ unit price",
                });
            }
        }
        (Some(qv), None, Some(a)) if qv != 0.0 => {
            let to = (a / qv * 100.0).round() / 100.0;
            if ties(qv, to, a) {
                out.push(Repair {
                    field: Field::UnitPrice,
                    from: None,
                    to,
                    why: "amount ÷ quantity",
                });
            }
        }
        (Some(qv), Some(p), None) => {
            out.push(Repair {
                field: Field::Amount,
                from: None,
                to: (qv * p * 100.0).round() / 100.0,
                why: "quantity × unit price",
            });
        }
        // 3. All three read but not tied: the one number that is one OCR edit from what the
        //    other two give.
        (Some(qv), Some(pv), Some(av)) if !line.exact => {
            let mut found: Vec<Repair> = Vec::new();
            if let Some(t) = line.quantity_text {
                if pv.abs() > 0.0 {
                    let dec = printed_decimals(t);
                    let scale = 10f64.powi(dec as i32);
                    let to = (av / pv * scale).round() / scale;
                    if to != 0.0 && ties(to, pv, av) && one_edit_away(to, t, 0) {
                        found.push(Repair {
                            field: Field::Quantity,
                            from: Some(qv),
                            to,
                            why: "amount ÷ unit price, one digit from what was read",
                        });
                    }
                }
            }
            if let Some(t) = line.unit_price_text {
                if qv != 0.0 {
                    let to = (av / qv * 100.0).round() / 100.0;
                    if ties(qv, to, av) && one_edit_away(to, t, 2) {
                        found.push(Repair {
                            field: Field::UnitPrice,
                            from: Some(pv),
                            to,
                            why: "amount ÷ quantity, one digit from what was read",
                        });
                    }
                }
            }
            if let Some(t) = line.amount_text {
                let to = (qv * pv * 100.0).round() / 100.0;
                if one_edit_away(to, t, 2) {
                    found.push(Repair {
                        field: Field::Amount,
                        from: Some(av),
                        to,
                        why: "quantity × unit price, one digit from what was read",
                    });
                }
            }
            if found.len() == 1 {
                let mut r = found.remove(0);
                // it replaces a separator repair of the same number, and reports the read value
                if let Some(i) = out.iter().position(|o| o.field == r.field) {
                    r.from = out.remove(i).from;
                }
                out.push(r);
            } else {
                alternatives = found;
            }
        }
        _ => {}
    }
    (out, alternatives)
}

/// Picks among a line's alternatives with the subtotal: the amount repair when it makes the lines
/// add up to the subtotal, the other one when the lines already do without it. `lines_sum` is
/// the sum of all lines' amounts as they stand, this line's `amount` included.
pub fn settle(
    alternatives: &[Repair],
    amount: Option<f64>,
    lines_sum: f64,
    subtotal: Option<f64>,
) -> Option<Repair> {
    let (subtotal, amount) = (subtotal?, amount?);
    let adds_up = |sum: f64| (sum - subtotal).abs() < 0.005;
    let (amounts, others): (Vec<&Repair>, Vec<&Repair>) =
        alternatives.iter().partition(|r| r.field == Field::Amount);
    match (amounts.as_slice(), others.as_slice()) {
        ([a], _) if adds_up(lines_sum - amount + a.to) => Some((*a).clone()),
        (_, [o]) if adds_up(lines_sum) => Some((*o).clone()),
        _ => None,
    }
}

/// One of an invoice's totals as read: its value and printed text (`None`: not found).
#[derive(Debug, Clone, Copy, Default)]
pub struct Total<'a> {
    pub value: Option<f64>,
    pub text: Option<&'a str>,
}

/// Subtotal, tax and total (in that order) that OCR misread, recovered from subtotal + tax =
/// total and the lines' sum = subtotal, only when every line's arithmetic ties (`lines_sum`). Returns the index
/// (0 subtotal, 1 tax, 2 total) and value of each change, or nothing. Accepted only on evidence,
/// as for lines:
/// - totals printed without their decimal separator (`72605` for `726,05`) where the sums then
///   hold, and no other such reading does;
/// - else tax or total one OCR edit away from what the other two and the lines imply (`4592,95`
///   for `4532,95`, `473,72` for `18 473,72` cut at its thousands space), when the other could
///   not be the misread one;
/// - a total not found at all, where the lines give the subtotal and subtotal + tax is it;
/// - tax or total that the sums give, printed elsewhere on the invoice (`printed`: every amount
///   read), where the one taken was another (a rate's tax in the VAT summary).
pub fn repair_totals(
    read: [Total; 3],
    lines_sum: Option<f64>,
    printed: &[f64],
) -> Vec<(usize, f64)> {
    use crate::text::money_eq;
    let holds = |v: [Option<f64>; 3]| match v {
        [Some(s), Some(t), Some(tot)] => {
            money_eq(s + t, tot) && lines_sum.is_none_or(|l| money_eq(l, s))
        }
        _ => false,
    };
    let values = read.map(|t| t.value);
    // without lines that vouch for the subtotal, any of the three could be the one misread
    if lines_sum.is_none() || holds(values) {
        return Vec::new();
    }
    // decimal separators lost
    let cut = |t: &Total| -> Option<f64> {
        let text = t.text?;
        (!has_separator(text) && digits(text).len() >= 3).then(|| t.value.map(|v| v / 100.0))?
    };
    let mut found: Vec<[Option<f64>; 3]> = Vec::new();
    for mask in 1..8usize {
        let mut v = values;
        let mut ok = true;
        for i in 0..3 {
            if mask & (1 << i) != 0 {
                match cut(&read[i]) {
                    Some(c) => v[i] = Some(c),
                    None => ok = false,
                }
            }
        }
        if ok && holds(v) {
            found.push(v);
        }
    }
    if let [v] = found[..] {
        return (0..3)
            .filter(|&i| v[i] != values[i])
            .filter_map(|i| v[i].map(|x| (i, x)))
            .collect();
    }
    // one total misread by one edit, or the total missing
    let [s, t, tot] = values;
    let implied = [
        match (t, tot) {
            (Some(t), Some(tot)) => Some(tot - t),
            _ => None,
        }
        .or(lines_sum),
        match (s, tot) {
            (Some(s), Some(tot)) => Some(tot - s),
            _ => None,
        },
        match (s, t) {
            (Some(s), Some(t)) => Some(s + t),
            _ => None,
        },
    ];
    let mut fixes = Vec::new();
    // not the subtotal: lines that tie can still be short of one (a line not read) or share a
    // misread (`1` for `2` in a price and its amount), and the subtotal read is then the right one
    for i in 1..3 {
        let Some(want) = implied[i].map(|w| (w * 100.0).round() / 100.0) else {
            continue;
        };
        let mut v = values;
        v[i] = Some(want);
        if !holds(v) || want <= 0.0 {
            continue;
        }
        // the value the sums give is printed on the invoice: the tax or total of a rates
        // summary taken for the other (`VAT 10% 4,64` for the tax `4.663,37`)
        let elsewhere = printed.iter().any(|&p| money_eq(p, want));
        let misread = elsewhere
            || match read[i].text {
                Some(text) => one_edit_away(want, text, 2) || thousands_cut(want, text),
                // only the total is filled in, and only where the lines vouch for the subtotal
                None => i == 2,
            };
        if misread {
            fixes.push((i, want));
        }
    }
    if fixes.len() == 1 {
        fixes
    } else {
        Vec::new()
    }
}

/// Whether `printed` is `value` with its leading thousands group lost (`473,72` for `18 473,72`,
/// printed with a space that cut the number in two).
fn thousands_cut(value: f64, printed: &str) -> bool {
    let want = digits(&format!("{value:.2}"));
    let read = digits(printed);
    has_separator(printed) && read.len() >= 5 && want.len() > read.len() && want.ends_with(&read)
}

#[cfg(test)]
mod tests {

    fn total(value: f64, text: &'static str) -> Total<'static> {
        Total {
            value: Some(value),
            text: Some(text),
        }
    }

    /// Seed 73's train scans and photos: totals with their separator lost, a digit misread, a
    /// thousands group cut off; and sums that hold, or that two totals could explain, stay.
    #[test]
    fn misread_totals_are_recovered_from_the_sums() {
        // `SUMME NETTO 72605`, `ust 10396`, total read right
        let lost = [
            total(72605.0, "72605"),
            total(10396.0, "10396"),
            total(830.01, "830,01"),
        ];
        assert_eq!(
            repair_totals(lost, Some(726.05), &[]),
            vec![(0, 726.05), (1, 103.96)]
        );
        // `MwSt 19% 4592.95` for 4532.95
        let digit = [
            total(23857.65, "23.857,65"),
            total(4592.95, "4592.95"),
            total(28390.60, "28.390,60"),
        ];
        assert_eq!(
            repair_totals(digit, Some(23857.65), &[]),
            vec![(1, 4532.95)]
        );
        // `TOTAL €18 473,72` read as 473,72
        let cut = [
            total(15045.0, "15.045,00"),
            total(3428.72, "3.428,72"),
            total(473.72, "473,72"),
        ];
        assert_eq!(repair_totals(cut, Some(15045.0), &[]), vec![(2, 18473.72)]);
        // the sums hold: nothing
        let right = [
            total(100.0, "100,00"),
            total(21.0, "21,00"),
            total(121.0, "121,00"),
        ];
        assert!(repair_totals(right, Some(100.0), &[]).is_empty());
        // without the lines, subtotal or total could be the one misread: nothing
        let either = [
            total(100.0, "100,00"),
            total(21.0, "21,00"),
            total(127.0, "127,00"),
        ];
        assert!(repair_totals(either, None, &[]).is_empty());
        // a total far from what the sums give is not a misreading
        let far = [
            total(100.0, "100,00"),
            total(21.0, "21,00"),
            total(999.0, "999,00"),
        ];
        assert!(repair_totals(far, Some(100.0), &[]).is_empty());
        // ... unless what the sums give is printed elsewhere (the rates summary's tax was taken)
        let rate = [
            total(22230.78, "22.230,78"),
            total(4.64, "4,64"),
            total(26894.15, "26.894,15"),
        ];
        assert_eq!(
            repair_totals(rate, Some(22230.78), &[4.64, 4663.37, 22230.78]),
            vec![(1, 4663.37)]
        );
        assert!(repair_totals(rate, Some(22230.78), &[4.64]).is_empty());
    }
    use super::*;

    fn line<'a>(q: Option<&'a str>, p: Option<&'a str>, a: Option<&'a str>) -> LineNumbers<'a> {
        let num = |t: Option<&str>| t.and_then(|t| t.replace(',', ".").parse::<f64>().ok());
        LineNumbers {
            quantity: num(q),
            unit_price: num(p),
            amount: num(a),
            quantity_text: q,
            unit_price_text: p,
            amount_text: a,
            exact: false,
            after_discount: None,
        }
    }

    fn repair(line: &LineNumbers, ev: Evidence) -> Vec<Repair> {
        repair_or_alternatives(line, ev).0
    }

    const PLAIN: Evidence = Evidence {
        plain: true,
        decimals: true,
        unknown: false,
        discounted: false,
    };

    fn one(r: Vec<Repair>) -> (Field, f64) {
        assert_eq!(r.len(), 1, "{r:?}");
        (r[0].field, r[0].to)
    }

    #[test]
    fn a_missing_number_comes_from_the_other_two() {
        assert_eq!(
            one(repair(&line(None, Some("12,49"), Some("149,88")), PLAIN)),
            (Field::Quantity, 12.0)
        );
        assert_eq!(
            one(repair(&line(Some("4"), None, Some("730,88")), PLAIN)),
            (Field::UnitPrice, 182.72)
        );
        assert_eq!(
            one(repair(&line(Some("6"), Some("10,94"), None), PLAIN)),
            (Field::Amount, 65.64)
        );
        // a quantity must come out whole
        assert!(repair(&line(None, Some("12,49"), Some("86,16")), PLAIN).is_empty());
    }

    #[test]
    fn a_misread_digit_is_repaired_only_when_exactly_one_number_explains_it() {
        // 79,78 read for 72,78
        assert_eq!(
            one(repair(
                &line(Some("6"), Some("12,13"), Some("79,78")),
                PLAIN
            )),
            (Field::Amount, 72.78)
        );
        // 72,18 for 72,78, or 12,13 for 12,03? Both are one digit off: left to the subtotal.
        let ambiguous = line(Some("6"), Some("12,13"), Some("72,18"));
        assert!(repair(&ambiguous, PLAIN).is_empty());
        let (_, either) = repair_or_alternatives(&ambiguous, PLAIN);
        assert_eq!(either.len(), 2);
        // another line of 10,00: the subtotal 82,78 says the amount was misread, 82,18 the price
        let pick =
            |subtotal| settle(&either, Some(72.18), 82.18, Some(subtotal)).map(|r| (r.field, r.to));
        assert_eq!(pick(82.78), Some((Field::Amount, 72.78)));
        assert_eq!(pick(82.18), Some((Field::UnitPrice, 12.03)));
        assert_eq!(pick(90.0), None);
        assert_eq!(settle(&either, Some(72.18), 82.18, None), None);
        // 8 read for 3
        assert_eq!(
            one(repair(
                &line(Some("8"), Some("40,53"), Some("121,59")),
                PLAIN
            )),
            (Field::Quantity, 3.0)
        );
        // a separator read as a digit: 325162 for 325,62
        assert_eq!(
            one(repair(
                &line(Some("3"), Some("108,54"), Some("325162")),
                PLAIN
            )),
            (Field::Amount, 325.62)
        );
        // two digits off: not an OCR slip, left alone
        assert!(repair(&line(Some("3"), Some("13,05"), Some("315,00")), PLAIN).is_empty());
        // a tied line needs nothing
        assert!(repair(&line(Some("3"), Some("13,05"), Some("39,15")), PLAIN).is_empty());
    }

    #[test]
    fn a_quantity_printed_with_three_decimals_is_read_as_units_when_the_line_adds_up() {
        let mut l = line(Some("20,000"), Some("23,08"), Some("461,60"));
        l.quantity = Some(20000.0); // how the parser reads it on a page with decimal points
        assert_eq!(one(repair(&l, PLAIN)), (Field::Quantity, 20.0));
        l.amount = Some(46160.0);
        assert!(repair(&l, Evidence::default()).is_empty());
        // the separator lost by OCR (`1,000` read `1000`)
        let mut l = line(Some("1000"), Some("2.135,50"), Some("2.135,50"));
        (l.quantity, l.unit_price, l.amount) = (Some(1000.0), Some(2135.5), Some(2135.5));
        assert_eq!(one(repair(&l, PLAIN)), (Field::Quantity, 1.0));
        // a thousand that adds up stays a thousand
        let mut l = line(Some("1000"), Some("2,13"), Some("2.130,00"));
        (l.quantity, l.unit_price, l.amount) = (Some(1000.0), Some(2.13), Some(2130.0));
        assert!(repair(&l, PLAIN).is_empty());
    }

    #[test]
    fn with_no_complete_line_only_a_whole_missing_quantity_is_filled() {
        let unknown = Evidence {
            unknown: true,
            ..Evidence::default()
        };
        assert_eq!(
            one(repair(&line(None, Some("217,75"), Some("217,75")), unknown)),
            (Field::Quantity, 1.0)
        );
        assert!(repair(&line(Some("4"), None, Some("730,88")), unknown).is_empty());
        assert!(repair(&line(Some("6"), Some("10,94"), None), unknown).is_empty());
    }

    #[test]
    fn text_layer_numbers_are_never_taken_for_misreads() {
        let mut l = line(Some("4"), Some("252,76"), Some("758,28"));
        assert_eq!(one(repair(&l, PLAIN)), (Field::Quantity, 3.0));
        l.exact = true;
        assert!(repair(&l, PLAIN).is_empty());
        let mut missing = line(Some("6"), Some("10,94"), None);
        missing.exact = true;
        assert_eq!(one(repair(&missing, PLAIN)), (Field::Amount, 65.64));
    }

    #[test]
    fn nothing_is_repaired_when_the_invoice_gives_discounts() {
        let discounted = Evidence {
            plain: false,
            decimals: true,
            unknown: false,
            discounted: false,
        };
        assert!(repair(&line(None, Some("12,49"), Some("149,88")), discounted).is_empty());
        assert!(repair(&line(Some("6"), Some("12,13"), Some("72,18")), discounted).is_empty());
    }

    #[test]
    fn on_discount_invoices_a_missing_quantity_comes_from_the_price_after_discount() {
        // 3 × 286,41 less 40% = 515,55
        let mut l = line(None, Some("286,41"), Some("515,55"));
        l.after_discount = Some(286.41 * 0.6);
        let mut complete = line(Some("2"), Some("100,00"), Some("180,00"));
        complete.after_discount = Some(90.0);
        let ev = evidence(&[l, complete], true);
        assert!(ev.discounted && !ev.plain);
        assert_eq!(one(repair(&l, ev)), (Field::Quantity, 3.0));
        // not whole: left alone; no discount read: left alone
        let mut odd = l;
        odd.after_discount = Some(286.41 * 0.65);
        assert!(repair(&odd, ev).is_empty());
        let unread = line(None, Some("286,41"), Some("515,55"));
        assert!(repair(&unread, ev).is_empty());
        // the invoice's complete lines do not add up after their discounts: no evidence
        let mut off = complete;
        off.amount = Some(170.0);
        let ev = evidence(&[l, off], true);
        assert!(!ev.discounted);
        assert!(repair(&l, ev).is_empty());
        // other numbers are not repaired on discount invoices
        let mut misread = line(Some("8"), Some("100,00"), Some("180,00"));
        misread.after_discount = Some(90.0);
        assert!(repair(&misread, evidence(&[complete, complete], true)).is_empty());
    }

    #[test]
    fn a_lost_separator_is_put_back_among_prices_with_decimals() {
        let r = repair(&line(Some("10"), Some("17061"), Some("102370")), PLAIN);
        let got: Vec<(Field, f64)> = r.iter().map(|r| (r.field, r.to)).collect();
        assert_eq!(got, [(Field::UnitPrice, 170.61), (Field::Amount, 1023.7)]);
        let whole = Evidence {
            plain: true,
            decimals: false,
            unknown: false,
            discounted: false,
        };
        // an invoice that prints whole amounts keeps them
        assert!(repair(&line(Some("10"), Some("170"), Some("1700")), whole).is_empty());
        // on a discount line (20% off) the price after the discount tells, where the invoice's
        // prices are too few or too misread to show their decimals (seed 73's photos)
        let mut off = line(Some("50"), Some("23572"), Some("9429,00"));
        off.after_discount = Some(23572.0 * 0.8);
        let discounted = Evidence {
            discounted: true,
            ..Evidence::default()
        };
        assert_eq!(one(repair(&off, discounted)), (Field::UnitPrice, 235.72));
        off.after_discount = Some(23572.0 * 0.7);
        assert!(
            repair(&off, discounted).is_empty(),
            "30% off does not add up"
        );
    }

    /// On a discount invoice, a line whose quantity OCR lost and whose discount shows none gets
    /// it back when the amount ÷ the unit price is whole to the cent; a discount OCR lost that
    /// comes out near a whole number (20 × 273,74 at 25% off) is left to the manager.
    #[test]
    fn a_lost_quantity_on_a_line_without_discount_is_the_amount_over_the_price() {
        let discounted = Evidence {
            discounted: true,
            ..Evidence::default()
        };
        let once = line(None, Some("258,18"), Some("258,18"));
        assert_eq!(one(repair(&once, discounted)), (Field::Quantity, 1.0));
        let twenty = line(None, Some("30,46"), Some("609,20"));
        assert_eq!(one(repair(&twenty, discounted)), (Field::Quantity, 20.0));
        let lost_discount = line(None, Some("273,74"), Some("4106,20"));
        assert!(repair(&lost_discount, discounted).is_empty());
    }

    #[test]
    fn evidence_needs_tied_lines_and_no_discount() {
        let tied = line(Some("2"), Some("10,00"), Some("20,00"));
        let untied = line(Some("2"), Some("10,00"), Some("15,00"));
        assert!(evidence(&[tied, untied], false).plain);
        assert!(!evidence(&[tied, untied, untied], false).plain);
        assert!(!evidence(&[tied], true).plain);
        assert!(!evidence(&[untied], false).plain);
        assert!(evidence(&[tied, tied], false).decimals);
        assert!(!evidence(&[tied], false).decimals); // too few prices to tell
    }
}
