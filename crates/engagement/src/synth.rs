//! Fast synthetic partner activity for the scale benchmark (and smoke tests).
//!
//! Each partner is one of four profiles (heavy 8-20 purchases a month, regular 3-8, occasional
//! 0.5-2, and lapsing: regular until a churn day after which purchases die out over about six
//! weeks); 10% of the others also churn. Purchase gaps are Erlang-2 (more regular than Poisson)
//! with a ±30% yearly seasonality applied by thinning; 40% of partners join during the period.
//! Logins and message opens accompany purchases while a partner is active. Everything is
//! seeded per partner, so the output is identical run to run and generated in parallel.

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::events::Kind;
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub partners: usize,
    /// First day (days since 1970-01-01) and length of the simulated period.
    pub start_day: i32,
    pub days: i32,
    pub seed: u64,
    /// Partners per written batch (row group).
    pub batch: usize,
}

/// Ground truth for one simulated partner.
#[derive(Debug, Clone, Copy)]
pub struct Truth {
    pub partner_id: i64,
    pub profile: &'static str,
    /// Day the partner starts to lapse, if they do.
    pub churn_day: Option<i32>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.unit().ln()
    }
}

#[derive(Default)]
struct Batch {
    pid: Vec<i64>,
    ts_ms: Vec<i64>,
    kind: Vec<&'static str>,
    qty: Vec<f64>,
    amt: Vec<f64>,
}

/// Simulate one partner, appending events to `b`.
fn partner(cfg: &SynthConfig, pid: i64, b: &mut Batch) -> Truth {
    let mut r = Rng(cfg.seed ^ (pid as u64).wrapping_mul(0xD134_2543_DE82_EF95));
    let u = r.unit();
    let (profile, rate) = if u < 0.15 {
        ("heavy", r.range(8.0, 20.0))
    } else if u < 0.50 {
        ("regular", r.range(3.0, 8.0))
    } else if u < 0.80 {
        ("occasional", r.range(0.5, 2.0))
    } else {
        ("lapsing", r.range(2.0, 8.0))
    };
    let end = cfg.start_day + cfg.days;
    let start = if r.unit() < 0.6 {
        cfg.start_day
    } else {
        cfg.start_day + (r.unit() * cfg.days as f64 * 0.9) as i32
    };
    let churn_day = if profile == "lapsing" || r.unit() < 0.1 {
        Some(start + (r.unit() * (end - start) as f64) as i32)
    } else {
        None
    };
    let per_day = rate / 30.44;
    let max_rate = per_day * 1.3;
    let price = r.range(20.0, 200.0);
    let phase = r.unit() * 365.0;
    let mut t = start as f64 + r.exp(1.0 / per_day);
    while (t as i32) < end {
        let day = t as i32;
        let season = 1.0 + 0.3 * (2.0 * std::f64::consts::PI * (day as f64 + phase) / 365.0).sin();
        let decay = match churn_day {
            Some(c) if day >= c => (-((day - c) as f64) / 21.0).exp(),
            _ => 1.0,
        };
        if r.unit() * max_rate < per_day * season * decay {
            let q = 1.0 + (-r.unit().ln() * 2.0).floor();
            let ms = day as i64 * 86_400_000 + (r.unit() * 86_400_000.0) as i64;
            b.pid.push(pid);
            b.ts_ms.push(ms);
            b.kind.push(Kind::Purchase.name());
            b.qty.push(q);
            b.amt
                .push((q * price * r.range(0.8, 1.2) * 100.0).round() / 100.0);
            // Some purchases come with a login and/or a message open.
            for (p, k) in [(0.3, Kind::Login), (0.1, Kind::MessageOpened)] {
                if r.unit() < p {
                    b.pid.push(pid);
                    b.ts_ms.push(ms - (r.unit() * 3.0 * 86_400_000.0) as i64);
                    b.kind.push(k.name());
                    b.qty.push(0.0);
                    b.amt.push(0.0);
                }
            }
        }
        // Erlang-2 gaps at the maximal rate, thinned above.
        t += r.exp(0.5 / max_rate) + r.exp(0.5 / max_rate);
    }
    Truth {
        partner_id: pid,
        profile,
        churn_day,
    }
}

fn batch_frame(b: Batch) -> Result<DataFrame> {
    let ts = Series::new("occurred_at".into(), b.ts_ms)
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?;
    Ok(DataFrame::new_infer_height(vec![
        Column::new("partner_id".into(), b.pid),
        ts.into(),
        Column::new("kind".into(), b.kind),
        Column::new("quantity".into(), b.qty),
        Column::new("amount".into(), b.amt),
    ])?)
}

/// Generate events into a Parquet file; returns (events written, ground truth).
pub fn generate_parquet(cfg: &SynthConfig, path: &Path) -> Result<(usize, Vec<Truth>)> {
    let file = std::fs::File::create(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
    let mut writer: Option<polars::io::parquet::write::BatchedWriter<std::fs::File>> = None;
    let mut file = Some(file);
    let mut truth = Vec::with_capacity(cfg.partners);
    let mut total = 0usize;
    let batch = cfg.batch.max(1);
    for lo in (0..cfg.partners).step_by(batch) {
        let hi = (lo + batch).min(cfg.partners);
        let parts: Vec<(Batch, Vec<Truth>)> = (lo..hi)
            .into_par_iter()
            .chunks(1024)
            .map(|ids| {
                let mut b = Batch::default();
                let t = ids
                    .iter()
                    .map(|&i| partner(cfg, i as i64 + 1, &mut b))
                    .collect();
                (b, t)
            })
            .collect();
        let mut all = Batch::default();
        for (b, t) in parts {
            all.pid.extend(b.pid);
            all.ts_ms.extend(b.ts_ms);
            all.kind.extend(b.kind);
            all.qty.extend(b.qty);
            all.amt.extend(b.amt);
            truth.extend(t);
        }
        total += all.pid.len();
        let df = batch_frame(all)?;
        if writer.is_none() {
            let w = ParquetWriter::new(file.take().expect("file once"))
                .with_compression(ParquetCompression::Snappy)
                .batched(df.schema())?;
            writer = Some(w);
        }
        writer.as_mut().expect("writer").write_batch(&df)?;
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok((total, truth))
}

/// Simulated events as an in-memory frame (tests).
pub fn generate_frame(cfg: &SynthConfig) -> Result<(DataFrame, Vec<Truth>)> {
    let mut b = Batch::default();
    let truth = (0..cfg.partners)
        .map(|i| partner(cfg, i as i64 + 1, &mut b))
        .collect();
    Ok((batch_frame(b)?, truth))
}
