//! The review app end to end in a real browser: the real worker (RabbitMQ, moto S3, PostgreSQL,
//! the shipped layout model) sends three invoices to review because a line is in the
//! distributor's own words (`line_match_uncertain`); `claimscan review serve` runs as a
//! subprocess; Debian's chromium, driven by playwright-core (`tests/e2e/review.js`), logs in,
//! approves, corrects and approves, rejects with a reason, and is refused another program's task.
//! Then a second invoice of the same distributor with the same wording is claimed by itself.
//! Screenshots of the main pages go to `$CARGO_TARGET_TMPDIR/review-e2e/` (printed).

mod review_support;
mod services;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use review_support::*;
use services::*;
use sqlx::Row;

const PW: &str = "a long enough password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_approve_correct_reject_and_denied() {
    let e2e = root().join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").is_dir()
            && PathBuf::from("/usr/bin/chromium").exists(),
        "playwright-core or chromium missing: run `bash scripts/setup.sh` (make test does)"
    );
    let env = Env::new("reviewe2e").await;
    let (_w, stop, h) = env.worker().await;
    let ids = ["u-approve", "u-correct", "u-reject"];
    for (i, id) in ids.iter().enumerate() {
        let (words, _) = reworded_invoice(&format!("-e{i}"));
        env.upload(words, id, &format!("partner-{i}"), "json").await;
    }
    env.wait_decided(3, Duration::from_secs(90)).await;
    let mut tasks = Vec::new();
    for id in ids {
        assert_eq!(
            env.status(id).await.unwrap(),
            ("review".into(), Some("line_match_uncertain".into())),
            "{id}: goes to review for its unknown wording"
        );
        tasks.push(
            sqlx::query_scalar::<_, String>(
                "SELECT task_id::text FROM review_tasks WHERE upload_id = $1",
            )
            .bind(id)
            .fetch_one(&env.pg)
            .await
            .unwrap(),
        );
    }
    let schema = env.cfg.database.schema.clone();
    add_manager(&schema, "alice@example.com", PW, &["prog"]);
    add_manager(&schema, "bob@example.com", PW, &["other"]);
    // a partner at risk, for the engagement page
    sqlx::query(
        "INSERT INTO partner_scores (program_id, partner_id, as_of, score, segment, expected_purchases, reason)
         VALUES ('prog', 'partner-0', current_date, 0.87, 'drifting', 0.3, 'no purchase for 9 weeks, usually every 2')",
    )
    .execute(&env.pg)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO activity_events (event_id, program_id, partner_id, occurred_at, kind)
         SELECT 'ev' || i, 'prog', 'partner-0', now() - make_interval(days => 9 * 7 + i * 5), 'purchase'
         FROM generate_series(0, 20) i",
    )
    .execute(&env.pg)
    .await
    .unwrap();

    sqlx::query(
        "INSERT INTO challenges (challenge_id, program_id, partner_id, segment, goal, window_start, window_end, multiplier, template, message, send_at)
         VALUES ('ch-e2e', 'prog', 'partner-0', 'drifting', 2, now() + interval '1 day', now() + interval '31 days', 1.5, 'comeback',
                 'Two orders this month earn 1.5x points', now() + interval '1 day')",
    )
    .execute(&env.pg)
    .await
    .unwrap();

    // --- the app, as deployed
    let port = free_port();
    let cfg = &env.cfg;
    let serve = Child(
        Command::new(env!("CARGO_BIN_EXE_claimscan"))
            .args(["review", "serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("CLAIMSCAN_DATABASE__URL", &cfg.database.url)
            .env("CLAIMSCAN_DATABASE__SCHEMA", &cfg.database.schema)
            .env("CLAIMSCAN_S3__ENDPOINT", &cfg.s3.endpoint)
            .env("CLAIMSCAN_S3__ARTIFACTS_BUCKET", &cfg.s3.artifacts_bucket)
            .env("CLAIMSCAN_PIPELINE__CATALOG", &cfg.pipeline.catalog)
            .env(
                "CLAIMSCAN_PIPELINE__VALIDATION_DATA",
                &cfg.pipeline.validation_data,
            )
            .env("CLAIMSCAN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("claimscan review serve"),
    );
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "review app did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // --- the browser
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("review-e2e");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(e2e.join("review.js"))
        .current_dir(&e2e)
        // localhost: a secure context, where chromium keeps the Secure session cookie over http
        .env("BASE_URL", format!("http://localhost:{port}"))
        .env("ALICE", "alice@example.com")
        .env("BOB", "bob@example.com")
        .env("PASSWORD", PW)
        .env("TASK_APPROVE", &tasks[0])
        .env("TASK_CORRECT", &tasks[1])
        .env("TASK_REJECT", &tasks[2])
        .env("CORRECT_SKU", REWORDED_SKU)
        .env("SHOTS", &shots)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("browser saw: {stdout}");
    eprintln!("screenshots: {}", shots.display());
    let mut names: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in [
        "01-login.png",
        "02-queue.png",
        "03-task.png",
        "06-engagement.png",
        "07-other-program-denied.png",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }

    // --- what the clicks did
    let row = |id: &'static str| {
        let pg = env.pg.clone();
        async move {
            sqlx::query(
                "SELECT u.status, u.reason_code, c.decided_by, t.status AS task_status,
                        (SELECT l.sku FROM claim_lines l WHERE l.claim_id = c.claim_id AND l.line_no = 0) AS sku0
                 FROM uploads u JOIN review_tasks t USING (upload_id) LEFT JOIN claims c USING (upload_id)
                 WHERE u.upload_id = $1",
            )
            .bind(id)
            .fetch_one(&pg)
            .await
            .unwrap()
        }
    };
    let a = row("u-approve").await;
    assert_eq!(a.get::<String, _>("status"), "claimed");
    assert_eq!(
        a.get::<Option<String>, _>("decided_by").as_deref(),
        Some("manager")
    );
    let c = row("u-correct").await;
    assert_eq!(c.get::<String, _>("status"), "claimed");
    assert_eq!(
        c.get::<Option<String>, _>("sku0").as_deref(),
        Some(REWORDED_SKU)
    );
    let r = row("u-reject").await;
    assert_eq!(r.get::<String, _>("status"), "rejected");
    assert_eq!(
        r.get::<Option<String>, _>("reason_code").as_deref(),
        Some("not_eligible")
    );
    assert_eq!(r.get::<String, _>("task_status"), "rejected");
    assert_eq!(env.count("SELECT count(*) FROM review_audit").await, 3);

    // --- the next invoice of that distributor, same wording: claimed with no one looking
    let (words, _) = reworded_invoice("-e9");
    env.upload(words, "u-second", "partner-7", "json").await;
    env.wait_decided(4, Duration::from_secs(60)).await;
    let s = row_claim(&env, "u-second").await;
    assert_eq!(
        s,
        (
            "claimed".to_string(),
            Some("auto".to_string()),
            Some(REWORDED_SKU.to_string())
        )
    );

    drop(serve);
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

async fn row_claim(env: &Env, id: &str) -> (String, Option<String>, Option<String>) {
    let r = sqlx::query(
        "SELECT u.status, c.decided_by,
                (SELECT l.sku FROM claim_lines l WHERE l.claim_id = c.claim_id AND l.line_no = 0) AS sku0
         FROM uploads u LEFT JOIN claims c USING (upload_id) WHERE u.upload_id = $1",
    )
    .bind(id)
    .fetch_one(&env.pg)
    .await
    .unwrap();
    (r.get(0), r.get(1), r.get(2))
}
