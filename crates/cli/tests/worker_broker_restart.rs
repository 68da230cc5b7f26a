//! The broker restarts mid-stream: nothing is lost, nothing is done twice. In its own test binary
//! because it stops and starts the shared RabbitMQ application (`rabbitmqctl stop_app/start_app`);
//! cargo runs test binaries one after another, so no other service test sees the outage.

mod services;

use std::process::Command;
use std::time::Duration;

use services::*;

fn rabbitmqctl(args: &[&str]) {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl on PATH");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_stream_loses_nothing() {
    let env = Env::new("restart").await;
    let n = 60;
    for i in 0..n {
        let f = [
            "fx01_digital_de_multipage",
            "fx03_digital_en_twoline",
            "fx04_digital_it_blocks",
        ][i % 3];
        let (words, _) = words_invoice(f, &format!("-r{i}"));
        env.upload(
            words,
            &format!("u-r-{i:03}"),
            &format!("p{}", i % 9),
            "json",
        )
        .await;
    }
    let mut worker = env.worker_command(None).spawn().unwrap();
    // Let it get going, then take the broker away under it.
    env.wait_decided(5, Duration::from_secs(60)).await;
    rabbitmqctl(&["stop_app"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    rabbitmqctl(&["start_app"]);
    rabbitmqctl(&["await_startup"]);

    env.wait_decided(n as i64, Duration::from_secs(180)).await;
    assert_eq!(env.count("SELECT count(*) FROM uploads").await, n as i64);
    assert_eq!(
        env.count("SELECT count(*) FROM (SELECT upload_id FROM claims GROUP BY upload_id HAVING count(*) > 1) d").await,
        0
    );
    // Everything announced once the broker is back.
    let t0 = std::time::Instant::now();
    while env
        .count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .await
        > 0
    {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "outbox not drained after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
    assert!(worker.wait().unwrap().success());
    // Our test's connections died with the broker: a fresh env handle cleans up.
    let env2 = Env {
        conn: claimscan_worker::amqp::connect(AMQP).await.unwrap(),
        ..env
    };
    env2.cleanup().await;
}
