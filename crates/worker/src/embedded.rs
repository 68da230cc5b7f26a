//! Embedded mode for one machine: no broker, no object storage, SQLite for state. The same
//! pipeline and decision as the service worker; `claimscan run INBOX` drives it.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use claimscan_matching::Confirmation;
use rusqlite::{params, Connection, OptionalExtension};

use crate::decide::{Context, Outcome};
use crate::pipeline::Extraction;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY, program_id TEXT NOT NULL, partner_id TEXT NOT NULL, source TEXT NOT NULL,
    status TEXT NOT NULL, reason_code TEXT, reason_message TEXT, fingerprint TEXT, phash INTEGER,
    extraction TEXT, decided_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE IF NOT EXISTS invoice_fingerprints (
    program_id TEXT NOT NULL, fingerprint TEXT NOT NULL, upload_id TEXT NOT NULL,
    PRIMARY KEY (program_id, fingerprint));
CREATE TABLE IF NOT EXISTS claims (
    claim_id TEXT PRIMARY KEY, upload_id TEXT NOT NULL UNIQUE, program_id TEXT NOT NULL, partner_id TEXT,
    total_points INTEGER NOT NULL, confidence REAL NOT NULL, created_at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE IF NOT EXISTS claim_lines (
    claim_id TEXT NOT NULL, line_no INTEGER NOT NULL, sku TEXT NOT NULL, quantity REAL NOT NULL,
    points_per_unit REAL NOT NULL, multiplier REAL NOT NULL, points INTEGER NOT NULL,
    PRIMARY KEY (claim_id, line_no));
CREATE TABLE IF NOT EXISTS review_tasks (
    task_id TEXT PRIMARY KEY, upload_id TEXT NOT NULL UNIQUE, reasons TEXT NOT NULL, proposal TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open');
CREATE TABLE IF NOT EXISTS distributor_memory (
    program_id TEXT NOT NULL, distributor_key TEXT NOT NULL, product_code TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL, sku TEXT, confirmed_at TEXT NOT NULL DEFAULT (datetime('now')),
    PRIMARY KEY (program_id, distributor_key, product_code, description));
";

/// The embedded store.
pub struct LocalStore {
    conn: Connection,
}

impl LocalStore {
    pub fn open(path: &Path) -> rusqlite::Result<LocalStore> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(LocalStore { conn })
    }

    /// The recorded status of an upload, if any.
    pub fn status(&self, upload_id: &str) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT status FROM uploads WHERE upload_id = ?1",
                [upload_id],
                |r| r.get(0),
            )
            .optional()
    }

    pub fn memory(
        &self,
        program_id: &str,
        distributor_key: &str,
    ) -> rusqlite::Result<Vec<Confirmation>> {
        let mut st = self.conn.prepare(
            "SELECT product_code, description, sku FROM distributor_memory
             WHERE program_id = ?1 AND distributor_key = ?2 ORDER BY confirmed_at, description",
        )?;
        let rows = st.query_map(params![program_id, distributor_key], |r| {
            let code: String = r.get(0)?;
            Ok(Confirmation {
                distributor: distributor_key.to_string(),
                product_code: (!code.is_empty()).then_some(code),
                description: r.get(1)?,
                sku: r.get(2)?,
            })
        })?;
        rows.collect()
    }

    pub fn context(
        &self,
        program_id: &str,
        partner_id: &str,
        upload_id: &str,
        ex: &Extraction,
        today: NaiveDate,
        phash_max_distance: u32,
    ) -> rusqlite::Result<Context> {
        let mut ctx = Context {
            today,
            ..Default::default()
        };
        if let Some(fp) = &ex.fingerprint {
            ctx.duplicate_of = self
                .conn
                .query_row(
                    "SELECT upload_id FROM invoice_fingerprints WHERE program_id = ?1 AND fingerprint = ?2 AND upload_id <> ?3",
                    params![program_id, fp, upload_id],
                    |r| r.get(0),
                )
                .optional()?;
        }
        if let Some(ph) = ex.phash {
            let mut st = self.conn.prepare(
                "SELECT upload_id, phash FROM uploads WHERE program_id = ?1 AND upload_id <> ?2
                 AND phash IS NOT NULL AND status IN ('claimed', 'review')",
            )?;
            let rows = st.query_map(params![program_id, upload_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (id, other) = row?;
                if ((other as u64) ^ ph).count_ones() <= phash_max_distance {
                    ctx.similar_image_of = Some(id);
                    break;
                }
            }
        }
        let mut st = self.conn.prepare(
            "SELECT l.sku, max(l.quantity) FROM claim_lines l JOIN claims c ON c.claim_id = l.claim_id
             WHERE c.program_id = ?1 AND c.partner_id = ?2 GROUP BY l.sku",
        )?;
        ctx.partner_max_quantity = st
            .query_map(params![program_id, partner_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<HashMap<String, f64>>>()?;
        ctx.partner_points_this_month = self.conn.query_row(
            "SELECT coalesce(sum(total_points), 0) FROM claims WHERE program_id = ?1 AND partner_id = ?2
             AND created_at >= date('now', 'start of month')",
            params![program_id, partner_id],
            |r| r.get(0),
        )?;
        Ok(ctx)
    }

    /// Records an outcome (and its claim or task) in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        upload_id: &str,
        program_id: &str,
        partner_id: &str,
        source: &str,
        ex: Option<&Extraction>,
        outcome: &Outcome,
    ) -> rusqlite::Result<Option<String>> {
        let tx = self.conn.transaction()?;
        let (status, code, message) = outcome.recorded_as();
        tx.execute(
            "INSERT INTO uploads (upload_id, program_id, partner_id, source, status, reason_code, reason_message, fingerprint, phash, extraction)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                upload_id,
                program_id,
                partner_id,
                source,
                status,
                code,
                message,
                ex.and_then(|e| e.fingerprint.clone()),
                ex.and_then(|e| e.phash).map(|p| p as i64),
                ex.map(|e| serde_json::to_string(e).unwrap_or_default()),
            ],
        )?;
        if let (Outcome::Claim { .. } | Outcome::Review { .. }, Some(fp)) =
            (outcome, ex.and_then(|e| e.fingerprint.as_deref()))
        {
            tx.execute(
                "INSERT INTO invoice_fingerprints (program_id, fingerprint, upload_id) VALUES (?1, ?2, ?3)",
                params![program_id, fp, upload_id],
            )?;
        }
        let id = match outcome {
            Outcome::Claim {
                lines,
                total_points,
                confidence,
            } => {
                let claim_id = uuid::Uuid::now_v7().to_string();
                tx.execute(
                    "INSERT INTO claims (claim_id, upload_id, program_id, partner_id, total_points, confidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![claim_id, upload_id, program_id, partner_id, total_points, f64::from(*confidence)],
                )?;
                for l in lines {
                    tx.execute(
                        "INSERT INTO claim_lines VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            claim_id,
                            l.line_no,
                            l.sku,
                            l.quantity,
                            l.points_per_unit,
                            l.multiplier,
                            l.points
                        ],
                    )?;
                }
                Some(claim_id)
            }
            Outcome::Review {
                reasons,
                lines,
                total_points,
                ..
            } => {
                let task_id = uuid::Uuid::now_v7().to_string();
                tx.execute(
                    "INSERT INTO review_tasks (task_id, upload_id, reasons, proposal) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        task_id,
                        upload_id,
                        serde_json::to_string(reasons).unwrap_or_default(),
                        serde_json::json!({"lines": lines, "total_points": total_points}).to_string()
                    ],
                )?;
                Some(task_id)
            }
            Outcome::Reject { .. } => None,
        };
        tx.commit()?;
        Ok(id)
    }
}
