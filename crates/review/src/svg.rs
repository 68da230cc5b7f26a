//! SVG drawn on the server: a partner's weekly activity, and an invoice page with the boxes of
//! what was read on it. All text is escaped.

use std::fmt::Write;

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Bars of weekly counts, oldest week first (`weeks[0]` is the oldest).
pub fn activity_plot(weeks: &[f64], title: &str) -> String {
    let (w, h, pad) = (312.0, 64.0, 12.0);
    let n = weeks.len().max(1) as f64;
    let bw = (w - 2.0) / n;
    let max = weeks.iter().copied().fold(0.0, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {}" width="{w}" height="{}" role="img" aria-label="{}"><title>{}</title>"#,
        h + pad,
        h + pad,
        esc(title),
        esc(title)
    );
    let _ = write!(
        s,
        r##"<line x1="0" y1="{h}" x2="{w}" y2="{h}" stroke="#999" stroke-width="1"/>"##
    );
    for (i, v) in weeks.iter().enumerate() {
        let bh = if max > 0.0 { v / max * (h - 4.0) } else { 0.0 };
        let _ = write!(
            s,
            r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{} weeks ago: {}</title></rect>"#,
            1.0 + i as f64 * bw,
            h - bh,
            (bw - 2.0).max(1.0),
            bh,
            weeks.len() - 1 - i,
            v
        );
    }
    let _ = write!(
        s,
        r#"<text x="0" y="{}" font-size="10">{} weeks ago</text><text x="{w}" y="{}" font-size="10" text-anchor="end">this week · max {}</text></svg>"#,
        h + pad - 1.0,
        weeks.len(),
        h + pad - 1.0,
        max
    );
    s
}

/// One box drawn over a page: page pixels, an id (for highlighting), a CSS class and a label.
#[derive(Debug, Clone)]
pub struct Overlay {
    pub bbox: [f64; 4],
    pub id: String,
    pub class: &'static str,
    pub label: String,
}

/// What a page shows beneath the boxes.
#[derive(Debug, Clone)]
pub enum Background {
    /// The stored page image (URL), drawn to the page size.
    Image(String),
    /// The words themselves (word-JSON uploads have no picture): text at their boxes.
    Words(Vec<(String, [f64; 4])>),
    /// Nothing stored: a blank page with the boxes only.
    Blank,
}

/// A page as SVG, `width`x`height` page pixels, scaled by CSS.
pub fn page(width: f64, height: f64, bg: &Background, boxes: &[Overlay]) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="page" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMin meet">"#
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>"##
    );
    match bg {
        Background::Image(url) => {
            let _ = write!(
                s,
                r#"<image href="{}" x="0" y="0" width="{width}" height="{height}" preserveAspectRatio="none"/>"#,
                esc(url)
            );
        }
        Background::Words(words) => {
            for (t, b) in words {
                let fh = ((b[3] - b[1]) * 0.8).max(1.0);
                let _ = write!(
                    s,
                    r#"<text class="word" x="{:.1}" y="{:.1}" font-size="{:.1}" textLength="{:.1}" lengthAdjust="spacingAndGlyphs">{}</text>"#,
                    b[0],
                    b[3] - (b[3] - b[1]) * 0.2,
                    fh,
                    (b[2] - b[0]).max(1.0),
                    esc(t)
                );
            }
        }
        Background::Blank => {}
    }
    for o in boxes {
        let [x0, y0, x1, y1] = o.bbox;
        let _ = write!(
            s,
            r#"<rect id="{}" class="box {}" x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
            esc(&o.id),
            o.class,
            (x1 - x0).max(1.0),
            (y1 - y0).max(1.0),
            esc(&o.label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plot_scales_bars_to_the_busiest_week() {
        let s = activity_plot(&[0.0, 2.0, 4.0], "p<1>");
        assert_eq!(s.matches("<rect class=\"bar\"").count(), 3);
        assert!(s.contains("height=\"60.0\""), "{s}"); // the busiest week is full height
        assert!(s.contains("height=\"30.0\""), "{s}");
        assert!(s.contains("p&lt;1&gt;") && !s.contains("p<1>"));
        // all zero: no division by zero, flat bars
        assert!(!activity_plot(&[0.0; 26], "x").contains("NaN"));
    }

    #[test]
    fn page_escapes_words_and_draws_boxes() {
        let s = page(
            100.0,
            200.0,
            &Background::Words(vec![("A&B".into(), [1.0, 2.0, 30.0, 12.0])]),
            &[Overlay {
                bbox: [10.0, 20.0, 40.0, 30.0],
                id: "line-0".into(),
                class: "line",
                label: "<x>".into(),
            }],
        );
        assert!(s.contains("A&amp;B") && s.contains("&lt;x&gt;"));
        assert!(
            s.contains(
                r#"id="line-0" class="box line" x="10.0" y="20.0" width="30.0" height="10.0""#
            ),
            "{s}"
        );
    }
}
