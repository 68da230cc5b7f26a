//! Finding a photographed sheet: its four borders are long straight edges where the picture
//! turns from darker (table, floor, shade) to brighter (paper). They are found as oriented lines
//! in a Hough transform of the edges of ln(intensity), then the quadrilateral of candidate
//! borders with the most edge support along its sides is taken, if it is darker outside than
//! inside.
//!
//! Why not the brightest region: a shadow over part of the sheet cuts that region, and a pale
//! table joins it, and both gave quadrilaterals through the middle of the page (measured on 43
//! generated photos of training distributors, 2026-12-05: 8 of them read almost nothing after
//! rectification). In ln(intensity) a shadow is a soft, additive offset: it has no sharp edge of
//! its own and leaves the paper's border as strong in the shade as in the light.

use image::GrayImage;

/// Longest side of the working copy, in pixels.
const WORK_SIDE: u32 = 600;
/// Minimum Sobel response on ln(intensity) for an edge pixel (about a 10% step in brightness
/// across the blurred border).
const MIN_EDGE: f32 = 0.2;
/// Line candidates kept per side (strongest first).
const CANDIDATES_PER_SIDE: usize = 6;
/// A side's normal may turn this far (degrees) from the upright sheet's.
const MAX_TILT: i32 = 40;
/// Half-width (pixels) of the band of distances that count as one line in the Hough peaks.
const RHO_BAND: i32 = 2;
/// Share of the sides' length that must lie on an edge of the right orientation.
const MIN_SUPPORT: f32 = 0.5;
/// Pixels of the working copy by which a found border is moved into the sheet.
const INSET: f32 = 2.0;
/// Inside (paper) over outside (background): the least, over the sides, of the mean brightness
/// in a band inside the side over that in a band outside it.
const MIN_CONTRAST: f32 = 1.08;

/// A straight line `x cos(theta) + y sin(theta) = rho` whose normal points into the brighter
/// side (the sheet); `frame` lines are the picture's own borders (a sheet that runs out of the
/// picture).
#[derive(Debug, Clone, Copy)]
struct Line {
    /// Degrees, 0..360.
    theta: f32,
    nx: f32,
    ny: f32,
    rho: f32,
    frame: bool,
}

impl Line {
    fn new(theta: f32, rho: f32, frame: bool) -> Line {
        let t = theta.to_radians();
        Line {
            theta: theta.rem_euclid(360.0),
            nx: t.cos(),
            ny: t.sin(),
            rho,
            frame,
        }
    }

    /// Signed distance of `p` from the line, positive on the bright side.
    fn side(&self, p: (f32, f32)) -> f32 {
        p.0 * self.nx + p.1 * self.ny - self.rho
    }

    fn meet(&self, o: &Line) -> Option<(f32, f32)> {
        let det = self.nx * o.ny - self.ny * o.nx;
        if det.abs() < 0.3 {
            return None;
        }
        Some((
            (self.rho * o.ny - self.ny * o.rho) / det,
            (self.nx * o.rho - self.rho * o.nx) / det,
        ))
    }
}

/// Edge pixels of the working copy: for each pixel the direction (degrees, 0..360, pointing
/// from dark to bright) of a thinned edge, or -1.
struct Edges {
    w: usize,
    h: usize,
    dir: Vec<i16>,
    points: Vec<(u16, u16, i16)>,
}

impl Edges {
    fn of(img: &GrayImage) -> Edges {
        let (w, h) = (img.width() as usize, img.height() as usize);
        // ln(v + 16): dark backgrounds' sensor noise is not blown up into edges.
        let lut: Vec<f32> = (0..256).map(|v| (v as f32 + 16.0).ln()).collect();
        let l: Vec<f32> = img.as_raw().iter().map(|&v| lut[v as usize]).collect();
        let (mut gx, mut gy, mut mag) = (vec![0f32; w * h], vec![0f32; w * h], vec![0f32; w * h]);
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let p = |dx: isize, dy: isize| {
                    l[(y as isize + dy) as usize * w + (x as isize + dx) as usize]
                };
                let sx = p(1, -1) + 2.0 * p(1, 0) + p(1, 1) - p(-1, -1) - 2.0 * p(-1, 0) - p(-1, 1);
                let sy = p(-1, 1) + 2.0 * p(0, 1) + p(1, 1) - p(-1, -1) - 2.0 * p(0, -1) - p(1, -1);
                let i = y * w + x;
                gx[i] = sx;
                gy[i] = sy;
                mag[i] = (sx * sx + sy * sy).sqrt();
            }
        }
        let mut dir = vec![-1i16; w * h];
        let mut points = Vec::new();
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let i = y * w + x;
                let m = mag[i];
                if m < MIN_EDGE {
                    continue;
                }
                let deg = gy[i].atan2(gx[i]).to_degrees().rem_euclid(360.0);
                // Thin: a maximum across the edge (the gradient direction, in 45-degree steps).
                let (dx, dy): (isize, isize) = match ((deg + 22.5) / 45.0) as i32 % 4 {
                    0 => (1, 0),
                    1 => (1, 1),
                    2 => (0, 1),
                    _ => (-1, 1),
                };
                let a = mag[(y as isize + dy) as usize * w + (x as isize + dx) as usize];
                let b = mag[(y as isize - dy) as usize * w + (x as isize - dx) as usize];
                if m < a || m <= b {
                    continue;
                }
                let d = (deg.round() as i16).rem_euclid(360);
                dir[i] = d;
                points.push((x as u16, y as u16, d));
            }
        }
        Edges { w, h, dir, points }
    }

    /// Whether an edge pointing within `tol` degrees of `theta` lies within one pixel of `p`.
    fn supports(&self, p: (f32, f32), theta: f32, tol: f32) -> bool {
        let (x, y) = (p.0.round() as isize, p.1.round() as isize);
        for yy in y - 1..=y + 1 {
            for xx in x - 1..=x + 1 {
                if xx < 0 || yy < 0 || xx >= self.w as isize || yy >= self.h as isize {
                    continue;
                }
                let d = self.dir[yy as usize * self.w + xx as usize];
                if d >= 0 && angle_diff(d as f32, theta) <= tol {
                    return true;
                }
            }
        }
        false
    }
}

fn angle_diff(a: f32, b: f32) -> f32 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// Oriented Hough accumulator: each edge pixel votes for the lines through it whose normal is
/// within 2 degrees of its gradient, so a border and the opposite border have distinct peaks.
struct Hough {
    d: i32,
    acc: Vec<u32>,
}

impl Hough {
    fn of(edges: &Edges) -> Hough {
        let d = ((edges.w * edges.w + edges.h * edges.h) as f32)
            .sqrt()
            .ceil() as i32;
        let n = (2 * d + 1) as usize;
        let trig: Vec<(f32, f32)> = (0..360)
            .map(|t| {
                let r = (t as f32).to_radians();
                (r.cos(), r.sin())
            })
            .collect();
        let mut acc = vec![0u32; 360 * n];
        for &(x, y, deg) in &edges.points {
            for dt in -2..=2 {
                let t = (deg as i32 + dt).rem_euclid(360) as usize;
                let (c, s) = trig[t];
                let rho = (x as f32 * c + y as f32 * s).round() as i32 + d;
                acc[t * n + rho as usize] += 1;
            }
        }
        Hough { d, acc }
    }

    /// Votes for the lines at `theta` within `RHO_BAND` of `rho`: with 1-degree steps, a long
    /// border between two steps spreads its votes over a few neighbouring distances.
    fn votes(&self, theta: i32, rho: i32) -> u32 {
        let n = 2 * self.d + 1;
        let row = theta.rem_euclid(360) as usize * n as usize;
        (rho - RHO_BAND..=rho + RHO_BAND)
            .map(|r| r + self.d)
            .filter(|r| (0..n).contains(r))
            .map(|r| self.acc[row + r as usize])
            .sum()
    }

    /// The strongest local maxima with normals within `MAX_TILT` of `nominal`, each refined on
    /// its edge pixels.
    fn peaks(&self, nominal: i32, min_votes: u32, edges: &Edges) -> Vec<Line> {
        let mut found: Vec<(u32, i32, i32)> = Vec::new();
        for theta in nominal - MAX_TILT..=nominal + MAX_TILT {
            for rho in -self.d..=self.d {
                let v = self.votes(theta, rho);
                if v < min_votes {
                    continue;
                }
                let mut top = true;
                'window: for t in theta - 3..=theta + 3 {
                    for r in rho - 6..=rho + 6 {
                        let o = self.votes(t, r);
                        // ties: the first in scan order wins
                        if o > v || (o == v && (t, r) < (theta, rho)) {
                            top = false;
                            break 'window;
                        }
                    }
                }
                if top {
                    found.push((v, theta, rho));
                }
            }
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found
            .into_iter()
            .take(CANDIDATES_PER_SIDE)
            .map(|(_, t, r)| refine(Line::new(t as f32, r as f32, false), edges))
            .collect()
    }
}

/// The line through the edge pixels within `RHO_BAND + 1` pixels of `line` whose direction
/// agrees with it (within 12 degrees), fitted by total least squares; `line` itself when fewer
/// than 20 pixels support it.
fn refine(line: Line, edges: &Edges) -> Line {
    let near: Vec<(f32, f32)> = edges
        .points
        .iter()
        .map(|&(x, y, d)| ((x as f32, y as f32), d))
        .filter(|&(p, d)| {
            line.side(p).abs() <= RHO_BAND as f32 + 1.0 && angle_diff(d as f32, line.theta) <= 12.0
        })
        .map(|(p, _)| p)
        .collect();
    if near.len() < 20 {
        return line;
    }
    let n = near.len() as f32;
    let (mx, my) = (
        near.iter().map(|p| p.0).sum::<f32>() / n,
        near.iter().map(|p| p.1).sum::<f32>() / n,
    );
    let (mut sxx, mut sxy, mut syy) = (0f32, 0f32, 0f32);
    for &(x, y) in &near {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // The normal is the direction of least spread: the half-angle of the covariance's
    // orientation, turned a quarter.
    let along = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (mut nx, mut ny) = (-along.sin(), along.cos());
    if nx * line.nx + ny * line.ny < 0.0 {
        (nx, ny) = (-nx, -ny);
    }
    let theta = ny.atan2(nx).to_degrees();
    if angle_diff(theta, line.theta) > 3.0 {
        return line;
    }
    Line::new(theta, mx * nx + my * ny, false)
}

/// Finds a bright sheet lying on a darker background; returns its corners (top-left, top-right,
/// bottom-right, bottom-left) in the input's pixels, or `None` when no sheet border is visible
/// (a scan, or a photo whose sheet fills the frame).
pub fn find_sheet(gray: &GrayImage) -> Option<[(f32, f32); 4]> {
    let (small, s) = crate::shrink(gray, WORK_SIDE);
    if small.width() < 48 || small.height() < 48 {
        return None;
    }
    let small = imageproc::filter::gaussian_blur_f32(&small, 1.5);
    let edges = Edges::of(&small);
    let hough = Hough::of(&edges);
    let (w, h) = (edges.w as f32, edges.h as f32);
    let short = w.min(h);
    let min_votes = (0.15 * short) as u32;
    // Sides in order top, right, bottom, left; the normal of each points into the sheet.
    let mut sides: Vec<Vec<Line>> = [90, 180, 270, 0]
        .iter()
        .map(|&nominal| hough.peaks(nominal, min_votes, &edges))
        .collect();
    // The picture's own borders, for a sheet that runs out of the picture on one side.
    sides[0].push(Line::new(90.0, 0.0, true));
    sides[1].push(Line::new(180.0, -(w - 1.0), true));
    sides[2].push(Line::new(270.0, -(h - 1.0), true));
    sides[3].push(Line::new(0.0, 0.0, true));

    let mut best: Option<(f32, [Line; 4])> = None;
    for t in &sides[0] {
        for r in &sides[1] {
            for b in &sides[2] {
                for l in &sides[3] {
                    let lines = [*t, *r, *b, *l];
                    if lines.iter().filter(|x| x.frame).count() > 1 {
                        continue;
                    }
                    let Some(quad) = quad_of(&lines, w, h) else {
                        continue;
                    };
                    let Some(score) = score(&lines, &quad, &edges, short) else {
                        continue;
                    };
                    if best.is_some_and(|(s, _)| s >= score) {
                        continue;
                    }
                    if contrast(&lines, &quad, &small) < MIN_CONTRAST {
                        continue;
                    }
                    best = Some((score, lines));
                }
            }
        }
    }
    // The border found is where the brightness changes fastest; the paper's edge pixels (and a
    // cast shadow beside them) are left out by moving each border INSET pixels inwards.
    let (_, lines) = best?;
    let [t, r, b, l] = lines.map(|line| Line {
        rho: line.rho + if line.frame { 0.0 } else { INSET },
        ..line
    });
    let quad = [l.meet(&t)?, t.meet(&r)?, r.meet(&b)?, b.meet(&l)?];
    Some(quad.map(|(x, y)| ((x + 0.5) / s, (y + 0.5) / s)))
}

/// The corners (tl, tr, br, bl) of four lines (top, right, bottom, left), when they make a
/// plausible sheet: inside the picture (a little slack), convex with the bright side of every
/// line inside, corners of 55-125 degrees, at least 12% of the picture.
fn quad_of(lines: &[Line; 4], w: f32, h: f32) -> Option<[(f32, f32); 4]> {
    let [t, r, b, l] = lines;
    let quad = [l.meet(t)?, t.meet(r)?, r.meet(b)?, b.meet(l)?];
    let (sx, sy) = (0.03 * w, 0.03 * h);
    if quad
        .iter()
        .any(|&(x, y)| x < -sx || y < -sy || x > w - 1.0 + sx || y > h - 1.0 + sy)
    {
        return None;
    }
    let c = (
        quad.iter().map(|p| p.0).sum::<f32>() / 4.0,
        quad.iter().map(|p| p.1).sum::<f32>() / 4.0,
    );
    if lines.iter().any(|line| line.side(c) <= 0.0) {
        return None;
    }
    if !crate::is_convex(&quad) || crate::polygon_area(&quad) < 0.12 * w * h {
        return None;
    }
    for i in 0..4 {
        let (a, p, n) = (quad[(i + 3) % 4], quad[i], quad[(i + 1) % 4]);
        let (u, v) = ((a.0 - p.0, a.1 - p.1), (n.0 - p.0, n.1 - p.1));
        let cos = (u.0 * v.0 + u.1 * v.1) / (crate::dist(a, p) * crate::dist(n, p)).max(1e-3);
        if cos.abs() > 55f32.to_radians().cos() {
            return None;
        }
    }
    Some(quad)
}

/// Points every pixel along side `i` (from corner i to corner i + 1).
fn along(quad: &[(f32, f32); 4], i: usize) -> impl Iterator<Item = (f32, f32)> {
    let (a, b) = (quad[i], quad[(i + 1) % 4]);
    let n = crate::dist(a, b).ceil().max(1.0) as usize;
    (0..=n).map(move |k| {
        let f = k as f32 / n as f32;
        (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f)
    })
}

/// Edge support of a quadrilateral: pixels of its (non-frame) sides on an edge of the side's
/// orientation, less half the unsupported ones; `None` when under `MIN_SUPPORT` of the length,
/// or a side is shorter than a quarter of the picture's short side.
fn score(lines: &[Line; 4], quad: &[(f32, f32); 4], edges: &Edges, short: f32) -> Option<f32> {
    let (mut on, mut all) = (0usize, 0usize);
    // Corner i is where side i - 1 meets side i; side i runs from corner i to corner i + 1.
    for (i, line) in lines.iter().enumerate() {
        if crate::dist(quad[i], quad[(i + 1) % 4]) < 0.25 * short {
            return None;
        }
        if line.frame {
            continue;
        }
        for p in along(quad, i) {
            all += 1;
            if edges.supports(p, line.theta, 12.0) {
                on += 1;
            }
        }
    }
    if all == 0 || (on as f32) < MIN_SUPPORT * all as f32 {
        return None;
    }
    Some(on as f32 - 0.5 * (all - on) as f32)
}

/// The least, over the non-frame sides, of the mean brightness in a band 3-8 pixels inside the
/// side over the same outside: a sheet is brighter than what lies beyond each of its borders,
/// while a ruled box on a page has paper on both sides of most of its rules.
fn contrast(lines: &[Line; 4], quad: &[(f32, f32); 4], img: &GrayImage) -> f32 {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let mut least = f32::MAX;
    for (i, line) in lines.iter().enumerate() {
        if line.frame {
            continue;
        }
        let (mut inside, mut outside, mut n_in, mut n_out) = (0f64, 0f64, 0usize, 0usize);
        for p in along(quad, i).step_by(2) {
            for d in 3..=8 {
                let d = d as f32;
                for (sign, sum, n) in [
                    (1.0, &mut inside, &mut n_in),
                    (-1.0, &mut outside, &mut n_out),
                ] {
                    let (x, y) = (p.0 + sign * d * line.nx, p.1 + sign * d * line.ny);
                    if x >= 0.0 && y >= 0.0 && x < w && y < h {
                        *sum += f64::from(img.get_pixel(x as u32, y as u32)[0]);
                        *n += 1;
                    }
                }
            }
        }
        if n_in == 0 || n_out == 0 {
            return 0.0;
        }
        let ratio = (inside / n_in as f64) / (outside / n_out as f64).max(1.0);
        least = least.min(ratio as f32);
    }
    least
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;
    use imageproc::geometric_transformations::{warp_into, Interpolation, Projection};

    /// A 700x900 page: paper at 240, lines of "text" (dark dashes) and a ruled table box.
    fn page() -> GrayImage {
        let mut img = GrayImage::from_pixel(700, 900, Luma([240]));
        for row in 0..30u32 {
            let y = 80 + row * 26;
            for x in 60..640u32 {
                if (x / 9 + row) % 7 != 0 && x % 9 < 6 {
                    for yy in y..y + 11 {
                        img.put_pixel(x, yy, Luma([40]));
                    }
                }
            }
        }
        for x in 50..650 {
            for t in 0..3 {
                img.put_pixel(x, 400 + t, Luma([30]));
                img.put_pixel(x, 700 + t, Luma([30]));
            }
        }
        for y in 400..703 {
            for t in 0..3 {
                img.put_pixel(50 + t, y, Luma([30]));
                img.put_pixel(647 + t, y, Luma([30]));
            }
        }
        img
    }

    /// The page warped onto `quad` in a 1200x1000 picture of flat `background`, then darkened
    /// to `shade` (a factor) wherever `shadow(x, y)` holds, sheet and table alike.
    fn scene(
        quad: [(f32, f32); 4],
        background: u8,
        shade: f32,
        shadow: impl Fn(u32, u32) -> bool,
    ) -> GrayImage {
        let sheet = page();
        let to = Projection::from_control_points(
            [(0.0, 0.0), (699.0, 0.0), (699.0, 899.0), (0.0, 899.0)],
            quad,
        )
        .unwrap();
        let mut img = GrayImage::from_pixel(1200, 1000, Luma([0]));
        warp_into(&sheet, &to, Interpolation::Bilinear, Luma([0]), &mut img);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let v = if p[0] == 0 { background } else { p[0] };
            let v = if shadow(x, y) {
                v as f32 * shade
            } else {
                v as f32
            };
            p[0] = v as u8;
        }
        img
    }

    fn assert_corners(found: Option<[(f32, f32); 4]>, quad: [(f32, f32); 4]) {
        let found = found.expect("a sheet");
        for (f, q) in found.iter().zip(quad.iter()) {
            assert!(
                crate::dist(*f, *q) < 15.0,
                "corner {f:?} vs {q:?}: {found:?}"
            );
        }
    }

    const QUAD: [(f32, f32); 4] = [
        (330.0, 90.0),
        (900.0, 130.0),
        (860.0, 930.0),
        (280.0, 900.0),
    ];

    #[test]
    fn sheet_with_a_shadow_over_a_corner_is_found_whole() {
        // A hard shadow over the sheet's top-right corner and the table beside it: the
        // brightest region is the sheet minus the corner.
        let img = scene(QUAD, 90, 0.35, |x, y| x + (1000 - y) > 1300);
        assert_corners(find_sheet(&img), QUAD);
    }

    #[test]
    fn sheet_on_a_pale_table_is_found() {
        // The table (205) is nearly as bright as the paper (240), and darker under a shadow
        // that also covers the lower third of the sheet.
        let img = scene(QUAD, 205, 0.6, |_, y| y > 650);
        assert_corners(find_sheet(&img), QUAD);
    }

    #[test]
    fn sheet_running_out_of_the_picture_uses_its_border() {
        // The sheet's right part is cut off by the picture's right border.
        let quad = [
            (600.0, 90.0),
            (1260.0, 110.0),
            (1240.0, 930.0),
            (560.0, 900.0),
        ];
        let img = scene(quad, 70, 1.0, |_, _| false);
        let found = find_sheet(&img).expect("a sheet");
        let (w, _) = img.dimensions();
        assert!(crate::dist(found[0], quad[0]) < 15.0, "{found:?}");
        assert!(crate::dist(found[3], quad[3]) < 15.0, "{found:?}");
        assert!(
            found[1].0 > w as f32 - 15.0 && found[2].0 > w as f32 - 15.0,
            "{found:?}"
        );
    }

    #[test]
    fn a_ruled_box_on_a_page_is_not_a_sheet() {
        // A scan: paper to the picture's borders, with a ruled table box in the middle.
        assert!(find_sheet(&page()).is_none());
        let mut big = GrayImage::from_pixel(1400, 1800, Luma([240]));
        image::imageops::replace(
            &mut big,
            &image::imageops::resize(&page(), 1400, 1800, image::imageops::FilterType::Triangle),
            0,
            0,
        );
        assert!(find_sheet(&big).is_none());
    }
}
