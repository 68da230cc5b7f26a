//! Partner segments: KMeans (linfa) on standardised log activity features, clusters named by
//! what their centroids are, in a stable order.
//!
//! Features (all `ln(1+x)`, then standardised): long-run purchases per month, purchases per
//! month over the last 91 days, overdue ratio (days since last purchase / usual gap), tenure
//! in days, mean amount per purchase day. KMeans runs on a deterministic sample (every partner
//! whose id-rank hashes below a threshold) with a fixed seed and kmeans++ restarts, so the same
//! data gives the same segments run after run.

use linfa::prelude::*;
use linfa_clustering::KMeans;
use ndarray::{Array1, Array2, ArrayView1, Axis};
use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;

use crate::features::Raw;
use crate::{Error, Result};

/// Number of segment features.
pub const NS: usize = 5;
pub const SEGMENT_FEATURES: [&str; NS] = [
    "purchases_per_month",
    "recent_purchases_per_month",
    "overdue_ratio",
    "tenure_days",
    "amount_per_purchase",
];

/// Segment features in natural units.
pub fn segment_features(r: &Raw, prior_gap: f32) -> [f64; NS] {
    [
        r.monthly_rate() as f64,
        r.recent_monthly_rate() as f64,
        (r.recency / r.shrunk_gap(prior_gap)) as f64,
        r.tenure as f64,
        r.mean_amt as f64,
    ]
}

fn to_log(x: &[f64; NS]) -> [f64; NS] {
    x.map(|v| v.max(0.0).ln_1p())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Segment {
    pub name: String,
    /// Centroid in natural units (see [`SEGMENT_FEATURES`]).
    pub centroid: [f64; NS],
    /// Partners assigned (filled by the caller).
    pub size: usize,
}

#[derive(Debug, Clone)]
pub struct SegmentModel {
    mean: [f64; NS],
    scale: [f64; NS],
    /// Standardised centroids, in the stable (named) order.
    centroids: Vec<[f64; NS]>,
    pub segments: Vec<Segment>,
}

fn standardise(rows: &[[f64; NS]]) -> ([f64; NS], [f64; NS]) {
    let n = rows.len().max(1) as f64;
    let mut mean = [0.0; NS];
    let mut scale = [0.0; NS];
    for r in rows {
        for j in 0..NS {
            mean[j] += r[j] / n;
        }
    }
    for r in rows {
        for j in 0..NS {
            scale[j] += (r[j] - mean[j]).powi(2) / n;
        }
    }
    for s in &mut scale {
        *s = s.sqrt();
        if s.is_nan() || *s <= 1e-9 {
            *s = 1.0;
        }
    }
    (mean, scale)
}

fn kmeans(z: &Array2<f64>, k: usize, seed: u64) -> Result<Array2<f64>> {
    let ds = DatasetBase::from(z.clone());
    let model = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(seed))
        .n_runs(3)
        .max_n_iterations(200)
        .tolerance(1e-4)
        .fit(&ds)
        .map_err(|e| Error::Invalid(format!("kmeans: {e}")))?;
    Ok(model.centroids().clone())
}

fn nearest(c: &[[f64; NS]], z: ArrayView1<f64>) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (i, ci) in c.iter().enumerate() {
        let d: f64 = ci.iter().zip(z.iter()).map(|(a, b)| (a - b).powi(2)).sum();
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

/// Base name of a centroid (natural units).
fn base_name(c: &[f64; NS]) -> &'static str {
    let [rate, recent, overdue, tenure, _] = *c;
    if overdue >= 3.0 && recent < 0.5 * rate.max(0.05) {
        "dormant"
    } else if tenure < 120.0 {
        if recent >= rate {
            "new-growing"
        } else {
            "new"
        }
    } else if overdue >= 1.5 || recent < 0.6 * rate {
        "struggling"
    } else if recent > 1.3 * rate {
        "growing"
    } else if rate >= 2.0 {
        "established"
    } else {
        "occasional"
    }
}

/// Low / middle / high labels for each segment feature.
const QUALIFIERS: [(&str, &str, &str); NS] = [
    ("infrequent", "mid-frequency", "frequent"),
    ("quiet", "mid-recent", "recently-active"),
    ("less-overdue", "overdue", "long-overdue"),
    ("newer", "mid-tenure", "long-standing"),
    ("low-value", "mid-value", "high-value"),
];

/// Suffix same-named clusters by the standardised feature with the widest spread among them.
fn disambiguate(group: &mut [(String, [f64; NS], [f64; NS])]) {
    let spread = |j: usize| {
        let (lo, hi) = group
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), g| {
                (lo.min(g.2[j]), hi.max(g.2[j]))
            });
        hi - lo
    };
    let dim = (0..NS)
        .max_by(|&a, &b| spread(a).total_cmp(&spread(b)))
        .unwrap_or(0);
    let mut idx: Vec<usize> = (0..group.len()).collect();
    idx.sort_by(|&a, &b| group[a].2[dim].total_cmp(&group[b].2[dim]));
    let (low, mid, high) = QUALIFIERS[dim];
    let n = idx.len();
    for (rank, &g) in idx.iter().enumerate() {
        let q = if rank == 0 {
            low.to_string()
        } else if rank == n - 1 {
            high.to_string()
        } else if n == 3 {
            mid.to_string()
        } else {
            format!("{mid}-{rank}")
        };
        group[g].0 = format!("{}-{q}", group[g].0);
    }
}

impl SegmentModel {
    /// Fit `k` segments on the given natural-unit feature rows (already a sample).
    pub fn fit(rows: &[[f64; NS]], k: usize, seed: u64) -> Result<Self> {
        let logs: Vec<[f64; NS]> = rows.iter().map(to_log).collect();
        let (mean, scale) = standardise(&logs);
        let k = k.clamp(1, logs.len().max(1));
        if logs.is_empty() {
            return Ok(Self {
                mean,
                scale,
                centroids: Vec::new(),
                segments: Vec::new(),
            });
        }
        let z = Array2::from_shape_fn((logs.len(), NS), |(i, j)| (logs[i][j] - mean[j]) / scale[j]);
        let cz = kmeans(&z, k, seed)?;
        let mut named: Vec<(String, [f64; NS], [f64; NS])> = cz
            .axis_iter(Axis(0))
            .map(|c| {
                let std: [f64; NS] = std::array::from_fn(|j| c[j]);
                let nat: [f64; NS] = std::array::from_fn(|j| (c[j] * scale[j] + mean[j]).exp_m1());
                (base_name(&nat).to_string(), nat, std)
            })
            .collect();
        // Stable order: by name, then by purchase rate (descending). Clusters sharing a name
        // are told apart by the feature on which their centroids differ most.
        named.sort_by(|a, b| a.0.cmp(&b.0).then(b.1[0].total_cmp(&a.1[0])));
        let mut i = 0;
        while i < named.len() {
            let mut j = i;
            while j < named.len() && named[j].0 == named[i].0 {
                j += 1;
            }
            if j - i >= 2 {
                disambiguate(&mut named[i..j]);
            }
            i = j;
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Self {
            mean,
            scale,
            centroids: named.iter().map(|n| n.2).collect(),
            segments: named
                .into_iter()
                .map(|(name, centroid, _)| Segment {
                    name,
                    centroid,
                    size: 0,
                })
                .collect(),
        })
    }

    /// Index of the segment of a natural-unit feature row.
    pub fn assign(&self, x: &[f64; NS]) -> usize {
        let l = to_log(x);
        let z: Array1<f64> = (0..NS)
            .map(|j| (l[j] - self.mean[j]) / self.scale[j])
            .collect();
        nearest(&self.centroids, z.view())
    }

    pub fn name(&self, i: usize) -> &str {
        self.segments
            .get(i)
            .map_or("unsegmented", |s| s.name.as_str())
    }
}

/// One line of the k selection report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KChoice {
    pub k: usize,
    /// Mean silhouette on the evaluation sample (higher is better).
    pub silhouette: f64,
    /// Within-cluster sum of squares per point on the fit sample.
    pub inertia_per_point: f64,
    pub names: Vec<String>,
}

/// Silhouette and inertia for each `k` (fit on `rows`, silhouette on at most `eval_n` of them).
pub fn choose_k(
    rows: &[[f64; NS]],
    ks: &[usize],
    eval_n: usize,
    seed: u64,
) -> Result<Vec<KChoice>> {
    let logs: Vec<[f64; NS]> = rows.iter().map(to_log).collect();
    let (mean, scale) = standardise(&logs);
    let z: Vec<[f64; NS]> = logs
        .iter()
        .map(|l| std::array::from_fn(|j| (l[j] - mean[j]) / scale[j]))
        .collect();
    let step = (z.len() / eval_n.max(1)).max(1);
    let eval: Vec<[f64; NS]> = z.iter().step_by(step).copied().collect();
    let mut out = Vec::new();
    for &k in ks {
        let model = SegmentModel::fit(rows, k, seed)?;
        let c = &model.centroids;
        let assign = |p: &[f64; NS]| nearest(c, ndarray::aview1(p));
        let inertia: f64 = z
            .iter()
            .map(|p| {
                let a = assign(p);
                c[a].iter()
                    .zip(p)
                    .map(|(x, y)| (x - y).powi(2))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / z.len().max(1) as f64;
        let labels: Vec<usize> = eval.iter().map(assign).collect();
        out.push(KChoice {
            k,
            silhouette: silhouette(&eval, &labels, c.len()),
            inertia_per_point: inertia,
            names: model.segments.iter().map(|s| s.name.clone()).collect(),
        });
    }
    Ok(out)
}

fn silhouette(points: &[[f64; NS]], labels: &[usize], k: usize) -> f64 {
    let n = points.len();
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    let mut total = 0.0;
    for i in 0..n {
        let mut sum = vec![0.0f64; k];
        for j in 0..n {
            if i != j {
                let d: f64 = points[i]
                    .iter()
                    .zip(&points[j])
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    .sqrt();
                sum[labels[j]] += d;
            }
        }
        let own = labels[i];
        if sizes[own] <= 1 {
            continue;
        }
        let a = sum[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| sum[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b);
        }
    }
    total / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> Vec<[f64; NS]> {
        let mut rows = Vec::new();
        for i in 0..600 {
            let jitter = 1.0 + (i % 7) as f64 * 0.02;
            rows.push(match i % 3 {
                0 => [8.0 * jitter, 8.0 * jitter, 0.5, 700.0, 100.0],
                1 => [3.0 * jitter, 0.1, 9.0 * jitter, 600.0, 50.0],
                _ => [1.0 * jitter, 3.0 * jitter, 0.4, 400.0, 30.0],
            });
        }
        rows
    }

    #[test]
    fn names_clusters_by_centroid_and_is_stable() {
        let rows = blobs();
        let a = SegmentModel::fit(&rows, 3, 7).unwrap();
        let b = SegmentModel::fit(&rows, 3, 7).unwrap();
        let names: Vec<_> = a.segments.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["dormant", "established", "growing"]);
        for r in &rows {
            assert_eq!(a.assign(r), b.assign(r));
        }
        assert_eq!(a.name(a.assign(&rows[1])), "dormant");
    }

    #[test]
    fn silhouette_prefers_the_true_k() {
        let rows = blobs();
        let report = choose_k(&rows, &[2, 3, 5], 300, 7).unwrap();
        let best = report
            .iter()
            .max_by(|a, b| a.silhouette.total_cmp(&b.silhouette))
            .unwrap();
        assert_eq!(best.k, 3);
    }
}
