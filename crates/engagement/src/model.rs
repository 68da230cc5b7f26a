//! Small regularised generalised linear models fitted by Newton's method (IRLS).
//!
//! Features are standardised with the training mean and deviation; the intercept is not
//! penalised. Each Newton step is backtracked until the penalised log-likelihood improves,
//! so the fit always terminates with finite coefficients (the objective is strictly concave).

// Small dense matrix code reads best with indices.
#![allow(clippy::needless_range_loop)]

use rayon::prelude::*;

use crate::features::NF;

/// Number of coefficients (intercept + features).
const P: usize = NF + 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Family {
    /// `P(y=1) = 1 / (1 + exp(-eta))`.
    Logistic,
    /// `E[y] = exp(eta)`.
    Poisson,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Glm {
    pub family: Family,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    /// Intercept first, then one coefficient per standardised feature.
    pub coef: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

fn row(x: &[f32; NF], mean: &[f64], scale: &[f64]) -> [f64; P] {
    let mut z = [0.0; P];
    z[0] = 1.0;
    for j in 0..NF {
        z[j + 1] = (x[j] as f64 - mean[j]) / scale[j];
    }
    z
}

fn mu_of(family: Family, eta: f64) -> f64 {
    match family {
        Family::Logistic => 1.0 / (1.0 + (-eta).exp()),
        Family::Poisson => eta.clamp(-30.0, 10.0).exp(),
    }
}

fn loglik(family: Family, y: f64, eta: f64) -> f64 {
    match family {
        // log(1+exp(eta)) computed stably.
        Family::Logistic => y * eta - (eta.max(0.0) + (-eta.abs()).exp().ln_1p()),
        Family::Poisson => {
            let eta = eta.clamp(-30.0, 10.0);
            y * eta - eta.exp()
        }
    }
}

/// Cholesky solve of the symmetric positive definite `a x = b` (in place on `b`).
fn solve_spd(a: &[[f64; P]; P], b: &mut [f64; P]) -> bool {
    let mut l = [[0.0f64; P]; P];
    for i in 0..P {
        for j in 0..=i {
            let mut s = a[i][j];
            for k in 0..j {
                s -= l[i][k] * l[j][k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return false;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    for i in 0..P {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i][k] * b[k];
        }
        b[i] = s / l[i][i];
    }
    for i in (0..P).rev() {
        let mut s = b[i];
        for k in i + 1..P {
            s -= l[k][i] * b[k];
        }
        b[i] = s / l[i][i];
    }
    true
}

impl Glm {
    /// Fit on rows `x` with targets `y` (0/1 for logistic, counts for Poisson).
    /// `l2` is the ridge penalty on standardised coefficients, in units of the summed
    /// log-likelihood.
    pub fn fit(x: &[[f32; NF]], y: &[f32], family: Family, l2: f64) -> Glm {
        assert_eq!(x.len(), y.len());
        let n = x.len().max(1) as f64;
        let mut mean = vec![0.0; NF];
        let mut scale = vec![0.0; NF];
        for r in x {
            for j in 0..NF {
                mean[j] += r[j] as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        for r in x {
            for j in 0..NF {
                scale[j] += (r[j] as f64 - mean[j]).powi(2);
            }
        }
        for s in &mut scale {
            *s = (*s / n).sqrt();
            if s.is_nan() || *s <= 1e-9 {
                *s = 1.0;
            }
        }
        let ybar = (y.iter().map(|&v| v as f64).sum::<f64>() / n).clamp(1e-6, 1e9);
        let mut coef = vec![0.0; P];
        coef[0] = match family {
            Family::Logistic => {
                let p = ybar.clamp(1e-6, 1.0 - 1e-6);
                (p / (1.0 - p)).ln()
            }
            Family::Poisson => ybar.ln(),
        };
        let objective = |c: &[f64]| -> f64 {
            let ll: f64 = x
                .par_iter()
                .zip(y.par_iter())
                .map(|(r, &t)| {
                    let z = row(r, &mean, &scale);
                    let eta: f64 = z.iter().zip(c).map(|(a, b)| a * b).sum();
                    loglik(family, t as f64, eta)
                })
                .sum();
            ll - 0.5 * l2 * c[1..].iter().map(|b| b * b).sum::<f64>()
        };
        let mut obj = objective(&coef);
        let mut iterations = 0;
        let mut converged = false;
        while iterations < 50 {
            iterations += 1;
            let (mut grad, mut hess) = x
                .par_chunks(4096)
                .zip(y.par_chunks(4096))
                .map(|(xs, ys)| {
                    let mut g = [0.0f64; P];
                    let mut h = [[0.0f64; P]; P];
                    for (r, &t) in xs.iter().zip(ys) {
                        let z = row(r, &mean, &scale);
                        let eta: f64 = z.iter().zip(&coef).map(|(a, b)| a * b).sum();
                        let mu = mu_of(family, eta);
                        let w = match family {
                            Family::Logistic => mu * (1.0 - mu),
                            Family::Poisson => mu,
                        };
                        let resid = t as f64 - mu;
                        for i in 0..P {
                            g[i] += z[i] * resid;
                            let wz = w * z[i];
                            for j in 0..=i {
                                h[i][j] += wz * z[j];
                            }
                        }
                    }
                    (g, h)
                })
                .reduce(
                    || ([0.0; P], [[0.0; P]; P]),
                    |(mut g1, mut h1), (g2, h2)| {
                        for i in 0..P {
                            g1[i] += g2[i];
                            for j in 0..P {
                                h1[i][j] += h2[i][j];
                            }
                        }
                        (g1, h1)
                    },
                );
            for i in 0..P {
                for j in 0..i {
                    hess[j][i] = hess[i][j];
                }
            }
            for i in 1..P {
                grad[i] -= l2 * coef[i];
                hess[i][i] += l2;
            }
            hess[0][0] += 1e-9;
            let mut step = grad;
            if !solve_spd(&hess, &mut step) {
                break;
            }
            let mut t = 1.0;
            let mut improved = false;
            for _ in 0..30 {
                let cand: Vec<f64> = coef.iter().zip(&step).map(|(c, s)| c + t * s).collect();
                let o = objective(&cand);
                if o.is_finite() && o >= obj - 1e-12 {
                    let gain = o - obj;
                    coef = cand;
                    obj = o;
                    improved = true;
                    if gain.abs() < 1e-9 * (1.0 + obj.abs()) {
                        converged = true;
                    }
                    break;
                }
                t *= 0.5;
            }
            let max_step = step.iter().map(|s| (s * t).abs()).fold(0.0, f64::max);
            if !improved || max_step < 1e-7 {
                converged = converged || improved || max_step < 1e-7;
                break;
            }
            if converged {
                break;
            }
        }
        Glm {
            family,
            mean,
            scale,
            coef,
            iterations,
            converged,
        }
    }

    /// Linear predictor.
    pub fn eta(&self, x: &[f32; NF]) -> f64 {
        let z = row(x, &self.mean, &self.scale);
        z.iter().zip(&self.coef).map(|(a, b)| a * b).sum()
    }

    /// Probability (logistic) or expected count (Poisson).
    pub fn predict(&self, x: &[f32; NF]) -> f64 {
        mu_of(self.family, self.eta(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synth(n: usize, f: impl Fn(f32) -> f32) -> (Vec<[f32; NF]>, Vec<f32>) {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        let mut s = 12345u64;
        for i in 0..n {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 11) as f32 / (1u64 << 53) as f32;
            let v = (i % 100) as f32 / 10.0 - 5.0;
            let mut x = [0.0; NF];
            x[0] = v;
            xs.push(x);
            ys.push(if u < f(v) { 1.0 } else { 0.0 });
        }
        (xs, ys)
    }

    #[test]
    fn logistic_recovers_slope() {
        let (x, y) = synth(20_000, |v| 1.0 / (1.0 + (-(2.0 * v - 1.0)).exp()));
        let m = Glm::fit(&x, &y, Family::Logistic, 1e-3);
        assert!(m.converged);
        let slope = m.coef[1] / m.scale[0];
        assert!((slope - 2.0).abs() < 0.2, "slope {slope}");
        let mut hi = [0.0; NF];
        hi[0] = 3.0;
        assert!(m.predict(&hi) > 0.95);
    }

    #[test]
    fn separable_data_stays_finite() {
        let (x, y) = synth(2_000, |v| if v > 0.0 { 1.0 } else { 0.0 });
        let m = Glm::fit(&x, &y, Family::Logistic, 1.0);
        assert!(m.coef.iter().all(|c| c.is_finite()));
        let p = Glm::fit(&x, &y, Family::Poisson, 1.0);
        assert!(p.coef.iter().all(|c| c.is_finite()));
    }
}
