//! The invoice worker against the real services: RabbitMQ, PostgreSQL, an S3-compatible server,
//! and the real pipeline (pdfium, Tesseract, the layout reader, the matcher).
//! See `services/mod.rs` for the harness. The broker-restart test is in its own file
//! (`worker_broker_restart.rs`) because it disturbs the shared broker.

mod services;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::time::Duration;

use claimscan_contracts::InvoiceUploaded;
use services::*;
use sqlx::Row;

fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let code = out
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    (code, out)
}

fn wait_http(addr: &str, timeout: Duration) {
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            t0.elapsed() < timeout,
            "worker HTTP at {addr} did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_duplicate_invoice_and_resent_message() {
    let env = Env::new("happy").await;
    let (_w, stop, h) = env.worker().await;
    // The fixture's exact words (as a perfect OCR would give them), read by the shipped model.
    // (On pdfium's own words of this PDF the model is far less sure today: see issue 4's notes.)
    let (words, _) = words_invoice("fx03_digital_en_twoline", "");

    let first = env
        .upload(words.clone(), "u-happy-1", "partner-a", "json")
        .await;
    env.wait_decided(1, Duration::from_secs(60)).await;
    let (status, reason) = env.status("u-happy-1").await.unwrap();
    assert_eq!(status, "claimed", "reason: {reason:?}");
    let (points, lines): (i64, i64) = {
        let r = sqlx::query(
            "SELECT c.total_points, (SELECT count(*) FROM claim_lines l WHERE l.claim_id = c.claim_id) AS n
             FROM claims c WHERE upload_id = 'u-happy-1'",
        )
        .fetch_one(&env.pg)
        .await
        .unwrap();
        (r.get(0), r.get(1))
    };
    assert!(points > 0 && lines > 0, "points {points}, lines {lines}");
    let sum: i64 = env
        .count("SELECT sum(points)::bigint FROM claim_lines")
        .await;
    assert_eq!(sum, points);

    // The same invoice from another partner: a duplicate, refused with its code.
    env.upload(words.clone(), "u-happy-2", "partner-b", "json")
        .await;
    env.wait_decided(2, Duration::from_secs(60)).await;
    assert_eq!(
        env.status("u-happy-2").await.unwrap(),
        ("rejected".into(), Some("duplicate_invoice".into()))
    );

    // The same message again (the app retried): no second effect.
    env.send(&first).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(env.count("SELECT count(*) FROM claims").await, 1);
    assert_eq!(
        env.count("SELECT attempts::bigint FROM uploads WHERE upload_id = 'u-happy-1'")
            .await,
        2
    );

    // Announced: claim.created, activity.recorded, upload.rejected; extraction stored for review.
    let msgs = env.tap_messages(50, Duration::from_secs(5)).await;
    let kinds: HashSet<&str> = msgs.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        kinds.contains("claim.created") && kinds.contains("upload.rejected"),
        "{kinds:?}"
    );
    let claim = &msgs.iter().find(|(k, _)| k == "claim.created").unwrap().1;
    assert_eq!(claim["upload_id"], "u-happy-1");
    assert_eq!(claim["total_points"], points);
    assert_eq!(claim["decided_by"], "auto");
    let keys = env
        .store
        .list("artifacts", "extractions/prog/u-happy-1/")
        .await
        .unwrap();
    assert!(
        keys.iter().any(|k| k.ends_with("extraction.json")),
        "{keys:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM uploads WHERE artifacts_pending")
            .await,
        0
    );

    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

/// A claim's extraction JSON is stored after its decision commits, by the relay. A worker that
/// dies between the commit and the PUT leaves the row marked `artifacts_pending`; the next
/// worker's relay stores the JSON from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extraction_json_left_pending_by_a_crash_is_stored_by_the_next_worker() {
    let env = Env::new("pending").await;
    let (_w, stop, h) = env.worker().await;
    let (words, _) = words_invoice("fx03_digital_en_twoline", "-p");
    env.upload(words, "u-pend-1", "partner-p", "json").await;
    env.wait_decided(1, Duration::from_secs(60)).await;
    assert_eq!(env.status("u-pend-1").await.unwrap().0, "claimed");
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    let key = format!(
        "{}extraction.json",
        claimscan_worker::s3::artifacts_prefix("prog", "u-pend-1")
    );
    // The stopped worker drained its relay: the JSON is stored and nothing is pending.
    assert!(env.store.get("artifacts", &key).await.is_ok());
    assert_eq!(
        env.count("SELECT count(*) FROM uploads WHERE artifacts_pending")
            .await,
        0
    );

    // The state a crash right after the commit leaves: the row marked, no object.
    env.store.delete("artifacts", &key).await.unwrap();
    sqlx::query("UPDATE uploads SET artifacts_pending = true WHERE upload_id = 'u-pend-1'")
        .execute(&env.pg)
        .await
        .unwrap();
    assert!(env.store.get("artifacts", &key).await.is_err());

    let (_w, stop, h) = env.worker().await;
    let t0 = std::time::Instant::now();
    while env
        .count("SELECT count(*) FROM uploads WHERE artifacts_pending")
        .await
        > 0
    {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the pending JSON was not stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored: serde_json::Value =
        serde_json::from_slice(&env.store.get("artifacts", &key).await.unwrap()).unwrap();
    let row: serde_json::Value =
        sqlx::query_scalar("SELECT extraction FROM uploads WHERE upload_id = 'u-pend-1'")
            .fetch_one(&env.pg)
            .await
            .unwrap();
    assert_eq!(stored, row);
    assert!(
        stored["invoice"]["lines"]
            .as_array()
            .is_some_and(|l| !l.is_empty()),
        "{stored}"
    );
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_rejected_or_parked_and_the_worker_goes_on() {
    let env = Env::new("bad").await;
    let (_w, stop, h) = env.worker().await;

    env.publish_raw(b"\x00\x01 not json").await;
    env.publish_raw(br#"{"type":"invoice.uploaded","version":9,"upload_id":"x"}"#)
        .await;
    env.publish_raw(br#"{"type":"invoice.uploaded","version":1,"upload_id":""}"#)
        .await;
    env.upload(
        b"%PDF-1.7\n1 0 obj broken beyond repair".to_vec(),
        "u-corrupt",
        "p",
        "pdf",
    )
    .await;
    env.upload(
        include_bytes!("../../../tests/golden/fx01_digital_de_multipage.pdf.txt").to_vec(),
        "u-text",
        "p",
        "txt",
    )
    .await;
    // A message whose object does not exist: retried once, then rejected.
    let ghost = InvoiceUploaded {
        upload_id: "u-ghost".into(),
        program_id: "prog".into(),
        partner_id: "p".into(),
        bucket: UPLOADS.into(),
        key: "nowhere.pdf".into(),
        content_type: "application/pdf".into(),
        uploaded_at: "2026-11-23T10:00:00Z".into(),
    };
    env.send(&ghost).await;
    // A decompression bomb: a tiny PNG claiming 100k x 100k pixels.
    env.upload(bomb_png(), "u-bomb", "p", "png").await;
    // And after all that, a good invoice still goes through.
    let (words, _) = words_invoice("fx01_digital_de_multipage", "");
    env.upload(words, "u-good", "p", "json").await;

    env.wait_decided(5, Duration::from_secs(60)).await;
    let expect = [
        ("u-corrupt", "pdf_corrupt"),
        ("u-text", "unsupported_format"),
        ("u-ghost", "object_missing"),
        ("u-bomb", "image_too_large"),
    ];
    for (id, code) in expect {
        assert_eq!(
            env.status(id).await.unwrap(),
            ("rejected".into(), Some(code.into())),
            "{id}"
        );
    }
    let good = env.status("u-good").await.unwrap().0;
    assert!(good == "claimed" || good == "review", "{good}");

    // The undecodable messages are parked with their reasons, and recorded.
    let parked_q = env.names().parked();
    let t0 = std::time::Instant::now();
    while env.depth(&parked_q).await < 3 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "parked: {}",
            env.depth(&parked_q).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT reason_code FROM parked_messages ORDER BY reason_code")
            .fetch_all(&env.pg)
            .await
            .unwrap();
    assert_eq!(
        codes,
        [
            "message_invalid",
            "message_not_json",
            "message_unsupported_version"
        ]
    );
    assert_eq!(env.depth(&env.names().invoices()).await, 0);

    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_object_is_refused_from_its_get_without_reading_it() {
    let mut env = Env::new("big").await;
    // One GET: the size comes from the response's Content-Length, the body is never read.
    env.cfg.s3.max_object_bytes = 100_000;
    let (_w, stop, h) = env.worker().await;
    let (words, _) = words_invoice("fx03_digital_en_twoline", "");
    assert!(words.len() < 100_000);
    let mut big = words.clone();
    big.resize(100_001, b' ');
    env.upload(big, "u-big", "p", "json").await;
    env.upload(words, "u-small", "p", "json").await;
    env.wait_decided(2, Duration::from_secs(60)).await;
    assert_eq!(
        env.status("u-big").await.unwrap(),
        ("rejected".into(), Some("file_too_large".into()))
    );
    let message: String =
        sqlx::query_scalar("SELECT reason_message FROM uploads WHERE upload_id = 'u-big'")
            .fetch_one(&env.pg)
            .await
            .unwrap();
    assert!(message.contains("100001 bytes"), "{message}");
    let small = env.status("u-small").await.unwrap().0;
    assert!(small == "claimed" || small == "review", "{small}");
    let rejected = env
        .tap_messages(10, Duration::from_secs(10))
        .await
        .into_iter()
        .filter(|(k, _)| k == "upload.rejected")
        .collect::<Vec<_>>();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].1["code"], "file_too_large");
    // The worker asked for the big object once, with a GET, and never with a HEAD: the size
    // check is on the GET's response headers (retries would show as more GETs).
    let asked: Vec<String> = env
        .s3
        .requests()
        .into_iter()
        .filter(|(m, p)| p.contains("/u-big.json") && m != "PUT")
        .map(|(m, _)| m)
        .collect();
    assert_eq!(asked, ["GET"], "requests for the oversize object");
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

fn bomb_png() -> Vec<u8> {
    // A valid PNG header declaring 100000 x 100000 pixels, with one tiny IDAT.
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let chunk = |v: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        v.extend((data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend(data);
        v.extend(&c);
        v.extend(crc32(&c).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut v, b"IHDR", &ihdr);
    chunk(
        &mut v,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut v, b"IEND", &[]);
    v
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Every upload has exactly one outcome and at most one claim; copies of one invoice make at
/// most one claim or task between them.
async fn assert_exactly_once(env: &Env, expected_uploads: i64) {
    assert_eq!(
        env.count("SELECT count(*) FROM uploads").await,
        expected_uploads
    );
    assert_eq!(
        env.count("SELECT count(*) FROM uploads WHERE status = 'processing'")
            .await,
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM (SELECT upload_id FROM claims GROUP BY upload_id HAVING count(*) > 1) d").await,
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM uploads u WHERE (u.status = 'claimed') <> EXISTS (SELECT 1 FROM claims c WHERE c.upload_id = u.upload_id)").await,
        0,
        "claimed status and claim rows disagree"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM uploads u WHERE (u.status = 'review') <> EXISTS (SELECT 1 FROM review_tasks t WHERE t.upload_id = u.upload_id)").await,
        0,
        "review status and task rows disagree"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM (SELECT fingerprint FROM uploads WHERE status IN ('claimed','review') AND fingerprint IS NOT NULL GROUP BY fingerprint HAVING count(*) > 1) d").await,
        0,
        "one invoice paid twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_invoice_then_restart_gives_exactly_one_outcome() {
    let env = Env::new("kill").await;
    // Photos take the longest (OCR): the kill lands mid-invoice.
    let photos = [
        "fx08_photo_de_exif.jpg",
        "fx09_photo_en_blur.jpg",
        "fx10_photo_pt_shadow_rot90.jpg",
        "fx11_photo_fr_perspective.jpg",
    ];
    let mut n = 0;
    for p in photos {
        let Ok(bytes) = std::fs::read(fixture(p)) else {
            continue;
        };
        n += 1;
        env.upload(
            bytes,
            &format!("u-kill-{n}"),
            &format!("partner-{n}"),
            "jpg",
        )
        .await;
    }
    assert!(n >= 3, "photo fixtures missing");
    let mut child = env.worker_command(None).spawn().unwrap();
    // Wait until the worker has started on an upload (registered, not decided), then kill -9.
    let t0 = std::time::Instant::now();
    loop {
        let started = env
            .count("SELECT count(*) FROM uploads WHERE status = 'processing'")
            .await;
        if started > 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "worker never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let killed_mid = env
        .count("SELECT count(*) FROM uploads WHERE status = 'processing'")
        .await;
    assert!(killed_mid > 0, "the kill should land mid-invoice");

    let mut child = env.worker_command(None).spawn().unwrap();
    env.wait_decided(n, Duration::from_secs(120)).await;
    assert_exactly_once(&env, n).await;
    // The killed attempt was redelivered: some upload was attempted twice.
    assert!(env.count("SELECT max(attempts)::bigint FROM uploads").await >= 2);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_graceful_sigterm_drain() {
    let env = Env::new("drain").await;
    let addr = free_addr();
    let mut child = env.worker_command(Some(&addr)).spawn().unwrap();
    wait_http(&addr, Duration::from_secs(60));
    let t0 = std::time::Instant::now();
    while http_get(&addr, "/readyz").0 != 200 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{}",
            http_get(&addr, "/readyz").1
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(http_get(&addr, "/healthz").0, 200);

    let photo = std::fs::read(fixture("fx08_photo_de_exif.jpg")).unwrap();
    env.upload(photo, "u-drain", "p", "jpg").await;
    // SIGTERM while it is being processed: it must finish, ack and exit 0.
    let t0 = std::time::Instant::now();
    while env.status("u-drain").await.is_none() {
        assert!(t0.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let (s, _) = env.status("u-drain").await.unwrap();
    assert_ne!(s, "processing", "drained without finishing");
    assert_eq!(
        env.depth(&env.names().invoices()).await,
        0,
        "unacked message went back to the queue"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            .await,
        0
    );

    // Metrics of a live worker.
    let addr = free_addr();
    let mut child = env.worker_command(Some(&addr)).spawn().unwrap();
    wait_http(&addr, Duration::from_secs(60));
    let (code, body) = http_get(&addr, "/metrics");
    assert_eq!(code, 200);
    assert!(body.contains("claimscan_queue_depth"), "{body}");
    assert!(body.contains("claimscan_outbox_pending"), "{body}");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_queue_never_process_twice() {
    let env = Env::new("two").await;
    let (w1, s1, h1) = env.worker().await;
    let (w2, s2, h2) = env.worker().await;
    let fixtures = [
        "fx01_digital_de_multipage",
        "fx02_digital_fr_credit",
        "fx03_digital_en_twoline",
        "fx04_digital_it_blocks",
        "fx05_digital_pl_iso",
    ];
    let mut n = 0;
    for i in 0..12 {
        for f in fixtures {
            if !fixture(&format!("{f}.truth.json")).exists() {
                continue;
            }
            let (words, _) = words_invoice(f, &format!("-{i}"));
            n += 1;
            let msg = env
                .upload(words, &format!("u-two-{n}"), &format!("p{}", n % 7), "json")
                .await;
            if n % 5 == 0 {
                env.send(&msg).await; // the same message twice
            }
        }
    }
    env.wait_decided(n, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_exactly_once(&env, n).await;
    let handled = |w: &claimscan_worker::Worker| -> u64 {
        ["claim", "review", "reject"]
            .iter()
            .map(|k| {
                w.metrics
                    .outcomes
                    .get_metric_with_label_values(&[k, ""])
                    .map(|c| c.get())
                    .unwrap_or(0)
            })
            .sum::<u64>()
            + w.metrics
                .outcomes
                .with_label_values(&["reject", "duplicate_invoice"])
                .get()
    };
    let (a, b) = (handled(&w1), handled(&w2));
    assert!(a > 0 && b > 0, "both workers should take work: {a} / {b}");
    s1.send(true).unwrap();
    s2.send(true).unwrap();
    h1.await.unwrap().unwrap();
    h2.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prefetch_rises_for_fast_uploads_and_no_delivery_is_stranded() {
    let env = Env::new("pace").await;
    let mut cfg = env.cfg.clone();
    cfg.amqp.prefetch = 1;
    cfg.amqp.prefetch_max = 12;
    let (w, stop, h) = env.worker_with(cfg).await;
    // Word-JSON invoices are read in milliseconds, about as long as their storage and database
    // round trips: one delivery at a time leaves the extraction threads idle, and the worker
    // raises its prefetch, consuming anew each time and cancelling the consumer it replaces.
    let fixtures = [
        "fx01_digital_de_multipage",
        "fx03_digital_en_twoline",
        "fx04_digital_it_blocks",
    ];
    let n = 80;
    for i in 0..n {
        let (words, _) = words_invoice(fixtures[i % fixtures.len()], &format!("-pace{i}"));
        env.upload(
            words,
            &format!("u-pace-{i:03}"),
            &format!("partner-{}", i % 9),
            "json",
        )
        .await;
    }
    // A delivery held by a replaced consumer and never handled would stay unacked on the
    // worker's channel: this wait would time out.
    env.wait_decided(n as i64, Duration::from_secs(180)).await;
    assert_exactly_once(&env, n as i64).await;
    let p = w.metrics.prefetch.get();
    assert!(p > 1, "the prefetch stayed at {p}");
    assert!(p <= 12, "the prefetch {p} passed prefetch_max");
    // Replaced consumers are gone from the queue: this worker has exactly one.
    let ch = env.conn.create_channel().await.unwrap();
    let q = ch
        .queue_declare(
            env.names().invoices().as_str().into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(q.consumer_count(), 1);
    assert_eq!(q.message_count(), 0);
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_uploads_count_in_equals_count_out() {
    let env = Env::new("k").await;
    let mut cfg = env.cfg.clone();
    cfg.amqp.prefetch = 16;
    let (_w, stop, h) = env.worker_with(cfg).await;
    let fixtures = [
        "fx01_digital_de_multipage",
        "fx03_digital_en_twoline",
        "fx04_digital_it_blocks",
    ];
    let docs: Vec<Vec<u8>> = (0..1000)
        .map(|i| words_invoice(fixtures[i % fixtures.len()], &format!("-{i}")).0)
        .collect();
    let t0 = std::time::Instant::now();
    for (i, d) in docs.into_iter().enumerate() {
        env.upload(
            d,
            &format!("u-k-{i:04}"),
            &format!("partner-{}", i % 50),
            "json",
        )
        .await;
    }
    let pushed = t0.elapsed();
    env.wait_decided(1000, Duration::from_secs(600)).await;
    let all = t0.elapsed();
    eprintln!("1000 uploads: pushed in {pushed:?}, all decided in {all:?}");
    assert_exactly_once(&env, 1000).await;
    // Count out: one outcome message per upload reached the events exchange.
    let t1 = std::time::Instant::now();
    while env
        .count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .await
        > 0
    {
        assert!(t1.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let msgs = env.tap_messages(5000, Duration::from_secs(5)).await;
    let mut per_upload: HashMap<String, usize> = HashMap::new();
    for (k, v) in &msgs {
        if k == "claim.created" || k == "review.requested" || k == "upload.rejected" {
            *per_upload
                .entry(v["upload_id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    assert_eq!(per_upload.len(), 1000);
    assert!(
        per_upload.values().all(|&c| c == 1),
        "an upload announced twice"
    );
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    env.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_removes_the_partner_from_every_store_and_keeps_totals() {
    let env = Env::new("erase").await;
    let (_w, stop, h) = env.worker().await;
    let partner = "partner-to-forget-4711";
    let (a, _) = words_invoice("fx03_digital_en_twoline", "-e1");
    let (b, _) = words_invoice("fx01_digital_de_multipage", "-e2");
    let (c, _) = words_invoice("fx04_digital_it_blocks", "-e3");
    env.upload(a, "u-e-1", partner, "json").await;
    env.upload(b, "u-e-2", partner, "json").await;
    env.upload(c, "u-e-3", "someone-else", "json").await;
    // A corrupt file is rejected, so its row has no artifacts prefix; an earlier attempt that
    // crashed after writing a page image left that file behind anyway.
    env.upload(b"%PDF-1.7 broken".to_vec(), "u-e-4", partner, "pdf")
        .await;
    env.store
        .put(
            "artifacts",
            &format!(
                "{}page-1.png",
                claimscan_worker::s3::artifacts_prefix("prog", "u-e-4")
            ),
            b"left by a crashed attempt".to_vec(),
            "image/png",
        )
        .await
        .unwrap();
    env.wait_decided(4, Duration::from_secs(60)).await;
    assert_eq!(env.status("u-e-4").await.unwrap().0, "rejected");
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
    let total_before = env
        .count("SELECT coalesce(sum(total_points), 0)::bigint FROM claims")
        .await;

    for round in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimscan"))
            .args(["partner", "erase", partner])
            .envs(
                env.worker_command(None)
                    .get_envs()
                    .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if round == 0 {
            assert_eq!(report["uploads"], 3);
            assert!(report["objects_deleted"].as_u64().unwrap() >= 4);
        } else {
            assert_eq!(report["uploads"], 0, "idempotent");
        }
    }

    // Every table of the schema: no row mentions the partner.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&env.pg)
    .await
    .unwrap();
    assert!(tables.len() >= 8, "{tables:?}");
    for t in &tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{t}\" x WHERE x::text LIKE '%' || $1 || '%'"
        )))
        .bind(partner)
        .fetch_one(&env.pg)
        .await
        .unwrap();
        assert_eq!(n, 0, "table {t} still mentions the partner");
    }
    // Message bodies are bytes: look inside them too.
    let in_bodies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE position(convert_to($1, 'UTF8') in body) > 0",
    )
    .bind(partner)
    .fetch_one(&env.pg)
    .await
    .unwrap();
    assert_eq!(in_bodies, 0, "an outbox message still names the partner");
    // Object storage: nothing of theirs left, the other partner's files untouched.
    let uploads = env.store.list(UPLOADS, "").await.unwrap();
    assert!(uploads.iter().all(|k| !k.contains(partner)), "{uploads:?}");
    assert!(uploads.iter().any(|k| k.contains("someone-else")));
    let artifacts = env.store.list("artifacts", "").await.unwrap();
    assert!(
        !artifacts
            .iter()
            .any(|k| k.contains("u-e-1") || k.contains("u-e-2") || k.contains("u-e-4")),
        "{artifacts:?}"
    );
    assert!(artifacts.iter().any(|k| k.contains("u-e-3")));
    // The ledger keeps its totals.
    assert_eq!(
        env.count("SELECT coalesce(sum(total_points), 0)::bigint FROM claims")
            .await,
        total_before
    );
    assert_eq!(env.count("SELECT count(*) FROM erasures").await, 1);
    env.cleanup().await;
}

/// `claimscan model ...` against a worker; returns (exit status, stdout).
fn model_cmd(args: &[&str], addr: &str, token: &str) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimscan"))
        .arg("model")
        .args(args)
        .args(["--worker", &format!("http://{addr}"), "--token", token])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layout_model_hot_swap_shadow_and_rollback_in_a_running_worker() {
    let mut env = Env::new("swap").await;
    // v1, live at start: the CORD-trained model; v2: the plain one. Both read the fixtures (the
    // worker's validation data) entirely right, so either may replace the other.
    let v1 = root().join("models/layout-gbdt-cord");
    let v2 = root().join("models/layout-gbdt");
    env.cfg.pipeline.reader = v1.display().to_string();
    env.cfg.http.admin_token = "s3cret".into();
    let addr = free_addr();
    let mut child = env.worker_command(Some(&addr)).spawn().unwrap();
    wait_http(&addr, Duration::from_secs(60));
    let (v1s, v2s) = (v1.display().to_string(), v2.display().to_string());

    // No token, no admin.
    let (code, _) = model_cmd(&["status"], &addr, "wrong");
    assert_eq!(code, 2);
    assert_eq!(http_get(&addr, "/admin/model").0, 401);

    // A model whose manifest does not match this code is refused; the live one stays.
    let broken = std::env::temp_dir().join(unique("broken-model"));
    std::fs::create_dir_all(&broken).unwrap();
    for f in ["model.onnx", "manifest.toml"] {
        std::fs::copy(v2.join(f), broken.join(f)).unwrap();
    }
    let manifest = std::fs::read_to_string(broken.join("manifest.toml")).unwrap();
    std::fs::write(
        broken.join("manifest.toml"),
        manifest.replace("feature_schema_version = 1", "feature_schema_version = 91"),
    )
    .unwrap();
    let (code, out) = model_cmd(&["deploy", broken.to_str().unwrap()], &addr, "s3cret");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("model_schema_mismatch"), "{out}");
    let (_, out) = model_cmd(&["status"], &addr, "s3cret");
    assert!(
        out.contains("\"live\": \"layout-gbdt-cord@1.2.0\""),
        "{out}"
    );

    // A good model goes live after validation; the next upload is read by it.
    let (code, out) = model_cmd(&["deploy", &v2s], &addr, "s3cret");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"live\": \"layout-gbdt@1.0.0\""), "{out}");
    assert!(
        out.contains("\"previous\": \"layout-gbdt-cord@1.2.0\""),
        "{out}"
    );
    let (words, _) = words_invoice("fx03_digital_en_twoline", "");
    env.upload(words, "u-swap-1", "partner-a", "json").await;
    env.wait_decided(1, Duration::from_secs(60)).await;
    let reader: String =
        sqlx::query_scalar("SELECT reader FROM uploads WHERE upload_id = 'u-swap-1'")
            .fetch_one(&env.pg)
            .await
            .unwrap();
    assert_eq!(reader, "layout-gbdt@1.0.0");

    // A reader that reads the validation data worse is refused: every reader we ship (the rule
    // reader too, since 2026-12-06) now reads the fixtures entirely right, so that refusal is
    // covered by `models::tests::rules_cannot_go_live_over_a_better_reader_on_the_validation_set`
    // with a reader that reads nothing.

    // Shadow mode: the old model reads beside the new one; the comparison is recorded.
    let (code, out) = model_cmd(&["shadow", &v1s], &addr, "s3cret");
    assert_eq!(code, 0, "{out}");
    let (words, _) = words_invoice("fx05_digital_pl_iso", "");
    env.upload(words, "u-swap-2", "partner-a", "json").await;
    env.wait_decided(2, Duration::from_secs(60)).await;
    let t0 = std::time::Instant::now();
    while env.count("SELECT count(*) FROM shadow_results").await < 1 {
        assert!(t0.elapsed() < Duration::from_secs(10), "no shadow result");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (live, shadow, upload): (String, String, String) = {
        let r = sqlx::query("SELECT live_reader, shadow_reader, upload_id FROM shadow_results")
            .fetch_one(&env.pg)
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(
        (live.as_str(), shadow.as_str(), upload.as_str()),
        ("layout-gbdt@1.0.0", "layout-gbdt-cord@1.2.0", "u-swap-2")
    );
    let (code, out) = model_cmd(&["shadow", "--off"], &addr, "s3cret");
    assert_eq!(code, 0, "{out}");

    // Rollback: one step of history.
    let (code, out) = model_cmd(&["rollback"], &addr, "s3cret");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("layout-gbdt-cord@1.2.0"), "{out}");
    let (code, out) = model_cmd(&["rollback"], &addr, "s3cret");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no_previous_model"), "{out}");

    let (_, metrics) = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("claimscan_model_swaps_total{result=\"deployed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("claimscan_model_swaps_total{result=\"refused\"} 1"),
        "{metrics}"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&broken);
    env.cleanup().await;
}
