//! The review app at the HTTP level against the real services: the real worker (RabbitMQ, moto S3,
//! PostgreSQL, the shipped layout model) makes the review tasks from word-JSON invoices, and
//! requests go through the app's router (login, CSRF, scoping, decisions, memory, export,
//! engagement). Also: the queue's server time with 10,000 open tasks, and migration 0002 on a
//! database that already has the later migrations.

mod review_support;
mod services;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use claimscan_review::{web, AppState};
use review_support::*;
use services::*;
use sqlx::Row;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const PW: &str = "a long enough password";

async fn app(env: &Env) -> AppState {
    AppState::from_config(&env.cfg).await.unwrap()
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn task_of(env: &Env, upload: &str) -> String {
    sqlx::query_scalar("SELECT task_id::text FROM review_tasks WHERE upload_id = $1")
        .bind(upload)
        .fetch_one(&env.pg)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_scoping_decisions_memory_and_export() {
    let env = Env::new("review").await;
    let (_w, stop, h) = env.worker().await;
    for (i, id) in ["u-a", "u-b", "u-c"].iter().enumerate() {
        let (words, _) = reworded_invoice(&format!("-{i}"));
        env.upload(words, id, &format!("partner-{i}"), "json").await;
    }
    env.wait_decided(3, Duration::from_secs(90)).await;
    for id in ["u-a", "u-b", "u-c"] {
        assert_eq!(
            env.status(id).await.unwrap(),
            ("review".into(), Some("line_match_uncertain".into())),
            "{id}"
        );
    }
    // The trigger filled the distributor of each task from its upload.
    assert_eq!(
        env.count("SELECT count(*) FROM review_tasks WHERE distributor_key LIKE 'vat:%' AND distributor_name IS NOT NULL").await,
        3
    );
    let schema = env.cfg.database.schema.clone();
    add_manager(&schema, ALICE, PW, &["prog"]);
    add_manager(&schema, BOB, PW, &["other"]);
    let st = app(&env).await;
    let router = web::router(st.clone());

    // --- login
    let mut anon = Client::new(router.clone());
    let r = anon.get("/queue").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/login"));
    let form = anon.get("/login").await;
    let csrf = form.csrf();
    let r = anon
        .post(
            "/login",
            &[
                ("email", ALICE),
                ("password", "wrong password!"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "login_failed")
    );
    let r = anon
        .post(
            "/login",
            &[
                ("email", "nobody@example.com"),
                ("password", PW),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNAUTHORIZED, "login_failed")
    );
    // The right password without the form's token (a cross-site post): refused.
    let mut forger = Client::new(router.clone());
    let r = forger
        .post(
            "/login",
            &[("email", ALICE), ("password", PW), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "csrf_invalid")
    );
    assert!(!forger.cookies.contains_key("cs_session"));

    let mut alice = Client::new(router.clone());
    alice.login(ALICE, PW).await;
    let session = alice
        .set_cookies
        .iter()
        .find(|c| c.starts_with("cs_session="))
        .unwrap()
        .clone();
    for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(part), "{session}");
    }
    // Only the token's hash is stored.
    let token = alice.cookies["cs_session"].clone();
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sessions WHERE token_sha256 = $1")
            .bind(&token)
            .fetch_one(&env.pg)
            .await
            .unwrap(),
        0
    );
    let mut bob = Client::new(router.clone());
    bob.login(BOB, PW).await;

    // --- queue: alice sees the three tasks, filters work, bob sees none
    let q = alice.get("/queue").await;
    assert_eq!(q.status, StatusCode::OK);
    assert!(q.headers.contains_key("server-timing"));
    assert_eq!(
        q.body.matches("class=\"task-row\"").count(),
        3,
        "{}",
        q.body
    );
    let q = alice
        .get("/queue?reason=line_match_uncertain&sort=confidence")
        .await;
    assert_eq!(q.body.matches("class=\"task-row\"").count(), 3);
    let q = alice.get("/queue?reason=similar_image").await;
    assert_eq!(q.body.matches("class=\"task-row\"").count(), 0);
    let q = alice.get("/queue?max_confidence=0.0001").await;
    assert_eq!(q.body.matches("class=\"task-row\"").count(), 0);
    let q = alice.get("/queue?min_age_hours=48").await;
    assert_eq!(q.body.matches("class=\"task-row\"").count(), 0);
    let r = alice.get("/queue?sort=bogus").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "bad_filter")
    );
    let r = alice.get("/queue?program=other").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden_program")
    );
    let q = bob.get("/queue").await;
    assert_eq!(q.body.matches("class=\"task-row\"").count(), 0);

    let (ta, tb, tc) = (
        task_of(&env, "u-a").await,
        task_of(&env, "u-b").await,
        task_of(&env, "u-c").await,
    );
    // --- task page: the page drawn from the words, boxes, candidates with the right SKU
    let page = alice.get(&format!("/tasks/{ta}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg class=\"page\""));
    assert!(page.body.contains("id=\"line-0\""), "line box");
    assert!(page.body.contains(REWORDED_CODE), "the page's words");
    assert!(
        page.body.contains(&format!("value=\"{PROPOSED_SKU}\"")),
        "the proposal"
    );
    assert!(
        page.body.contains(&format!("value=\"{REWORDED_SKU}\"")),
        "candidates"
    );
    let cat = alice.get("/catalog?q=VENTA%20150%20duct%20fan").await;
    assert!(cat.body.contains(REWORDED_SKU), "{}", cat.body);

    // --- another program's manager: not found, nothing written
    let bob_csrf = bob.session_csrf().await;
    let r = bob.get(&format!("/tasks/{ta}")).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = bob
        .post(
            &format!("/tasks/{ta}/decide"),
            &[("csrf", &bob_csrf), ("action", "approve")],
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    // --- a POST without the session's token: refused, nothing written
    let r = alice
        .post(&format!("/tasks/{ta}/decide"), &[("action", "approve")])
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "csrf_invalid")
    );
    let r = alice
        .post(
            &format!("/tasks/{ta}/decide"),
            &[("csrf", &bob_csrf), ("action", "approve")],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "csrf_invalid")
    );
    assert_eq!(env.count("SELECT count(*) FROM claims").await, 0);
    assert_eq!(env.count("SELECT count(*) FROM review_audit").await, 0);

    // --- approve A: claim by a manager, outbox, audit, upload claimed
    let csrf = alice.session_csrf().await;
    let r = alice
        .post(
            &format!("/tasks/{ta}/decide"),
            &[("csrf", &csrf), ("action", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let row = sqlx::query(
        "SELECT c.decided_by, c.total_points, u.status, t.status AS task_status, t.resolved_by
         FROM claims c JOIN uploads u USING (upload_id) JOIN review_tasks t USING (upload_id)
         WHERE c.upload_id = 'u-a'",
    )
    .fetch_one(&env.pg)
    .await
    .unwrap();
    let proposed: i64 = sqlx::query_scalar(
        "SELECT (proposal->>'total_points')::bigint FROM review_tasks WHERE upload_id = 'u-a'",
    )
    .fetch_one(&env.pg)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("decided_by"), "manager");
    assert_eq!(row.get::<i64, _>("total_points"), proposed);
    assert_eq!(row.get::<String, _>("status"), "claimed");
    assert_eq!(row.get::<String, _>("task_status"), "approved");
    assert_eq!(
        row.get::<Option<String>, _>("resolved_by").as_deref(),
        Some(ALICE)
    );
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT message_id FROM outbox WHERE message_id LIKE '%u-a' OR message_id LIKE $1 ORDER BY 1",
    )
    .bind(format!("%{ta}"))
    .fetch_all(&env.pg)
    .await
    .unwrap();
    for k in ["claim.created:u-a", "activity.recorded:claim:u-a"] {
        assert!(keys.contains(&k.to_string()), "{keys:?}");
    }
    assert!(keys.contains(&format!("review.resolved:{ta}")), "{keys:?}");
    let audit = sqlx::query(
        "SELECT manager_email, action, before, after FROM review_audit WHERE task_id = $1::uuid",
    )
    .bind(&ta)
    .fetch_one(&env.pg)
    .await
    .unwrap();
    assert_eq!(audit.get::<String, _>("manager_email"), ALICE);
    assert_eq!(audit.get::<String, _>("action"), "approve");
    assert_eq!(
        audit.get::<serde_json::Value, _>("before")["proposal"]["total_points"],
        proposed
    );
    assert_eq!(
        audit.get::<serde_json::Value, _>("after")["total_points"],
        proposed
    );
    // The relay publishes what the decision queued, like the worker's own messages.
    let msgs = env.tap_messages(20, Duration::from_secs(10)).await;
    let claim = msgs
        .iter()
        .find(|(k, m)| k == "claim.created" && m["upload_id"] == "u-a")
        .expect("claim.created published");
    assert_eq!(claim.1["decided_by"], "manager");
    assert!(msgs
        .iter()
        .any(|(k, m)| k == "review.resolved" && m["task_id"] == ta.as_str()));

    // --- the same decision again: already decided, nothing twice
    let r = alice
        .post(
            &format!("/tasks/{ta}/decide"),
            &[("csrf", &csrf), ("action", "approve")],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_decided")
    );
    assert_eq!(
        env.count("SELECT count(*) FROM claims WHERE upload_id = 'u-a'")
            .await,
        1
    );
    assert_eq!(env.count("SELECT count(*) FROM review_audit").await, 1);

    // --- two managers decide B at once: exactly one wins
    add_manager(&schema, "carol@example.com", PW, &["prog"]);
    let mut carol = Client::new(router.clone());
    carol.login("carol@example.com", PW).await;
    let carol_csrf = carol.session_csrf().await;
    let uri = format!("/tasks/{tb}/decide");
    let f1 = [
        ("csrf", csrf.as_str()),
        ("action", "reject"),
        ("reason", "suspected_fraud"),
    ];
    let f2 = [("csrf", carol_csrf.as_str()), ("action", "approve")];
    let (r1, r2) = tokio::join!(alice.post(&uri, &f1), carol.post(&uri, &f2));
    let mut statuses = [r1.status, r2.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::SEE_OTHER, StatusCode::CONFLICT],
        "{} / {}",
        r1.body,
        r2.body
    );
    assert_eq!(env.count("SELECT count(*) FROM review_audit WHERE task_id IN (SELECT task_id FROM review_tasks WHERE upload_id = 'u-b')").await, 1);
    let (status, code) = env.status("u-b").await.unwrap();
    if r1.status == StatusCode::SEE_OTHER {
        assert_eq!(
            (status.as_str(), code.as_deref()),
            ("rejected", Some("suspected_fraud"))
        );
        assert_eq!(
            env.count("SELECT count(*) FROM outbox WHERE message_id = 'upload.rejected:u-b'")
                .await,
            1
        );
        assert_eq!(
            env.count("SELECT count(*) FROM claims WHERE upload_id = 'u-b'")
                .await,
            0
        );
    } else {
        assert_eq!(status, "claimed");
        assert_eq!(
            env.count("SELECT count(*) FROM outbox WHERE message_id = 'upload.rejected:u-b'")
                .await,
            0
        );
    }
    // a reject without a reason is refused with its code
    let r = alice
        .post(
            &format!("/tasks/{tc}/decide"),
            &[("csrf", &csrf), ("action", "reject")],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "bad_reason")
    );

    // --- correct C: line 0 is NV-652022; a typo'd SKU is refused first
    let ex: serde_json::Value =
        sqlx::query_scalar("SELECT extraction FROM uploads WHERE upload_id = 'u-c'")
            .fetch_one(&env.pg)
            .await
            .unwrap();
    let lines = ex["lines"].as_array().unwrap().clone();
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("action".into(), "correct".into()),
    ];
    for l in &lines {
        let n = l["line_no"].as_u64().unwrap();
        let sku = if n == 0 {
            REWORDED_SKU.to_string()
        } else {
            l["sku"].as_str().unwrap_or("").to_string()
        };
        form.push((format!("sku_{n}"), sku));
        form.push((
            format!("qty_{n}"),
            l["quantity"]
                .as_f64()
                .map(|q| q.to_string())
                .unwrap_or_default(),
        ));
    }
    let mut bad = form.clone();
    bad.iter_mut().find(|(k, _)| k == "sku_0").unwrap().1 = "NV-NOPE".into();
    let uri = format!("/tasks/{tc}/decide");
    let r = alice.post(&uri, &pairs(&bad)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_sku")
    );
    let r = alice.post(&uri, &pairs(&form)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let line0: (String, i64) = sqlx::query(
        "SELECT l.sku, l.points FROM claim_lines l JOIN claims c USING (claim_id) WHERE c.upload_id = 'u-c' AND l.line_no = 0",
    )
    .fetch_one(&env.pg)
    .await
    .map(|r| (r.get(0), r.get(1)))
    .unwrap();
    assert_eq!(line0.0, REWORDED_SKU);
    assert!(line0.1 > 0);
    // the memory learnt the distributor's code and wording
    let mem: Vec<(String, Option<String>)> = sqlx::query(
        "SELECT product_code, sku FROM distributor_memory WHERE product_code = 'WM-44810'",
    )
    .fetch_all(&env.pg)
    .await
    .unwrap()
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    assert_eq!(mem.len(), 1, "{mem:?}");
    assert_eq!(mem[0].1.as_deref(), Some(REWORDED_SKU));

    // --- the next invoice of that distributor with the same wording goes through by itself
    let (words, _) = reworded_invoice("-next");
    env.upload(words, "u-next", "partner-9", "json").await;
    env.wait_decided(4, Duration::from_secs(60)).await;
    assert_eq!(env.status("u-next").await.unwrap().0, "claimed");
    let (sku, decided_by): (String, String) = sqlx::query(
        "SELECT l.sku, c.decided_by FROM claim_lines l JOIN claims c USING (claim_id) WHERE c.upload_id = 'u-next' AND l.line_no = 0",
    )
    .fetch_one(&env.pg)
    .await
    .map(|r| (r.get(0), r.get(1)))
    .unwrap();
    assert_eq!((sku.as_str(), decided_by.as_str()), (REWORDED_SKU, "auto"));

    // --- export: the correction as a labelled example
    let out = std::env::temp_dir().join(format!("{}-export.jsonl", env.name));
    let st_out = std::process::Command::new(env!("CARGO_BIN_EXE_claimscan"))
        .args(["review", "export", "--out"])
        .arg(&out)
        .env("CLAIMSCAN_DATABASE__URL", PG)
        .env("CLAIMSCAN_DATABASE__SCHEMA", &schema)
        .env("CLAIMSCAN_PIPELINE__CATALOG", fixture("catalog.csv"))
        .env("CLAIMSCAN_PIPELINE__VALIDATION_DATA", fixture(""))
        .output()
        .unwrap();
    assert!(
        st_out.status.success(),
        "{}",
        String::from_utf8_lossy(&st_out.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let examples: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(examples.len(), 1, "{text}");
    let e = &examples[0];
    assert_eq!(e["sku"], REWORDED_SKU);
    assert_eq!(e["product_code"], REWORDED_CODE);
    assert_ne!(e["original_sku"], REWORDED_SKU);
    assert!(e["description"].as_str().unwrap().contains("Duct fan"));
    assert_eq!(e["original_sku"], PROPOSED_SKU);
    assert!(e["distributor_key"].as_str().unwrap().starts_with("vat:"));
    let _ = std::fs::remove_file(&out);

    // --- logout ends the session
    let csrf = alice.session_csrf().await;
    let r = alice.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/login"));
    alice.cookies.insert("cs_session".into(), token);
    let r = alice.get("/queue").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/login"));

    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engagement_view_is_scoped_and_draws_activity() {
    let env = Env::new("reviewengage").await;
    let schema = env.cfg.database.schema.clone();
    add_manager(&schema, ALICE, PW, &["prog"]);
    let router = web::router(app(&env).await);
    let mut alice = Client::new(router);
    alice.login(ALICE, PW).await;
    let r = alice.get("/engagement").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"engagement-empty\""), "{}", r.body);

    for (prog, partner, score) in [
        ("prog", "p-drift", 0.82),
        ("prog", "p-fine", 0.1),
        ("other", "p-foreign", 0.95),
    ] {
        sqlx::query(
            "INSERT INTO partner_scores (program_id, partner_id, as_of, score, segment, expected_purchases, reason)
             VALUES ($1, $2, current_date, $3, 'drifting', 0.4, 'buys half as often as usual')",
        )
        .bind(prog)
        .bind(partner)
        .bind(score)
        .execute(&env.pg)
        .await
        .unwrap();
    }
    // p-drift: 3 purchases 10 weeks ago, 1 this week; a claim 20 weeks ago.
    for (i, (weeks_ago, kind)) in [
        (10, "purchase"),
        (10, "purchase"),
        (10, "purchase"),
        (0, "purchase"),
        (20, "claim"),
        (3, "login"),
    ]
    .iter()
    .enumerate()
    {
        sqlx::query(
            "INSERT INTO activity_events (event_id, program_id, partner_id, occurred_at, kind)
             VALUES ($1, 'prog', 'p-drift', now() - make_interval(weeks => $2) - interval '1 hour', $3)",
        )
        .bind(format!("e{i}"))
        .bind(*weeks_ago)
        .bind(*kind)
        .execute(&env.pg)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO challenges (challenge_id, program_id, partner_id, segment, goal, window_start, window_end, multiplier, template, message, send_at)
         VALUES ('ch1', 'prog', 'p-drift', 'drifting', 3, now(), now() + interval '30 days', 2.0, 'comeback', 'Three orders, double points', now() + interval '1 day')",
    )
    .execute(&env.pg)
    .await
    .unwrap();

    let r = alice.get("/engagement").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("data-partner=\"p-drift\""));
    assert!(
        !r.body.contains("p-fine"),
        "under the default 0.5 threshold"
    );
    assert!(!r.body.contains("p-foreign"), "another program's partner");
    assert!(r.body.contains("Three orders, double points"));
    assert!(r.body.contains("scheduled: 3 purchases"));
    // 26 weekly bars; the busiest week (3 purchases, 10 weeks ago) is full height, this week 1/3
    assert_eq!(r.body.matches("<rect class=\"bar\"").count(), 26);
    assert!(
        r.body.contains("<title>10 weeks ago: 3</title>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<title>0 weeks ago: 1</title>"));
    assert!(r.body.contains("<title>20 weeks ago: 1</title>"));
    assert!(
        r.body.contains("<title>3 weeks ago: 0</title>"),
        "logins are not purchases"
    );
    let r = alice.get("/engagement?min_score=0").await;
    assert!(r.body.contains("p-fine") && !r.body.contains("p-foreign"));
    env.cleanup().await;
}

/// Seeds 10,000 open tasks and measures the queue page's server time over pages, filters and
/// sorts (in-process: routing, session lookup, SQL and rendering).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_pages_10000_tasks_fast() {
    let env = Env::new("reviewperf").await;
    let schema = env.cfg.database.schema.clone();
    add_manager(&schema, ALICE, PW, &["prog", "prog2"]);
    sqlx::query(
        "INSERT INTO uploads (upload_id, program_id, partner_id, status, distributor_key)
         SELECT 'perf-' || i, CASE WHEN i % 5 = 0 THEN 'prog2' ELSE 'prog' END, 'p' || (i % 300), 'review', 'vat:d' || (i % 40)
         FROM generate_series(1, 10000) i",
    )
    .execute(&env.pg)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO review_tasks (task_id, upload_id, program_id, partner_id, reasons, proposal, confidence, created_at, distributor_name)
         SELECT gen_random_uuid(), u.upload_id, u.program_id, u.partner_id,
                jsonb_build_array(jsonb_build_object('code', (ARRAY['line_match_uncertain','low_confidence','similar_image','quantity_implausible'])[1 + i % 4], 'message', 'seeded')),
                jsonb_build_object('lines', '[]'::jsonb, 'total_points', (i * 37) % 900),
                ((i * 7919) % 1000) / 1000.0, now() - make_interval(mins => i), 'Distributor ' || (i % 40)
         FROM uploads u, LATERAL (SELECT substr(u.upload_id, 6)::int AS i) k",
    )
    .execute(&env.pg)
    .await
    .unwrap();
    sqlx::query("ANALYZE review_tasks")
        .execute(&env.pg)
        .await
        .unwrap();
    assert_eq!(
        env.count("SELECT count(*) FROM review_tasks WHERE status = 'open'")
            .await,
        10_000
    );

    let router = web::router(app(&env).await);
    let mut alice = Client::new(router);
    alice.login(ALICE, PW).await;
    let queries = [
        "/queue",
        "/queue?page=2",
        "/queue?page=80",
        "/queue?page=160",
        "/queue?sort=newest",
        "/queue?sort=confidence",
        "/queue?sort=points_desc&page=10",
        "/queue?program=prog2",
        "/queue?distributor=vat%3Ad7",
        "/queue?distributor=vat%3Ad7&sort=confidence_desc&page=2",
        "/queue?reason=similar_image",
        "/queue?reason=low_confidence&max_confidence=0.3&page=3",
        "/queue?min_age_hours=100",
        "/queue?min_age_hours=100&sort=newest&page=5",
    ];
    // warm up (first connections, plan cache)
    for q in &queries {
        assert_eq!(alice.get(q).await.status, StatusCode::OK, "{q}");
    }
    let mut times = Vec::new();
    for _round in 0..5 {
        for q in &queries {
            let t0 = Instant::now();
            let r = alice.get(q).await;
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, StatusCode::OK, "{q}");
            if *q == "/queue" {
                assert_eq!(r.body.matches("class=\"task-row\"").count(), 50);
                assert!(r.body.contains("10000 open"));
            }
        }
    }
    let r = alice.get("/queue?page=200").await;
    assert_eq!(r.body.matches("class=\"task-row\"").count(), 50);
    let r = alice.get("/queue?page=201").await;
    assert_eq!(r.body.matches("class=\"task-row\"").count(), 0);
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    let (p50, p95, max) = (pct(0.5), pct(0.95), times[times.len() - 1]);
    eprintln!(
        "queue page, 10,000 open tasks, {} requests: p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms",
        times.len()
    );
    assert!(p95 < 100.0, "p95 {p95:.1} ms over the 100 ms budget");
    env.cleanup().await;
}

/// Migration 0002 applied to a database that already has every other migration (0001, 0003, 0004,
/// 0005: as deployed before the review app existed): it applies, and fills the distributor of existing tasks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0002_applies_after_later_ones() {
    let schema = unique("mig").to_lowercase();
    let dir = std::env::temp_dir().join(&schema);
    std::fs::create_dir_all(&dir).unwrap();
    let src = root().join("crates/worker/migrations");
    for f in std::fs::read_dir(&src).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("0002") {
            std::fs::copy(&f, dir.join(&name)).unwrap();
        }
    }
    let opts = PG
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&pool)
        .await
        .unwrap();
    let old = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    old.run(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO uploads (upload_id, program_id, status, distributor_key, extraction)
         VALUES ('old-1', 'prog', 'review', 'vat:x1', '{\"invoice\":{\"header\":{\"supplier_name\":\"Old Supplier\"}}}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO review_tasks (task_id, upload_id, program_id, reasons, proposal, confidence)
         VALUES (gen_random_uuid(), 'old-1', 'prog', '[]', '{}', 0.5)",
    )
    .execute(&pool)
    .await
    .unwrap();
    // Now the real worker's migrator (with 0002) on that database.
    let cfg = claimscan_worker::config::DatabaseConfig {
        url: PG.into(),
        schema: schema.clone(),
        max_connections: 1,
    };
    let db = claimscan_worker::db::Db::connect(&cfg).await.unwrap();
    let r = sqlx::query(
        "SELECT distributor_key, distributor_name FROM review_tasks WHERE upload_id = 'old-1'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(r.get::<Option<String>, _>(0).as_deref(), Some("vat:x1"));
    assert_eq!(
        r.get::<Option<String>, _>(1).as_deref(),
        Some("Old Supplier")
    );
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    // every embedded migration applied, 0002 among them, after the later ones
    let all: Vec<i64> = claimscan_worker::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .collect();
    assert!(applied.contains(&2) && applied.len() >= 4, "{applied:?}");
    assert_eq!(applied, all);
    db.pool.close().await;
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A digital PDF sent to review (a credit note: `credit_note`) gets its pages pictured (100 DPI) by the worker, and the task page
/// shows the picture under the boxes, in the page's own coordinates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdf_sent_to_review_is_pictured() {
    let env = Env::new("reviewpdf").await;
    let (_w, stop, h) = env.worker().await;
    let pdf = std::fs::read(fixture("fx02_digital_fr_credit.pdf")).unwrap();
    env.upload(pdf, "u-pdf", "partner-1", "pdf").await;
    env.wait_decided(1, Duration::from_secs(90)).await;
    let (status, reason) = env.status("u-pdf").await.unwrap();
    assert_eq!(
        status, "review",
        "{reason:?}: this test needs a PDF that goes to review"
    );
    let png = env
        .store
        .get("artifacts", "extractions/prog/u-pdf/page-1.png")
        .await
        .expect("page picture stored");
    let dims = image::load_from_memory(&png).unwrap();
    // 100 DPI, where the extraction's boxes are in 300-DPI pixels
    let size: serde_json::Value = sqlx::query_scalar(
        "SELECT extraction->'page_sizes'->0 FROM uploads WHERE upload_id = 'u-pdf'",
    )
    .fetch_one(&env.pg)
    .await
    .unwrap();
    let page_w = size[0].as_f64().unwrap();
    assert!(
        (f64::from(dims.width()) * 3.0 - page_w).abs() <= 6.0,
        "{} vs {page_w}",
        dims.width()
    );
    let schema = env.cfg.database.schema.clone();
    add_manager(&schema, ALICE, PW, &["prog"]);
    let mut alice = Client::new(web::router(app(&env).await));
    alice.login(ALICE, PW).await;
    let task = task_of(&env, "u-pdf").await;
    let page = alice.get(&format!("/tasks/{task}")).await;
    assert!(
        page.body
            .contains(&format!("href=\"/tasks/{task}/page/1.png\"")),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("viewBox=\"0 0 {}", page_w.trunc() as i64)),
        "page coordinates at 300 DPI: {page_w}"
    );
    let img = alice.get(&format!("/tasks/{task}/page/1.png")).await;
    assert_eq!(img.status, StatusCode::OK);
    assert_eq!(img.headers["content-type"], "image/png");
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}
