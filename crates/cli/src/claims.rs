//! `claimscan model claims`: what the program would pay. Each labelled invoice of a split goes
//! through the worker's own stages after reading (the layout reader with the catalog's
//! vocabulary, the matcher with the distributor's memory, the decision rules) and the claim it
//! makes is compared with the claim its truth makes: the same SKUs, quantities and points, and the
//! same fingerprint (what duplicate detection keys on).
//!
//! `model eval` asks whether every word of an invoice was read; this asks whether the partner is
//! paid right, which a misread description that still matches its product does not change.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use claimscan_contracts::ClaimLine;
use claimscan_doc::{Document, Invoice};
use claimscan_layout::cli::{documents, load_truths, WordsFrom};
use claimscan_layout::eval;
use claimscan_layout::truth::Truth;
use claimscan_matching::{Confirmation, Memory};
use claimscan_worker::config::{Config, PipelineConfig, RulesConfig};
use claimscan_worker::decide::{decide, multiplier, Context, Outcome};
use claimscan_worker::pipeline::{
    distributor_key, fingerprint, MatchedLine, Pipeline, ReadStage, Timings,
};
use clap::Args;

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Model directories, or `rules` for the rule reader.
    #[arg(required = true)]
    pub readers: Vec<String>,
    /// A directory of `*.truth.json` files (searched recursively), e.g. the generator's `out/docs`.
    #[arg(long)]
    pub data: PathBuf,
    /// Which distributors: `heldout` (the only honest figure), `train` or `all`.
    #[arg(long, default_value = "heldout")]
    pub split: String,
    /// The program's catalog (CSV or Parquet) with points per unit: the set's `catalog.csv`.
    #[arg(long)]
    pub catalog: PathBuf,
    /// Which words the readers get: `read` (the original files read by the real pipeline, the
    /// default) or `truth` (the generator's words).
    #[arg(long, value_enum, default_value = "read")]
    pub words: WordsFrom,
    /// Keep and reuse read words here (`<doc_id>.words.json`), as `model eval --read-cache`.
    #[arg(long)]
    pub read_cache: Option<PathBuf>,
    /// Worker configuration file whose `[rules]` decide, with its `CLAIMSCAN_RULES__*` variables
    /// (default: the worker's default rules).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Evaluate at most this many documents.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Largest share of wrong claims among auto-approved invoices, for the automation figure.
    #[arg(long, default_value_t = 0.01)]
    pub max_error: f64,
    /// Simulate the review loop: each invoice sent to review is corrected by a manager (its
    /// lines confirmed with their true SKUs), which teaches the distributor's memory before the
    /// next invoice, in document order. Without it the memory stays empty.
    #[arg(long)]
    pub learn: bool,
    /// Print each invoice's outcome, and each wrong claim's lines.
    #[arg(long)]
    pub verbose: bool,
}

/// One invoice's outcome against its truth.
#[derive(Debug, Clone)]
struct Judged {
    kind: String,
    /// Claimed when the confidence gate is left out: no other rule sent it to review.
    claimable: bool,
    /// The decision's confidence (the invoice's, capped by the least sure paid line's match).
    confidence: f32,
    points_right: bool,
    fingerprint_right: bool,
    /// `claim`, `review` or `reject` under the configured rules.
    outcome: &'static str,
    /// Rejected although its truth earns points.
    wrongly_rejected: bool,
    reasons: Vec<String>,
    /// An earlier invoice of this run came from the same distributor (its memory may know it).
    repeat: bool,
}

impl Judged {
    fn right(&self) -> bool {
        self.points_right && self.fingerprint_right
    }
}

/// A claim as sorted (SKU, thousandths of a unit, points): the same purchase paid the same way.
type Paid = Vec<(String, i64, i64)>;

fn paid(lines: &[ClaimLine]) -> Paid {
    let mut v: Paid = lines
        .iter()
        .map(|l| {
            (
                l.sku.clone(),
                (l.quantity * 1000.0).round() as i64,
                l.points,
            )
        })
        .collect();
    v.sort();
    v
}

/// What the truth's lines earn under the same rules: product lines of eligible SKUs with points,
/// positive quantities, the campaign multiplier of the invoice's date.
fn truth_paid(t: &Truth, pipeline: &Pipeline, rules: &RulesConfig) -> Paid {
    let date = truth_date(t);
    let m = &pipeline.matcher;
    let mut v: Paid = t
        .lines
        .iter()
        .filter_map(|l| {
            let sku = l.sku.as_deref()?;
            let product = &m.products()[m.product_index(sku)? as usize];
            let ppu = product.points_per_unit.filter(|p| *p > 0.0)?;
            let qty = l.quantity.filter(|q| *q > 0.0)?;
            if !product.eligible.unwrap_or(true) {
                return None;
            }
            let line = MatchedLine {
                line_no: 0,
                description: None,
                product_code: None,
                quantity: Some(qty),
                unit_price: None,
                amount: None,
                read_confidence: 1.0,
                sku: Some(sku.into()),
                decision: "match".into(),
                match_probability: 1.0,
                ours: 1.0,
                points_per_unit: Some(ppu),
                eligible: true,
                family: product.family.clone(),
                source: "truth".into(),
            };
            let mult = multiplier(&line, date, rules);
            Some((
                sku.to_string(),
                (qty * 1000.0).round() as i64,
                (qty * ppu * mult).round() as i64,
            ))
        })
        .collect();
    v.sort();
    v
}

fn truth_date(t: &Truth) -> Option<NaiveDate> {
    t.header
        .invoice_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn claim_lines(o: &Outcome) -> &[ClaimLine] {
    match o {
        Outcome::Claim { lines, .. } | Outcome::Review { lines, .. } => lines,
        Outcome::Reject { .. } => &[],
    }
}

/// Reads one invoice as the worker does after its read stage, decides it, and judges it; also
/// returns what it paid and what the truth owes.
fn judge(
    pipeline: &Pipeline,
    rules: &RulesConfig,
    t: &Truth,
    doc: &Document,
    memory: &Memory,
) -> (Judged, ReadStage, Paid, Paid) {
    let reader = pipeline.readers.live();
    let invoice = reader.read_with(doc, &pipeline.vocabulary);
    let stage = ReadStage {
        fingerprint: fingerprint(&invoice),
        distributor_key: distributor_key(&invoice),
        phash: None,
        document: doc.clone(),
        invoice,
        images: Vec::new(),
        timings: Timings::default(),
        reader: reader.name(),
        shadow: None,
        rolled_back_to: None,
    };
    let ex = pipeline.finish(&stage, memory);
    // uploaded a week after the purchase; no earlier uploads of this partner or program
    let ctx = Context {
        today: truth_date(t)
            .map(|d| d + chrono::Duration::days(7))
            .unwrap_or_else(|| chrono::Local::now().date_naive()),
        ..Default::default()
    };
    let outcome = decide(&ex, &ctx, rules);
    let ungated = decide(
        &ex,
        &ctx,
        &RulesConfig {
            auto_approve_confidence: 0.0,
            ..rules.clone()
        },
    );
    let truth_inv: Invoice = t.invoice();
    let want = truth_paid(t, pipeline, rules);
    let got = paid(claim_lines(&outcome));
    let (confidence, reasons) = match &outcome {
        Outcome::Claim { confidence, .. } => (*confidence, Vec::new()),
        Outcome::Review {
            confidence,
            reasons,
            ..
        } => (
            *confidence,
            reasons.iter().map(|r| r.code.clone()).collect(),
        ),
        Outcome::Reject { code, .. } => (0.0, vec![code.clone()]),
    };
    let judged = Judged {
        kind: t.kind.clone(),
        claimable: matches!(ungated, Outcome::Claim { .. }),
        confidence,
        points_right: got == want,
        fingerprint_right: stage.fingerprint.is_some()
            && stage.fingerprint == fingerprint(&truth_inv),
        outcome: outcome.kind(),
        wrongly_rejected: matches!(outcome, Outcome::Reject { .. }) && want.iter().any(|p| p.2 > 0),
        reasons,
        repeat: false,
    };
    (judged, stage, got, want)
}

/// A manager's corrections of a reviewed invoice: each read line that stands for a true line is
/// confirmed with that line's SKU (`None`: not one of the program's products), as the review app
/// teaches the memory.
fn corrections(stage: &ReadStage, t: &Truth) -> Vec<Confirmation> {
    let Some(dist) = &stage.distributor_key else {
        return Vec::new();
    };
    let truth_inv = t.invoice();
    eval::paired_lines(&stage.invoice, &truth_inv)
        .into_iter()
        .enumerate()
        .filter_map(|(pi, ti)| {
            let l = &stage.invoice.lines[pi];
            let description = l.description.clone().filter(|d| !d.trim().is_empty())?;
            Some(Confirmation {
                distributor: dist.clone(),
                product_code: l.product_code.clone(),
                description,
                sku: t.lines[ti?].sku.clone(),
            })
        })
        .collect()
}

/// The largest share of invoices auto-approved with at most `max_error` of them wrong, and the
/// threshold on the decision's confidence that gives it.
fn automation(judged: &[Judged], max_error: f64) -> (f64, f32, usize) {
    let mut c: Vec<(f32, bool)> = judged
        .iter()
        .filter(|j| j.claimable)
        .map(|j| (j.confidence, j.right()))
        .collect();
    c.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut best, mut best_t, mut best_wrong) = (0usize, f32::INFINITY, 0usize);
    let mut wrong = 0;
    for i in 0..c.len() {
        wrong += usize::from(!c[i].1);
        // a threshold cannot split equal confidences
        if i + 1 < c.len() && c[i + 1].0 == c[i].0 {
            continue;
        }
        let n = i + 1;
        if wrong as f64 <= max_error * n as f64 && n > best {
            (best, best_t, best_wrong) = (n, c[i].0, wrong);
        }
    }
    (best as f64 / judged.len().max(1) as f64, best_t, best_wrong)
}

fn pct(n: usize, d: usize) -> String {
    format!("{:.1}%", 100.0 * n as f64 / d.max(1) as f64)
}

/// Paid right, auto-approved and wrong automatic claims of a group of invoices.
fn group(js: &[&Judged]) -> String {
    let m = js.len();
    format!(
        "paid right {}, auto-approved {} (wrong {})",
        pct(js.iter().filter(|j| j.right()).count(), m),
        pct(js.iter().filter(|j| j.outcome == "claim").count(), m),
        js.iter()
            .filter(|j| j.outcome == "claim" && !j.right())
            .count()
    )
}

fn report(name: &str, judged: &[Judged], rules: &RulesConfig, max_error: f64) {
    let n = judged.len();
    let count = |f: &dyn Fn(&Judged) -> bool| judged.iter().filter(|j| f(j)).count();
    println!("== {name}: {n} invoices");
    println!(
        "paid right (SKUs, quantities, points): {}; and fingerprint right: {}",
        pct(count(&|j| j.points_right), n),
        pct(count(&|j| j.right()), n)
    );
    let claims = count(&|j| j.outcome == "claim");
    let wrong = count(&|j| j.outcome == "claim" && !j.right());
    println!(
        "at auto_approve_confidence {:.2}: auto-approved {} ({}), of which wrong {} (points {}, \
         fingerprint only {}); review {}; rejected {} (of which owed points {})",
        rules.auto_approve_confidence,
        claims,
        pct(claims, n),
        wrong,
        count(&|j| j.outcome == "claim" && !j.points_right),
        count(&|j| j.outcome == "claim" && j.points_right && !j.fingerprint_right),
        count(&|j| j.outcome == "review"),
        count(&|j| j.outcome == "reject"),
        count(&|j| j.wrongly_rejected),
    );
    let (share, t, w) = automation(judged, max_error);
    println!(
        "automation at <= {:.0}% wrong claims: {:.1}% (confidence >= {t:.3}, {w} wrong); \
         ceiling (claimable and right): {}",
        max_error * 100.0,
        share * 100.0,
        pct(count(&|j| j.claimable && j.right()), n)
    );
    let mut kinds: BTreeMap<&str, Vec<&Judged>> = BTreeMap::new();
    for j in judged {
        kinds.entry(j.kind.as_str()).or_default().push(j);
    }
    for (k, js) in &kinds {
        println!("  {k:<8} {:>4}: {}", js.len(), group(js));
    }
    let (later, first): (Vec<&Judged>, Vec<&Judged>) = judged.iter().partition(|j| j.repeat);
    if !later.is_empty() {
        println!(
            "  a distributor's first invoice: {}, {}",
            first.len(),
            group(&first)
        );
        println!("  its later invoices: {}, {}", later.len(), group(&later));
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for j in judged {
        let mut seen: Vec<&str> = j.reasons.iter().map(String::as_str).collect();
        seen.sort();
        seen.dedup();
        for r in seen {
            *reasons.entry(r).or_default() += 1;
        }
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let list: Vec<String> = reasons.iter().map(|(r, c)| format!("{r} {c}")).collect();
    println!("review and reject reasons (invoices): {}", list.join(", "));
}

pub fn run(a: &ClaimsArgs) -> anyhow::Result<()> {
    let truths = load_truths(&a.data, &a.split, a.limit).map_err(|e| anyhow::anyhow!("{e}"))?;
    let rules = match &a.config {
        Some(file) => {
            Config::load(Some(file))
                .map_err(|e| anyhow::anyhow!("{}: {}", e.code(), e.0.join("; ")))?
                .rules
        }
        None => RulesConfig::default(),
    };
    let (docs, unreadable) = documents(&truths, a.words, a.read_cache.as_deref());
    println!(
        "{} documents ({} could not be read), split {}, catalog {}{}",
        truths.len(),
        unreadable,
        a.split,
        a.catalog.display(),
        if a.learn {
            ", managers teach the memory"
        } else {
            ""
        }
    );
    for r in &a.readers {
        let pipeline = Pipeline::load(&PipelineConfig {
            catalog: a.catalog.clone(),
            reader: r.clone(),
            validation_data: PathBuf::new(),
            ..Default::default()
        })?;
        let mut memory = Memory::new();
        let mut judged = Vec::with_capacity(truths.len());
        let mut seen = std::collections::HashSet::new();
        for (t, doc) in truths.iter().zip(&docs) {
            let (mut j, stage, got, want) = judge(&pipeline, &rules, t, doc, &memory);
            j.repeat = !seen.insert(t.distributor_id.clone());
            if a.verbose {
                println!(
                    "CLAIM {} [{}] {} conf {:.4} points_right {} fingerprint_right {} reasons {:?}",
                    t.doc_id,
                    t.kind,
                    j.outcome,
                    j.confidence,
                    j.points_right,
                    j.fingerprint_right,
                    j.reasons
                );
                if !j.points_right {
                    for g in got.iter().filter(|g| !want.contains(g)) {
                        println!("   paid   {} x{} = {}", g.0, g.1 as f64 / 1000.0, g.2);
                    }
                    for w in want.iter().filter(|w| !got.contains(w)) {
                        println!("   owed   {} x{} = {}", w.0, w.1 as f64 / 1000.0, w.2);
                    }
                }
            }
            if a.learn && j.outcome == "review" {
                for c in corrections(&stage, t) {
                    memory.confirm(&c);
                }
            }
            judged.push(j);
        }
        report(
            &pipeline.readers.live().name(),
            &judged,
            &rules,
            a.max_error,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(conf: f32, right: bool) -> Judged {
        Judged {
            kind: "digital".into(),
            claimable: true,
            confidence: conf,
            points_right: right,
            fingerprint_right: true,
            outcome: "claim",
            wrongly_rejected: false,
            reasons: Vec::new(),
            repeat: false,
        }
    }

    #[test]
    fn automation_stops_before_the_first_wrong_claim_that_breaks_the_error_rate() {
        let js = vec![j(0.99, true), j(0.98, true), j(0.97, false), j(0.5, true)];
        let (share, t, wrong) = automation(&js, 0.01);
        assert_eq!((share, t, wrong), (0.5, 0.98, 0));
        // at 40% allowed, all four (one wrong in four)
        let (share, _, wrong) = automation(&js, 0.4);
        assert_eq!((share, wrong), (1.0, 1));
    }

    #[test]
    fn equal_confidences_are_approved_together_or_not_at_all() {
        let js = vec![j(0.99, true), j(0.9, true), j(0.9, false)];
        assert_eq!(automation(&js, 0.01).0, 1.0 / 3.0);
    }

    #[test]
    fn invoices_the_rules_hold_back_are_never_counted_as_automated() {
        let mut held = j(0.99, true);
        held.claimable = false;
        let js = vec![held, j(0.95, true)];
        assert_eq!(automation(&js, 0.01).0, 0.5);
    }
}
