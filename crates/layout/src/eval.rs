//! Scoring a read invoice against the truth: header fields exact, line items matched on
//! description, quantity, unit price and amount all right.

use claimscan_doc::{Invoice, LineItem};

use crate::text::money_eq;

/// The header fields scored, in report order.
pub use crate::HEADER_FIELDS;

fn norm(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
}

fn num_eq(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => money_eq(x, y),
        (None, None) => true,
        _ => false,
    }
}

/// Which header fields are right, in [`HEADER_FIELDS`] order.
pub fn header_correct(pred: &Invoice, truth: &Invoice) -> [bool; 8] {
    let (p, t) = (&pred.header, &truth.header);
    [
        norm(&p.supplier_name) == norm(&t.supplier_name),
        norm(&p.supplier_vat_id) == norm(&t.supplier_vat_id),
        norm(&p.invoice_number) == norm(&t.invoice_number),
        p.invoice_date == t.invoice_date,
        p.currency == t.currency,
        num_eq(p.subtotal, t.subtotal),
        num_eq(p.tax, t.tax),
        num_eq(p.total, t.total),
    ]
}

/// Whether a read line equals a true one on description, quantity, unit price and amount.
pub fn line_eq(p: &LineItem, t: &LineItem) -> bool {
    norm(&p.description) == norm(&t.description)
        && num_eq(p.quantity, t.quantity)
        && num_eq(p.unit_price, t.unit_price)
        && num_eq(p.amount, t.amount)
}

/// For each read line, the true line it equals (each true line matches at most one read line,
/// first come first served).
pub fn matched_lines(pred: &Invoice, truth: &Invoice) -> Vec<Option<usize>> {
    let mut used = vec![false; truth.lines.len()];
    pred.lines
        .iter()
        .map(|p| {
            let i = (0..truth.lines.len()).find(|&i| !used[i] && line_eq(p, &truth.lines[i]))?;
            used[i] = true;
            Some(i)
        })
        .collect()
}

/// Line-item counts: (correct, predicted, true).
pub fn line_counts(pred: &Invoice, truth: &Invoice) -> (usize, usize, usize) {
    let correct = matched_lines(pred, truth).iter().flatten().count();
    (correct, pred.lines.len(), truth.lines.len())
}

/// Whether the whole invoice is right (every header field and every line, nothing extra).
pub fn invoice_correct(pred: &Invoice, truth: &Invoice) -> bool {
    let (c, p, t) = line_counts(pred, truth);
    header_correct(pred, truth).iter().all(|x| *x) && c == p && c == t
}

/// Per-line correctness flags of a read invoice (for line-confidence calibration).
pub fn lines_correct(pred: &Invoice, truth: &Invoice) -> Vec<bool> {
    matched_lines(pred, truth)
        .iter()
        .map(Option::is_some)
        .collect()
}

/// What is wrong with each read line that matches no true line, as a `+`-joined list of the
/// fields (`description`, `quantity`, `unit_price`, `amount`) that differ from the closest true
/// line left over (the one with the most equal fields), or `unmatched` when no true line is left.
/// Tells apart lines lost to a misread number (what arithmetic can repair) from lines lost to
/// their description or to row assembly. Each fault comes with the read line's index and the
/// closest true line's.
pub fn line_faults(pred: &Invoice, truth: &Invoice) -> Vec<(usize, Option<usize>, String)> {
    let matched = matched_lines(pred, truth);
    // the true lines taken by right reads are not candidates for the wrong ones
    let mut used = vec![false; truth.lines.len()];
    for i in matched.iter().flatten() {
        used[*i] = true;
    }
    let same = |p: &LineItem, t: &LineItem| {
        [
            norm(&p.description) == norm(&t.description),
            num_eq(p.quantity, t.quantity),
            num_eq(p.unit_price, t.unit_price),
            num_eq(p.amount, t.amount),
        ]
    };
    let mut faults = Vec::new();
    for (pi, p) in pred.lines.iter().enumerate() {
        if matched[pi].is_some() {
            continue;
        }
        let best = (0..truth.lines.len())
            .filter(|&i| !used[i])
            .map(|i| (i, same(p, &truth.lines[i])))
            .max_by_key(|(i, eq)| (eq.iter().filter(|x| **x).count(), std::cmp::Reverse(*i)));
        match best {
            Some((i, eq)) if eq.iter().any(|x| *x) => {
                used[i] = true;
                let names = ["description", "quantity", "unit_price", "amount"];
                let wrong: Vec<&str> = names
                    .iter()
                    .zip(eq)
                    .filter(|(_, e)| !e)
                    .map(|(n, _)| *n)
                    .collect();
                faults.push((pi, Some(i), wrong.join("+")));
            }
            _ => faults.push((pi, None, "unmatched".into())),
        }
    }
    faults
}

/// For each read line, the true line it stands for: the one it equals, else the closest one
/// left over (see [`line_faults`]); `None` for a line that stands for none.
pub fn paired_lines(pred: &Invoice, truth: &Invoice) -> Vec<Option<usize>> {
    let mut pairs = matched_lines(pred, truth);
    for (pi, ti, _) in line_faults(pred, truth) {
        pairs[pi] = ti;
    }
    pairs
}

/// Precision, recall, F1 from counts.
pub fn prf(correct: usize, predicted: usize, truth: usize) -> (f64, f64, f64) {
    let p = if predicted == 0 {
        0.0
    } else {
        correct as f64 / predicted as f64
    };
    let r = if truth == 0 {
        0.0
    } else {
        correct as f64 / truth as f64
    };
    let f = if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    };
    (p, r, f)
}

/// Automation at an error budget: sort invoices by confidence, take the largest top share whose
/// error rate stays within `max_error`. Returns (share automated, threshold, error among them).
pub fn automation(conf_correct: &[(f32, bool)], max_error: f64) -> (f64, f32, f64) {
    let mut v = conf_correct.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best = (0.0, 1.0f32, 0.0);
    let mut wrong = 0usize;
    for (i, (c, ok)) in v.iter().enumerate() {
        if !ok {
            wrong += 1;
        }
        let n = i + 1;
        // only cut between distinct confidences
        if i + 1 < v.len() && v[i + 1].0 == *c {
            continue;
        }
        let err = wrong as f64 / n as f64;
        if err <= max_error {
            best = (n as f64 / v.len() as f64, *c, err);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automation_takes_the_largest_safe_prefix() {
        let v = vec![(0.99, true), (0.98, true), (0.97, false), (0.5, true)];
        let (share, thr, err) = automation(&v, 0.0);
        assert_eq!(share, 0.5);
        assert_eq!(thr, 0.98);
        assert_eq!(err, 0.0);
        assert_eq!(prf(1, 2, 4).0, 0.5);
    }
}
