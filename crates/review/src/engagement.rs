//! The engagement view: partners at risk (from `partner_scores`, written by the engagement
//! worker), their weekly purchases over the last 26 weeks (from `activity_events`) and their
//! latest scheduled or sent challenge (from `challenges`), in the manager's programs only.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::auth::Manager;
use crate::svg::activity_plot;
use crate::AppError;

/// Weeks drawn in the activity plot.
pub const WEEKS: usize = 26;
/// Partners listed.
pub const LIMIT: i64 = 100;

#[derive(Debug, Clone, Serialize)]
pub struct Challenge {
    pub goal: i32,
    pub multiplier: f64,
    pub window_start: String,
    pub window_end: String,
    pub send_at: String,
    pub status: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AtRisk {
    pub program_id: String,
    pub partner_id: String,
    pub score: f64,
    pub segment: String,
    pub reason: String,
    pub expected_purchases: f64,
    pub as_of: String,
    /// Purchases per week, oldest first.
    pub weeks: Vec<f64>,
    /// The activity plot (SVG markup, escaped where it holds text).
    pub plot: String,
    pub challenge: Option<Challenge>,
}

/// Partners of the manager's programs, riskiest first.
#[tracing::instrument(skip_all, fields(manager_id = %m.id))]
pub async fn at_risk(pool: &PgPool, m: &Manager, min_score: f64) -> Result<Vec<AtRisk>, AppError> {
    let rows = sqlx::query(
        "SELECT program_id, partner_id, score, segment, reason, expected_purchases, as_of::text
         FROM partner_scores WHERE program_id = ANY($1) AND score >= $2
         ORDER BY score DESC, partner_id LIMIT $3",
    )
    .bind(&m.programs)
    .bind(min_score)
    .bind(LIMIT)
    .fetch_all(pool)
    .await?;
    let mut out: Vec<AtRisk> = rows
        .into_iter()
        .map(|r| AtRisk {
            program_id: r.get(0),
            partner_id: r.get(1),
            score: r.get(2),
            segment: r.get(3),
            reason: r.get(4),
            expected_purchases: r.get(5),
            as_of: r.get(6),
            weeks: vec![0.0; WEEKS],
            plot: String::new(),
            challenge: None,
        })
        .collect();
    if out.is_empty() {
        return Ok(out);
    }
    let partners: Vec<String> = out.iter().map(|a| a.partner_id.clone()).collect();
    let programs: Vec<String> = out.iter().map(|a| a.program_id.clone()).collect();
    let index: HashMap<(String, String), usize> = out
        .iter()
        .enumerate()
        .map(|(i, a)| ((a.program_id.clone(), a.partner_id.clone()), i))
        .collect();
    // Week 0 is the current week; purchases are `purchase` events and claims (a claimed invoice
    // is a purchase).
    let weekly = sqlx::query(
        "SELECT e.program_id, e.partner_id,
                floor(extract(epoch FROM now() - e.occurred_at) / 604800)::int AS wk,
                count(*)::float8 AS n
         FROM activity_events e
         JOIN unnest($1::text[], $2::text[]) AS k(program_id, partner_id)
           ON e.program_id = k.program_id AND e.partner_id = k.partner_id
         WHERE e.kind IN ('purchase', 'claim') AND e.occurred_at > now() - make_interval(weeks => $3)
         GROUP BY 1, 2, 3",
    )
    .bind(&programs)
    .bind(&partners)
    .bind(WEEKS as i32)
    .fetch_all(pool)
    .await?;
    for r in weekly {
        let key = (r.get::<String, _>(0), r.get::<String, _>(1));
        let wk: i32 = r.get(2);
        if let (Some(&i), true) = (index.get(&key), (0..WEEKS as i32).contains(&wk)) {
            out[i].weeks[WEEKS - 1 - wk as usize] = r.get(3);
        }
    }
    let challenges = sqlx::query(
        "SELECT DISTINCT ON (c.program_id, c.partner_id) c.program_id, c.partner_id, c.goal, c.multiplier,
                to_char(c.window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD'), to_char(c.window_end AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                to_char(c.send_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), c.status, c.message
         FROM challenges c
         JOIN unnest($1::text[], $2::text[]) AS k(program_id, partner_id)
           ON c.program_id = k.program_id AND c.partner_id = k.partner_id
         WHERE c.status IN ('scheduled', 'published')
         ORDER BY c.program_id, c.partner_id, c.created_at DESC",
    )
    .bind(&programs)
    .bind(&partners)
    .fetch_all(pool)
    .await?;
    for r in challenges {
        let key = (r.get::<String, _>(0), r.get::<String, _>(1));
        if let Some(&i) = index.get(&key) {
            out[i].challenge = Some(Challenge {
                goal: r.get(2),
                multiplier: r.get(3),
                window_start: r.get(4),
                window_end: r.get(5),
                send_at: r.get(6),
                status: r.get(7),
                message: r.get(8),
            });
        }
    }
    for a in &mut out {
        a.plot = activity_plot(
            &a.weeks,
            &format!("weekly purchases of {}, last {WEEKS} weeks", a.partner_id),
        );
    }
    Ok(out)
}
