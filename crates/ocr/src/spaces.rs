//! Word spaces that Tesseract saw in the picture but did not read.
//!
//! Tesseract's recogniser sometimes reads two printed words as one: `RAL90` for `RAL 90`,
//! `PUREWHR` for `PURE WH R`, `Radiatorea` for `Radiatore a` (the Italian model, where a lone
//! `a` is common). The gap is there in the picture, as wide as the line's other spaces, so the
//! picture can say where the word should part; a distributor's own glued spelling (`Grelhade`,
//! `Ctype`) has no gap and stays whole. That is the evidence a vocabulary cannot give.
//!
//! [`mark_unread_spaces`] records such gaps in [`Word::spaces`]; the word's text is not
//! changed, so later stages choose where to use them (the layout model still sees the words
//! Tesseract read; line descriptions are assembled with the spaces).
//!
//! A gap is a run of ink-free columns inside the word's box (ink: darker than the paper by
//! half the paper-to-ink contrast, [`INK_EDGE`]), at least [`MIN_SPACE`] and at most
//! [`MAX_SPACE`] times the page's usual word space, both measured in line heights. It is placed
//! between the characters that split the word's estimated width (from rough character widths)
//! as the gap splits its ink, and kept only between two letters or a letter and a digit other
//! than `1` (never between digits, where wide figures leave wide gaps, nor beside punctuation),
//! when each side holds ink for at least [`MIN_SIDE_INK`] of its characters' estimated width (a
//! speck after a gap is not a word), and when the word is not letter-spaced (a gap at every
//! other character or more). A word read alike three times or more on a page gets a space only
//! where most of its readings show one.
//!
//! Measured on 25 seed-73 training scans read by Tesseract (Python prototype, 2026-12-07):
//! gaps of at least 0.7 of a space parted 36 words into words of the printed description and 3
//! printed words wrongly (`RADIA` at 0.73, `1P+N` at 0.8 between a digit and a letter, a speck
//! after `VOLTARIS`), which the bounds and checks here leave whole.
//!
//! In the reader, on the cleaned pages (`claimscan model eval models/layout-gbdt-cord --words
//! read --catalog`, seed 73, after the code run-on rule): train scans 76.0% -> 77.4% line F1,
//! photos 70.2% -> 71.5%; held-out scans 84.9% -> 85.1%, photos 79.2% -> 80.4%. A quarter of
//! the contrast ([`INK_EDGE`] 0.25, grey glyph edges as ink) fixed fewer lines (train scans
//! 76.4%); without the majority of alike readings, one degraded scan lost six lines to `PAN EL`
//! and `RA D IA`. Still wrong: a font whose letters stand apart (`PU LL`, `LIN EAR` on one
//! held-out scan), and a gap placed one character off (`VALVOL A A` for `VALVOLAA`).
//! Seed 61 train, not looked at while choosing the bounds: scans 69.5% -> 70.9%, photos 72.7% ->
//! 73.2% (with the code run-on rule), with more broken words (`GRI LLE`, `SILE NTO`, `nippl e`:
//! most beside a thin `I` or `l`). Refusing a gap that a faint stroke crosses (a quarter of a
//! column's rows a fifth of the contrast darker than the paper) lost more right spaces than it
//! saved on seed 61 (scans 70.3%, photos 73.0%) and was dropped.

use claimscan_doc::{Page, Word};
use image::GrayImage;

/// Smallest gap, in the page's usual word spaces, taken for a space.
pub const MIN_SPACE: f32 = 0.75;
/// Largest: wider than this, Tesseract joined far-apart marks (a logo's letters, specks).
pub const MAX_SPACE: f32 = 2.0;
/// A pixel is ink when it is darker than the paper by this share of the paper-to-ink contrast.
pub const INK_EDGE: f32 = 0.5;
/// Each side of a gap holds ink over at least this share of its characters' estimated width.
pub const MIN_SIDE_INK: f32 = 0.4;

/// A character's rough advance width, in ems: enough to tell which two characters a gap falls
/// between in a proportional font.
fn char_width(c: char) -> f32 {
    match c {
        'i' | 'l' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' | '`' | 'í' | 'ì' | 'ï' => 0.28,
        'j' | 'f' | 'r' | 't' | 'I' | '(' | ')' | '[' | ']' | '"' | '/' | '-' => 0.38,
        'm' | 'w' | 'M' | 'W' => 0.85,
        c if c.is_uppercase() => 0.68,
        // figures are tabular: a `1` takes a whole figure's width
        c if c.is_ascii_digit() => 0.56,
        _ => 0.53,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Letter,
    Digit,
    Other,
}

fn kind(c: char) -> Kind {
    if c.is_alphabetic() {
        Kind::Letter
    } else if c.is_ascii_digit() {
        Kind::Digit
    } else {
        Kind::Other
    }
}

/// Whether a space may be put between `a` and `b`: two letters, or a letter and a digit other
/// than `1` (a narrow figure in a figure's width leaves a space's worth of paper beside it:
/// `1P+N`, `IP44` read `1P44`).
fn may_part(a: char, b: char) -> bool {
    if a == '1' || b == '1' {
        return false;
    }
    !matches!(
        (kind(a), kind(b)),
        (Kind::Other, _) | (_, Kind::Other) | (Kind::Digit, Kind::Digit)
    )
}

fn median(mut v: Vec<f32>) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    Some(v[v.len() / 2])
}

/// The page's usual word space, in line heights: the median gap between neighbouring words of
/// a text line narrower than 1.2 line heights (wider gaps part columns). `None` with fewer than
/// five such gaps.
fn usual_space(page: &Page) -> Option<f32> {
    let mut gaps = Vec::new();
    for line in &page.lines {
        let Some(h) = line_height(page, &line.words) else {
            continue;
        };
        for pair in line.words.windows(2) {
            let g = page.words[pair[1]].bbox[0] - page.words[pair[0]].bbox[2];
            if g > 0.0 && g < 1.2 * h {
                gaps.push(g / h);
            }
        }
    }
    (gaps.len() >= 5).then(|| median(gaps)).flatten()
}

fn line_height(page: &Page, words: &[usize]) -> Option<f32> {
    median(
        words
            .iter()
            .map(|&i| page.words[i].bbox[3] - page.words[i].bbox[1])
            .collect(),
    )
    .filter(|h| *h >= 4.0)
}

/// Records in each word of an OCR'd `page` the spaces its picture `image` shows but Tesseract
/// did not read (see the module notes). Returns how many words got spaces.
pub fn mark_unread_spaces(image: &GrayImage, page: &mut Page) -> usize {
    let Some(space) = usual_space(page) else {
        return 0;
    };
    let mut found: Vec<(usize, Vec<usize>)> = Vec::new();
    for line in &page.lines {
        let Some(h) = line_height(page, &line.words) else {
            continue;
        };
        for &wi in &line.words {
            let spaces = unread_spaces(image, &page.words[wi], h, space);
            if !spaces.is_empty() {
                found.push((wi, spaces));
            }
        }
    }
    // A word read alike three times or more on the page is printed alike: a space is taken only
    // where most of its readings show it (noise opens a gap in one `PANEL` of twenty, a printed
    // space shows in every `RAL90`).
    let mut readings: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for w in &page.words {
        *readings.entry(w.text.as_str()).or_default() += 1;
    }
    let mut shown: std::collections::HashMap<(&str, usize), usize> =
        std::collections::HashMap::new();
    for (wi, spaces) in &found {
        for &i in spaces {
            *shown.entry((page.words[*wi].text.as_str(), i)).or_default() += 1;
        }
    }
    let kept: Vec<(usize, Vec<usize>)> = found
        .iter()
        .map(|(wi, spaces)| {
            let text = page.words[*wi].text.as_str();
            let n = readings.get(text).copied().unwrap_or(1);
            let keep = spaces
                .iter()
                .copied()
                .filter(|&i| n < 3 || 2 * shown.get(&(text, i)).copied().unwrap_or(0) > n)
                .collect();
            (*wi, keep)
        })
        .collect();
    let mut marked = 0;
    for (wi, spaces) in kept {
        if !spaces.is_empty() {
            marked += 1;
            page.words[wi].spaces = spaces;
        }
    }
    marked
}

/// The spaces in one word whose line is `h` pixels high, on a page whose usual space is
/// `space` line heights.
fn unread_spaces(image: &GrayImage, word: &Word, h: f32, space: f32) -> Vec<usize> {
    let chars: Vec<char> = word.text.chars().collect();
    if chars.len() < 3 {
        return Vec::new();
    }
    let (iw, ih) = image.dimensions();
    let x0 = (word.bbox[0].max(0.0) as u32).min(iw);
    let x1 = (word.bbox[2].ceil().max(0.0) as u32).min(iw);
    let y0 = (word.bbox[1].max(0.0) as u32).min(ih);
    let y1 = (word.bbox[3].ceil().max(0.0) as u32).min(ih);
    if x1 < x0 + 4 || y1 < y0 + 2 {
        return Vec::new();
    }
    let crop = image::imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image();
    // Otsu's level parts ink from paper; a pixel counts as ink a quarter of the way from the
    // paper's shade to the ink's, so the grey edges of glyphs close the gaps between letters
    // and only a space's width of paper stays a gap
    let level = imageproc::contrast::otsu_level(&crop);
    let (w, rows) = crop.dimensions();
    let (mut ink_sum, mut ink_n, mut paper_sum, mut paper_n) = (0u64, 0u64, 0u64, 0u64);
    for p in crop.pixels() {
        if p.0[0] <= level {
            ink_sum += u64::from(p.0[0]);
            ink_n += 1;
        } else {
            paper_sum += u64::from(p.0[0]);
            paper_n += 1;
        }
    }
    if ink_n == 0 || paper_n == 0 {
        return Vec::new();
    }
    let (ink, paper) = (
        ink_sum as f32 / ink_n as f32,
        paper_sum as f32 / paper_n as f32,
    );
    let edge = paper - INK_EDGE * (paper - ink);
    let inked: Vec<bool> = (0..w)
        .map(|x| (0..rows).any(|y| f32::from(crop.get_pixel(x, y).0[0]) < edge))
        .collect();
    // ink-free runs inside the box (not touching its ends), as (start, end) columns
    let mut runs = Vec::new();
    let mut x = 0;
    while x < w as usize {
        if inked[x] {
            x += 1;
            continue;
        }
        let start = x;
        while x < w as usize && !inked[x] {
            x += 1;
        }
        if start > 0 && x < w as usize {
            runs.push((start, x));
        }
    }
    let widths: Vec<f32> = chars.iter().map(|c| char_width(*c)).collect();
    let total: f32 = widths.iter().sum();
    // the share of the word's estimated width before character i
    let share = |i: usize| widths[..i].iter().sum::<f32>() / total;
    let first = inked.iter().position(|v| *v).unwrap_or(0);
    let last = inked.iter().rposition(|v| *v).map_or(w as usize, |x| x + 1);
    let ink_in = |a: usize, b: usize| inked[a..b].iter().filter(|v| **v).count() as f32;
    let mut cuts: Vec<usize> = Vec::new();
    for (start, end) in runs {
        let ratio = (end - start) as f32 / h / space;
        if !(MIN_SPACE..=MAX_SPACE).contains(&ratio) {
            continue;
        }
        // the characters before the gap span as much of the word's printed width, the gap
        // itself left out, as the ink before it does
        let (before, after) = (start - first, last - end);
        let f = before as f32 / (before + after).max(1) as f32;
        let Some(i) =
            (1..chars.len()).min_by(|&a, &b| (share(a) - f).abs().total_cmp(&(share(b) - f).abs()))
        else {
            continue;
        };
        if !may_part(chars[i - 1], chars[i]) {
            continue;
        }
        let printed = (before + after) as f32;
        if ink_in(0, start) < MIN_SIDE_INK * share(i) * printed
            || ink_in(end, w as usize) < MIN_SIDE_INK * (1.0 - share(i)) * printed
        {
            continue;
        }
        if !cuts.contains(&i) {
            cuts.push(i);
        }
    }
    // letter-spaced words (a heading's `D A T E`) show a gap at every character
    if cuts.len() >= 2 && cuts.len() * 2 >= chars.len() {
        return Vec::new();
    }
    cuts.sort_unstable();
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::PageSource;
    use image::Luma;

    /// A white page with one line: each word a list of glyphs (x0, x1) drawn as black bars 20 px
    /// high, the word boxes around them.
    fn page(words: &[(&str, &[(u32, u32)])]) -> (GrayImage, Page) {
        let mut img = GrayImage::from_pixel(1000, 60, Luma([255]));
        let mut ws = Vec::new();
        for (text, glyphs) in words {
            for &(a, b) in *glyphs {
                for x in a..b {
                    for y in 20..40 {
                        img.put_pixel(x, y, Luma([0]));
                    }
                }
            }
            let x0 = glyphs.first().unwrap().0 as f32;
            let x1 = glyphs.last().unwrap().1 as f32;
            ws.push(Word::new(*text, [x0, 18.0, x1, 42.0], 0.9, 1000.0, 60.0));
        }
        let p = Page::new(0, 1000.0, 60.0, Some(300.0), PageSource::Ocr, ws);
        (img, p)
    }

    /// Glyphs of `n` characters from `x`, each 12 px wide with 2 px between them.
    fn glyphs(x: u32, n: u32) -> Vec<(u32, u32)> {
        (0..n).map(|i| (x + i * 14, x + i * 14 + 12)).collect()
    }

    /// Words of six glyphs 10 px apart (the line's spaces), then the word under test.
    fn line_with(text: &'static str, test: Vec<(u32, u32)>) -> (GrayImage, Page) {
        let mut words: Vec<(&str, Vec<(u32, u32)>)> = Vec::new();
        let mut x = 10;
        for t in ["WORDSA", "WORDSB", "WORDSC", "WORDSD", "WORDSE", "WORDSF"] {
            words.push((t, glyphs(x, 6)));
            x += 6 * 14 - 2 + 10;
        }
        words.push((text, test));
        let refs: Vec<(&str, &[(u32, u32)])> =
            words.iter().map(|(t, g)| (*t, g.as_slice())).collect();
        page(&refs)
    }

    #[test]
    fn a_space_wide_gap_inside_a_word_is_marked_where_it_falls() {
        // `RAL90`: three glyphs, a 10 px gap (the line's space), two glyphs
        let mut g = glyphs(700, 3);
        g.extend(glyphs(700 + 3 * 14 - 2 + 10, 2));
        let (img, mut p) = line_with("RAL90", g);
        assert_eq!(mark_unread_spaces(&img, &mut p), 1);
        let w = p.words.iter().find(|w| w.text == "RAL90").unwrap();
        assert_eq!(w.spaces, vec![3]);
        assert_eq!(w.spaced_text(), "RAL 90");
        // the line's own words have no gap of a space's width inside them
        assert!(p
            .words
            .iter()
            .filter(|w| w.text != "RAL90")
            .all(|w| w.spaces.is_empty()));
    }

    #[test]
    fn no_space_between_digits_beside_punctuation_or_in_a_letter_spaced_word() {
        let gapped = |n1: u32, n2: u32| {
            let mut g = glyphs(700, n1);
            g.extend(glyphs(700 + n1 * 14 - 2 + 10, n2));
            g
        };
        for (text, g) in [("12900", gapped(3, 2)), ("AB-CD", gapped(3, 2))] {
            let (img, mut p) = line_with(text, g);
            mark_unread_spaces(&img, &mut p);
            let w = p.words.iter().find(|w| w.text == text).unwrap();
            assert!(w.spaces.is_empty(), "{text}: {:?}", w.spaces);
        }
        // `DATE` with a space's gap after every letter
        let spaced: Vec<(u32, u32)> = (0..4).map(|i| (700 + i * 22, 700 + i * 22 + 12)).collect();
        let (img, mut p) = line_with("DATE", spaced);
        mark_unread_spaces(&img, &mut p);
        assert!(p.words.iter().all(|w| w.spaces.is_empty()));
    }

    #[test]
    fn a_gap_in_one_of_several_alike_readings_is_noise() {
        // `PANEL` three times on the line, a space's gap inside the last one only
        let mut words: Vec<(&str, Vec<(u32, u32)>)> = Vec::new();
        let mut x = 10;
        for t in ["WORDSA", "WORDSB", "WORDSC", "PANEL", "PANEL"] {
            let n = t.len() as u32;
            words.push((t, glyphs(x, n)));
            x += n * 14 - 2 + 10;
        }
        let mut gapped = glyphs(x, 3);
        gapped.extend(glyphs(x + 3 * 14 - 2 + 10, 2));
        words.push(("PANEL", gapped));
        let refs: Vec<(&str, &[(u32, u32)])> =
            words.iter().map(|(t, g)| (*t, g.as_slice())).collect();
        let (img, mut p) = page(&refs);
        assert_eq!(mark_unread_spaces(&img, &mut p), 0);
        // alone on its page, the same gap is a space
        let mut alone = glyphs(700, 3);
        alone.extend(glyphs(700 + 3 * 14 - 2 + 10, 2));
        let (img, mut p) = line_with("PANEL", alone);
        assert_eq!(mark_unread_spaces(&img, &mut p), 1);
    }

    #[test]
    fn a_speck_after_a_gap_is_not_a_word() {
        // `VOLTARIS` and a 2 px speck after a space's gap, inside the word's box
        let mut g = glyphs(600, 8);
        g.push((600 + 8 * 14 - 2 + 10, 600 + 8 * 14 - 2 + 12));
        let (img, mut p) = line_with("VOLTARIS", g);
        mark_unread_spaces(&img, &mut p);
        assert!(p.words.iter().all(|w| w.spaces.is_empty()));
    }
}
