//! The decision for one extraction: a claim paid now, a review task, or a rejection. Pure: the
//! caller gathers the facts from its store ([`Context`]) and records the [`Outcome`].

use std::collections::HashMap;

use chrono::NaiveDate;
use claimscan_contracts::{ClaimLine, Reason};
use serde::{Deserialize, Serialize};

use crate::config::RulesConfig;
use crate::pipeline::{Extraction, MatchedLine};

/// Facts from the store about this upload's neighbours.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub today: NaiveDate,
    /// An upload of the same program that already holds this invoice's fingerprint.
    pub duplicate_of: Option<String>,
    /// An upload of the same program whose picture is (nearly) the same.
    pub similar_image_of: Option<String>,
    /// The partner's largest earlier quantity per SKU.
    pub partner_max_quantity: HashMap<String, f64>,
    /// Points the partner was granted this calendar month (before this upload).
    pub partner_points_this_month: i64,
}

/// What happens to the upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Points granted without a human.
    Claim {
        lines: Vec<ClaimLine>,
        total_points: i64,
        confidence: f32,
    },
    /// A manager decides; `lines` are the points the system would grant.
    Review {
        reasons: Vec<Reason>,
        lines: Vec<ClaimLine>,
        total_points: i64,
        confidence: f32,
    },
    /// Refused for good.
    Reject { code: String, message: String },
}

impl Outcome {
    /// The upload status this outcome records, with its reason code and text (review: the first
    /// reason's code and every message).
    pub fn recorded_as(&self) -> (&'static str, Option<String>, Option<String>) {
        match self {
            Outcome::Claim { .. } => ("claimed", None, None),
            Outcome::Review { reasons, .. } => (
                "review",
                reasons.first().map(|r| r.code.clone()),
                Some(
                    reasons
                        .iter()
                        .map(|r| r.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ),
            Outcome::Reject { code, message } => {
                ("rejected", Some(code.clone()), Some(message.clone()))
            }
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Claim { .. } => "claim",
            Outcome::Review { .. } => "review",
            Outcome::Reject { .. } => "reject",
        }
    }
}

fn reason(code: &str, message: String) -> Reason {
    Reason {
        code: code.into(),
        message,
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0) + 0.011
}

/// Campaign multiplier for a line on an invoice dated `date` (the largest that applies).
pub fn multiplier(line: &MatchedLine, date: Option<NaiveDate>, rules: &RulesConfig) -> f64 {
    let (Some(date), Some(sku)) = (date, line.sku.as_deref()) else {
        return 1.0;
    };
    rules
        .campaigns
        .iter()
        .filter(|c| {
            let from = NaiveDate::parse_from_str(&c.from, "%Y-%m-%d").ok();
            let to = NaiveDate::parse_from_str(&c.to, "%Y-%m-%d").ok();
            from.is_some_and(|f| f <= date) && to.is_some_and(|t| date <= t)
        })
        .filter(|c| {
            let by_prefix = c.sku_prefix.as_deref().map(|p| sku.starts_with(p));
            let by_family = c.family.as_deref().map(|f| {
                line.family
                    .as_deref()
                    .is_some_and(|lf| lf == f || lf.starts_with(&format!("{f}/")))
            });
            match (by_prefix, by_family) {
                (None, None) => true,
                (a, b) => a.unwrap_or(false) || b.unwrap_or(false),
            }
        })
        .map(|c| c.multiplier)
        .fold(1.0, f64::max)
}

/// Decides one extraction.
pub fn decide(ex: &Extraction, ctx: &Context, rules: &RulesConfig) -> Outcome {
    let inv = &ex.invoice;
    let h = &inv.header;
    let date = h
        .invoice_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let date_sure = inv
        .field_confidence
        .get("invoice_date")
        .copied()
        .unwrap_or(inv.confidence)
        >= rules.auto_approve_confidence;
    let mut reasons = Vec::new();

    // --- refusals that no manager needs to see
    if let Some(other) = &ctx.duplicate_of {
        return Outcome::Reject {
            code: "duplicate_invoice".into(),
            message: format!("this invoice was already claimed (upload {other})"),
        };
    }
    if let Some(d) = date {
        let age = (ctx.today - d).num_days();
        if age > rules.max_invoice_age_days {
            if date_sure {
                return Outcome::Reject {
                    code: "invoice_too_old".into(),
                    message: format!(
                        "invoice dated {d} is older than {} days",
                        rules.max_invoice_age_days
                    ),
                };
            }
            reasons.push(reason(
                "invoice_too_old",
                format!("invoice date {d} read with low confidence looks too old"),
            ));
        }
        if -age > rules.future_tolerance_days {
            if date_sure {
                return Outcome::Reject {
                    code: "invoice_date_in_future".into(),
                    message: format!("invoice dated {d} is in the future"),
                };
            }
            reasons.push(reason(
                "invoice_date_in_future",
                format!("invoice date {d} read with low confidence is in the future"),
            ));
        }
    } else {
        reasons.push(reason(
            "invoice_date_missing",
            "no invoice date could be read".into(),
        ));
    }
    if inv.lines.is_empty() {
        reasons.push(reason(
            "no_lines_read",
            "no line items could be read".into(),
        ));
    } else if ex.lines.iter().all(|l| l.decision == "none") {
        // Refuse only what was read surely: on a badly read photo "no line matched" more often
        // means "the descriptions were not read" than "not our products".
        let read_sure = inv.confidence >= rules.auto_approve_confidence
            && inv.lines.iter().all(|l| l.description.is_some())
            && ex
                .lines
                .iter()
                .all(|l| l.ours < rules.unmatched_ours_review);
        if read_sure {
            return Outcome::Reject {
                code: "no_eligible_products".into(),
                message: format!(
                    "none of the {} lines is a product of the program",
                    ex.lines.len()
                ),
            };
        }
        reasons.push(reason(
            "no_eligible_products",
            format!(
                "none of the {} lines matched a product of the program, but the invoice was read \
                 with low confidence",
                ex.lines.len()
            ),
        ));
    }

    // --- points
    let mut lines = Vec::new();
    let mut min_match = 1.0f32;
    for l in &ex.lines {
        let Some(sku) = l.sku.as_deref() else {
            // Matched to none, yet likely one of ours: the partner may be owed its points (a
            // Polish press fitting cut to `PRESSFIT Ksztaltka zaprasowywana mal`, ours at 0.72
            // and under the matcher's review threshold, went out unpaid on an approved invoice).
            if l.ours >= rules.unmatched_ours_review
                && l.description
                    .as_deref()
                    .is_some_and(|d| !d.trim().is_empty())
            {
                reasons.push(reason(
                    "line_match_uncertain",
                    format!(
                        "line {}: no product matched, but it is likely one of the program's ({:.2})",
                        l.line_no + 1,
                        l.ours
                    ),
                ));
            }
            continue;
        };
        // An unsure match goes to a manager even when its likeliest product earns nothing: the
        // right one may be a sibling that does (a heat recovery unit "with bypass", not eligible,
        // for the eligible one "without": the line was dropped and the invoice paid without it).
        let unsure = l.decision == "review" || l.match_probability < rules.line_match_min;
        if unsure {
            reasons.push(reason(
                "line_match_uncertain",
                format!(
                    "line {}: product match {sku} is uncertain ({:.2})",
                    l.line_no + 1,
                    l.match_probability
                ),
            ));
        }
        if !l.eligible {
            continue;
        }
        let Some(qty) = l.quantity else {
            reasons.push(reason(
                "quantity_missing",
                format!("line {}: no quantity read", l.line_no + 1),
            ));
            continue;
        };
        let ppu = l.points_per_unit.unwrap_or(0.0);
        if ppu <= 0.0 {
            continue;
        }
        min_match = min_match.min(l.match_probability);
        if qty <= 0.0 {
            reasons.push(reason(
                "credit_note",
                format!("line {}: quantity {qty} is not positive", l.line_no + 1),
            ));
            continue;
        }
        let limit = ctx
            .partner_max_quantity
            .get(sku)
            .map(|m| m * rules.quantity_factor)
            .unwrap_or(rules.max_quantity_without_history);
        if qty > limit {
            reasons.push(reason(
                "quantity_implausible",
                format!(
                    "line {}: {qty} units of {sku} is far above this partner's usual",
                    l.line_no + 1
                ),
            ));
        }
        let mult = multiplier(l, date, rules);
        lines.push(ClaimLine {
            line_no: l.line_no,
            sku: sku.to_string(),
            quantity: qty,
            points_per_unit: ppu,
            multiplier: mult,
            points: (qty * ppu * mult).round() as i64,
        });
    }
    let total_points: i64 = lines.iter().map(|l| l.points).sum();
    if lines.is_empty() && !inv.lines.is_empty() && reasons.is_empty() {
        reasons.push(reason("no_points", "no line earns points".into()));
    }

    // --- arithmetic
    let tol = rules.amount_tolerance;
    for (i, l) in inv.lines.iter().enumerate() {
        if let (Some(q), Some(p), Some(a)) = (l.quantity, l.unit_price, l.amount) {
            // A line discount makes the amount smaller, never larger.
            let full = q * p;
            let ok = close(full, a, tol)
                || (a.abs() < full.abs() && a.abs() >= 0.3 * full.abs() && a * full > 0.0);
            if !ok {
                reasons.push(reason(
                    "line_arithmetic",
                    format!("line {}: {q} x {p} does not give {a}", i + 1),
                ));
            }
        }
    }
    let sum: f64 = inv.lines.iter().filter_map(|l| l.amount).sum();
    if let Some(sub) = h.subtotal {
        if !inv.lines.is_empty()
            && inv.lines.iter().all(|l| l.amount.is_some())
            && !close(sum, sub, tol)
        {
            reasons.push(reason(
                "totals_inconsistent",
                format!("lines add up to {sum:.2}, subtotal is {sub:.2}"),
            ));
        }
        if let (Some(tax), Some(total)) = (h.tax, h.total) {
            if !close(sub + tax, total, tol) {
                reasons.push(reason(
                    "totals_inconsistent",
                    format!("subtotal {sub:.2} + tax {tax:.2} is not the total {total:.2}"),
                ));
            }
        }
    }
    for e in &inv.errors {
        if !reasons.iter().any(|r| r.code == e.code) {
            reasons.push(reason(&e.code, e.message.clone()));
        }
    }

    // --- fraud signals and limits
    if ex.fingerprint.is_none() {
        reasons.push(reason(
            "fingerprint_incomplete",
            "supplier, invoice number, date or total missing: duplicates cannot be ruled out"
                .into(),
        ));
    }
    if let Some(other) = &ctx.similar_image_of {
        reasons.push(reason(
            "similar_image",
            format!("the picture is nearly the same as upload {other}'s"),
        ));
    }
    if rules.monthly_points_cap > 0
        && ctx.partner_points_this_month + total_points > rules.monthly_points_cap
    {
        reasons.push(reason(
            "monthly_cap_exceeded",
            format!(
                "{} points this month + {total_points} exceeds the cap of {}",
                ctx.partner_points_this_month, rules.monthly_points_cap
            ),
        ));
    }
    let confidence = inv.confidence.min(min_match);
    if confidence < rules.auto_approve_confidence {
        reasons.push(reason(
            "low_confidence",
            format!(
                "extraction confidence {confidence:.2} is under {:.2}",
                rules.auto_approve_confidence
            ),
        ));
    }

    if reasons.is_empty() {
        Outcome::Claim {
            lines,
            total_points,
            confidence,
        }
    } else {
        reasons.dedup_by(|a, b| a.code == b.code && a.message == b.message);
        Outcome::Review {
            reasons,
            lines,
            total_points,
            confidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Campaign;
    use claimscan_doc::{Header, Invoice, LineItem};

    fn line(no: u32, sku: Option<&str>, q: f64, p: f64, a: f64) -> (LineItem, MatchedLine) {
        (
            LineItem {
                description: Some(format!("item {no}")),
                quantity: Some(q),
                unit_price: Some(p),
                amount: Some(a),
                confidence: 0.99,
                ..Default::default()
            },
            MatchedLine {
                line_no: no,
                description: Some(format!("item {no}")),
                product_code: None,
                quantity: Some(q),
                unit_price: Some(p),
                amount: Some(a),
                read_confidence: 0.99,
                sku: sku.map(Into::into),
                decision: if sku.is_some() { "match" } else { "none" }.into(),
                match_probability: 0.97,
                ours: if sku.is_some() { 0.99 } else { 0.05 },
                points_per_unit: Some(5.0),
                eligible: sku.is_some(),
                family: Some("pumps/circulators".into()),
                source: "index".into(),
            },
        )
    }

    fn extraction(lines: Vec<(LineItem, MatchedLine)>) -> Extraction {
        let sub: f64 = lines.iter().map(|l| l.0.amount.unwrap()).sum();
        let (items, matched): (Vec<_>, Vec<_>) = lines.into_iter().unzip();
        Extraction {
            schema_version: "1".into(),
            reader: "test".into(),
            format: "pdf".into(),
            sha256: "x".into(),
            pages: 1,
            invoice: Invoice {
                header: Header {
                    supplier_name: Some("Alpha".into()),
                    invoice_number: Some("1".into()),
                    invoice_date: Some("2026-11-01".into()),
                    subtotal: Some(sub),
                    tax: Some(sub * 0.2),
                    total: Some(sub * 1.2),
                    ..Default::default()
                },
                lines: items,
                confidence: 0.99,
                ..Default::default()
            },
            lines: matched,
            fingerprint: Some("fp".into()),
            phash: None,
            distributor_key: Some("name:alpha".into()),
            timings: Default::default(),
            page_sizes: Vec::new(),
        }
    }

    fn ctx() -> Context {
        Context {
            today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            ..Default::default()
        }
    }

    fn codes(o: &Outcome) -> Vec<String> {
        match o {
            Outcome::Review { reasons, .. } => reasons.iter().map(|r| r.code.clone()).collect(),
            Outcome::Reject { code, .. } => vec![code.clone()],
            Outcome::Claim { .. } => vec![],
        }
    }

    #[test]
    fn clean_invoice_is_paid_and_foreign_lines_earn_nothing() {
        let ex = extraction(vec![
            line(0, Some("NV-1"), 4.0, 10.0, 40.0),
            line(1, None, 1.0, 5.0, 5.0),
        ]);
        match decide(&ex, &ctx(), &RulesConfig::default()) {
            Outcome::Claim {
                lines,
                total_points,
                ..
            } => {
                assert_eq!(total_points, 20);
                assert_eq!(lines.len(), 1);
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn duplicates_old_and_foreign_invoices_are_rejected() {
        let ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0)]);
        let mut c = ctx();
        c.duplicate_of = Some("u-0".into());
        assert_eq!(
            codes(&decide(&ex, &c, &RulesConfig::default())),
            ["duplicate_invoice"]
        );
        let mut old = ex.clone();
        old.invoice.header.invoice_date = Some("2024-01-01".into());
        assert_eq!(
            codes(&decide(&old, &ctx(), &RulesConfig::default())),
            ["invoice_too_old"]
        );
        let mut future = ex.clone();
        future.invoice.header.invoice_date = Some("2027-01-01".into());
        assert_eq!(
            codes(&decide(&future, &ctx(), &RulesConfig::default())),
            ["invoice_date_in_future"]
        );
        let none = extraction(vec![line(0, None, 1.0, 5.0, 5.0)]);
        let refused = decide(&none, &ctx(), &RulesConfig::default());
        assert!(matches!(refused, Outcome::Reject { .. }));
        assert_eq!(codes(&refused), ["no_eligible_products"]);
        // the same, read poorly (a dark photo): a manager looks, nothing is refused
        let mut poorly = none.clone();
        poorly.invoice.confidence = 0.2;
        let review = decide(&poorly, &ctx(), &RulesConfig::default());
        assert!(matches!(review, Outcome::Review { .. }), "{review:?}");
        assert!(codes(&review).contains(&"no_eligible_products".to_string()));
        let mut undescribed = none.clone();
        undescribed.invoice.lines[0].description = None;
        assert!(matches!(
            decide(&undescribed, &ctx(), &RulesConfig::default()),
            Outcome::Review { .. }
        ));
    }

    #[test]
    fn arithmetic_allows_discounts_but_not_inflation() {
        let discounted = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 36.0)]);
        assert!(matches!(
            decide(&discounted, &ctx(), &RulesConfig::default()),
            Outcome::Claim { .. }
        ));
        let inflated = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 400.0)]);
        assert!(codes(&decide(&inflated, &ctx(), &RulesConfig::default()))
            .contains(&"line_arithmetic".to_string()));
        let mut total = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0)]);
        total.invoice.header.total = Some(99.0);
        assert_eq!(
            codes(&decide(&total, &ctx(), &RulesConfig::default())),
            ["totals_inconsistent"]
        );
    }

    #[test]
    fn implausible_quantity_and_similar_picture_go_to_review() {
        let ex = extraction(vec![line(0, Some("NV-1"), 40.0, 10.0, 400.0)]);
        let mut c = ctx();
        c.partner_max_quantity.insert("NV-1".into(), 2.0);
        assert_eq!(
            codes(&decide(&ex, &c, &RulesConfig::default())),
            ["quantity_implausible"]
        );
        c.partner_max_quantity.insert("NV-1".into(), 10.0);
        c.similar_image_of = Some("u-7".into());
        assert_eq!(
            codes(&decide(&ex, &c, &RulesConfig::default())),
            ["similar_image"]
        );
    }

    #[test]
    fn campaigns_multiply_and_caps_send_to_review() {
        let ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0)]);
        let mut rules = RulesConfig::default();
        rules.campaigns.push(Campaign {
            name: "pumps autumn".into(),
            sku_prefix: None,
            family: Some("pumps".into()),
            multiplier: 2.0,
            from: "2026-10-01".into(),
            to: "2026-11-30".into(),
        });
        match decide(&ex, &ctx(), &rules) {
            Outcome::Claim { total_points, .. } => assert_eq!(total_points, 40),
            o => panic!("{o:?}"),
        }
        rules.monthly_points_cap = 100;
        let mut c = ctx();
        c.partner_points_this_month = 70;
        assert_eq!(codes(&decide(&ex, &c, &rules)), ["monthly_cap_exceeded"]);
    }

    #[test]
    fn an_unsure_match_to_a_product_that_earns_nothing_still_goes_to_review() {
        // the likeliest product is not eligible, but its eligible sibling may be the right one
        let mut unsure = line(1, Some("NV-2"), 3.0, 10.0, 30.0);
        unsure.1.decision = "review".into();
        unsure.1.match_probability = 0.12;
        unsure.1.eligible = false;
        let ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0), unsure.clone()]);
        match decide(&ex, &ctx(), &RulesConfig::default()) {
            Outcome::Review {
                reasons,
                total_points,
                ..
            } => {
                assert_eq!(reasons.len(), 1, "{reasons:?}");
                assert_eq!(reasons[0].code, "line_match_uncertain");
                assert!(reasons[0].message.starts_with("line 2: "), "{reasons:?}");
                assert_eq!(total_points, 20, "what the sure line earns");
            }
            o => panic!("{o:?}"),
        }
        // surely matched to a product that earns nothing: paid without it, as before
        unsure.1.decision = "match".into();
        unsure.1.match_probability = 0.97;
        let ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0), unsure]);
        assert!(matches!(
            decide(&ex, &ctx(), &RulesConfig::default()),
            Outcome::Claim {
                total_points: 20,
                ..
            }
        ));
    }

    #[test]
    fn a_line_matched_to_none_that_is_likely_ours_goes_to_review() {
        let mut maybe = line(1, None, 3.0, 10.0, 30.0);
        maybe.1.ours = 0.72;
        let ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0), maybe.clone()]);
        let c = codes(&decide(&ex, &ctx(), &RulesConfig::default()));
        assert_eq!(c, vec!["line_match_uncertain".to_string()]);
        // unlikely ours (another brand), or only as likely as another brand's radiator worded
        // like ours (seed 73 `inv000336`, between 0.6 and 0.7): paid without it
        for ours in [0.2, 0.65] {
            maybe.1.ours = ours;
            let ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0), maybe.clone()]);
            assert!(
                codes(&decide(&ex, &ctx(), &RulesConfig::default())).is_empty(),
                "{ours}"
            );
        }
        // the rule can be turned off
        maybe.1.ours = 0.72;
        let ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0), maybe]);
        let rules = RulesConfig {
            unmatched_ours_review: 1.0,
            ..RulesConfig::default()
        };
        assert!(codes(&decide(&ex, &ctx(), &rules)).is_empty());
        // every line matched to none, but one likely ours: not refused, a manager looks
        let mut only = line(0, None, 3.0, 10.0, 30.0);
        only.1.ours = 0.72;
        let o = decide(&extraction(vec![only]), &ctx(), &RulesConfig::default());
        assert!(matches!(o, Outcome::Review { .. }), "{o:?}");
    }

    #[test]
    fn low_confidence_and_missing_parts_go_to_review() {
        let mut ex = extraction(vec![line(0, Some("NV-1"), 4.0, 10.0, 40.0)]);
        ex.invoice.confidence = 0.5;
        ex.fingerprint = None;
        let c = codes(&decide(&ex, &ctx(), &RulesConfig::default()));
        assert!(
            c.contains(&"low_confidence".to_string())
                && c.contains(&"fingerprint_incomplete".to_string()),
            "{c:?}"
        );
        let mut empty = extraction(vec![]);
        empty.invoice.header.subtotal = None;
        assert!(codes(&decide(&empty, &ctx(), &RulesConfig::default()))
            .contains(&"no_lines_read".to_string()));
    }
}
