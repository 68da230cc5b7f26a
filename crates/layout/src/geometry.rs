//! Puts a page's words upright before reading: estimates the reading direction from consecutive
//! words (OCR and text layers list words in reading order) and rotates the word boxes so that text
//! runs left to right. Pages read by `claimscan_read` are already upright; this matters for word
//! input that is not (e.g. boxes measured on a rotated or skewed photo).

use claimscan_doc::{Document, Page, Word};

/// Reading direction of a page in degrees (0 = left to right, 90 = top to bottom), if measurable.
pub fn reading_angle(page: &Page) -> Option<f32> {
    let mut hist = [0u32; 360];
    let mut angles = Vec::new();
    for pair in page.words.windows(2) {
        let (a, b) = (&pair[0].bbox, &pair[1].bbox);
        let size = (a[2] - a[0]).min(a[3] - a[1]).max(1.0);
        let (ax, ay) = ((a[0] + a[2]) * 0.5, (a[1] + a[3]) * 0.5);
        let (bx, by) = ((b[0] + b[2]) * 0.5, (b[1] + b[3]) * 0.5);
        let (dx, dy) = (bx - ax, by - ay);
        let d = (dx * dx + dy * dy).sqrt();
        let la = (a[2] - a[0]).max(a[3] - a[1]);
        let lb = (b[2] - b[0]).max(b[3] - b[1]);
        // neighbours in one line: centres about half their lengths apart plus a space
        if d < size * 0.5 || d > (la + lb) * 0.5 + size * 3.0 {
            continue;
        }
        let deg = dy.atan2(dx).to_degrees().rem_euclid(360.0);
        hist[(deg as usize) % 360] += 1;
        angles.push(deg);
    }
    if angles.len() < 5 {
        return None;
    }
    // mode over a 5-degree window, then the mean of the angles near it
    let score = |i: usize| (0..5).map(|k| hist[(i + 358 + k) % 360]).sum::<u32>();
    let mode = (0..360).max_by_key(|&i| score(i))? as f32;
    let near: Vec<f32> = angles
        .iter()
        .map(|a| {
            let mut d = a - mode;
            if d > 180.0 {
                d -= 360.0;
            }
            if d < -180.0 {
                d += 360.0;
            }
            d
        })
        .filter(|d| d.abs() <= 4.0)
        .collect();
    if near.len() < 3 {
        return None;
    }
    Some((mode + near.iter().sum::<f32>() / near.len() as f32).rem_euclid(360.0))
}

/// Share of neighbouring word pairs (in reading order) whose direction is within 1.5° of the
/// page's reading direction: 1.0 for a flat page, lower for perspective or curved text, where
/// lines are harder to group. Feeds the invoice confidence.
pub fn straightness(page: &Page) -> f32 {
    let Some(angle) = reading_angle(page) else {
        return 1.0;
    };
    let (mut n, mut ok) = (0usize, 0usize);
    for pair in page.words.windows(2) {
        let (a, b) = (&pair[0].bbox, &pair[1].bbox);
        let size = (a[2] - a[0]).min(a[3] - a[1]).max(1.0);
        let (dx, dy) = (
            (b[0] + b[2] - a[0] - a[2]) * 0.5,
            (b[1] + b[3] - a[1] - a[3]) * 0.5,
        );
        let d = (dx * dx + dy * dy).sqrt();
        let la = (a[2] - a[0]).max(a[3] - a[1]);
        let lb = (b[2] - b[0]).max(b[3] - b[1]);
        if d < size * 0.5 || d > (la + lb) * 0.5 + size * 3.0 {
            continue;
        }
        let mut diff = dy.atan2(dx).to_degrees() - angle;
        diff = (diff + 540.0).rem_euclid(360.0) - 180.0;
        n += 1;
        if diff.abs() <= 1.5 {
            ok += 1;
        }
    }
    if n < 10 {
        1.0
    } else {
        ok as f32 / n as f32
    }
}

/// The page with its words rotated upright, or `None` when it already is (within 0.7°).
pub fn upright_page(page: &Page) -> Option<Page> {
    let angle = reading_angle(page)?;
    let signed = if angle > 180.0 { angle - 360.0 } else { angle };
    if signed.abs() < 0.7 {
        return None;
    }
    let quarter = ((angle / 90.0).round() as i32).rem_euclid(4);
    let residual = (angle - quarter as f32 * 90.0).to_radians();
    let theta = -angle.to_radians();
    let (sin, cos) = theta.sin_cos();
    let (w, h) = (page.width, page.height);
    let (nw, nh) = if quarter % 2 == 1 { (h, w) } else { (w, h) };
    let (c, s) = (residual.cos().abs(), residual.sin().abs());
    let words: Vec<Word> = page
        .words
        .iter()
        .map(|wd| {
            let b = wd.bbox;
            let (cx, cy) = ((b[0] + b[2]) * 0.5 - w * 0.5, (b[1] + b[3]) * 0.5 - h * 0.5);
            let (rx, ry) = (
                cx * cos - cy * sin + nw * 0.5,
                cx * sin + cy * cos + nh * 0.5,
            );
            let (bw, bh) = if quarter % 2 == 1 {
                (b[3] - b[1], b[2] - b[0])
            } else {
                (b[2] - b[0], b[3] - b[1])
            };
            // the axis-aligned box of a word turned by the residual angle is W = w c + h s, H = w s + h c
            let det = c * c - s * s;
            let (mut ww, mut hh) = if det > 0.3 {
                ((bw * c - bh * s) / det, (bh * c - bw * s) / det)
            } else {
                (bw, bh)
            };
            if ww < bw * 0.3 {
                ww = bw * 0.3;
            }
            if hh < bh * 0.3 {
                hh = bh * 0.3;
            }
            let nb = [rx - ww * 0.5, ry - hh * 0.5, rx + ww * 0.5, ry + hh * 0.5];
            Word::new(wd.text.clone(), nb, wd.confidence, nw, nh)
        })
        .collect();
    let mut p = Page::new(page.index, nw, nh, page.dpi, page.source, words);
    p.rotation = page.rotation;
    Some(p)
}

/// The document with every page upright (pages already upright are kept as they are).
pub fn upright(doc: &Document) -> Option<Document> {
    let pages: Vec<Option<Page>> = doc.pages.iter().map(upright_page).collect();
    if pages.iter().all(Option::is_none) {
        return None;
    }
    let mut out = doc.clone();
    for (i, p) in pages.into_iter().enumerate() {
        if let Some(p) = p {
            out.pages[i] = p;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::PageSource;

    #[test]
    fn a_sideways_page_is_turned_upright() {
        // a line of eight words running top to bottom (page turned 90° clockwise)
        let words: Vec<Word> = (0..8)
            .map(|i| {
                let y = 100.0 + i as f32 * 60.0;
                Word::new(
                    format!("w{i}"),
                    [500.0, y, 520.0, y + 50.0],
                    1.0,
                    1000.0,
                    2000.0,
                )
            })
            .collect();
        let page = Page::new(0, 1000.0, 2000.0, None, PageSource::Input, words);
        let a = reading_angle(&page).unwrap();
        assert!((a - 90.0).abs() < 1.0, "{a}");
        let up = upright_page(&page).unwrap();
        assert_eq!(up.lines.len(), 1);
        assert_eq!(up.lines[0].text, "w0 w1 w2 w3 w4 w5 w6 w7");
        assert_eq!((up.width, up.height), (2000.0, 1000.0));
    }
}
