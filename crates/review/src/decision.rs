//! A manager's decision on a task, in ONE transaction: the task's status, the claim (+ lines) or
//! the upload's rejection, the outbox messages (`claim.created` decided by a manager or
//! `upload.rejected`, `activity.recorded`, and `review.resolved`), an audit row (who, when,
//! before/after) and the distributor memory for corrected and confirmed lines, so that the next
//! invoice of that distributor with the same code or wording matches by itself.
//!
//! The task row is locked (`FOR UPDATE`) and must still be open: of two managers deciding at once,
//! the second gets `already_decided` and nothing is written twice.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::NaiveDate;
use claimscan_contracts::{
    encode, ActivityRecorded, ClaimCreated, ClaimLine, Correction, DecidedBy, Resolution,
    ReviewResolved, UploadRejected,
};
use claimscan_matching::Matcher;
use claimscan_worker::config::RulesConfig;
use claimscan_worker::db::{insert_lines, now_rfc3339, outbox};
use claimscan_worker::decide::multiplier;
use claimscan_worker::pipeline::{Extraction, MatchedLine};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::auth::Manager;
use crate::AppError;

/// Why a manager rejects an upload; each maps to the stable code sent in `upload.rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    Duplicate,
    Unreadable,
    NotEligible,
    SuspectedFraud,
}

impl RejectReason {
    pub const ALL: [RejectReason; 4] = [
        RejectReason::Duplicate,
        RejectReason::Unreadable,
        RejectReason::NotEligible,
        RejectReason::SuspectedFraud,
    ];
    pub fn parse(s: &str) -> Option<RejectReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Duplicate => "duplicate",
            RejectReason::Unreadable => "unreadable",
            RejectReason::NotEligible => "not_eligible",
            RejectReason::SuspectedFraud => "suspected_fraud",
        }
    }
    /// The code of the `upload.rejected` message and of `uploads.reason_code`.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::Duplicate => "duplicate_invoice",
            RejectReason::Unreadable => "unreadable",
            RejectReason::NotEligible => "not_eligible",
            RejectReason::SuspectedFraud => "suspected_fraud",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            RejectReason::Duplicate => "Duplicate",
            RejectReason::Unreadable => "Unreadable",
            RejectReason::NotEligible => "Not eligible",
            RejectReason::SuspectedFraud => "Suspected fraud",
        }
    }
}

/// A manager's edit of one line: the SKU (`None` = not one of our products) and the quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct LineEdit {
    pub line_no: u32,
    pub sku: Option<String>,
    pub quantity: Option<f64>,
}

/// What the manager decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The system's proposal as it stands.
    Approve,
    /// The proposal with these line edits.
    Correct(Vec<LineEdit>),
    Reject(RejectReason),
}

impl Decision {
    fn action(&self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Correct(_) => "correct",
            Decision::Reject(_) => "reject",
        }
    }
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    Claimed { claim_id: String, total_points: i64 },
    Rejected { code: String },
}

/// A corrected line, as audited and exported for retraining.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectedLine {
    pub line_no: u32,
    pub description: Option<String>,
    pub product_code: Option<String>,
    pub original_sku: Option<String>,
    pub original_quantity: Option<f64>,
    pub sku: Option<String>,
    pub quantity: Option<f64>,
}

/// Parses the task form's line fields (`sku_<n>`, `qty_<n>`) against the extraction's lines.
pub fn edits_from_form(
    form: &HashMap<String, String>,
    lines: &[MatchedLine],
) -> Result<Vec<LineEdit>, AppError> {
    lines
        .iter()
        .map(|l| {
            let sku = form
                .get(&format!("sku_{}", l.line_no))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            let quantity = match form
                .get(&format!("qty_{}", l.line_no))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
            {
                None => None,
                Some(q) => Some(
                    q.replace(',', ".")
                        .parse::<f64>()
                        .ok()
                        .filter(|q| q.is_finite() && *q >= 0.0 && *q < 1e7)
                        .ok_or_else(|| {
                            AppError::new(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                "bad_quantity",
                                format!("line {}: {q:?} is not a quantity", l.line_no + 1),
                            )
                        })?,
                ),
            };
            Ok(LineEdit {
                line_no: l.line_no,
                sku,
                quantity,
            })
        })
        .collect()
}

/// The claim lines and corrections for a set of edits (pure; unit-tested).
pub fn corrected_lines(
    ex: &Extraction,
    edits: &[LineEdit],
    matcher: &Matcher,
    rules: &RulesConfig,
) -> Result<(Vec<ClaimLine>, Vec<CorrectedLine>), AppError> {
    let date = ex
        .invoice
        .header
        .invoice_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let mut lines = Vec::new();
    let mut corrections = Vec::new();
    for e in edits {
        let Some(orig) = ex.lines.iter().find(|l| l.line_no == e.line_no) else {
            continue;
        };
        if e.sku != orig.sku || e.quantity != orig.quantity {
            corrections.push(CorrectedLine {
                line_no: e.line_no,
                description: orig.description.clone(),
                product_code: orig.product_code.clone(),
                original_sku: orig.sku.clone(),
                original_quantity: orig.quantity,
                sku: e.sku.clone(),
                quantity: e.quantity,
            });
        }
        let Some(sku) = e.sku.as_deref() else {
            continue;
        };
        let product = matcher
            .product_index(sku)
            .map(|i| &matcher.products()[i as usize])
            .ok_or_else(|| {
                AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_sku",
                    format!("line {}: {sku} is not in the catalog", e.line_no + 1),
                )
            })?;
        let (Some(qty), Some(ppu)) = (e.quantity, product.points_per_unit) else {
            continue;
        };
        if qty <= 0.0 || ppu <= 0.0 || !product.eligible.unwrap_or(true) {
            continue;
        }
        let ml = MatchedLine {
            sku: Some(product.sku.clone()),
            family: product.family.clone(),
            ..orig.clone()
        };
        let mult = multiplier(&ml, date, rules);
        lines.push(ClaimLine {
            line_no: e.line_no,
            sku: product.sku.clone(),
            quantity: qty,
            points_per_unit: ppu,
            multiplier: mult,
            points: (qty * ppu * mult).round() as i64,
        });
    }
    Ok((lines, corrections))
}

/// Records a decision. `Err(already_decided)` when the task is no longer open.
#[tracing::instrument(skip_all, fields(task_id = %task_id, manager_id = %m.id, action = d.action()))]
pub async fn decide(
    pool: &PgPool,
    matcher: &Matcher,
    rules: &RulesConfig,
    m: &Manager,
    task_id: Uuid,
    d: &Decision,
) -> Result<Decided, AppError> {
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT t.upload_id, t.program_id, t.partner_id, t.status, t.proposal, t.reasons, t.confidence,
                t.resolved_by, t.resolved_at::text AS resolved_at, u.extraction, u.fingerprint, u.distributor_key
         FROM review_tasks t JOIN uploads u USING (upload_id)
         WHERE t.task_id = $1 AND t.program_id = ANY($2)
         FOR UPDATE OF t",
    )
    .bind(task_id)
    .bind(&m.programs)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(AppError::not_found)?;
    let status: String = row.get("status");
    if status != "open" {
        tx.rollback().await?;
        tracing::info!("decision refused: already decided");
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "already_decided",
            format!(
                "this task was already {status} by {} at {}",
                row.get::<Option<String>, _>("resolved_by")
                    .unwrap_or_default(),
                row.get::<Option<String>, _>("resolved_at")
                    .unwrap_or_default()
            ),
        ));
    }
    let upload_id: String = row.get("upload_id");
    let program_id: String = row.get("program_id");
    let partner_id: String = row
        .get::<Option<String>, _>("partner_id")
        .unwrap_or_default();
    let proposal: serde_json::Value = row.get("proposal");
    let reasons: serde_json::Value = row.get("reasons");
    let confidence: f32 = row.get("confidence");
    let distributor: Option<String> = row.get("distributor_key");
    let ex: Option<Extraction> = row
        .get::<Option<serde_json::Value>, _>("extraction")
        .and_then(|v| serde_json::from_value(v).ok());
    let fingerprint: Option<String> = row.get("fingerprint");
    let before = json!({
        "proposal": proposal,
        "reasons": reasons,
        "confidence": confidence,
        "lines": ex.as_ref().map(|e| &e.lines),
    });

    // --- what the decision pays, and what it teaches
    let (claim_lines, corrections, teach): (Vec<ClaimLine>, Vec<CorrectedLine>, Vec<LineEdit>) =
        match d {
            Decision::Approve => {
                let lines: Vec<ClaimLine> =
                    serde_json::from_value(proposal["lines"].clone()).unwrap_or_default();
                // The manager confirmed the proposed SKU of every paid line.
                let teach = lines
                    .iter()
                    .map(|l| LineEdit {
                        line_no: l.line_no,
                        sku: Some(l.sku.clone()),
                        quantity: Some(l.quantity),
                    })
                    .collect();
                (lines, Vec::new(), teach)
            }
            Decision::Correct(edits) => {
                let ex = ex.as_ref().ok_or_else(|| {
                    AppError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "no_extraction",
                        "this upload has no extraction to correct (erased?)",
                    )
                })?;
                let (lines, corr) = corrected_lines(ex, edits, matcher, rules)?;
                (lines, corr, edits.clone())
            }
            Decision::Reject(_) => (Vec::new(), Vec::new(), Vec::new()),
        };

    let now = now_rfc3339();
    let mut after = json!({"action": d.action()});
    let decided = match d {
        Decision::Approve | Decision::Correct(_) => {
            let total_points: i64 = claim_lines.iter().map(|l| l.points).sum();
            let claim_id = Uuid::now_v7();
            let invoice_date = ex
                .as_ref()
                .and_then(|e| e.invoice.header.invoice_date.as_deref())
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
            sqlx::query(
                "INSERT INTO claims (claim_id, upload_id, program_id, partner_id, total_points, confidence, decided_by, invoice_date)
                 VALUES ($1, $2, $3, $4, $5, $6, 'manager', $7)",
            )
            .bind(claim_id)
            .bind(&upload_id)
            .bind(&program_id)
            .bind((!partner_id.is_empty()).then_some(&partner_id))
            .bind(total_points)
            .bind(confidence)
            .bind(invoice_date)
            .execute(&mut *tx)
            .await?;
            insert_lines(&mut tx, claim_id, &claim_lines).await?;
            sqlx::query(
                "UPDATE uploads SET status = 'claimed', decided_at = now() WHERE upload_id = $1 AND status = 'review'",
            )
            .bind(&upload_id)
            .execute(&mut *tx)
            .await?;
            let msg = ClaimCreated {
                claim_id: claim_id.to_string(),
                upload_id: upload_id.clone(),
                partner_id: partner_id.clone(),
                program_id: program_id.clone(),
                fingerprint: fingerprint.clone().unwrap_or_default(),
                lines: claim_lines.clone(),
                total_points,
                confidence,
                decided_by: DecidedBy::Manager,
                created_at: now.clone(),
            };
            outbox(
                &mut tx,
                &format!("claim.created:{upload_id}"),
                "claim.created",
                encode(&msg),
                &partner_id,
            )
            .await?;
            let activity = ActivityRecorded {
                partner_id: partner_id.clone(),
                program_id: program_id.clone(),
                occurred_at: now.clone(),
                kind: "claim".into(),
                quantity: Some(claim_lines.iter().map(|l| l.quantity).sum()),
                amount: Some(total_points as f64),
            };
            outbox(
                &mut tx,
                &format!("activity.recorded:claim:{upload_id}"),
                "activity.recorded",
                encode(&activity),
                &partner_id,
            )
            .await?;
            after["claim_id"] = json!(claim_id.to_string());
            after["lines"] = json!(claim_lines);
            after["total_points"] = json!(total_points);
            after["corrections"] = json!(corrections);
            Decided::Claimed {
                claim_id: claim_id.to_string(),
                total_points,
            }
        }
        Decision::Reject(reason) => {
            let message = format!("rejected by a program manager: {}", reason.label());
            sqlx::query(
                "UPDATE uploads SET status = 'rejected', reason_code = $2, reason_message = $3, decided_at = now()
                 WHERE upload_id = $1 AND status = 'review'",
            )
            .bind(&upload_id)
            .bind(reason.code())
            .bind(&message)
            .execute(&mut *tx)
            .await?;
            if *reason == RejectReason::Unreadable {
                // A better picture of the same invoice may be sent again.
                sqlx::query("DELETE FROM invoice_fingerprints WHERE upload_id = $1")
                    .bind(&upload_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let msg = UploadRejected {
                upload_id: upload_id.clone(),
                partner_id: partner_id.clone(),
                program_id: program_id.clone(),
                code: reason.code().into(),
                message,
                rejected_at: now.clone(),
            };
            outbox(
                &mut tx,
                &format!("upload.rejected:{upload_id}"),
                "upload.rejected",
                encode(&msg),
                &partner_id,
            )
            .await?;
            after["reason"] = json!(reason.as_str());
            after["code"] = json!(reason.code());
            Decided::Rejected {
                code: reason.code().into(),
            }
        }
    };

    // --- the task, the resolution message, the audit
    let (task_status, resolution, claim_id) = match &decided {
        Decided::Claimed { claim_id, .. } => ("approved", Resolution::Approved, Some(claim_id)),
        Decided::Rejected { .. } => ("rejected", Resolution::Rejected, None),
    };
    sqlx::query(
        "UPDATE review_tasks SET status = $2, resolved_at = now(), resolved_by = $3, reject_reason = $4
         WHERE task_id = $1",
    )
    .bind(task_id)
    .bind(task_status)
    .bind(&m.email)
    .bind(match d {
        Decision::Reject(r) => Some(r.as_str()),
        _ => None,
    })
    .execute(&mut *tx)
    .await?;
    let resolved = ReviewResolved {
        task_id: task_id.to_string(),
        upload_id: upload_id.clone(),
        resolution,
        claim_id: claim_id.cloned(),
        resolved_by: m.id.to_string(),
        corrections: corrections
            .iter()
            .map(|c| Correction {
                line_no: c.line_no,
                product_code: c.product_code.clone(),
                description: c.description.clone(),
                sku: c.sku.clone(),
                quantity: c.quantity,
            })
            .collect(),
        resolved_at: now.clone(),
    };
    outbox(
        &mut tx,
        &format!("review.resolved:{task_id}"),
        "review.resolved",
        encode(&resolved),
        &partner_id,
    )
    .await?;
    after["distributor_key"] = json!(distributor);
    sqlx::query(
        "INSERT INTO review_audit (task_id, upload_id, program_id, manager_id, manager_email, action, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(task_id)
    .bind(&upload_id)
    .bind(&program_id)
    .bind(m.id)
    .bind(&m.email)
    .bind(d.action())
    .bind(&before)
    .bind(&after)
    .execute(&mut *tx)
    .await?;

    // --- teach the distributor's memory: the wording and code of each confirmed or corrected line
    if let (Some(dist), Some(ex)) = (&distributor, &ex) {
        for t in &teach {
            let Some(l) = ex.lines.iter().find(|l| l.line_no == t.line_no) else {
                continue;
            };
            let Some(desc) = l.description.as_deref().filter(|s| !s.trim().is_empty()) else {
                continue;
            };
            // Lines the memory already decided need no second lesson.
            if l.source == "memory" && l.sku == t.sku {
                continue;
            }
            sqlx::query(
                "INSERT INTO distributor_memory (program_id, distributor_key, product_code, description, sku)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (program_id, distributor_key, product_code, description)
                 DO UPDATE SET sku = EXCLUDED.sku, confirmed_at = now()",
            )
            .bind(&program_id)
            .bind(dist)
            .bind(l.product_code.as_deref().unwrap_or(""))
            .bind(desc)
            .bind(t.sku.as_deref())
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(outcome = task_status, "task decided");
    Ok(decided)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(no: u32, sku: Option<&str>, qty: Option<f64>) -> MatchedLine {
        MatchedLine {
            line_no: no,
            description: Some(format!("item {no}")),
            product_code: None,
            quantity: qty,
            unit_price: None,
            amount: None,
            read_confidence: 0.9,
            sku: sku.map(Into::into),
            decision: "review".into(),
            match_probability: 0.5,
            ours: 0.9,
            points_per_unit: None,
            eligible: true,
            family: None,
            source: "index".into(),
        }
    }

    #[test]
    fn reject_reasons_parse_to_stable_codes() {
        for r in RejectReason::ALL {
            assert_eq!(RejectReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(RejectReason::parse("Duplicate"), None);
        assert_eq!(RejectReason::Duplicate.code(), "duplicate_invoice");
    }

    #[test]
    fn form_fields_become_line_edits() {
        let lines = [line(0, Some("A"), Some(2.0)), line(1, None, None)];
        let form: HashMap<String, String> = [
            ("sku_0", " B "),
            ("qty_0", "3,5"),
            ("sku_1", ""),
            ("qty_1", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let e = edits_from_form(&form, &lines).unwrap();
        assert_eq!(
            e,
            [
                LineEdit {
                    line_no: 0,
                    sku: Some("B".into()),
                    quantity: Some(3.5)
                },
                LineEdit {
                    line_no: 1,
                    sku: None,
                    quantity: None
                }
            ]
        );
        let mut bad = form.clone();
        bad.insert("qty_0".into(), "-1".into());
        assert_eq!(
            edits_from_form(&bad, &lines).unwrap_err().code,
            "bad_quantity"
        );
        bad.insert("qty_0".into(), "lots".into());
        assert_eq!(
            edits_from_form(&bad, &lines).unwrap_err().code,
            "bad_quantity"
        );
    }
}
