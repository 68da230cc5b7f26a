//! PostgreSQL side of the engagement worker (tables of migrations 0003 and 0005).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use claimscan_contracts::{encode, ChallengeScheduled};
use claimscan_engagement::events::EventRows;
use claimscan_engagement::plan::{Challenge, PlanSettings};
use claimscan_engagement::PartnerScore;
use futures_lite::StreamExt;
use sqlx::Row;

use crate::db::{Db, DbError};

/// Event kinds the `activity_events` table accepts.
pub const KINDS: [&str; 6] = [
    "purchase",
    "claim",
    "login",
    "challenge_joined",
    "challenge_completed",
    "message_opened",
];

/// One activity event to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: String,
    pub program_id: String,
    pub partner_id: String,
    pub occurred_at: DateTime<Utc>,
    pub kind: String,
    pub quantity: Option<f64>,
    pub amount: Option<f64>,
}

/// Which programs are in their quiet hours right now.
#[derive(Debug, Default, Clone)]
pub struct QuietNow {
    /// For programs without their own settings.
    pub default: bool,
    /// Programs with their own settings: quiet or not.
    pub overrides: std::collections::BTreeMap<String, bool>,
}

/// What publishing due challenges did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Published {
    pub published: usize,
    /// Due during quiet hours: left for later.
    pub deferred: usize,
    /// Window already over: cancelled.
    pub expired: usize,
}

fn ts(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Db {
    /// Stores events (idempotent on `event_id`); returns how many were new.
    pub async fn insert_events(&self, events: &[NewEvent]) -> Result<u64, DbError> {
        if events.is_empty() {
            return Ok(0);
        }
        let col = |f: fn(&NewEvent) -> String| events.iter().map(f).collect::<Vec<_>>();
        let r = sqlx::query(
            "INSERT INTO activity_events (event_id, program_id, partner_id, occurred_at, kind, quantity, amount)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                                  $6::float8[], $7::float8[])
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(col(|e| e.event_id.clone()))
        .bind(col(|e| e.program_id.clone()))
        .bind(col(|e| e.partner_id.clone()))
        .bind(events.iter().map(|e| e.occurred_at).collect::<Vec<_>>())
        .bind(col(|e| e.kind.clone()))
        .bind(events.iter().map(|e| e.quantity).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.amount).collect::<Vec<_>>())
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Records consent (a later row of the same partner wins); returns the rows written.
    pub async fn set_consent(
        &self,
        program_id: &str,
        rows: &[(String, bool)],
    ) -> Result<u64, DbError> {
        let mut last: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
        for (p, c) in rows {
            last.insert(p, *c);
        }
        let (ids, flags): (Vec<String>, Vec<bool>) =
            last.into_iter().map(|(p, c)| (p.to_string(), c)).unzip();
        let r = sqlx::query(
            "INSERT INTO partner_consent (program_id, partner_id, consented, updated_at)
             SELECT $1, p, c, now() FROM UNNEST($2::text[], $3::bool[]) AS t(p, c)
             ON CONFLICT (program_id, partner_id) DO UPDATE SET
                consented = EXCLUDED.consented, updated_at = EXCLUDED.updated_at",
        )
        .bind(program_id)
        .bind(ids)
        .bind(flags)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Programs with activity.
    pub async fn engagement_programs(&self) -> Result<Vec<String>, DbError> {
        sqlx::query_scalar("SELECT DISTINCT program_id FROM activity_events ORDER BY 1")
            .fetch_all(&self.pool)
            .await
    }

    /// A program's events since `from`, each on its calendar day in program time.
    pub async fn program_events(
        &self,
        program_id: &str,
        from: DateTime<Utc>,
        utc_offset_minutes: i32,
    ) -> Result<EventRows, DbError> {
        let mut rows = sqlx::query(
            "SELECT partner_id,
                    (((occurred_at AT TIME ZONE 'UTC') + make_interval(mins => $3))::date
                      - DATE '1970-01-01') AS day,
                    kind, quantity, amount
             FROM activity_events WHERE program_id = $1 AND occurred_at >= $2",
        )
        .bind(program_id)
        .bind(from)
        .bind(utc_offset_minutes)
        .fetch(&self.pool);
        let mut out = EventRows::default();
        while let Some(r) = rows.next().await {
            let r = r?;
            out.partner_id.push(r.get("partner_id"));
            out.day.push(r.get("day"));
            out.kind.push(r.get("kind"));
            out.quantity.push(r.get("quantity"));
            out.amount.push(r.get("amount"));
        }
        Ok(out)
    }

    /// Replaces the program's partners' latest scores, keeping the alert memory: a partner's
    /// `at_risk_since` is the as-of date of the first of their consecutive scorings at or above
    /// `threshold` (NULL below it). Returns, for the partners at or above it now, the days since
    /// that date.
    pub async fn upsert_scores(
        &self,
        program_id: &str,
        as_of: chrono::NaiveDate,
        scores: &[PartnerScore],
        threshold: f64,
    ) -> Result<HashMap<String, i32>, DbError> {
        let mut at_risk_days = HashMap::new();
        for chunk in scores.chunks(10_000) {
            let rows = sqlx::query(
                "INSERT INTO partner_scores (program_id, partner_id, as_of, score, segment, expected_purchases, reason, scored_at, at_risk_since)
                 SELECT $1, p, $2, s, g, e, r, now(), CASE WHEN s >= $8 THEN $2::date END
                 FROM UNNEST($3::text[], $4::float8[], $5::text[], $6::float8[], $7::text[]) AS t(p, s, g, e, r)
                 ON CONFLICT (program_id, partner_id) DO UPDATE SET
                    as_of = EXCLUDED.as_of, score = EXCLUDED.score, segment = EXCLUDED.segment,
                    expected_purchases = EXCLUDED.expected_purchases, reason = EXCLUDED.reason,
                    scored_at = EXCLUDED.scored_at,
                    at_risk_since = CASE WHEN EXCLUDED.score >= $8
                        THEN coalesce(partner_scores.at_risk_since, EXCLUDED.as_of) END
                 RETURNING partner_id, at_risk_since",
            )
            .bind(program_id)
            .bind(as_of)
            .bind(chunk.iter().map(|s| s.partner_id.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|s| s.score.clamp(0.0, 1.0)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|s| s.segment.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|s| s.expected_purchases).collect::<Vec<_>>())
            .bind(chunk.iter().map(|s| s.reason.clone()).collect::<Vec<_>>())
            .bind(threshold)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                if let Some(since) = r.get::<Option<chrono::NaiveDate>, _>("at_risk_since") {
                    at_risk_days.insert(
                        r.get::<String, _>("partner_id"),
                        (as_of - since).num_days() as i32,
                    );
                }
            }
        }
        Ok(at_risk_days)
    }

    /// Consented partners of a program.
    pub async fn consented(&self, program_id: &str) -> Result<HashSet<String>, DbError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT partner_id FROM partner_consent WHERE program_id = $1 AND consented",
        )
        .bind(program_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().collect())
    }

    /// `(partner_id, opened_at)` of a program's `message_opened` events since `from`.
    pub async fn opens(
        &self,
        program_id: &str,
        from: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, DbError> {
        let rows = sqlx::query(
            "SELECT partner_id, occurred_at FROM activity_events
             WHERE program_id = $1 AND kind = 'message_opened' AND occurred_at >= $2",
        )
        .bind(program_id)
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.get::<String, _>("partner_id"),
                    r.get::<DateTime<Utc>, _>("occurred_at").timestamp(),
                )
            })
            .collect())
    }

    /// Plans a program's challenges and stores them, under a per-program lock so that two
    /// workers never plan the same partner twice. `plan` gets the earlier challenges (within
    /// the cooldown) and the budget left, and returns what to insert. Returns the inserted ones.
    pub async fn plan_challenges<F>(
        &self,
        program_id: &str,
        s: &PlanSettings,
        now: DateTime<Utc>,
        plan: F,
    ) -> Result<Vec<Challenge>, DbError>
    where
        F: FnOnce(&[(String, i64)], f64) -> Vec<Challenge>,
    {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtext('claimscan.engagement.plan'), hashtext($1))",
        )
        .bind(program_id)
        .execute(&mut *tx)
        .await?;
        let since = now - chrono::Duration::days(i64::from(s.cooldown_days));
        let existing: Vec<(String, i64)> = sqlx::query(
            "SELECT partner_id, send_at FROM challenges
             WHERE program_id = $1 AND status <> 'cancelled' AND send_at >= $2",
        )
        .bind(program_id)
        .bind(since)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.get::<String, _>("partner_id"),
                r.get::<DateTime<Utc>, _>("send_at").timestamp(),
            )
        })
        .collect();
        let period = now - chrono::Duration::days(i64::from(s.budget_period_days));
        let spent: f64 = sqlx::query_scalar(
            "SELECT coalesce(sum(expected_cost), 0)::float8 FROM challenges
             WHERE program_id = $1 AND status <> 'cancelled' AND created_at >= $2",
        )
        .bind(program_id)
        .bind(period)
        .fetch_one(&mut *tx)
        .await?;
        let planned = plan(&existing, (s.budget_points - spent).max(0.0));
        let mut inserted = Vec::with_capacity(planned.len());
        for c in planned {
            let r = sqlx::query(
                "INSERT INTO challenges (challenge_id, program_id, partner_id, segment, goal, window_start,
                                         window_end, multiplier, template, message, send_at, expected_cost)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (challenge_id) DO NOTHING",
            )
            .bind(&c.challenge_id)
            .bind(&c.program_id)
            .bind(&c.partner_id)
            .bind(&c.segment)
            .bind(c.goal as i32)
            .bind(ts(c.window_start))
            .bind(ts(c.window_end))
            .bind(c.multiplier)
            .bind(&c.template)
            .bind(&c.message)
            .bind(ts(c.send_at))
            .bind(c.expected_cost)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 1 {
                inserted.push(c);
            }
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The durable scheduler's step: every challenge whose `send_at` has come is flipped to
    /// `published` and its `challenge.scheduled` message written to the outbox, in one
    /// transaction (rows claimed with `FOR UPDATE SKIP LOCKED`, so concurrent workers never
    /// take the same row, and a published row is never taken again). A challenge due in its
    /// program's quiet hours waits; one whose window is over is cancelled.
    ///
    /// `quiet` tells whether a program is in its quiet hours now; `quiet.default` applies to
    /// every program not in `quiet.overrides`. Quiet programs' rows are not even selected, so
    /// they never crowd the others out of the batch.
    pub async fn publish_due<Q>(
        &self,
        now: DateTime<Utc>,
        limit: i64,
        quiet: &QuietNow,
        quiet_now: Q,
    ) -> Result<Published, DbError>
    where
        Q: Fn(&str) -> bool,
    {
        let (quiet_ids, open_ids): (Vec<String>, Vec<String>) = {
            let (q, o): (Vec<_>, Vec<_>) = quiet.overrides.iter().partition(|(_, q)| **q);
            (
                q.into_iter().map(|(p, _)| p.clone()).collect(),
                o.into_iter().map(|(p, _)| p.clone()).collect(),
            )
        };
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT challenge_id, program_id, partner_id, goal, window_start, window_end,
                    multiplier, message, send_at
             FROM challenges WHERE status = 'scheduled' AND send_at <= $1
               AND ((NOT $3 AND NOT (program_id = ANY($4))) OR ($3 AND program_id = ANY($5))
                    OR window_end <= $1)
             ORDER BY send_at, challenge_id LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(limit)
        .bind(quiet.default)
        .bind(quiet_ids)
        .bind(open_ids)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Published::default();
        for r in rows {
            let id: String = r.get("challenge_id");
            let program_id: String = r.get("program_id");
            let window_end: DateTime<Utc> = r.get("window_end");
            if window_end <= now {
                sqlx::query("UPDATE challenges SET status = 'cancelled' WHERE challenge_id = $1")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                out.expired += 1;
                continue;
            }
            if quiet_now(&program_id) {
                out.deferred += 1;
                continue;
            }
            let msg = ChallengeScheduled {
                challenge_id: id.clone(),
                program_id,
                partner_id: r.get("partner_id"),
                goal: r.get::<i32, _>("goal").max(1) as u32,
                window_start: rfc3339(r.get("window_start")),
                window_end: rfc3339(window_end),
                multiplier: r.get("multiplier"),
                message: r.get("message"),
                send_at: rfc3339(r.get("send_at")),
            };
            sqlx::query(
                "UPDATE challenges SET status = 'published', published_at = now()
                 WHERE challenge_id = $1 AND status = 'scheduled'",
            )
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            crate::db::outbox(
                &mut tx,
                &format!("challenge.scheduled:{id}"),
                "challenge.scheduled",
                encode(&msg),
                &msg.partner_id,
            )
            .await?;
            out.published += 1;
        }
        tx.commit().await?;
        Ok(out)
    }
}
