//! The task page's data: the task, its extraction, the page pictures with the read fields and lines
//! boxed on them, and per line the top catalog candidates with scores.

use std::io::Cursor;

use claimscan_matching::Query;
use claimscan_worker::pipeline::{Extraction, MatchedLine};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

use crate::auth::Manager;
use crate::svg::{self, Background, Overlay};
use crate::{AppError, AppState};

/// Pages shown at most.
pub const MAX_PAGES: usize = 5;
/// A4 at 300 DPI: the coordinate system of text-layer pages, used when no picture is stored.
const A4: (f64, f64) = (2480.0, 3508.0);

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub sku: String,
    pub name: String,
    pub score: f32,
    pub points_per_unit: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub line_no: u32,
    pub description: Option<String>,
    pub product_code: Option<String>,
    pub quantity: Option<f64>,
    pub unit_price: Option<f64>,
    pub amount: Option<f64>,
    pub sku: Option<String>,
    pub decision: String,
    pub probability: f32,
    pub source: String,
    pub points_per_unit: Option<f64>,
    /// Points the proposal grants for this line (0 when unpaid).
    pub points: i64,
    pub multiplier: f64,
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub task_id: String,
    pub upload_id: String,
    pub program_id: String,
    pub status: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
    pub reasons: serde_json::Value,
    pub confidence: f32,
    pub total_points: i64,
    pub distributor_key: Option<String>,
    pub distributor_name: Option<String>,
    pub header: serde_json::Value,
    pub lines: Vec<LineView>,
    /// One SVG per page.
    pub pages: Vec<String>,
    /// The next open task of the queue (oldest first), for "next".
    pub next_task: Option<String>,
}

/// The stored picture of page `n` (1-based), when the worker kept one.
pub async fn page_png(state: &AppState, prefix: &str, n: usize) -> Option<Vec<u8>> {
    state
        .store
        .get(&state.artifacts_bucket, &format!("{prefix}page-{n}.png"))
        .await
        .ok()
}

/// Loads a task of the manager's programs (404 otherwise).
#[tracing::instrument(skip_all, fields(task_id = %task_id, manager_id = %m.id))]
pub async fn load(state: &AppState, m: &Manager, task_id: Uuid) -> Result<TaskView, AppError> {
    let r = sqlx::query(
        "SELECT t.upload_id, t.program_id, t.status, t.reasons, t.proposal, t.confidence,
                t.distributor_key, t.distributor_name, t.resolved_by,
                to_char(t.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS resolved_at,
                u.extraction, u.artifacts_prefix, u.bucket, u.object_key, t.created_at
         FROM review_tasks t JOIN uploads u USING (upload_id)
         WHERE t.task_id = $1 AND t.program_id = ANY($2)",
    )
    .bind(task_id)
    .bind(&m.programs)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(AppError::not_found)?;
    let proposal: serde_json::Value = r.get("proposal");
    let ex: Option<Extraction> = r
        .get::<Option<serde_json::Value>, _>("extraction")
        .and_then(|v| serde_json::from_value(v).ok());
    let paid: Vec<claimscan_contracts::ClaimLine> =
        serde_json::from_value(proposal["lines"].clone()).unwrap_or_default();
    let lines = ex
        .as_ref()
        .map(|e| {
            e.lines
                .iter()
                .map(|l| line_view(state, l, e.distributor_key.clone(), &paid))
                .collect()
        })
        .unwrap_or_default();
    let prefix: Option<String> = r.get("artifacts_prefix");
    let mut pages = Vec::new();
    if let Some(ex) = &ex {
        let n = ex.pages.clamp(1, MAX_PAGES);
        let words = if ex.format == "words_json" {
            match (
                r.get::<Option<String>, _>("bucket"),
                r.get::<Option<String>, _>("object_key"),
            ) {
                (Some(b), Some(k)) => state.store.get(&b, &k).await.ok(),
                _ => None,
            }
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        } else {
            None
        };
        for i in 0..n {
            let png = match &prefix {
                Some(p) => page_png(state, p, i + 1).await,
                None => None,
            };
            // Boxes are in the page's own coordinates; a stored picture may be smaller (PDF
            // pages are pictured at a modest DPI) and is stretched over them.
            let size = ex
                .page_sizes
                .get(i)
                .map(|s| (f64::from(s[0]), f64::from(s[1])));
            let (w, h, bg) = if let Some(dim) = png.as_deref().and_then(png_size) {
                let (w, h) = size.unwrap_or(dim);
                (
                    w,
                    h,
                    Background::Image(format!("/tasks/{task_id}/page/{}.png", i + 1)),
                )
            } else if let Some(p) = words.as_ref().map(|w| &w["pages"][i]) {
                let ws = p["words"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|w| {
                                let b = w["bbox"].as_array()?;
                                Some((
                                    w["text"].as_str()?.to_string(),
                                    [
                                        b.first()?.as_f64()?,
                                        b.get(1)?.as_f64()?,
                                        b.get(2)?.as_f64()?,
                                        b.get(3)?.as_f64()?,
                                    ],
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    p["width"].as_f64().unwrap_or(A4.0),
                    p["height"].as_f64().unwrap_or(A4.1),
                    Background::Words(ws),
                )
            } else {
                let (w, h) = size.unwrap_or(A4);
                (w, h, Background::Blank)
            };
            pages.push(svg::page(w, h, &bg, &overlays(ex, i)));
        }
    }
    let next_task: Option<String> = sqlx::query_scalar(
        "SELECT task_id::text FROM review_tasks
         WHERE status = 'open' AND program_id = ANY($1) AND task_id <> $2
         ORDER BY created_at, task_id LIMIT 1",
    )
    .bind(&m.programs)
    .bind(task_id)
    .fetch_optional(&state.pool)
    .await?;
    Ok(TaskView {
        task_id: task_id.to_string(),
        upload_id: r.get("upload_id"),
        program_id: r.get("program_id"),
        status: r.get("status"),
        resolved_by: r.get("resolved_by"),
        resolved_at: r.get("resolved_at"),
        reasons: r.get("reasons"),
        confidence: r.get("confidence"),
        total_points: proposal["total_points"].as_i64().unwrap_or(0),
        distributor_key: r.get("distributor_key"),
        distributor_name: r.get("distributor_name"),
        header: ex
            .as_ref()
            .and_then(|e| serde_json::to_value(&e.invoice.header).ok())
            .unwrap_or_default(),
        lines,
        pages,
        next_task,
    })
}

fn png_size(bytes: &[u8]) -> Option<(f64, f64)> {
    let (w, h) = image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png)
        .into_dimensions()
        .ok()?;
    Some((f64::from(w), f64::from(h)))
}

fn line_view(
    state: &AppState,
    l: &MatchedLine,
    distributor: Option<String>,
    paid: &[claimscan_contracts::ClaimLine],
) -> LineView {
    let m = state.matcher.match_line(
        &Query {
            description: l.description.clone().unwrap_or_default(),
            product_code: l.product_code.clone(),
            unit_price: l.unit_price,
            distributor,
        },
        None,
    );
    let paid_line = paid.iter().find(|p| p.line_no == l.line_no);
    LineView {
        line_no: l.line_no,
        description: l.description.clone(),
        product_code: l.product_code.clone(),
        quantity: l.quantity,
        unit_price: l.unit_price,
        amount: l.amount,
        sku: l.sku.clone(),
        decision: l.decision.clone(),
        probability: l.match_probability,
        source: l.source.clone(),
        points_per_unit: l.points_per_unit,
        points: paid_line.map(|p| p.points).unwrap_or(0),
        multiplier: paid_line.map(|p| p.multiplier).unwrap_or(1.0),
        candidates: m
            .candidates
            .iter()
            .map(|c| Candidate {
                sku: c.sku.clone(),
                name: c.name.clone(),
                score: c.score,
                points_per_unit: ppu(state, &c.sku),
            })
            .collect(),
    }
}

/// Points per unit of a SKU (None when unknown or not eligible).
pub fn ppu(state: &AppState, sku: &str) -> Option<f64> {
    let p = &state.matcher.products()[state.matcher.product_index(sku)? as usize];
    if p.eligible.unwrap_or(true) {
        p.points_per_unit
    } else {
        None
    }
}

/// Boxes of page `page`: header fields and lines (one box around each line's values).
fn overlays(ex: &Extraction, page: usize) -> Vec<Overlay> {
    let f = |b: [f32; 4]| b.map(f64::from);
    let mut out: Vec<Overlay> = ex
        .invoice
        .boxes
        .iter()
        .filter(|(_, v)| v.page == page)
        .map(|(k, v)| Overlay {
            bbox: f(v.bbox),
            id: format!("field-{k}"),
            class: "field",
            label: k.clone(),
        })
        .collect();
    for (i, item) in ex.invoice.lines.iter().enumerate() {
        let bs: Vec<[f32; 4]> = item
            .boxes
            .values()
            .filter(|v| v.page == page)
            .map(|v| v.bbox)
            .collect();
        if bs.is_empty() {
            continue;
        }
        let u = bs
            .iter()
            .fold([f32::MAX, f32::MAX, f32::MIN, f32::MIN], |a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            });
        let class = match ex.lines.get(i).map(|l| l.decision.as_str()) {
            Some("match") => "line ok",
            Some("review") => "line uncertain",
            _ => "line other",
        };
        out.push(Overlay {
            bbox: f(u),
            id: format!("line-{i}"),
            class,
            label: format!("line {}", i + 1),
        });
    }
    out
}
