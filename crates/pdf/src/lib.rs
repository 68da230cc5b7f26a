//! PDF pages through pdfium: words and boxes from the text layer when a page has a usable one,
//! otherwise a rendered grayscale image for OCR. The choice is made per page.
//!
//! pdfium is not thread-safe; `pdfium-render` serialises every call behind one global lock, so
//! this crate keeps its pdfium work short (text extraction, one render per page) and hands images
//! back for OCR, which runs in parallel outside the lock.

use std::sync::OnceLock;

use claimscan_doc::{Word, NOMINAL_DPI};
use image::GrayImage;
use pdfium_render::prelude::*;

/// Options for reading a PDF.
#[derive(Debug, Clone)]
pub struct PdfOptions {
    /// Refuse documents with more pages than this (checked before any page is read).
    pub max_pages: usize,
    /// Resolution for pages that need OCR.
    pub render_dpi: f32,
    /// Upper bound on a rendered page's pixels; the DPI is lowered to stay under it.
    pub max_render_pixels: u64,
    /// A page's text layer is used when it has at least this many visible characters...
    pub min_text_chars: usize,
    /// ...and at most this share of them are unreadable (replacement, control, private use).
    pub max_bad_char_ratio: f32,
    /// Also render text-layer pages (at [`NOMINAL_DPI`]), for pictures of them.
    pub render_text_pages: bool,
}

impl Default for PdfOptions {
    fn default() -> Self {
        PdfOptions {
            max_pages: 20,
            render_dpi: NOMINAL_DPI,
            max_render_pixels: 60_000_000,
            min_text_chars: 20,
            max_bad_char_ratio: 0.1,
            render_text_pages: false,
        }
    }
}

/// Why a PDF could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(transparent)]
    Library(#[from] claimscan_native::NativeError),
    #[error("pdfium could not be loaded: {0}")]
    Bind(String),
    #[error("the PDF is encrypted with a password")]
    Encrypted,
    #[error("the PDF is damaged or not a PDF: {0}")]
    Corrupt(String),
    #[error("the PDF has {pages} pages; the limit is {limit}")]
    TooManyPages { pages: usize, limit: usize },
    #[error("page {page} could not be read: {message}")]
    Page { page: usize, message: String },
}

/// What a page yields: words from its text layer, or an image to OCR.
pub enum PageContent {
    TextLayer {
        words: Vec<Word>,
        /// A rendering at [`NOMINAL_DPI`], when [`PdfOptions::render_text_pages`] is set.
        image: Option<GrayImage>,
    },
    Image {
        image: GrayImage,
        dpi: f32,
    },
}

/// One page of a PDF, in pixels at [`NOMINAL_DPI`] for text-layer pages, or at `dpi` for images.
pub struct PdfPage {
    pub index: usize,
    /// Page size in pixels of the page's coordinate space.
    pub width: f32,
    pub height: f32,
    pub content: PageContent,
}

static PDFIUM: OnceLock<Result<Pdfium, String>> = OnceLock::new();

/// The process-wide pdfium binding, loaded on first use from the located `libpdfium.so`.
pub fn pdfium() -> Result<&'static Pdfium, PdfError> {
    let path = claimscan_native::locate(claimscan_native::Library::Pdfium)?;
    PDFIUM
        .get_or_init(|| {
            Pdfium::bind_to_library(&path)
                .map(Pdfium::new)
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .as_ref()
        .map_err(|e| PdfError::Bind(e.clone()))
}

fn open<'a>(pdfium: &'a Pdfium, bytes: &'a [u8]) -> Result<PdfDocument<'a>, PdfError> {
    pdfium
        .load_pdf_from_byte_slice(bytes, None)
        .map_err(|e| match e {
            PdfiumError::PdfiumLibraryInternalError(PdfiumInternalError::PasswordError) => {
                PdfError::Encrypted
            }
            other => PdfError::Corrupt(other.to_string()),
        })
}

/// Number of pages, without reading any of them.
pub fn page_count(bytes: &[u8]) -> Result<usize, PdfError> {
    let pdfium = pdfium()?;
    let doc = open(pdfium, bytes)?;
    Ok(doc.pages().len() as usize)
}

/// Reads every page of a PDF: text layer where usable, rendered image otherwise.
pub fn read(bytes: &[u8], opts: &PdfOptions) -> Result<Vec<PdfPage>, PdfError> {
    let mut pages = Vec::new();
    read_each(bytes, opts, |p| pages.push(p))?;
    Ok(pages)
}

/// Like [`read`], but hands each page to `each` as soon as it is ready, so a caller can OCR
/// rendered pages while holding only a few in memory. The page count is checked first.
pub fn read_each(
    bytes: &[u8],
    opts: &PdfOptions,
    mut each: impl FnMut(PdfPage),
) -> Result<(), PdfError> {
    let pdfium = pdfium()?;
    let doc = open(pdfium, bytes)?;
    let pages = doc.pages();
    let count = pages.len() as usize;
    if count > opts.max_pages {
        return Err(PdfError::TooManyPages {
            pages: count,
            limit: opts.max_pages,
        });
    }
    if count == 0 {
        return Err(PdfError::Corrupt("the document has no pages".into()));
    }
    for (index, page) in pages.iter().enumerate() {
        let page_err = |e: PdfiumError| PdfError::Page {
            page: index,
            message: e.to_string(),
        };
        let rotated = !matches!(page.rotation(), Ok(PdfPageRenderRotation::None));
        // A rotated page's text boxes are in unrotated space: render it upright and OCR instead.
        let words = if rotated {
            None
        } else {
            text_layer_words(&page, opts).map_err(page_err)?
        };
        let scale = NOMINAL_DPI / 72.0;
        match words {
            Some(words) => {
                let image = if opts.render_text_pages {
                    let o = PdfOptions {
                        render_dpi: NOMINAL_DPI,
                        ..opts.clone()
                    };
                    Some(render(&page, &o).map_err(page_err)?.0)
                } else {
                    None
                };
                each(PdfPage {
                    index,
                    width: page.width().value * scale,
                    height: page.height().value * scale,
                    content: PageContent::TextLayer { words, image },
                })
            }
            None => {
                let (image, dpi) = render(&page, opts).map_err(page_err)?;
                each(PdfPage {
                    index,
                    width: image.width() as f32,
                    height: image.height() as f32,
                    content: PageContent::Image { image, dpi },
                });
            }
        }
    }
    Ok(())
}

/// Renders the first `max_pages` pages at `dpi`, for pictures only (the review UI shows them with
/// the read boxes drawn over them); no text is read.
pub fn render_pages(bytes: &[u8], dpi: f32, max_pages: usize) -> Result<Vec<GrayImage>, PdfError> {
    let pdfium = pdfium()?;
    let doc = open(pdfium, bytes)?;
    let opts = PdfOptions {
        render_dpi: dpi,
        ..Default::default()
    };
    doc.pages()
        .iter()
        .take(max_pages)
        .enumerate()
        .map(|(index, page)| {
            render(&page, &opts)
                .map(|r| r.0)
                .map_err(|e| PdfError::Page {
                    page: index,
                    message: e.to_string(),
                })
        })
        .collect()
}

/// Renders a page to grayscale at the configured DPI, lowered if the page is huge.
fn render(page: &PdfPage_, opts: &PdfOptions) -> Result<(GrayImage, f32), PdfiumError> {
    let (w_in, h_in) = (page.width().value / 72.0, page.height().value / 72.0);
    let mut dpi = opts.render_dpi;
    let pixels = (w_in * dpi) as f64 * (h_in * dpi) as f64;
    if pixels > opts.max_render_pixels as f64 {
        dpi *= (opts.max_render_pixels as f64 / pixels).sqrt() as f32;
    }
    // Rendered into a 24-bit BGR bitmap (pdfium draws nothing of a scanned page's image into its
    // 8-bit gray format) and turned into gray here from one copy of the buffer: the default
    // BGRA bitmap of a 300-DPI A4 page is 35 MB, and pdfium-render's conversion to an RGBA image
    // made two more copies of that size, the largest allocations of a scanned PDF's read
    // (valgrind massif).
    let config = PdfRenderConfig::new()
        .scale_page_by_factor(dpi / 72.0)
        .set_format(PdfBitmapFormat::BGR)
        .use_grayscale_rendering(true)
        .render_annotations(true)
        .render_form_data(true);
    let bitmap = page.render_with_config(&config)?;
    let image = bgr_to_gray(
        bitmap.width().max(0) as u32,
        bitmap.height().max(0) as u32,
        &bitmap.as_raw_bytes(),
    )
    .ok_or(PdfiumError::ImageError)?;
    Ok((image, dpi))
}

/// A gray image from a 24-bit BGR bitmap buffer whose rows may be padded (pdfium's stride is
/// rounded up to 4 bytes), with the sRGB luma weights of `image`'s own conversion.
fn bgr_to_gray(width: u32, height: u32, bytes: &[u8]) -> Option<GrayImage> {
    let (w, h) = (width as usize, height as usize);
    if h == 0 || bytes.len() < w * 3 * h {
        return None;
    }
    let stride = bytes.len() / h;
    let mut gray = Vec::with_capacity(w * h);
    for row in bytes.chunks_exact(stride) {
        gray.extend(row[..w * 3].chunks_exact(3).map(|p| {
            let (b, g, r) = (p[0] as u32, p[1] as u32, p[2] as u32);
            ((2126 * r + 7152 * g + 722 * b) / 10000) as u8
        }));
    }
    GrayImage::from_raw(width, height, gray)
}

/// Ascender and descender (in em) of the standard 14 fonts, from their Adobe AFM files.
fn standard_font_metrics(name: &str) -> Option<(f32, f32)> {
    // a subset font's name has a six-letter tag: "ABCDEF+Helvetica"
    let name = match name.split_once('+') {
        Some((tag, rest)) if tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()) => rest,
        _ => name,
    };
    let (a, d) = match name {
        "Helvetica" | "Helvetica-Bold" | "Helvetica-Oblique" | "Helvetica-BoldOblique" => {
            (718, -207)
        }
        "Times-Roman" => (683, -217),
        "Times-Bold" => (676, -205),
        "Times-Italic" => (683, -205),
        "Times-BoldItalic" => (699, -205),
        "Courier" | "Courier-Oblique" => (629, -157),
        "Courier-Bold" | "Courier-BoldOblique" => (626, -142),
        _ => return None,
    };
    Some((a as f32 / 1000.0, d as f32 / 1000.0))
}

type PdfPage_<'a> = pdfium_render::prelude::PdfPage<'a>;

fn is_bad(c: char) -> bool {
    c == '\u{fffd}'
        || (c.is_control() && !c.is_whitespace())
        || ('\u{e000}'..='\u{f8ff}').contains(&c)
}

/// The character printed for one pdfium reports: pdfium marks a hyphen that ends a text line
/// (`... mm mixed-` cut at a column's edge) as U+0002, its sign for a line-end hyphen; the page
/// shows `-`.
fn printed_char(c: char) -> char {
    if c == '\u{2}' {
        '-'
    } else {
        c
    }
}

/// Groups the text layer's characters into words, in pixels at [`NOMINAL_DPI`].
/// Returns `None` when the page has no usable text layer.
fn text_layer_words(page: &PdfPage_, opts: &PdfOptions) -> Result<Option<Vec<Word>>, PdfiumError> {
    let text = page.text()?;
    let scale = NOMINAL_DPI / 72.0;
    let page_h = page.height().value;
    let (width, height) = (page.width().value * scale, page.height().value * scale);

    let mut words = Vec::new();
    let mut visible = 0usize;
    let mut bad = 0usize;
    let mut cur = String::new();
    let mut cur_box: Option<[f32; 4]> = None;
    let mut last_right = f32::NEG_INFINITY;
    let mut last_size = 0.0f32;

    let flush = |cur: &mut String, cur_box: &mut Option<[f32; 4]>, words: &mut Vec<Word>| {
        if let Some(b) = cur_box.take() {
            if !cur.trim().is_empty() {
                words.push(Word::new(std::mem::take(cur), b, 1.0, width, height));
            }
        }
        cur.clear();
    };

    for ch in text.chars().iter() {
        let Some(c) = ch.unicode_char().map(printed_char) else {
            continue;
        };
        if c.is_whitespace() {
            flush(&mut cur, &mut cur_box, &mut words);
            continue;
        }
        visible += 1;
        if is_bad(c) {
            bad += 1;
        }
        // Word boxes span the font's line box (advance width x ascent..descent) rather than the
        // ink: a word's box then does not depend on which letters it has ("ag" and "AT" get one
        // height), and it is the box the layout model was trained on (the generator's truth uses
        // the same metrics). pdfium's loose box gives that for embedded fonts; for the standard
        // 14 fonts, which PDFs do not embed, pdfium measures a substitute font, so their AFM
        // ascender and descender are applied at the character's baseline instead.
        let Ok(r) = ch.loose_bounds() else {
            continue;
        };
        let (mut top, mut bottom) = (r.top().value, r.bottom().value);
        if let (Some((asc, desc)), Ok((_, base))) =
            (standard_font_metrics(&ch.font_name()), ch.origin())
        {
            let pt = ch.scaled_font_size().value;
            (top, bottom) = (base.value + asc * pt, base.value + desc * pt);
        }
        let b = [
            r.left().value * scale,
            (page_h - top) * scale,
            r.right().value * scale,
            (page_h - bottom) * scale,
        ];
        let (adv_left, adv_right) = (b[0], b[2]);
        let size = ch.scaled_font_size().value.max(1.0) * scale;
        if let Some(cb) = cur_box {
            // Break the word on a visible gap or a jump to another line.
            let gap = adv_left - last_right;
            let centre = (b[1] + b[3]) * 0.5;
            let same_line = centre > cb[1] - size * 0.3 && centre < cb[3] + size * 0.3;
            if gap > 0.3 * size.max(last_size) || gap < -size || !same_line {
                flush(&mut cur, &mut cur_box, &mut words);
            }
        }
        cur.push(c);
        cur_box = Some(match cur_box {
            Some(cb) => [
                cb[0].min(b[0]),
                cb[1].min(b[1]),
                cb[2].max(b[2]),
                cb[3].max(b[3]),
            ],
            None => b,
        });
        last_right = adv_right;
        last_size = size;
    }
    flush(&mut cur, &mut cur_box, &mut words);

    let usable =
        visible >= opts.min_text_chars && (bad as f32) <= opts.max_bad_char_ratio * visible as f32;
    Ok(usable.then_some(words))
}

#[cfg(test)]
mod tests {
    use super::{bgr_to_gray, printed_char};

    #[test]
    fn a_line_end_hyphen_is_a_hyphen() {
        // pdfium's text of set 73's digital `inv000111`: `mixed\u{2}` where `mixed-` is printed
        let read: String = "mixed\u{2}".chars().map(printed_char).collect();
        assert_eq!(read, "mixed-");
        assert_eq!(printed_char('x'), 'x');
    }

    #[test]
    fn padded_bgr_rows_become_gray() {
        // 1 pixel wide (3 bytes), rows padded to 4 bytes; gray stays gray, colours take luma
        let bytes = vec![200, 200, 200, 0, 0, 0, 255, 0];
        let image = bgr_to_gray(1, 2, &bytes).unwrap();
        assert_eq!(image.as_raw(), &[200, 54]);
        let wide = bgr_to_gray(2, 1, &[10, 10, 10, 255, 255, 255]).unwrap();
        assert_eq!(wide.as_raw(), &[10, 255]);
        assert!(bgr_to_gray(2, 2, &[0; 6]).is_none());
    }
}
