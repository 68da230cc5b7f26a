//! PostgreSQL state (sqlx): uploads, claims, review tasks, distributor memory and the outbox.
//!
//! Exactly-once effect: an upload's outcome, its claim or task, and the messages announcing them
//! are written in one transaction, guarded by `status = 'processing'`; a delivery is acked only
//! after that commit. A crash anywhere means redelivery, and the redelivered message finds the
//! upload decided (ack, nothing more) or still processing (do it again; nothing was written).
//!
//! Two pools: `pool` for the decisions (fully durable commits) and `progress`, a small pool whose
//! connections run with `synchronous_commit = off`, for writes that only record progress (see
//! [`Db::progress`]).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use claimscan_contracts::{
    encode, ActivityRecorded, ClaimCreated, ClaimLine, DecidedBy, InvoiceUploaded, ReviewRequested,
    UploadRejected,
};
use claimscan_matching::Confirmation;
use lapin::Channel;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use crate::amqp;
use crate::config::DatabaseConfig;
use crate::decide::{Context, Outcome};
use crate::pipeline::Extraction;

pub use sqlx::Error as DbError;

/// The embedded migrations (`crates/worker/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// State of an upload when its message arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// Not decided yet: process it (this is attempt `attempts`).
    Process { attempts: i32 },
    /// Already decided (a redelivery or a re-sent message): ack and stop.
    Done { status: String },
    /// The upload id is known with another partner or file: refuse.
    Conflict,
}

/// What recording an outcome did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Claim {
        claim_id: String,
        total_points: i64,
    },
    Review {
        task_id: String,
    },
    Rejected {
        code: String,
    },
    /// Another worker decided this upload first; nothing was written.
    AlreadyDecided,
}

/// Objects to delete for an erasure.
#[derive(Debug, Default)]
pub struct ErasePlan {
    pub uploads: usize,
    pub objects: Vec<(String, String)>,
    pub artifact_prefixes: Vec<String>,
}

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `partner_id` is personal data: the erasure log keeps only its hash.
pub fn partner_hash(partner_id: &str) -> String {
    claimscan_read::sha256_hex(partner_id.as_bytes())
}

#[derive(Clone)]
pub struct Db {
    /// Decisions and everything read: commits wait for the WAL flush (durable).
    pub pool: PgPool,
    /// Progress only (an upload registered as processing, its attempt counter, a shadow
    /// comparison, the outbox relay's `published_at`): commits do not wait for the WAL flush
    /// (`synchronous_commit = off`).
    ///
    /// Why that is safe: PostgreSQL still writes these commits in order and never corrupts
    /// anything; a server crash can only lose the last few hundred milliseconds of them. A lost
    /// progress row only means redoing work: the delivery was not acked (acks wait for the
    /// decision), so it comes back, `begin_upload` registers the upload again and the pipeline
    /// runs again; a lost `published_at` republishes an outbox message, which consumers already
    /// dedupe on `message_id` (the relay is at-least-once anyway). The decision transaction
    /// (upload status, claim or task, outbox rows) runs on `pool` and is fully durable, and since
    /// the WAL is one sequence, its flush also makes every earlier progress commit durable.
    /// Connected lazily: tools that never write progress open no connection here.
    pub progress: PgPool,
}

impl Db {
    /// Connects, creates the schema if needed and runs the migrations.
    pub async fn connect(cfg: &DatabaseConfig) -> Result<Db, DbError> {
        let base: PgConnectOptions = cfg.url.parse()?;
        // Create the schema over a plain connection first (the pool's search_path needs it).
        let setup = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(base.clone())
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{}\"",
            cfg.schema
        )))
        .execute(&setup)
        .await?;
        setup.close().await;
        let opts = base.options([("search_path", cfg.schema.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(cfg.max_connections)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(opts.clone())
            .await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| DbError::Migrate(Box::new(e)))?;
        let progress = PgPoolOptions::new()
            .max_connections((cfg.max_connections / 2).clamp(1, 4))
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_lazy_with(opts.options([("synchronous_commit", "off")]));
        Ok(Db { pool, progress })
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// Registers the upload (first delivery) or finds its state (any later one). Progress only
    /// (see [`Db::progress`]).
    pub async fn begin_upload(&self, m: &InvoiceUploaded) -> Result<Begin, DbError> {
        let uploaded_at = chrono::DateTime::parse_from_rfc3339(&m.uploaded_at).ok();
        let row = sqlx::query(
            "INSERT INTO uploads (upload_id, program_id, partner_id, bucket, object_key, content_type, uploaded_at, attempts)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
             ON CONFLICT (upload_id) DO UPDATE SET attempts = uploads.attempts + 1
             RETURNING status, attempts, program_id, partner_id, bucket, object_key",
        )
        .bind(&m.upload_id)
        .bind(&m.program_id)
        .bind(&m.partner_id)
        .bind(&m.bucket)
        .bind(&m.key)
        .bind(&m.content_type)
        .bind(uploaded_at)
        .fetch_one(&self.progress)
        .await?;
        let status: String = row.get("status");
        let same = row.get::<String, _>("program_id") == m.program_id
            && row.get::<Option<String>, _>("partner_id").as_deref() == Some(m.partner_id.as_str())
            && row.get::<Option<String>, _>("bucket").as_deref() == Some(m.bucket.as_str())
            && row.get::<Option<String>, _>("object_key").as_deref() == Some(m.key.as_str());
        if status != "processing" {
            return Ok(Begin::Done { status });
        }
        if !same {
            return Ok(Begin::Conflict);
        }
        Ok(Begin::Process {
            attempts: row.get("attempts"),
        })
    }

    /// Records how the shadow model's reading of an upload differed from the live model's.
    pub async fn record_shadow(
        &self,
        upload_id: &str,
        diff: &crate::models::ShadowDiff,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO shadow_results (upload_id, live_reader, shadow_reader, agree, diff)
             VALUES ($1, $2, $3, $4, $5::jsonb)",
        )
        .bind(upload_id)
        .bind(&diff.live)
        .bind(&diff.shadow)
        .bind(diff.agree)
        .bind(serde_json::to_string(diff).unwrap_or_else(|_| "{}".into()))
        .execute(&self.progress)
        .await?;
        Ok(())
    }

    /// The distributor's confirmed mappings, oldest first.
    pub async fn memory(
        &self,
        program_id: &str,
        distributor_key: &str,
    ) -> Result<Vec<Confirmation>, DbError> {
        let rows = sqlx::query(
            "SELECT product_code, description, sku FROM distributor_memory
             WHERE program_id = $1 AND distributor_key = $2 ORDER BY confirmed_at, description",
        )
        .bind(program_id)
        .bind(distributor_key)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let code: String = r.get("product_code");
                Confirmation {
                    distributor: distributor_key.to_string(),
                    product_code: (!code.is_empty()).then_some(code),
                    description: r.get("description"),
                    sku: r.get("sku"),
                }
            })
            .collect())
    }

    /// Teaches the memory (a manager's correction): later confirmations win.
    pub async fn remember(&self, program_id: &str, c: &Confirmation) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO distributor_memory (program_id, distributor_key, product_code, description, sku)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (program_id, distributor_key, product_code, description)
             DO UPDATE SET sku = EXCLUDED.sku, confirmed_at = now()",
        )
        .bind(program_id)
        .bind(&c.distributor)
        .bind(c.product_code.as_deref().unwrap_or(""))
        .bind(&c.description)
        .bind(&c.sku)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Everything the decision and the matcher need from the database, in one query (one round
    /// trip): the upload claimed earlier with the same fingerprint, a similar picture, the
    /// partner's largest quantity per SKU, their points this month, and the distributor's
    /// confirmed mappings (oldest first). Needs only what reading found, so it runs before
    /// matching.
    pub async fn context(
        &self,
        m: &InvoiceUploaded,
        fingerprint: Option<&str>,
        phash: Option<u64>,
        distributor_key: Option<&str>,
        today: NaiveDate,
        phash_max_distance: u32,
    ) -> Result<(Context, Vec<Confirmation>), DbError> {
        let row = sqlx::query(
            "SELECT
               (SELECT upload_id FROM invoice_fingerprints
                 WHERE $4::text IS NOT NULL AND program_id = $1 AND fingerprint = $4 AND upload_id <> $2)
                 AS duplicate_of,
               (SELECT upload_id FROM uploads
                 WHERE $5::bigint IS NOT NULL AND program_id = $1 AND upload_id <> $2
                   AND phash IS NOT NULL AND status IN ('claimed', 'review')
                   AND bit_count((phash # $5)::bit(64)) <= $6
                 LIMIT 1) AS similar_image_of,
               (SELECT coalesce(jsonb_agg(jsonb_build_array(h.sku, h.q)), '[]'::jsonb)
                  FROM (SELECT l.sku, max(l.quantity) AS q FROM claim_lines l JOIN claims c USING (claim_id)
                         WHERE c.program_id = $1 AND c.partner_id = $3 GROUP BY l.sku) h) AS history,
               (SELECT coalesce(sum(total_points), 0)::bigint FROM claims
                 WHERE program_id = $1 AND partner_id = $3 AND created_at >= date_trunc('month', now()))
                 AS month_points,
               (SELECT coalesce(jsonb_agg(jsonb_build_array(product_code, description, sku)
                                          ORDER BY confirmed_at, description), '[]'::jsonb)
                  FROM distributor_memory
                 WHERE $7::text IS NOT NULL AND program_id = $1 AND distributor_key = $7) AS memory",
        )
        .bind(&m.program_id)
        .bind(&m.upload_id)
        .bind(&m.partner_id)
        .bind(fingerprint)
        .bind(phash.map(|p| p as i64))
        .bind(i64::from(phash_max_distance))
        .bind(distributor_key)
        .fetch_one(&self.pool)
        .await?;
        let history: serde_json::Value = row.get("history");
        let partner_max_quantity = history
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| Some((r[0].as_str()?.to_string(), r[1].as_f64()?)))
            .collect::<HashMap<_, _>>();
        let ctx = Context {
            today,
            duplicate_of: row.get("duplicate_of"),
            similar_image_of: row.get("similar_image_of"),
            partner_max_quantity,
            partner_points_this_month: row.get("month_points"),
        };
        let memory: serde_json::Value = row.get("memory");
        let confirmations = match distributor_key {
            Some(k) => memory
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    let code = r[0].as_str()?;
                    Some(Confirmation {
                        distributor: k.to_string(),
                        product_code: (!code.is_empty()).then(|| code.to_string()),
                        description: r[1].as_str()?.to_string(),
                        sku: r[2].as_str().map(str::to_string),
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        Ok((ctx, confirmations))
    }

    /// Writes the outcome, its claim or task and its messages in one transaction.
    pub async fn record(
        &self,
        m: &InvoiceUploaded,
        ex: Option<&Extraction>,
        outcome: &Outcome,
        artifacts_prefix: Option<&str>,
    ) -> Result<Recorded, DbError> {
        match self
            .record_with(m, ex, outcome, artifacts_prefix, async {
                Ok::<(), std::convert::Infallible>(())
            })
            .await?
        {
            Ok(r) => Ok(r),
            Err(never) => match never {},
        }
    }

    /// [`Db::record`], with `before_commit` (a review's artifacts upload) run concurrently with
    /// the transaction's statements and awaited before COMMIT: no review task is ever committed
    /// before the pictures and JSON it names. If it fails, the transaction is rolled back and its
    /// error is returned (inside `Ok`). Any other decided upload with an extraction and an
    /// artifacts prefix is committed with `artifacts_pending` set, and the relay stores its JSON
    /// afterwards ([`Db::store_pending_artifacts`]).
    ///
    /// Four round trips whatever the outcome: BEGIN; the upload's status and the invoice's
    /// fingerprint (one statement); the claim with its lines, or the task, and every outbox row
    /// (one statement); COMMIT.
    pub async fn record_with<E>(
        &self,
        m: &InvoiceUploaded,
        ex: Option<&Extraction>,
        outcome: &Outcome,
        artifacts_prefix: Option<&str>,
        before_commit: impl std::future::Future<Output = Result<(), E>>,
    ) -> Result<Result<Recorded, E>, DbError> {
        let statements = async {
            let mut tx = self.pool.begin().await?;
            let r = self
                .record_statements(&mut tx, m, ex, outcome, artifacts_prefix)
                .await?;
            Ok::<_, DbError>((tx, r))
        };
        let (before, statements) = tokio::join!(before_commit, statements);
        let (tx, step) = statements?;
        if let Err(e) = before {
            tx.rollback().await?;
            return Ok(Err(e));
        }
        match step {
            Step::Written(r) => {
                tx.commit().await?;
                Ok(Ok(r))
            }
            Step::AlreadyDecided => {
                tx.rollback().await?;
                Ok(Ok(Recorded::AlreadyDecided))
            }
            Step::DuplicateRace => {
                // Another upload of the same invoice won the race: this one is a duplicate.
                tx.rollback().await?;
                let dup = Outcome::Reject {
                    code: "duplicate_invoice".into(),
                    message: "this invoice was claimed by another upload at the same time".into(),
                };
                Box::pin(self.record(m, ex, &dup, artifacts_prefix))
                    .await
                    .map(Ok)
            }
        }
    }

    async fn record_statements(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        m: &InvoiceUploaded,
        ex: Option<&Extraction>,
        outcome: &Outcome,
        artifacts_prefix: Option<&str>,
    ) -> Result<Step, DbError> {
        let (status, code, message) = outcome.recorded_as();
        // The extraction JSON of an upload not sent to review is stored after the commit, by the
        // relay (`store_pending_artifacts`); a review's is stored before it (`record_with`'s
        // `before_commit`), since its review.requested names it.
        let json_pending = ex.is_some()
            && artifacts_prefix.is_some()
            && !matches!(outcome, Outcome::Review { .. });
        let extraction_json =
            ex.map(|e| serde_json::to_value(e).unwrap_or(serde_json::Value::Null));
        // One claim (or open task) per invoice per program, whoever uploads it: the fingerprint
        // row is taken in the same statement as the status.
        let fingerprint = match outcome {
            Outcome::Claim { .. } | Outcome::Review { .. } => {
                ex.and_then(|e| e.fingerprint.as_deref())
            }
            Outcome::Reject { .. } => None,
        };
        let row = sqlx::query(
            "WITH up AS (
               UPDATE uploads SET status = $2, reason_code = $3, reason_message = $4, sha256 = $5,
                      fingerprint = $6, phash = $7, distributor_key = $8, reader = $9, confidence = $10,
                      extraction = $11, artifacts_prefix = $12, artifacts_pending = $14,
                      decided_at = now()
                WHERE upload_id = $1 AND status = 'processing'
               RETURNING upload_id, program_id),
             fp AS (
               INSERT INTO invoice_fingerprints (program_id, fingerprint, upload_id)
               SELECT program_id, $13, upload_id FROM up WHERE $13::text IS NOT NULL
               ON CONFLICT DO NOTHING
               RETURNING 1)
             SELECT (SELECT count(*) FROM up) AS updated, (SELECT count(*) FROM fp) AS fingerprinted",
        )
        .bind(&m.upload_id)
        .bind(status)
        .bind(&code)
        .bind(&message)
        .bind(ex.map(|e| e.sha256.clone()))
        .bind(ex.and_then(|e| e.fingerprint.clone()))
        .bind(ex.and_then(|e| e.phash).map(|p| p as i64))
        .bind(ex.and_then(|e| e.distributor_key.clone()))
        .bind(ex.map(|e| e.reader.clone()))
        .bind(ex.map(|e| e.invoice.confidence))
        .bind(extraction_json)
        .bind(artifacts_prefix)
        .bind(fingerprint)
        .bind(json_pending)
        .fetch_one(&mut **tx)
        .await?;
        if row.get::<i64, _>("updated") == 0 {
            return Ok(Step::AlreadyDecided);
        }
        if fingerprint.is_some() && row.get::<i64, _>("fingerprinted") == 0 {
            return Ok(Step::DuplicateRace);
        }

        let mut out = Outbox::default();
        let recorded = match outcome {
            Outcome::Claim {
                lines,
                total_points,
                confidence,
            } => {
                let claim_id = uuid::Uuid::now_v7();
                let invoice_date = ex
                    .and_then(|e| e.invoice.header.invoice_date.as_deref())
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                let msg = ClaimCreated {
                    claim_id: claim_id.to_string(),
                    upload_id: m.upload_id.clone(),
                    partner_id: m.partner_id.clone(),
                    program_id: m.program_id.clone(),
                    fingerprint: ex.and_then(|e| e.fingerprint.clone()).unwrap_or_default(),
                    lines: lines.clone(),
                    total_points: *total_points,
                    confidence: *confidence,
                    decided_by: DecidedBy::Auto,
                    created_at: now_rfc3339(),
                };
                out.push(
                    format!("claim.created:{}", m.upload_id),
                    "claim.created",
                    encode(&msg),
                );
                let activity = ActivityRecorded {
                    partner_id: m.partner_id.clone(),
                    program_id: m.program_id.clone(),
                    occurred_at: now_rfc3339(),
                    kind: "claim".into(),
                    quantity: Some(lines.iter().map(|l| l.quantity).sum()),
                    amount: Some(*total_points as f64),
                };
                out.push(
                    format!("activity.recorded:claim:{}", m.upload_id),
                    "activity.recorded",
                    encode(&activity),
                );
                // The claim, its lines (UNNEST) and its messages in one statement; the lines'
                // foreign key is checked at the end of the statement, after the claim is in.
                let l = Lines::of(lines);
                sqlx::query(
                    "WITH c AS (
                       INSERT INTO claims (claim_id, upload_id, program_id, partner_id, total_points, confidence, decided_by, invoice_date)
                       VALUES ($1, $2, $3, $4, $5, $6, 'auto', $7)),
                     l AS (
                       INSERT INTO claim_lines (claim_id, line_no, sku, quantity, points_per_unit, multiplier, points)
                       SELECT $1, * FROM UNNEST($8::int4[], $9::text[], $10::float8[], $11::float8[], $12::float8[], $13::int8[])),
                     o AS (
                       INSERT INTO outbox (message_id, routing_key, body, partner_id)
                       SELECT *, $4 FROM UNNEST($14::text[], $15::text[], $16::bytea[])
                       ON CONFLICT (message_id) DO NOTHING)
                     SELECT 1",
                )
                .bind(claim_id)
                .bind(&m.upload_id)
                .bind(&m.program_id)
                .bind(&m.partner_id)
                .bind(total_points)
                .bind(confidence)
                .bind(invoice_date)
                .bind(l.line_no)
                .bind(l.sku)
                .bind(l.quantity)
                .bind(l.points_per_unit)
                .bind(l.multiplier)
                .bind(l.points)
                .bind(out.ids)
                .bind(out.keys)
                .bind(out.bodies)
                .execute(&mut **tx)
                .await?;
                Recorded::Claim {
                    claim_id: claim_id.to_string(),
                    total_points: *total_points,
                }
            }
            Outcome::Review {
                reasons,
                lines,
                total_points,
                confidence,
            } => {
                let task_id = uuid::Uuid::now_v7();
                let proposal = serde_json::json!({"lines": lines, "total_points": total_points});
                let msg = ReviewRequested {
                    task_id: task_id.to_string(),
                    upload_id: m.upload_id.clone(),
                    partner_id: m.partner_id.clone(),
                    program_id: m.program_id.clone(),
                    reasons: reasons.clone(),
                    confidence: *confidence,
                    extraction_key: artifacts_prefix.map(|p| format!("{p}extraction.json")),
                    created_at: now_rfc3339(),
                };
                out.push(
                    format!("review.requested:{}", m.upload_id),
                    "review.requested",
                    encode(&msg),
                );
                sqlx::query(
                    "WITH t AS (
                       INSERT INTO review_tasks (task_id, upload_id, program_id, partner_id, reasons, proposal, confidence)
                       VALUES ($1, $2, $3, $4, $5, $6, $7)),
                     o AS (
                       INSERT INTO outbox (message_id, routing_key, body, partner_id)
                       SELECT *, $4 FROM UNNEST($8::text[], $9::text[], $10::bytea[])
                       ON CONFLICT (message_id) DO NOTHING)
                     SELECT 1",
                )
                .bind(task_id)
                .bind(&m.upload_id)
                .bind(&m.program_id)
                .bind(&m.partner_id)
                .bind(serde_json::to_value(reasons).unwrap_or_default())
                .bind(proposal)
                .bind(confidence)
                .bind(out.ids)
                .bind(out.keys)
                .bind(out.bodies)
                .execute(&mut **tx)
                .await?;
                Recorded::Review {
                    task_id: task_id.to_string(),
                }
            }
            Outcome::Reject { code, message } => {
                let msg = UploadRejected {
                    upload_id: m.upload_id.clone(),
                    partner_id: m.partner_id.clone(),
                    program_id: m.program_id.clone(),
                    code: code.clone(),
                    message: message.clone(),
                    rejected_at: now_rfc3339(),
                };
                outbox(
                    tx,
                    &format!("upload.rejected:{}", m.upload_id),
                    "upload.rejected",
                    encode(&msg),
                    &m.partner_id,
                )
                .await?;
                Recorded::Rejected { code: code.clone() }
            }
        };
        Ok(Step::Written(recorded))
    }

    /// Marks an upload parked (too many failed attempts); the message goes to the parking queue.
    pub async fn park_upload(
        &self,
        upload_id: &str,
        code: &str,
        message: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE uploads SET status = 'parked', reason_code = $2, reason_message = $3, decided_at = now()
             WHERE upload_id = $1 AND status = 'processing'",
        )
        .bind(upload_id)
        .bind(code)
        .bind(message)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a message that could not be decoded.
    pub async fn park_message(&self, code: &str, detail: &str, body: &[u8]) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO parked_messages (reason_code, detail, body_sha256) VALUES ($1, $2, $3)",
        )
        .bind(code)
        .bind(detail.chars().take(1000).collect::<String>())
        .bind(claimscan_read::sha256_hex(body))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Publishes up to `limit` pending outbox messages (confirmed), marks them published.
    /// Safe with several relays: rows are claimed with `FOR UPDATE SKIP LOCKED`. A crash between
    /// publish and commit publishes again: consumers dedupe on `message_id`.
    /// The rows of `sql` (a `SELECT ... LIMIT $1 FOR UPDATE SKIP LOCKED`) locked in a
    /// transaction on `progress`, for a relay's batch; `None` when there are none.
    async fn locked_batch(
        &self,
        sql: &'static str,
        limit: i64,
    ) -> Result<
        Option<(
            sqlx::Transaction<'static, sqlx::Postgres>,
            Vec<sqlx::postgres::PgRow>,
        )>,
        DbError,
    > {
        let mut tx = self.progress.begin().await?;
        let rows = sqlx::query(sql).bind(limit).fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some((tx, rows)))
    }

    pub async fn relay_outbox(
        &self,
        ch: &Channel,
        exchange: &str,
        limit: i64,
    ) -> anyhow::Result<usize> {
        // Marking messages published is progress (at-least-once either way): see `progress`.
        let Some((mut tx, rows)) = self
            .locked_batch(
                "SELECT id, message_id, routing_key, body FROM outbox WHERE published_at IS NULL
                 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
            .await?
        else {
            return Ok(0);
        };
        let mut confirms = Vec::with_capacity(rows.len());
        let mut ids = Vec::with_capacity(rows.len());
        for r in &rows {
            let body: Vec<u8> = r.get("body");
            let mid: String = r.get("message_id");
            let rk: String = r.get("routing_key");
            let c = ch
                .basic_publish(
                    exchange.into(),
                    rk.as_str().into(),
                    lapin::options::BasicPublishOptions::default(),
                    &body,
                    amqp::properties(&mid, Default::default()),
                )
                .await?;
            confirms.push(c);
            ids.push(r.get::<i64, _>("id"));
        }
        for c in confirms {
            if c.await?.is_nack() {
                anyhow::bail!("broker nacked an outbox message");
            }
        }
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ids.len())
    }

    /// Stores the extraction JSON of decided uploads whose JSON is still pending (committed
    /// with `artifacts_pending`; see migration 0007), at most `limit` of them, with `put(key,
    /// bytes)`, then clears their mark. The rows stay locked (`FOR UPDATE SKIP LOCKED`) from
    /// before the first PUT to after the mark is cleared: two relays never store the same JSON
    /// at once, and an erasure (which clears the marks first, [`Db::erase_plan`]) waits for a
    /// PUT under way before it deletes the partner's objects. Clearing is progress (see
    /// `progress`): if it is lost, the JSON is stored again, the same bytes.
    pub async fn store_pending_artifacts<F, Fut, E>(
        &self,
        limit: i64,
        put: F,
    ) -> anyhow::Result<usize>
    where
        F: Fn(String, Vec<u8>) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let Some((mut tx, rows)) = self
            .locked_batch(
                "SELECT upload_id, artifacts_prefix, extraction FROM uploads WHERE artifacts_pending
                 ORDER BY upload_id LIMIT $1 FOR UPDATE SKIP LOCKED",
                limit,
            )
            .await?
        else {
            return Ok(0);
        };
        let mut ids = Vec::with_capacity(rows.len());
        let mut puts = Vec::with_capacity(rows.len());
        for r in &rows {
            ids.push(r.get::<String, _>("upload_id"));
            let prefix: Option<String> = r.get("artifacts_prefix");
            let json: Option<serde_json::Value> = r.get("extraction");
            if let (Some(prefix), Some(json)) = (prefix, json) {
                let bytes = serde_json::to_vec_pretty(&json)?;
                puts.push(put(format!("{prefix}extraction.json"), bytes));
            }
        }
        for p in puts {
            p.await?;
        }
        sqlx::query("UPDATE uploads SET artifacts_pending = false WHERE upload_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ids.len())
    }

    /// Decided uploads whose extraction JSON is not stored yet.
    pub async fn artifacts_pending(&self) -> Result<i64, DbError> {
        sqlx::query_scalar("SELECT count(*) FROM uploads WHERE artifacts_pending")
            .fetch_one(&self.pool)
            .await
    }

    pub async fn outbox_pending(&self) -> Result<i64, DbError> {
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&self.pool)
            .await
    }

    /// What an erasure must delete from object storage (phase 1). The one change: the
    /// partner's extraction JSONs still pending are no longer to be stored; the UPDATE waits
    /// for a relay's PUT under way (it holds the row), so no JSON lands after the deletion.
    pub async fn erase_plan(&self, partner_id: &str) -> Result<ErasePlan, DbError> {
        let rows = sqlx::query(
            "UPDATE uploads SET artifacts_pending = false WHERE partner_id = $1
             RETURNING program_id, upload_id, bucket, object_key, artifacts_prefix",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        let mut plan = ErasePlan {
            uploads: rows.len(),
            ..Default::default()
        };
        for r in rows {
            if let (Some(b), Some(k)) = (
                r.get::<Option<String>, _>("bucket"),
                r.get::<Option<String>, _>("object_key"),
            ) {
                plan.objects.push((b, k));
            }
            // The upload's own prefix, whatever the row says: an attempt that crashed or was
            // parked after writing artifacts left files there that no row points at.
            let own = crate::s3::artifacts_prefix(
                &r.get::<String, _>("program_id"),
                &r.get::<String, _>("upload_id"),
            );
            let stored = r.get::<Option<String>, _>("artifacts_prefix");
            if let Some(p) = stored.filter(|p| *p != own) {
                plan.artifact_prefixes.push(p);
            }
            plan.artifact_prefixes.push(own);
        }
        Ok(plan)
    }

    /// Phase 2 of an erasure, after the objects are gone: personal data out of every table,
    /// claim totals kept (anonymised) for the ledger. Idempotent.
    pub async fn erase_rows(&self, partner_id: &str, objects: usize) -> Result<usize, DbError> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE uploads SET partner_id = NULL, object_key = NULL, bucket = NULL, extraction = NULL,
                    artifacts_prefix = NULL, reason_message = NULL
             WHERE partner_id = $1",
        )
        .bind(partner_id)
        .execute(&mut *tx)
        .await?
        .rows_affected() as usize;
        sqlx::query("UPDATE claims SET partner_id = NULL WHERE partner_id = $1")
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE review_tasks SET partner_id = NULL WHERE partner_id = $1")
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        // Engagement data (migration 0003) is personal through and through: delete it.
        for table in [
            "outbox",
            "activity_events",
            "partner_consent",
            "partner_scores",
            "challenges",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE partner_id = $1"
            )))
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO erasures (partner_hash, uploads, objects) VALUES ($1, $2, $3)
             ON CONFLICT (partner_hash) DO UPDATE SET erased_at = now(),
                 uploads = erasures.uploads + EXCLUDED.uploads, objects = erasures.objects + EXCLUDED.objects",
        )
        .bind(partner_hash(partner_id))
        .bind(n as i32)
        .bind(objects as i32)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Inserts a claim's lines in one statement (shared with the review app's decisions).
pub async fn insert_lines(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    claim_id: uuid::Uuid,
    lines: &[ClaimLine],
) -> Result<(), DbError> {
    if lines.is_empty() {
        return Ok(());
    }
    let l = Lines::of(lines);
    sqlx::query(
        "INSERT INTO claim_lines (claim_id, line_no, sku, quantity, points_per_unit, multiplier, points)
         SELECT $1, * FROM UNNEST($2::int4[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::int8[])",
    )
    .bind(claim_id)
    .bind(l.line_no)
    .bind(l.sku)
    .bind(l.quantity)
    .bind(l.points_per_unit)
    .bind(l.multiplier)
    .bind(l.points)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What one decision statement writes after the upload's status.
enum Step {
    Written(Recorded),
    /// The upload was no longer processing: nothing to write.
    AlreadyDecided,
    /// Another upload holds the invoice's fingerprint.
    DuplicateRace,
}

/// A claim's lines as columns, for `UNNEST`.
struct Lines {
    line_no: Vec<i32>,
    sku: Vec<String>,
    quantity: Vec<f64>,
    points_per_unit: Vec<f64>,
    multiplier: Vec<f64>,
    points: Vec<i64>,
}

impl Lines {
    fn of(lines: &[ClaimLine]) -> Lines {
        Lines {
            line_no: lines.iter().map(|l| l.line_no as i32).collect(),
            sku: lines.iter().map(|l| l.sku.clone()).collect(),
            quantity: lines.iter().map(|l| l.quantity).collect(),
            points_per_unit: lines.iter().map(|l| l.points_per_unit).collect(),
            multiplier: lines.iter().map(|l| l.multiplier).collect(),
            points: lines.iter().map(|l| l.points).collect(),
        }
    }
}

/// Outbox rows as columns, for `UNNEST`.
#[derive(Default)]
struct Outbox {
    ids: Vec<String>,
    keys: Vec<String>,
    bodies: Vec<Vec<u8>>,
}

impl Outbox {
    fn push(&mut self, id: String, key: &str, body: Vec<u8>) {
        self.ids.push(id);
        self.keys.push(key.into());
        self.bodies.push(body);
    }
}

/// Queues a message in the outbox, in the caller's transaction (shared with the review app).
pub async fn outbox(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    message_id: &str,
    routing_key: &str,
    body: Vec<u8>,
    partner_id: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO outbox (message_id, routing_key, body, partner_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(routing_key)
    .bind(body)
    .bind(partner_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
