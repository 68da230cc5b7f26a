//! `claimscan review export`: every manager correction as a labelled example for retraining,
//! one JSON object per corrected line (JSONL), oldest first.

use std::io::Write;

use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::decision::CorrectedLine;

/// One labelled example.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub program_id: String,
    pub distributor_key: Option<String>,
    pub upload_id: String,
    pub task_id: String,
    /// What the invoice said, what the system proposed and the manager's answer
    /// (`sku: null` = not one of our products).
    #[serde(flatten)]
    pub line: CorrectedLine,
    pub decided_at: String,
}

/// Writes the examples; returns how many.
pub async fn export(pool: &PgPool, out: &mut dyn Write) -> anyhow::Result<usize> {
    let rows = sqlx::query(
        "SELECT program_id, after->>'distributor_key', upload_id, task_id::text, after->'corrections',
                to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
         FROM review_audit
         WHERE action = 'correct' AND jsonb_array_length(coalesce(after->'corrections', '[]')) > 0
         ORDER BY decided_at, id",
    )
    .fetch_all(pool)
    .await?;
    let mut n = 0;
    for r in rows {
        let corrections: Vec<CorrectedLine> =
            serde_json::from_value(r.get::<serde_json::Value, _>(4))?;
        for c in corrections {
            let ex = Example {
                program_id: r.get(0),
                distributor_key: r.get(1),
                upload_id: r.get(2),
                task_id: r.get(3),
                line: c,
                decided_at: r.get(5),
            };
            serde_json::to_writer(&mut *out, &ex)?;
            out.write_all(b"\n")?;
            n += 1;
        }
    }
    out.flush()?;
    Ok(n)
}
