//! Whole-stack throughput and latency of the invoice worker on this machine: the real RabbitMQ,
//! PostgreSQL, an S3-compatible server (moto) and the real pipeline, in one process.
//!
//! `cargo bench --workspace --bench worker --profile dev` (or `make bench-worker`) runs three
//! mixes (digital PDFs, photos, and 20% digital / 80% photos), each twice:
//! - **idle**: one upload at a time, the next sent only after the previous one was acked;
//! - **load**: every object stored first, then every message published at once.
//!
//! It prints a per-stage table (mean ms per upload of each `claimscan_stage_seconds` stage, read
//! from the worker's own histograms once they have all been observed), uploads/min, the share of
//! each upload's time spent outside extraction (broker, storage, database, decision; the wait for
//! a free extraction thread is queueing and excluded), and under load the share of extraction
//! thread time left idle while uploads were waiting to be extracted (published, not started).
//! Last, the upload-to-decision latency of a one-page photo on an idle worker (p50/p95), next
//! to the time `claimscan_read` + layout alone take on the same file.
//!
//! Environment: `BENCH_COPIES` (default 6: copies of the digital set; the photo sets get half),
//! `BENCH_PREFETCH` (the worker's `amqp.prefetch`, default the tests' 4), `BENCH_PREFETCH_MAX`
//! (`amqp.prefetch_max`, default the worker's 16; a comma-separated list runs every scenario once
//! per value, side by side, e.g. `4,16` for a fixed prefetch against an adaptive one),
//! `BENCH_PREFETCH_WEIGHT` (`amqp.prefetch_outside_weight`, default the worker's; a list runs each
//! adaptive setting once per weight, e.g. `BENCH_PREFETCH_MAX=2,16 BENCH_PREFETCH_WEIGHT=1.5,3`
//! runs fixed 2, then 2..16 at 1.5 and at 3),
//! `BENCH_MIXES` (comma-separated subset of `digital,photo,mix`), `BENCH_MODES` (`idle,load`).

#[path = "../tests/services/mod.rs"]
mod services;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use claimscan_worker::Worker;
use services::*;

/// Every stage histogram the worker may observe, in pipeline order.
const STAGES: [&str; 11] = [
    "begin",
    "fetch",
    "wait_extraction",
    "read",
    "layout",
    "hash",
    "context",
    "match",
    "decide",
    "artifacts",
    "record",
];
/// Extraction proper: what runs on an extraction thread, plus matching.
const EXTRACTION: [&str; 3] = ["read", "layout", "match"];

#[derive(Clone)]
struct Snap {
    sums: Vec<f64>,
    counts: Vec<u64>,
    upload_sum: f64,
    uploads: u64,
}

fn snap(w: &Worker) -> Snap {
    let h = |s: &str| w.metrics.stage_seconds.with_label_values(&[s]);
    let (upload_sum, uploads) = ["claim", "review", "reject", "duplicate_message", "retry"]
        .iter()
        .fold((0.0, 0), |(s, n), k| {
            let h = w.metrics.upload_seconds.with_label_values(&[k]);
            (s + h.get_sample_sum(), n + h.get_sample_count())
        });
    Snap {
        sums: STAGES.iter().map(|s| h(s).get_sample_sum()).collect(),
        counts: STAGES.iter().map(|s| h(s).get_sample_count()).collect(),
        upload_sum,
        uploads,
    }
}

fn stage_index(s: &str) -> usize {
    STAGES.iter().position(|x| *x == s).unwrap()
}

/// Waits until the worker has acked (and observed) `n` uploads in total.
async fn wait_uploads(w: &Worker, n: u64, timeout: Duration) {
    let t0 = Instant::now();
    while snap(w).uploads < n {
        assert!(
            t0.elapsed() < timeout,
            "only {} of {n} uploads done after {timeout:?}",
            snap(w).uploads
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Idle,
    Load,
}

struct Run {
    name: String,
    n: u64,
    wall: f64,
    /// Mean ms per upload of each stage (None: never observed).
    stages: Vec<Option<f64>>,
    upload_ms: f64,
    busy_ms: f64,
    extraction_ms: f64,
    idle_threads: Option<f64>,
    /// The worker's prefetch when the run ended.
    prefetch: i64,
}

impl Run {
    fn outside(&self) -> f64 {
        100.0 * (self.busy_ms - self.extraction_ms).max(0.0) / self.busy_ms
    }
}

async fn scenario(
    env: &Env,
    mix: &str,
    files: &[&str],
    copies: usize,
    mode: Mode,
    label: &str,
) -> Run {
    let (w, stop, h) = env.worker().await;
    let threads = env.cfg.pipeline.extraction_threads;
    // Warm-up: as many uploads at once as there are extraction threads (engines, pools,
    // connections), then wait until they are acked.
    let base = snap(&w).uploads;
    for i in 0..threads {
        let f = files[i % files.len()];
        let ext = f.rsplit('.').next().unwrap();
        let bytes = std::fs::read(fixture(f)).unwrap();
        let id = unique(&format!("warm-{mix}-{i}"));
        env.upload(bytes, &id, &format!("warm{i}"), ext).await;
    }
    wait_uploads(&w, base + threads as u64, Duration::from_secs(300)).await;
    let s0 = snap(&w);
    let wi = stage_index("wait_extraction");
    let ri = stage_index("read");

    let tag = match mode {
        Mode::Idle => "idle",
        Mode::Load => "load",
    };
    let mut items = Vec::new();
    for c in 0..copies {
        for f in files {
            let bytes = std::fs::read(fixture(f)).unwrap();
            let ext = f.rsplit('.').next().unwrap().to_string();
            let id = unique(&format!("{mix}-{tag}-{c}"));
            items.push((bytes, id, format!("p{c}"), ext));
        }
    }
    let n = items.len() as u64;
    let published = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let t0;
    let mut sampler = None;
    match mode {
        Mode::Idle => {
            t0 = Instant::now();
            for (i, (bytes, id, partner, ext)) in items.into_iter().enumerate() {
                env.upload(bytes, &id, &partner, &ext).await;
                wait_uploads(&w, s0.uploads + i as u64 + 1, Duration::from_secs(300)).await;
            }
        }
        Mode::Load => {
            let mut msgs = Vec::new();
            for (bytes, id, partner, ext) in items {
                // the same object and message as `Env::upload`, split in two phases
                let key = format!("prog/{partner}/{id}.{ext}");
                env.store
                    .put(UPLOADS, &key, bytes, "application/octet-stream")
                    .await
                    .unwrap();
                msgs.push(claimscan_contracts::InvoiceUploaded {
                    upload_id: id,
                    program_id: "prog".into(),
                    partner_id: partner,
                    bucket: UPLOADS.into(),
                    key,
                    content_type: "application/octet-stream".into(),
                    uploaded_at: "2026-11-23T10:00:00Z".into(),
                });
            }
            // Thread occupancy while uploads wait to be extracted: sampled every 2 ms from the
            // histogram counts (wait_extraction is observed when a job starts on a thread, read
            // when it ends).
            let (w2, p2, d2) = (w.clone(), published.clone(), done.clone());
            let (c0w, c0r) = (s0.counts[wi], s0.counts[ri]);
            sampler = Some(tokio::spawn(async move {
                let (mut idle, mut samples) = (0.0f64, 0u64);
                while !d2.load(Ordering::Relaxed) {
                    let s = snap(&w2);
                    let started = s.counts[wi] - c0w;
                    let finished = s.counts[ri] - c0r;
                    let busy = started.saturating_sub(finished).min(threads as u64);
                    if p2.load(Ordering::Relaxed) > started {
                        idle += (threads as u64 - busy) as f64 / threads as f64;
                        samples += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                (idle, samples)
            }));
            t0 = Instant::now();
            for m in &msgs {
                env.send(m).await;
                published.fetch_add(1, Ordering::Relaxed);
            }
            wait_uploads(&w, s0.uploads + n, Duration::from_secs(1800)).await;
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let idle_threads = match sampler {
        Some(s) => {
            let (idle, samples) = s.await.unwrap();
            Some(if samples == 0 {
                0.0
            } else {
                100.0 * idle / samples as f64
            })
        }
        None => None,
    };
    let s1 = snap(&w);
    let prefetch = w.metrics.prefetch.get();
    stop.send(true).unwrap();
    h.await.unwrap().unwrap();

    let uploads = (s1.uploads - s0.uploads) as f64;
    let d = |i: usize| s1.sums[i] - s0.sums[i];
    let stages: Vec<Option<f64>> = (0..STAGES.len())
        .map(|i| (s1.counts[i] > s0.counts[i]).then(|| d(i) * 1000.0 / uploads))
        .collect();
    let upload_ms = (s1.upload_sum - s0.upload_sum) * 1000.0 / uploads;
    let wait_ms = d(wi) * 1000.0 / uploads;
    let extraction_ms = EXTRACTION
        .iter()
        .map(|s| d(stage_index(s)) * 1000.0 / uploads)
        .sum();
    let run = Run {
        name: format!("{mix}/{tag}{label}"),
        n,
        wall,
        stages,
        upload_ms,
        busy_ms: upload_ms - wait_ms,
        extraction_ms,
        idle_threads,
        prefetch,
    };
    println!(
        "{:<22} {:>4} uploads in {:>6.1} s = {:>7.1} uploads/min | per upload (queueing excluded) {:>6.1} ms, extraction {:>6.1} ms, outside extraction {:>4.1}%{}, prefetch at the end {}",
        run.name,
        run.n,
        run.wall,
        run.n as f64 * 60.0 / run.wall,
        run.busy_ms,
        run.extraction_ms,
        run.outside(),
        run.idle_threads
            .map(|p| format!(", threads idle while queued {p:.1}%"))
            .unwrap_or_default(),
        run.prefetch
    );
    run
}

fn table(runs: &[Run]) {
    print!("{:<26}", "mean ms per upload");
    for r in runs {
        print!(" {:>22}", r.name);
    }
    println!();
    for (i, s) in STAGES.iter().enumerate() {
        print!("{:<26}", format!("  {s}"));
        for r in runs {
            match r.stages[i] {
                Some(v) => print!(" {v:>22.1}"),
                None => print!(" {:>22}", "-"),
            }
        }
        println!();
    }
    let row = |label: &str, f: &dyn Fn(&Run) -> String| {
        print!("{label:<26}");
        for r in runs {
            print!(" {:>22}", f(r));
        }
        println!();
    };
    row("upload (delivery->ack)", &|r| format!("{:.1}", r.upload_ms));
    row("  without wait_extraction", &|r| {
        format!("{:.1}", r.busy_ms)
    });
    row("  extraction (r+l+m)", &|r| {
        format!("{:.1}", r.extraction_ms)
    });
    row("outside extraction %", &|r| format!("{:.1}", r.outside()));
    row("uploads/min", &|r| {
        format!("{:.1}", r.n as f64 * 60.0 / r.wall)
    });
    row("threads idle, queued %", &|r| {
        r.idle_threads
            .map(|p| format!("{p:.1}"))
            .unwrap_or_else(|| "-".into())
    });
    row("prefetch at the end", &|r| r.prefetch.to_string());
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut env = Env::new("bench").await;
        if let Some(p) = std::env::var("BENCH_PREFETCH").ok().and_then(|v| v.parse().ok()) {
            env.cfg.amqp.prefetch = p;
        }
        let maxes: Vec<u16> = match std::env::var("BENCH_PREFETCH_MAX") {
            Ok(v) => v
                .split(',')
                .map(|x| x.trim().parse().expect("BENCH_PREFETCH_MAX: numbers, comma-separated"))
                .collect(),
            Err(_) => vec![env.cfg.amqp.prefetch_max.max(env.cfg.amqp.prefetch)],
        };
        let weights: Vec<f64> = match std::env::var("BENCH_PREFETCH_WEIGHT") {
            Ok(v) => v
                .split(',')
                .map(|x| x.trim().parse().expect("BENCH_PREFETCH_WEIGHT: numbers, comma-separated"))
                .collect(),
            Err(_) => vec![env.cfg.amqp.prefetch_outside_weight],
        };
        // (prefetch_max, outside weight): a fixed prefetch once, an adaptive one per weight
        let floor = env.cfg.amqp.prefetch;
        let settings: Vec<(u16, f64)> = maxes
            .iter()
            .flat_map(|&m| {
                let m = m.max(floor);
                let ws = if m == floor { &weights[..1] } else { &weights[..] };
                ws.iter().map(move |&w| (m, w))
            })
            .collect();
        println!(
            "claimscan worker bench: RabbitMQ 127.0.0.1:5672, PostgreSQL 127.0.0.1:5432, moto S3; reader {}; prefetch {} (max {:?}, outside weight {:?}), extraction threads {}, database connections {}",
            env.cfg.pipeline.reader, floor, maxes, weights, env.cfg.pipeline.extraction_threads, env.cfg.database.max_connections
        );
        let digital = ["fx01_digital_de_multipage.pdf", "fx02_digital_fr_credit.pdf", "fx03_digital_en_twoline.pdf", "fx04_digital_it_blocks.pdf", "fx05_digital_pl_iso.pdf"];
        let photos = ["fx08_photo_de_exif.jpg", "fx09_photo_en_blur.jpg", "fx10_photo_pt_shadow_rot90.jpg", "fx11_photo_fr_perspective.jpg"];
        // 20% digital, 80% photos
        let mixed = ["fx03_digital_en_twoline.pdf", "fx08_photo_de_exif.jpg", "fx09_photo_en_blur.jpg", "fx10_photo_pt_shadow_rot90.jpg", "fx11_photo_fr_perspective.jpg"];
        let copies: usize = std::env::var("BENCH_COPIES").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
        let mixes = std::env::var("BENCH_MIXES").unwrap_or_else(|_| "digital,photo,mix".into());
        let modes = std::env::var("BENCH_MODES").unwrap_or_else(|_| "idle,load".into());
        let mut runs = Vec::new();
        for (name, files, c) in [
            ("digital", &digital[..], copies),
            ("photo", &photos[..], copies.div_ceil(2)),
            ("mix", &mixed[..], copies.div_ceil(2)),
        ] {
            if !mixes.split(',').any(|m| m == name) {
                continue;
            }
            for (mode, m) in [("idle", Mode::Idle), ("load", Mode::Load)] {
                if !modes.split(',').any(|x| x == mode) {
                    continue;
                }
                for &(max, weight) in &settings {
                    env.cfg.amqp.prefetch_max = max;
                    env.cfg.amqp.prefetch_outside_weight = weight;
                    let label = match (settings.len() > 1, max == floor || weights.len() < 2) {
                        (false, _) => String::new(),
                        (true, true) => format!(" p{floor}-{max}"),
                        (true, false) => format!(" p{floor}-{max}w{weight}"),
                    };
                    runs.push(scenario(&env, name, files, c, m, &label).await);
                }
            }
        }
        if !runs.is_empty() {
            table(&runs);
        }

        // Latency of one one-page photo on an idle worker, against extraction alone.
        let (_w, stop, h) = env.worker().await;
        let photo = std::fs::read(fixture("fx09_photo_en_blur.jpg")).unwrap();
        let mut lat = Vec::new();
        for i in 0..12 {
            let id = unique(&format!("lat-{i}"));
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
