//! The engagement worker against the real RabbitMQ and PostgreSQL: activity in, scores and
//! challenges in PostgreSQL, `challenge.scheduled` out exactly once, across restarts and with
//! two workers at once. Each test has its own queue prefix and database schema.

mod services;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use claimscan_contracts::{encode, ActivityRecorded};
use claimscan_worker::amqp;
use claimscan_worker::db::Db;
use claimscan_worker::engagement::{
    declare_topology, EngagementConfig, EngagementNames, EngagementWorker,
};
use futures_lite::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use services::{unique, AMQP, PG};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};
use tokio::sync::watch;

struct EngEnv {
    cfg: EngagementConfig,
    pg: PgPool,
    conn: lapin::Connection,
    publish: lapin::Channel,
    tap: String,
}

type Running = (
    Arc<EngagementWorker>,
    watch::Sender<bool>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

impl EngEnv {
    async fn new(name: &str) -> EngEnv {
        let id = unique(name);
        let mut cfg = EngagementConfig::default();
        cfg.amqp.url = AMQP.into();
        cfg.amqp.prefix = id.clone();
        cfg.database.url = PG.into();
        cfg.database.schema = id.to_lowercase();
        cfg.database.max_connections = 4;
        cfg.http.listen = String::new();
        cfg.engagement.score_on_start = false;
        cfg.engagement.scheduler_interval_ms = 100;
        cfg.validate().expect("test config");
        Db::connect(&cfg.database)
            .await
            .expect("PostgreSQL at 127.0.0.1:5432");
        let pg = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(
                PG.parse::<sqlx::postgres::PgConnectOptions>()
                    .unwrap()
                    .options([("search_path", cfg.database.schema.as_str())]),
            )
            .await
            .unwrap();
        let conn = amqp::connect(AMQP)
            .await
            .expect("RabbitMQ at 127.0.0.1:5672");
        let publish = amqp::confirm_channel(&conn).await.unwrap();
        declare_topology(&publish, &cfg.amqp).await.unwrap();
        let tap = format!("{id}.tap");
        publish
            .queue_declare(
                tap.as_str().into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        publish
            .queue_bind(
                tap.as_str().into(),
                EngagementNames::new(&id).events().as_str().into(),
                "challenge.scheduled".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        EngEnv {
            cfg,
            pg,
            conn,
            publish,
            tap,
        }
    }

    fn names(&self) -> EngagementNames {
        EngagementNames::new(&self.cfg.amqp.prefix)
    }

    async fn worker(&self, cfg: &EngagementConfig) -> Running {
        let w = EngagementWorker::start(cfg.clone()).await.unwrap();
        let (tx, rx) = watch::channel(false);
        let h = tokio::spawn(w.clone().run(rx));
        (w, tx, h)
    }

    async fn publish_raw(&self, body: &[u8], message_id: &str) {
        amqp::publish_confirmed(
            &self.publish,
            &self.names().events(),
            "activity.recorded",
            body,
            amqp::properties(message_id, Default::default()),
        )
        .await
        .unwrap();
    }

    async fn activity(&self, partner: &str, at: DateTime<Utc>, kind: &str, message_id: &str) {
        let m = ActivityRecorded {
            partner_id: partner.into(),
            program_id: "prog".into(),
            occurred_at: at.to_rfc3339(),
            kind: kind.into(),
            quantity: Some(1.0),
            amount: Some(120.0),
        };
        self.publish_raw(&encode(&m), message_id).await;
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.pg)
            .await
            .unwrap()
    }

    async fn wait_count(&self, sql: &str, n: i64, timeout: Duration) {
        let t0 = Instant::now();
        loop {
            let c = self.count(sql).await;
            if c == n {
                return;
            }
            assert!(t0.elapsed() < timeout, "{sql}: {c}, expected {n}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `challenge.scheduled` messages on the tap within `timeout` (stops early at `n`).
    async fn tap_messages(&self, n: usize, timeout: Duration) -> Vec<(String, serde_json::Value)> {
        let ch = self.conn.create_channel().await.unwrap();
        let mut c = ch
            .basic_consume(
                self.tap.as_str().into(),
                "tap".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        while out.len() < n {
            match tokio::time::timeout_at(deadline, c.next()).await {
                Ok(Some(Ok(d))) => out.push((
                    d.properties
                        .message_id()
                        .as_ref()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    serde_json::from_slice(&d.data).unwrap(),
                )),
                _ => break,
            }
        }
        let _ = ch.close(200, "done".into()).await;
        out
    }

    /// `n` challenges of program `program` due now (send_at a second ago, window open).
    async fn due_challenges(&self, program: &str, n: usize) {
        for i in 0..n {
            sqlx::query(
                "INSERT INTO challenges (challenge_id, program_id, partner_id, segment, goal, window_start,
                                         window_end, multiplier, template, message, send_at)
                 VALUES ($1, $2, $3, 'struggling', 2, now(), now() + interval '14 days', 1.5,
                         't {goal}', 't 2', now() - interval '1 second')",
            )
            .bind(format!("{program}-c{i:03}"))
            .bind(program)
            .bind(format!("partner-{i:03}"))
            .execute(&self.pg)
            .await
            .unwrap();
        }
    }

    async fn cleanup(self) {
        let n = self.names();
        let ch = self.conn.create_channel().await.unwrap();
        for q in [n.activity(), n.parked(), self.tap.clone()] {
            let _ = ch.queue_delete(q.as_str().into(), Default::default()).await;
        }
        let _ = ch
            .exchange_delete(n.events().as_str().into(), Default::default())
            .await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA \"{}\" CASCADE",
            self.cfg.database.schema
        )))
        .execute(&self.pg)
        .await;
    }
}

fn days_ago(d: i64) -> DateTime<Utc> {
    // Mid-morning, so that day boundaries never depend on when the test runs.
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .unwrap()
        .and_utc();
    today - chrono::Duration::days(d)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_scores_and_one_challenge_sent_once_across_a_restart() {
    let env = EngEnv::new("eng_flow").await;
    let mut cfg = env.cfg.clone();
    // Send hour two hours from now, no quiet hours: planned in the future, not yet due.
    let hour = (Utc::now().hour() + 2) % 24;
    cfg.engagement.plan.quiet_start_hour = 0;
    cfg.engagement.plan.quiet_end_hour = 0;
    cfg.engagement.plan.default_send_hour = hour;
    // Alert memory: at risk on consecutive scorings spanning a week (the default is 21 days).
    cfg.engagement.plan.confirm_days = 7;
    cfg.validate().unwrap();
    let (w, stop, h) = env.worker(&cfg).await;

    // A steady partner: every 5 days (6 a month) for a year. Two drifting ones: the same until
    // seven weeks ago, then one order three weeks ago. One drifting partner has not consented.
    let mut expected = 0;
    for (partner, drifting) in [("steady", false), ("drifting", true), ("drifting-nc", true)] {
        for i in 0..73 {
            let d = 2 + 5 * i;
            if drifting && d < 49 {
                continue;
            }
            env.activity(
                partner,
                days_ago(d),
                "purchase",
                &format!("m-{partner}-{d}"),
            )
            .await;
            expected += 1;
        }
        if drifting {
            env.activity(
                partner,
                days_ago(21),
                "purchase",
                &format!("m-{partner}-21"),
            )
            .await;
            expected += 1;
        }
        env.activity(partner, days_ago(1), "login", &format!("m-{partner}-login"))
            .await;
        expected += 1;
    }
    // The same message again (a redelivery or a re-send), and two that cannot be used.
    env.activity("drifting", days_ago(21), "purchase", "m-drifting-21")
        .await;
    env.publish_raw(b"\x00 not json", "bad-1").await;
    let mut bad_kind = ActivityRecorded {
        partner_id: "x".into(),
        program_id: "prog".into(),
        occurred_at: Utc::now().to_rfc3339(),
        kind: "dance".into(),
        quantity: None,
        amount: None,
    };
    env.publish_raw(&encode(&bad_kind), "bad-2").await;
    bad_kind.kind = "purchase".into();
    bad_kind.program_id = String::new();
    env.publish_raw(&encode(&bad_kind), "bad-3").await;

    env.wait_count(
        "SELECT count(*) FROM activity_events",
        expected,
        Duration::from_secs(30),
    )
    .await;
    env.wait_count(
        "SELECT count(*) FROM parked_messages",
        3,
        Duration::from_secs(10),
    )
    .await;
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT reason_code FROM parked_messages ORDER BY reason_code")
            .fetch_all(&env.pg)
            .await
            .unwrap();
    assert_eq!(
        codes,
        ["message_invalid", "message_invalid", "message_not_json"]
    );
    // The row is written before the message is published to the parking queue: wait for it.
    let ch = env.conn.create_channel().await.unwrap();
    let t0 = std::time::Instant::now();
    while amqp::queue_depth(&ch, &env.names().parked()).await.unwrap() < 3
        && t0.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        amqp::queue_depth(&ch, &env.names().parked()).await.unwrap(),
        3
    );
    assert_eq!(
        env.count("SELECT count(*) FROM activity_events WHERE event_id = 'm-drifting-21'")
            .await,
        1
    );
    assert!(!h.is_finished(), "the worker must survive bad messages");

    // Consent: the app records it; drifting-nc said no.
    for (p, c) in [("steady", true), ("drifting", true), ("drifting-nc", false)] {
        sqlx::query("INSERT INTO partner_consent (program_id, partner_id, consented) VALUES ('prog', $1, $2)")
            .bind(p)
            .bind(c)
            .execute(&env.pg)
            .await
            .unwrap();
    }

    // Score and plan on demand.
    let started = Utc::now();
    let cycle = w.score_and_plan(Utc::now()).await.unwrap();
    assert_eq!(cycle.len(), 1);
    assert_eq!(cycle[0].scored, 3);
    // Alert memory: the drifting partners are at risk on this first scoring only, so nobody
    // gets a challenge yet.
    assert_eq!(
        (
            cycle[0].stats.at_risk,
            cycle[0].stats.unconfirmed,
            cycle[0].planned
        ),
        (2, 2, 0)
    );
    assert_eq!(env.count("SELECT count(*) FROM challenges").await, 0);
    assert_eq!(
        env.count("SELECT count(*) FROM partner_scores WHERE at_risk_since = as_of")
            .await,
        2
    );
    let scores: Vec<(String, f64, String, String)> = sqlx::query(
        "SELECT partner_id, score, segment, reason FROM partner_scores WHERE program_id = 'prog' ORDER BY partner_id",
    )
    .fetch_all(&env.pg)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    assert_eq!(scores.len(), 3, "{scores:?}");
    let score = |p: &str| scores.iter().find(|s| s.0 == p).unwrap().1;
    assert!(
        score("drifting") > score("steady") + 0.3,
        "drifting {} steady {}",
        score("drifting"),
        score("steady")
    );
    let drifting_reason = &scores.iter().find(|s| s.0 == "drifting").unwrap().3;
    // Scored as of the end of today: the last order was 21 days before today.
    assert!(
        drifting_reason.contains("usual gap 5 days, current gap 22"),
        "{drifting_reason}"
    );

    // A week later, still at risk: confirmed.
    let later = Utc::now() + chrono::Duration::days(7);
    let cycle = w.score_and_plan(later).await.unwrap();
    assert_eq!((cycle[0].stats.unconfirmed, cycle[0].planned), (0, 1));
    assert_eq!(
        env.count("SELECT count(*) FROM partner_scores WHERE at_risk_since = as_of - 7")
            .await,
        2
    );

    let rows = sqlx::query(
        "SELECT challenge_id, partner_id, goal, multiplier, message, send_at, window_start, window_end, status
         FROM challenges",
    )
    .fetch_all(&env.pg)
    .await
    .unwrap();
    assert_eq!(
        rows.len(),
        1,
        "one challenge: drifting (consented), not drifting-nc nor steady"
    );
    let r = &rows[0];
    let challenge_id: String = r.get("challenge_id");
    assert_eq!(r.get::<String, _>("partner_id"), "drifting");
    assert_eq!(r.get::<String, _>("status"), "scheduled");
    let send_at: DateTime<Utc> = r.get("send_at");
    assert!(send_at > started, "send_at {send_at} must be in the future");
    assert_eq!(send_at.hour(), hour);
    assert!(r.get::<i32, _>("goal") >= 1);
    assert!(r.get::<f64, _>("multiplier") > 1.0);
    assert!(!r.get::<String, _>("message").contains('{'));

    // Planning again: the cooldown holds, nothing new.
    let cycle = w.score_and_plan(later).await.unwrap();
    assert_eq!(cycle[0].stats.cooldown, 1);
    assert_eq!(env.count("SELECT count(*) FROM challenges").await, 1);
    // Not due yet: nothing sent.
    assert!(env
        .tap_messages(1, Duration::from_millis(800))
        .await
        .is_empty());

    // Time passes: the challenge falls due; the running worker's scheduler sends it.
    sqlx::query("UPDATE challenges SET send_at = now() - interval '1 second'")
        .execute(&env.pg)
        .await
        .unwrap();
    let msgs = env.tap_messages(5, Duration::from_secs(5)).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let (mid, m) = &msgs[0];
    assert_eq!(mid, &format!("challenge.scheduled:{challenge_id}"));
    assert_eq!(m["type"], "challenge.scheduled");
    assert_eq!(m["version"], 1);
    assert_eq!(m["challenge_id"], challenge_id.as_str());
    assert_eq!(m["partner_id"], "drifting");
    assert_eq!(m["program_id"], "prog");
    assert!(m["goal"].as_u64().unwrap() >= 1);
    assert!(m["window_end"].as_str().unwrap() > m["window_start"].as_str().unwrap());
    assert_eq!(
        env.count("SELECT count(*) FROM challenges WHERE status = 'published' AND published_at IS NOT NULL")
            .await,
        1
    );

    // Restart: a new worker finds nothing to send.
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    let (w2, stop2, h2) = env.worker(&cfg).await;
    assert_eq!(w2.publish_due(Utc::now()).await.unwrap().published, 0);
    w2.score_and_plan(later).await.unwrap();
    assert!(env.tap_messages(1, Duration::from_secs(2)).await.is_empty());
    assert_eq!(env.count("SELECT count(*) FROM challenges").await, 1);
    stop2.send(true).unwrap();
    h2.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_send_each_due_challenge_once_and_respect_quiet_hours() {
    let env = EngEnv::new("eng_two").await;
    let mut cfg = env.cfg.clone();
    cfg.engagement.scheduler_interval_ms = 20;
    // Program "prog" has no quiet hours.
    cfg.engagement.plan.quiet_start_hour = 0;
    cfg.engagement.plan.quiet_end_hour = 0;
    // Program "night" is in its quiet hours right now.
    let h = Utc::now().hour();
    let night = claimscan_engagement::plan::PlanSettings {
        quiet_start_hour: h,
        quiet_end_hour: (h + 2) % 24,
        default_send_hour: (h + 3) % 24,
        ..Default::default()
    };
    cfg.engagement.programs.insert("night".into(), night);
    cfg.validate().unwrap();
    // More quiet-hour rows than one scheduler batch (200), due earlier than the others: they
    // must not hold them up.
    env.due_challenges("night", 250).await;
    env.due_challenges("prog", 60).await;
    // One whose window is already over: cancelled, never sent.
    sqlx::query(
        "INSERT INTO challenges (challenge_id, program_id, partner_id, segment, goal, window_start,
                                 window_end, multiplier, template, message, send_at)
         VALUES ('late', 'prog', 'p-late', 's', 1, now() - interval '20 days',
                 now() - interval '6 days', 2, 't', 't', now() - interval '20 days')",
    )
    .execute(&env.pg)
    .await
    .unwrap();

    let (_a, stop_a, ha) = env.worker(&cfg).await;
    let (_b, stop_b, hb) = env.worker(&cfg).await;
    let msgs = env.tap_messages(100, Duration::from_secs(10)).await;
    let ids: Vec<&str> = msgs
        .iter()
        .map(|(_, m)| m["challenge_id"].as_str().unwrap())
        .collect();
    let distinct: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), 60, "each due challenge of prog exactly once");
    assert_eq!(distinct.len(), 60);
    assert!(ids.iter().all(|id| id.starts_with("prog-c")), "{ids:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM challenges WHERE status = 'published'")
            .await,
        60
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM challenges WHERE program_id = 'night' AND status = 'scheduled'"
        )
        .await,
        250
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM challenges WHERE challenge_id = 'late' AND status = 'cancelled'"
        )
        .await,
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE routing_key = 'challenge.scheduled'")
            .await,
        60
    );
    stop_a.send(true).unwrap();
    stop_b.send(true).unwrap();
    ha.await.unwrap().unwrap();
    hb.await.unwrap().unwrap();
    env.cleanup().await;
}

/// A worker process, killed when dropped (a failing test leaves nothing running).
struct Proc(std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker_process(env: &EngEnv, http: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_claimscan"));
    let cfg = &env.cfg;
    c.args(["engagement", "worker"])
        .env("CLAIMSCAN_AMQP__URL", &cfg.amqp.url)
        .env("CLAIMSCAN_AMQP__PREFIX", &cfg.amqp.prefix)
        .env("CLAIMSCAN_DATABASE__URL", &cfg.database.url)
        .env("CLAIMSCAN_DATABASE__SCHEMA", &cfg.database.schema)
        .env("CLAIMSCAN_HTTP__LISTEN", http)
        .env("CLAIMSCAN_HTTP__ADMIN_TOKEN", "test-token")
        .env("CLAIMSCAN_ENGAGEMENT__SCORE_ON_START", "false")
        .env("CLAIMSCAN_ENGAGEMENT__SCHEDULER_INTERVAL_MS", "50")
        .env("CLAIMSCAN_ENGAGEMENT__PLAN__QUIET_START_HOUR", "0")
        .env("CLAIMSCAN_ENGAGEMENT__PLAN__QUIET_END_HOUR", "0")
        // The invoice worker's sections are not this worker's: ignored, not refused.
        .env("CLAIMSCAN_PIPELINE__READER", "rules")
        .env("CLAIMSCAN_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    c
}

fn http(addr: &str, req: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "{req}").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_process_restarts_without_sending_twice() {
    let env = EngEnv::new("eng_kill").await;
    env.due_challenges("prog", 30).await;
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut child = Proc(worker_process(&env, &addr).spawn().unwrap());
    let msgs = env.tap_messages(30, Duration::from_secs(30)).await;
    assert_eq!(msgs.len(), 30);
    env.wait_count(
        "SELECT count(*) FROM outbox WHERE published_at IS NULL",
        0,
        Duration::from_secs(10),
    )
    .await;
    // HTTP: health, metrics, and the admin endpoint behind its token.
    assert!(http(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .contains("ok"));
    let metrics = http(
        &addr,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        metrics
            .contains("claimscan_engagement_challenges_published_total{result=\"published\"} 30"),
        "{metrics}"
    );
    let denied = http(&addr, "POST /admin/engagement/score HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    assert!(denied.starts_with("HTTP/1.1 401"), "{denied}");
    let ok = http(&addr, "POST /admin/engagement/score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    assert!(ok.starts_with("HTTP/1.1 202"), "{ok}");

    // kill -9, then a new process: nothing is sent again.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    drop(child);
    let mut child = Proc(worker_process(&env, "").spawn().unwrap());
    assert!(env.tap_messages(1, Duration::from_secs(3)).await.is_empty());
    // SIGTERM: drains and exits 0.
    unsafe {
        libc::kill(child.0.id() as i32, libc::SIGTERM);
    }
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "no exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM challenges WHERE status = 'published'")
            .await,
        30
    );
    env.cleanup().await;
}

#[test]
fn bad_config_is_refused_before_anything_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_claimscan"))
        .args(["engagement", "worker", "--check"])
        .env("CLAIMSCAN_ENGAGEMENT__PLAN__TRESHOLD", "0.3")
        .env("CLAIMSCAN_AMQP__URL", "http://nope")
        .env("CLAIMSCAN_DATABASE__SCHEMA", "never_used")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("treshold"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_import_of_events_and_consent_is_idempotent() {
    let env = EngEnv::new("eng_import").await;
    let dir = std::env::temp_dir().join(format!("cs-eng-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let events = dir.join("events.csv");
    // Two identical rows are two events; kind defaults to purchase.
    std::fs::write(
        &events,
        "partner_id,occurred_at,kind,quantity,amount\n\
         007,2026-10-01T09:00:00+02:00,,2,40\n\
         007,2026-10-01T09:00:00+02:00,,2,40\n\
         008,2026-10-03,message_opened,,\n",
    )
    .unwrap();
    let consent = dir.join("consent.csv");
    std::fs::write(&consent, "partner_id,consented\n007,yes\n008,no\n").unwrap();
    let import = |extra: &[&str]| {
        let cfg = &env.cfg;
        let out = Command::new(env!("CARGO_BIN_EXE_claimscan"))
            .args(["engagement", "import", "--program", "prog"])
            .args(extra)
            .env("CLAIMSCAN_DATABASE__URL", &cfg.database.url)
            .env("CLAIMSCAN_DATABASE__SCHEMA", &cfg.database.schema)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let ev = events.display().to_string();
    let co = consent.display().to_string();
    for _ in 0..2 {
        let (ok, err) = import(&["--events", &ev, "--consent", &co]);
        assert!(ok, "{err}");
        assert_eq!(env.count("SELECT count(*) FROM activity_events").await, 3);
    }
    assert_eq!(
        env.count("SELECT count(*) FROM activity_events WHERE kind = 'purchase' AND partner_id = '007' AND occurred_at = '2026-10-01T07:00:00Z' AND quantity = 2 AND amount = 40")
            .await,
        2
    );
    assert_eq!(
        env.count("SELECT count(*) FROM partner_consent WHERE consented")
            .await,
        1
    );
    // An unknown kind is refused with its code, nothing stored.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "partner_id,occurred_at,kind\n9,2026-10-01,dance\n").unwrap();
    let (ok, err) = import(&["--events", &bad.display().to_string()]);
    assert!(!ok && err.contains("event_kind_unknown"), "{err}");
    assert_eq!(env.count("SELECT count(*) FROM activity_events").await, 3);
    env.cleanup().await;
}

/// Ingest rate through the broker (a measurement, not run by default):
/// `cargo test --workspace --test engagement_services -- --ignored ingest_rate --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn ingest_rate() {
    let env = EngEnv::new("eng_rate").await;
    let n = 5_000;
    for i in 0..n {
        env.activity(
            &format!("p{}", i % 500),
            days_ago(1 + i % 300),
            "purchase",
            &format!("m-{i}"),
        )
        .await;
    }
    let t0 = Instant::now();
    let (_w, stop, h) = env.worker(&env.cfg).await;
    env.wait_count(
        "SELECT count(*) FROM activity_events",
        n,
        Duration::from_secs(300),
    )
    .await;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "ingested {n} activity.recorded messages in {secs:.2}s: {:.0} messages/s",
        n as f64 / secs
    );
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}
