//! The document model every later stage reads: pages, words and text lines with their boxes.
//!
//! Coordinates are page pixels with the origin at the top left. For a PDF page read from its text
//! layer, "pixels" are taken at [`NOMINAL_DPI`] so that text-layer pages and OCR'd pages share one
//! coordinate system. Every box is also given normalised to `0..1` of the page size.
//!
//! The model serialises to the JSON documented in `README.md` (`schema_version` [`SCHEMA_VERSION`]).
//! [`WordsInput`] is the accepted input of already-OCR'd words, so later stages can be tested apart
//! from OCR.

use serde::{Deserialize, Serialize};

pub mod invoice;
pub use invoice::{Header, Invoice, InvoiceIssue, LineItem, ValueBox};

/// Version of the JSON document model. Bump on any incompatible change.
pub const SCHEMA_VERSION: &str = "1";

/// Resolution at which PDF pages are rendered for OCR and at which text-layer boxes are expressed.
pub const NOMINAL_DPI: f32 = 300.0;

/// An axis-aligned box `[x0, y0, x1, y1]`, `x0 <= x1`, `y0 <= y1`.
pub type BBox = [f32; 4];

/// How the words of a page were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageSource {
    /// Words and boxes from the PDF's own text layer; no OCR.
    TextLayer,
    /// Words recognised by OCR on a rendered page or a decoded image.
    Ocr,
    /// Words given as input (already-OCR'd word JSON).
    Input,
}

/// One word with its box and the engine's confidence in `0..1` (1.0 for a text layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub text: String,
    /// Box in page pixels.
    pub bbox: BBox,
    /// Box normalised to `0..1` of the page width and height.
    pub norm: BBox,
    pub confidence: f32,
    /// Where the page image shows a word space inside this OCR'd word that the engine did not
    /// read (`RAL90` printed `RAL 90`): character positions, ascending; see
    /// `claimscan_ocr::mark_unread_spaces`. Empty (and left out of the JSON) for most words and
    /// for every text-layer or input word.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spaces: Vec<usize>,
}

/// A text line: words that share a baseline band, left to right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub text: String,
    pub bbox: BBox,
    pub norm: BBox,
    /// Indices into the page's `words`.
    pub words: Vec<usize>,
}

/// What was done to a photo or scan before OCR (absent for text-layer and input pages).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// EXIF orientation applied, in degrees clockwise (0, 90, 180, 270), and whether it was mirrored.
    pub exif_rotation: u32,
    pub exif_mirrored: bool,
    /// Whether a photographed sheet was found and rectified; its corners in the input image.
    pub perspective_corners: Option<[[f32; 2]; 4]>,
    /// Scale applied to reach an OCR-friendly text size.
    pub scale: f32,
    /// Skew removed, in degrees (positive: the input was rotated counter-clockwise).
    pub deskew_degrees: f32,
    pub lighting_normalised: bool,
    pub binarised: bool,
    /// Median character height (pixels) estimated before scaling, if measurable.
    pub text_height_px: Option<f32>,
    /// Camera shake removed: the straight motion blur's length (pixels) and direction (degrees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub motion_blur: Option<[f32; 2]>,
}

/// One page of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// 0-based index of the page in the document.
    pub index: usize,
    /// Page size in pixels (the coordinate space of every box on this page).
    pub width: f32,
    pub height: f32,
    /// Resolution the pixels correspond to, when known.
    pub dpi: Option<f32>,
    pub source: PageSource,
    /// Rotation applied to the input to make the page upright, in degrees clockwise.
    pub rotation: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocessing: Option<Preprocessing>,
    pub words: Vec<Word>,
    pub lines: Vec<Line>,
}

/// Where a document came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub path: String,
    /// Detected from content: `pdf`, `jpeg`, `png`, `tiff`, `webp`, `words_json`.
    pub format: String,
    pub bytes: u64,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// A whole read document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub schema_version: String,
    pub source: SourceInfo,
    pub pages: Vec<Page>,
}

impl Document {
    /// A document of given words (no file read: no size, no digest), named `path`.
    pub fn of_words(path: impl Into<String>, pages: Vec<Page>) -> Self {
        Document {
            schema_version: SCHEMA_VERSION.into(),
            source: SourceInfo {
                path: path.into(),
                format: "words_json".into(),
                bytes: 0,
                sha256: String::new(),
            },
            pages,
        }
    }

    /// All words of all pages, for quick text checks.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.pages.iter().flat_map(|p| p.words.iter())
    }

    /// The document as plain text: one line per text line, pages separated by a form feed.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (i, page) in self.pages.iter().enumerate() {
            if i > 0 {
                out.push('\u{c}');
                out.push('\n');
            }
            for line in &page.lines {
                out.push_str(&line.text);
                out.push('\n');
            }
        }
        out
    }
}

/// Normalises a pixel box to `0..1` of a page of the given size.
pub fn normalise(b: BBox, width: f32, height: f32) -> BBox {
    let w = width.max(1.0);
    let h = height.max(1.0);
    [
        (b[0] / w).clamp(0.0, 1.0),
        (b[1] / h).clamp(0.0, 1.0),
        (b[2] / w).clamp(0.0, 1.0),
        (b[3] / h).clamp(0.0, 1.0),
    ]
}

impl Word {
    /// A word with its normalised box computed from the page size.
    pub fn new(
        text: impl Into<String>,
        bbox: BBox,
        confidence: f32,
        width: f32,
        height: f32,
    ) -> Self {
        Word {
            text: text.into(),
            bbox,
            norm: normalise(bbox, width, height),
            confidence,
            spaces: Vec::new(),
        }
    }

    /// The text with a space at each of [`Word::spaces`] (`RAL 90`); the text itself when there
    /// are none.
    pub fn spaced_text(&self) -> std::borrow::Cow<'_, str> {
        if self.spaces.is_empty() {
            return std::borrow::Cow::Borrowed(&self.text);
        }
        let mut out = String::with_capacity(self.text.len() + self.spaces.len());
        for (i, c) in self.text.chars().enumerate() {
            if i > 0 && self.spaces.contains(&i) {
                out.push(' ');
            }
            out.push(c);
        }
        std::borrow::Cow::Owned(out)
    }
}

fn union(a: BBox, b: BBox) -> BBox {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

impl Page {
    /// A page with the given words; text lines are built from the word geometry.
    pub fn new(
        index: usize,
        width: f32,
        height: f32,
        dpi: Option<f32>,
        source: PageSource,
        words: Vec<Word>,
    ) -> Self {
        let mut page = Page {
            index,
            width,
            height,
            dpi,
            source,
            rotation: 0,
            preprocessing: None,
            words,
            lines: Vec::new(),
        };
        page.lines = build_lines(&page.words, width, height);
        page
    }
}

/// Groups words into text lines by vertical overlap, then orders each line left to right and the
/// lines top to bottom. The same rule serves text layers, OCR output and input words, so later
/// stages see one notion of "line" whatever the source.
pub fn build_lines(words: &[Word], width: f32, height: f32) -> Vec<Line> {
    let mut order: Vec<usize> = (0..words.len()).collect();
    let centre = |i: usize| (words[i].bbox[1] + words[i].bbox[3]) * 0.5;
    order.sort_by(|&a, &b| centre(a).total_cmp(&centre(b)));

    // Each open line keeps its vertical band; a word joins the line whose band overlaps it most
    // (at least half of the smaller height), scanning only recent lines since words are y-sorted.
    struct Band {
        y0: f32,
        y1: f32,
        members: Vec<usize>,
    }
    let mut bands: Vec<Band> = Vec::new();
    for &i in &order {
        let [_, y0, _, y1] = words[i].bbox;
        let h = (y1 - y0).max(1.0);
        let mut best: Option<(usize, f32)> = None;
        for (bi, band) in bands.iter().enumerate().rev().take(8) {
            let overlap = y1.min(band.y1) - y0.max(band.y0);
            let min_h = h.min(band.y1 - band.y0).max(1.0);
            let ratio = overlap / min_h;
            if ratio >= 0.5 && best.is_none_or(|(_, r)| ratio > r) {
                best = Some((bi, ratio));
            }
        }
        match best {
            Some((bi, _)) => {
                let band = &mut bands[bi];
                band.members.push(i);
                // Keep the band at the median extent so one tall word does not swallow neighbours.
                band.y0 = band.y0.min(y0).max(band.y0 - h * 0.25);
                band.y1 = band.y1.max(y1).min(band.y1 + h * 0.25);
            }
            None => bands.push(Band {
                y0,
                y1,
                members: vec![i],
            }),
        }
    }
    let mut lines: Vec<Line> = bands
        .into_iter()
        .map(|mut band| {
            band.members
                .sort_by(|&a, &b| words[a].bbox[0].total_cmp(&words[b].bbox[0]));
            let bbox = band
                .members
                .iter()
                .map(|&i| words[i].bbox)
                .reduce(union)
                .unwrap_or([0.0; 4]);
            let text = band
                .members
                .iter()
                .map(|&i| words[i].text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            Line {
                text,
                bbox,
                norm: normalise(bbox, width, height),
                words: band.members,
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        let ca = (a.bbox[1] + a.bbox[3]) * 0.5;
        let cb = (b.bbox[1] + b.bbox[3]) * 0.5;
        ca.total_cmp(&cb).then(a.bbox[0].total_cmp(&b.bbox[0]))
    });
    lines
}

/// Input of already-OCR'd words:
/// `{"pages":[{"width":W,"height":H,"words":[{"text":"...","bbox":[x0,y0,x1,y1]}]}]}`.
/// Unknown fields are ignored; `confidence` (0..1) is optional.
#[derive(Debug, Clone, Deserialize)]
pub struct WordsInput {
    pub pages: Vec<WordsInputPage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WordsInputPage {
    pub width: f32,
    pub height: f32,
    #[serde(default)]
    pub dpi: Option<f32>,
    pub words: Vec<WordsInputWord>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WordsInputWord {
    pub text: String,
    pub bbox: [f32; 4],
    #[serde(default)]
    pub confidence: Option<f32>,
}

/// Why a word JSON input was refused.
#[derive(Debug, thiserror::Error)]
pub enum WordsInputError {
    #[error("not a word JSON document: {0}")]
    Json(#[from] serde_json::Error),
    #[error("page {page}: width and height must be positive and finite")]
    PageSize { page: usize },
    #[error(
        "page {page}, word {word}: box {bbox:?} is not a finite [x0,y0,x1,y1] with x0<=x1, y0<=y1"
    )]
    BadBox {
        page: usize,
        word: usize,
        bbox: [f32; 4],
    },
}

impl WordsInput {
    /// Parses and validates word JSON.
    pub fn parse(bytes: &[u8]) -> Result<Self, WordsInputError> {
        let input: WordsInput = serde_json::from_slice(bytes)?;
        for (pi, page) in input.pages.iter().enumerate() {
            if !(page.width.is_finite() && page.height.is_finite())
                || page.width <= 0.0
                || page.height <= 0.0
            {
                return Err(WordsInputError::PageSize { page: pi });
            }
            for (wi, w) in page.words.iter().enumerate() {
                let b = w.bbox;
                if b.iter().any(|v| !v.is_finite()) || b[0] > b[2] || b[1] > b[3] {
                    return Err(WordsInputError::BadBox {
                        page: pi,
                        word: wi,
                        bbox: b,
                    });
                }
            }
        }
        Ok(input)
    }

    /// Converts the input into pages of the document model.
    pub fn into_pages(self) -> Vec<Page> {
        self.pages
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let words = p
                    .words
                    .into_iter()
                    .filter(|w| !w.text.trim().is_empty())
                    .map(|w| {
                        Word::new(
                            w.text,
                            w.bbox,
                            w.confidence.unwrap_or(1.0),
                            p.width,
                            p.height,
                        )
                    })
                    .collect();
                Page::new(i, p.width, p.height, p.dpi, PageSource::Input, words)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, b: BBox) -> Word {
        Word::new(text, b, 1.0, 1000.0, 1000.0)
    }

    #[test]
    fn lines_group_by_row_and_order_left_to_right() {
        let words = vec![
            w("Total", [500.0, 210.0, 560.0, 230.0]),
            w("Invoice", [10.0, 100.0, 90.0, 122.0]),
            w("12.50", [600.0, 212.0, 650.0, 231.0]),
            w("No.", [100.0, 101.0, 130.0, 121.0]),
            w("Qty", [10.0, 209.0, 50.0, 229.0]),
        ];
        let lines = build_lines(&words, 1000.0, 1000.0);
        let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, vec!["Invoice No.", "Qty Total 12.50"]);
        assert_eq!(lines[1].bbox, [10.0, 209.0, 650.0, 231.0]);
    }

    #[test]
    fn close_rows_stay_apart() {
        // Two rows 14 px apart with 12 px tall words: they must not merge.
        let words = vec![
            w("a", [0.0, 0.0, 10.0, 12.0]),
            w("b", [0.0, 14.0, 10.0, 26.0]),
            w("c", [20.0, 1.0, 30.0, 13.0]),
        ];
        let lines = build_lines(&words, 100.0, 100.0);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "a c");
        assert_eq!(lines[1].text, "b");
    }

    #[test]
    fn words_input_accepts_extra_fields_and_rejects_bad_boxes() {
        let ok = br#"{"pages":[{"width":100,"height":50,"extra":1,
            "words":[{"text":"Hi","bbox":[1,2,3,4],"label":"x"}]}],"meta":{}}"#;
        let pages = WordsInput::parse(ok).unwrap().into_pages();
        assert_eq!(pages[0].words[0].norm, [0.01, 0.04, 0.03, 0.08]);
        assert_eq!(pages[0].source, PageSource::Input);

        let bad =
            br#"{"pages":[{"width":100,"height":50,"words":[{"text":"x","bbox":[5,2,3,4]}]}]}"#;
        assert!(matches!(
            WordsInput::parse(bad),
            Err(WordsInputError::BadBox {
                page: 0,
                word: 0,
                ..
            })
        ));
        let zero = br#"{"pages":[{"width":0,"height":50,"words":[]}]}"#;
        assert!(matches!(
            WordsInput::parse(zero),
            Err(WordsInputError::PageSize { page: 0 })
        ));
    }

    #[test]
    fn unread_spaces_show_in_the_spaced_text_and_only_when_there_are_some() {
        let mut word = w("PUREWHR", [0.0, 0.0, 70.0, 10.0]);
        assert_eq!(word.spaced_text(), "PUREWHR");
        assert!(!serde_json::to_string(&word).unwrap().contains("spaces"));
        word.spaces = vec![4, 6];
        assert_eq!(word.spaced_text(), "PURE WH R");
        let back: Word = serde_json::from_str(&serde_json::to_string(&word).unwrap()).unwrap();
        assert_eq!(back.spaces, vec![4, 6]);
        // a multi-byte character counts as one position
        let mut accented = w("PARTEÁB", [0.0, 0.0, 70.0, 10.0]);
        accented.spaces = vec![6];
        assert_eq!(accented.spaced_text(), "PARTEÁ B");
    }
}
