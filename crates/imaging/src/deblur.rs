//! Camera shake: a phone moved while the picture was taken smears every stroke along one
//! straight line. Such a blur multiplies the picture's spectrum by a sinc that is zero at every
//! multiple of one over its length, which shows in the cepstrum (the spectrum of the log
//! spectrum) as a deep negative peak at the blur's length and direction. [`estimate_motion`]
//! finds that peak; [`deblur`] divides the blur out with a Wiener filter, tile by tile so memory
//! stays a few megabytes whatever the picture's size.

use image::GrayImage;
use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// A straight motion blur.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    /// Length in pixels.
    pub length: f32,
    /// Direction in degrees (image axes: x right, y down).
    pub angle: f32,
    /// How far the cepstrum's peak stands below the other values around it, in standard
    /// deviations: how sure the estimate is.
    pub strength: f32,
}

/// Longest blur looked for, in pixels.
const MAX_LENGTH: f32 = 15.0;
/// Shortest blur looked for, in pixels. Sharp photos show dips of 2.8-3.6 pixels at diagonal
/// angles (strength up to 4.8 on set-r's unshaken `inv000000`), which beat the true dip on 8
/// of set-r's 18 train photos shaken by 4-8 pixels; from 4 pixels on, the deepest dip was the
/// true blur (within a pixel) on 15 of them (`MOTION=1` of the `prepare` example).
const MIN_LENGTH: f32 = 4.0;

/// A square 2-D FFT of side `n`, forward or inverse (unscaled).
struct Fft2 {
    n: usize,
    fft: Arc<dyn Fft<f32>>,
}

impl Fft2 {
    fn new(planner: &mut FftPlanner<f32>, n: usize, inverse: bool) -> Self {
        let fft = if inverse {
            planner.plan_fft_inverse(n)
        } else {
            planner.plan_fft_forward(n)
        };
        Fft2 { n, fft }
    }

    fn run(&self, buf: &mut [Complex32]) {
        let n = self.n;
        for row in buf.chunks_mut(n) {
            self.fft.process(row);
        }
        transpose(buf, n);
        for row in buf.chunks_mut(n) {
            self.fft.process(row);
        }
        transpose(buf, n);
    }
}

fn transpose(buf: &mut [Complex32], n: usize) {
    for y in 0..n {
        for x in y + 1..n {
            buf.swap(y * n + x, x * n + y);
        }
    }
}

/// The pixel at (x, y), mirrored at the picture's edges.
fn mirrored(gray: &GrayImage, x: i64, y: i64) -> f32 {
    let mirror = |v: i64, len: i64| {
        let period = 2 * len;
        let m = v.rem_euclid(period);
        if m < len {
            m
        } else {
            period - 1 - m
        }
    };
    let (w, h) = (gray.width() as i64, gray.height() as i64);
    f32::from(gray.get_pixel(mirror(x, w) as u32, mirror(y, h) as u32)[0])
}

/// The motion blur of a picture, from the summed cepstra of five 512-pixel tiles around its
/// middle; `None` for pictures too small to tell.
pub fn estimate_motion(gray: &GrayImage) -> Option<Motion> {
    motion_candidates(gray, 1).into_iter().next()
}

/// The `k` deepest distinct dips of the summed cepstra (see [`estimate_motion`]), deepest first:
/// a dip within 1.5 pixels of a deeper one, or of its mirror image, is the same dip.
pub fn motion_candidates(gray: &GrayImage, k: usize) -> Vec<Motion> {
    const N: usize = 512;
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w < N || h < N {
        return Vec::new();
    }
    let mut planner = FftPlanner::new();
    let forward = Fft2::new(&mut planner, N, false);
    let inverse = Fft2::new(&mut planner, N, true);
    let hann: Vec<f32> = (0..N)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / (N - 1) as f32).cos())
        .collect();
    let centres = [
        (w / 2, h / 2),
        (w / 2, h / 3),
        (w / 2, 2 * h / 3),
        (w / 3, h / 2),
        (2 * w / 3, h / 2),
    ];
    let mut cepstrum = vec![0f32; N * N];
    let mut buf = vec![Complex32::default(); N * N];
    for (cx, cy) in centres {
        let x0 = cx.saturating_sub(N / 2).min(w - N);
        let y0 = cy.saturating_sub(N / 2).min(h - N);
        let mut mean = 0f32;
        for y in 0..N {
            for x in 0..N {
                mean += f32::from(gray.get_pixel((x0 + x) as u32, (y0 + y) as u32)[0]);
            }
        }
        mean /= (N * N) as f32;
        for y in 0..N {
            for x in 0..N {
                let p = f32::from(gray.get_pixel((x0 + x) as u32, (y0 + y) as u32)[0]);
                buf[y * N + x] = Complex32::new((p - mean) * hann[x] * hann[y], 0.0);
            }
        }
        forward.run(&mut buf);
        for c in buf.iter_mut() {
            *c = Complex32::new((c.norm() + 1e-3).ln(), 0.0);
        }
        inverse.run(&mut buf);
        for (acc, c) in cepstrum.iter_mut().zip(&buf) {
            *acc += c.re;
        }
    }
    let at = |dx: i64, dy: i64| {
        let (x, y) = (
            dx.rem_euclid(N as i64) as usize,
            dy.rem_euclid(N as i64) as usize,
        );
        cepstrum[y * N + x]
    };
    let r = MAX_LENGTH as i64;
    let ring: Vec<(i64, i64, f32)> = (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
        .filter(|&(dx, dy)| {
            let d = ((dx * dx + dy * dy) as f32).sqrt();
            (MIN_LENGTH..=MAX_LENGTH).contains(&d)
        })
        .map(|(dx, dy)| (dx, dy, at(dx, dy)))
        .collect();
    let n = ring.len() as f32;
    let mean = ring.iter().map(|v| v.2).sum::<f32>() / n;
    let sd = (ring.iter().map(|v| (v.2 - mean).powi(2)).sum::<f32>() / n).sqrt();
    let mut order = ring.clone();
    order.sort_by(|a, b| a.2.total_cmp(&b.2));
    let mut picked: Vec<(i64, i64, f32)> = Vec::new();
    for (dx, dy, v) in order {
        if picked.len() >= k {
            break;
        }
        let near = |&(px, py, _): &(i64, i64, f32)| {
            let d1 = (((dx - px).pow(2) + (dy - py).pow(2)) as f32).sqrt();
            let d2 = (((dx + px).pow(2) + (dy + py).pow(2)) as f32).sqrt();
            d1.min(d2) <= 1.5
        };
        if !picked.iter().any(near) {
            picked.push((dx, dy, v));
        }
    }
    picked
        .into_iter()
        .map(|(dx, dy, v)| Motion {
            length: ((dx * dx + dy * dy) as f32).sqrt(),
            angle: (dy as f32).atan2(dx as f32).to_degrees(),
            strength: if sd > 0.0 { (mean - v) / sd } else { 0.0 },
        })
        .collect()
}

/// The blur's kernel on an `n`×`n` grid with its centre at the origin (wrapped around), for the
/// spectrum: a line of the blur's length and direction, drawn with bilinear weights.
fn kernel(m: Motion, n: usize) -> Vec<Complex32> {
    let mut k = vec![0f32; n * n];
    let steps = (m.length.ceil() as usize) * 4 + 1;
    let (c, s) = (m.angle.to_radians().cos(), m.angle.to_radians().sin());
    for i in 0..steps {
        let t = -m.length / 2.0 + m.length * i as f32 / (steps - 1) as f32;
        let (x, y) = (t * c, t * s);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        for (xx, yy, wt) in [
            (x0, y0, (1.0 - fx) * (1.0 - fy)),
            (x0 + 1.0, y0, fx * (1.0 - fy)),
            (x0, y0 + 1.0, (1.0 - fx) * fy),
            (x0 + 1.0, y0 + 1.0, fx * fy),
        ] {
            let (xi, yi) = (
                (xx as i64).rem_euclid(n as i64) as usize,
                (yy as i64).rem_euclid(n as i64) as usize,
            );
            k[yi * n + xi] += wt;
        }
    }
    let sum: f32 = k.iter().sum();
    k.into_iter()
        .map(|v| Complex32::new(v / sum, 0.0))
        .collect()
}

/// The picture with the motion blur `m` divided out by a Wiener filter of noise-to-signal
/// ratio `noise` (0.01 measured best of 0.003-0.1 on generated shaken photos), in 512-pixel
/// tiles that overlap by the blur's reach.
pub fn deblur(gray: &GrayImage, m: Motion, noise: f32) -> GrayImage {
    const N: usize = 512;
    const MARGIN: usize = 32;
    const INNER: usize = N - 2 * MARGIN;
    let mut planner = FftPlanner::new();
    let forward = Fft2::new(&mut planner, N, false);
    let inverse = Fft2::new(&mut planner, N, true);
    let mut filter = kernel(m, N);
    forward.run(&mut filter);
    let scale = 1.0 / (N * N) as f32;
    for h in filter.iter_mut() {
        *h = h.conj() * (scale / (h.norm_sqr() + noise));
    }
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let mut out = GrayImage::new(gray.width(), gray.height());
    let mut buf = vec![Complex32::default(); N * N];
    for ty in (0..h).step_by(INNER) {
        for tx in (0..w).step_by(INNER) {
            for y in 0..N {
                for x in 0..N {
                    let p = mirrored(
                        gray,
                        tx as i64 + x as i64 - MARGIN as i64,
                        ty as i64 + y as i64 - MARGIN as i64,
                    );
                    buf[y * N + x] = Complex32::new(p, 0.0);
                }
            }
            forward.run(&mut buf);
            for (b, f) in buf.iter_mut().zip(&filter) {
                *b *= f;
            }
            inverse.run(&mut buf);
            for y in 0..INNER.min(h - ty) {
                for x in 0..INNER.min(w - tx) {
                    let v = buf[(y + MARGIN) * N + x + MARGIN].re;
                    out.put_pixel(
                        (tx + x) as u32,
                        (ty + y) as u32,
                        image::Luma([v.round().clamp(0.0, 255.0) as u8]),
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page of dark strokes of many widths on white, blurred by `m`.
    fn shaken_page(m: Option<Motion>) -> GrayImage {
        let (w, h) = (1200u32, 1000u32);
        let mut page = GrayImage::from_pixel(w, h, image::Luma([235]));
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        for row in 0..40 {
            let y0 = 20 + row * 24;
            let mut x = 20;
            while x < w - 40 {
                let sw = 2 + next() % 6;
                let sh = 8 + next() % 8;
                for y in y0..(y0 + sh).min(h) {
                    for xx in x..(x + sw).min(w) {
                        page.put_pixel(xx, y, image::Luma([30]));
                    }
                }
                x += sw + 2 + next() % 9;
            }
        }
        let Some(m) = m else { return page };
        // blur in the spatial domain with the same kernel
        let n = 32usize;
        let k = kernel(m, n);
        let taps: Vec<(i64, i64, f32)> = (0..n * n)
            .filter(|&i| k[i].re > 0.0)
            .map(|i| {
                let (x, y) = ((i % n) as i64, (i / n) as i64);
                let wrap = |v: i64| if v > n as i64 / 2 { v - n as i64 } else { v };
                (wrap(x), wrap(y), k[i].re)
            })
            .collect();
        let mut out = GrayImage::new(w, h);
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let v: f32 = taps
                    .iter()
                    .map(|&(dx, dy, t)| t * mirrored(&page, x - dx, y - dy))
                    .sum();
                out.put_pixel(x as u32, y as u32, image::Luma([v.round() as u8]));
            }
        }
        out
    }

    fn mean_abs_diff(a: &GrayImage, b: &GrayImage) -> f32 {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(&p, &q)| (f32::from(p) - f32::from(q)).abs())
            .sum::<f32>()
            / a.as_raw().len() as f32
    }

    #[test]
    fn a_straight_shake_is_measured_and_divided_out() {
        let truth = Motion {
            length: 7.0,
            angle: 30.0,
            strength: 0.0,
        };
        let sharp = shaken_page(None);
        let shaken = shaken_page(Some(truth));
        let m = estimate_motion(&shaken).expect("large enough");
        assert!((m.length - 7.0).abs() <= 1.0, "{m:?}");
        let turn = (m.angle - 30.0).rem_euclid(180.0);
        assert!(turn.min(180.0 - turn) <= 12.0, "{m:?}");
        assert!(m.strength > 2.0, "{m:?}");
        let restored = deblur(&shaken, m, 0.01);
        let (before, after) = (
            mean_abs_diff(&shaken, &sharp),
            mean_abs_diff(&restored, &sharp),
        );
        assert!(after < 0.7 * before, "{before} -> {after}");
    }

    #[test]
    fn dividing_out_a_blur_the_page_never_had_leaves_specks() {
        // What the reader's shake retry judges before reading a deconvolved photo.
        let m = Motion {
            length: 7.0,
            angle: 30.0,
            strength: 0.0,
        };
        let sharp = shaken_page(None);
        let shaken = shaken_page(Some(m));
        let ratio = |after: &GrayImage, before: &GrayImage| {
            crate::ink_stats(after).specks_per_glyph()
                / crate::ink_stats(before).specks_per_glyph().max(1e-3)
        };
        let restored = ratio(&deblur(&shaken, m, 0.01), &shaken);
        let ringing = ratio(&deblur(&sharp, m, 0.01), &sharp);
        assert!(restored < 3.0, "{restored}");
        assert!(ringing >= 6.0, "{ringing}");
    }
}
