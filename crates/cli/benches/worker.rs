//! Whole-stack throughput and latency of the invoice worker on this machine: the real RabbitMQ,
//! PostgreSQL, an S3-compatible server (moto) and the real pipeline, in one process.
//!
//! `cargo bench -p claimscan-cli --bench worker` (or `make bench-worker`) prints, for a digital-PDF
//! mix and a photo mix: uploads per minute, the share of each upload's time spent outside
//! extraction (broker, storage, database, decision), and the upload-to-decision latency of a
//! one-page photo on an idle worker (p50/p95), next to the time `claimscan_read` + layout alone
//! take on the same file (the reference: extraction without any of the service around it).

#[path = "../tests/services/mod.rs"]
mod services;

use std::time::{Duration, Instant};

use services::*;

fn stage_sum(w: &claimscan_worker::Worker, stages: &[&str]) -> f64 {
    stages
        .iter()
        .map(|s| {
            w.metrics
                .stage_seconds
                .with_label_values(&[s])
                .get_sample_sum()
        })
        .sum()
}

fn upload_sum(w: &claimscan_worker::Worker) -> (f64, u64) {
    ["claim", "review", "reject"]
        .iter()
        .fold((0.0, 0), |(s, n), k| {
            let h = w.metrics.upload_seconds.with_label_values(&[k]);
            (s + h.get_sample_sum(), n + h.get_sample_count())
        })
}

async fn mix(env: &Env, label: &str, files: &[&str], copies: usize, round: &mut usize) {
    let (w, stop, h) = env.worker().await;
    // Warm-up: one upload through every stage (engines, pools, connections).
    let bytes = std::fs::read(fixture(files[0])).unwrap();
    *round += 1;
    env.upload(bytes, &format!("warm-{round}"), "bench", "bin")
        .await;
    let before: i64 = env
        .count("SELECT count(*) FROM uploads WHERE status <> 'processing'")
        .await;
    env.wait_decided(before, Duration::from_secs(120)).await;
    let (u0, n0) = upload_sum(&w);
    let e0 = stage_sum(&w, &["read", "layout", "match"]);
    let q0 = stage_sum(&w, &["wait_extraction"]);

    let mut n = 0;
    let t0 = Instant::now();
    for c in 0..copies {
        for f in files {
            let bytes = std::fs::read(fixture(f)).unwrap();
            let ext = f.rsplit('.').next().unwrap();
            env.upload(
                bytes,
                &format!("{label}-{round}-{c}-{f}"),
                &format!("p{c}"),
                ext,
            )
            .await;
            n += 1;
        }
    }
    env.wait_decided(before + n, Duration::from_secs(1800))
        .await;
    let wall = t0.elapsed().as_secs_f64();
    let (u1, n1) = upload_sum(&w);
    let e1 = stage_sum(&w, &["read", "layout", "match"]);
    // Time waiting for a free extraction thread is queueing inside the worker, not overhead.
    let busy = (u1 - u0) - (stage_sum(&w, &["wait_extraction"]) - q0);
    let extraction = e1 - e0;
    println!(
        "{label:<8} {n:>4} uploads in {wall:>6.1} s = {:>6.1} uploads/min | per upload (queueing excluded) {:>6.0} ms, extraction {:>6.0} ms, outside extraction {:>4.1}% ({} decided)",
        n as f64 * 60.0 / wall,
        busy * 1000.0 / (n1 - n0) as f64,
        extraction * 1000.0 / (n1 - n0) as f64,
        100.0 * (busy - extraction).max(0.0) / busy,
        n1 - n0
    );
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let env = Env::new("bench").await;
        println!("claimscan worker bench: RabbitMQ 127.0.0.1:5672, PostgreSQL 127.0.0.1:5432, moto S3; reader {}", env.cfg.pipeline.reader);
        let mut round = 0;
        let digital = ["fx01_digital_de_multipage.pdf", "fx02_digital_fr_credit.pdf", "fx03_digital_en_twoline.pdf", "fx04_digital_it_blocks.pdf", "fx05_digital_pl_iso.pdf"];
        let photos = ["fx08_photo_de_exif.jpg", "fx09_photo_en_blur.jpg", "fx10_photo_pt_shadow_rot90.jpg", "fx11_photo_fr_perspective.jpg"];
        let copies: usize = std::env::var("BENCH_COPIES").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
        mix(&env, "digital", &digital, copies, &mut round).await;
        mix(&env, "photo", &photos, copies.div_ceil(2), &mut round).await;

        // Latency of one one-page photo on an idle worker, against extraction alone.
        let (_w, stop, h) = env.worker().await;
        let photo = std::fs::read(fixture("fx09_photo_en_blur.jpg")).unwrap();
        let mut lat = Vec::new();
        for i in 0..12 {
            let id = format!("lat-{i}");
            let t0 = Instant::now();
            env.upload(photo.clone(), &id, &format!("lat{i}"), "jpg").await;
            loop {
                if let Some((s, _)) = env.status(&id).await {
                    if s != "processing" {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        stop.send(true).unwrap();
        h.await.unwrap().unwrap();
        lat.remove(0); // first one warms the OCR engine of this worker
        lat.sort_by(f64::total_cmp);
        let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize];
        let pipeline = claimscan_worker::pipeline::Pipeline::load(&env.cfg.pipeline).unwrap();
        let _ = pipeline.read(&photo, "warm.jpg");
        let mut alone = Vec::new();
        for _ in 0..5 {
            let t0 = Instant::now();
            let _ = pipeline.read(&photo, "x.jpg").unwrap();
            alone.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        alone.sort_by(f64::total_cmp);
        println!(
            "photo latency upload->decision on an idle worker: p50 {:.0} ms, p95 {:.0} ms (n={}); extraction alone (read+layout, same photo): median {:.0} ms",
            pct(0.5),
            pct(0.95),
            lat.len(),
            alone[alone.len() / 2]
        );
        env.cleanup().await;
    });
}
