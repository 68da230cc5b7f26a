//! Reads an uploaded file into a [`Document`]: detects the format from content (never the file
//! name), takes words from a PDF's text layer where a page has one, renders and OCRs the pages
//! that do not, cleans up and OCRs photos and scans, and accepts already-OCR'd word JSON.
//!
//! Every failure is a [`ReadError`] with a stable [`ReadError::code`] and a human message; nothing
//! here panics on bad input, and one bad file never stops a batch.

use std::path::Path;

use claimscan_doc::{Document, Page, PageSource, SourceInfo, Word, WordsInput, SCHEMA_VERSION};
use claimscan_imaging::{DecodeError, DecodeLimits, PrepareOptions};
use claimscan_ocr::OcrOptions;
use claimscan_pdf::{PageContent, PdfError, PdfOptions};
use image::GrayImage;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// Everything that can be tuned about reading.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub pdf: PdfOptions,
    pub decode: DecodeLimits,
    /// Refuse files larger than this many bytes before reading them.
    pub max_file_bytes: u64,
    pub ocr: OcrOptions,
    /// Clean-up for photos (image files).
    pub photo: PrepareOptions,
    /// Clean-up for PDF pages without a text layer (scans).
    pub scan: PrepareOptions,
    /// Try the other three orientations when a page reads poorly (a sideways photo without EXIF).
    pub orientation_retry: bool,
    /// Prepare a photo that reads poorly (mean word confidence under 0.7) again with camera
    /// shake divided out, and keep the read that scores better.
    pub deblur_retry: bool,
    /// A document needs at least this many plausible words, or it is `no_text`.
    pub min_words: usize,
    /// Keep each page's image (the cleaned image that was OCR'd, or a rendering of a text-layer
    /// page) in [`Read::images`], for debug drawings and the review UI.
    pub keep_images: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            pdf: PdfOptions::default(),
            decode: DecodeLimits::default(),
            max_file_bytes: 50 * 1024 * 1024,
            ocr: OcrOptions::default(),
            photo: PrepareOptions::photo(),
            scan: PrepareOptions::scan(),
            orientation_retry: true,
            deblur_retry: true,
            min_words: 3,
            keep_images: false,
        }
    }
}

/// Formats recognised from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Jpeg,
    Png,
    Tiff,
    Webp,
    Heic,
    WordsJson,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Tiff => "tiff",
            Format::Webp => "webp",
            Format::Heic => "heic",
            Format::WordsJson => "words_json",
        }
    }
}

/// A failure to read one file. [`ReadError::code`] is stable and documented in README.md.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the file is empty")]
    EmptyFile,
    #[error("the file is {bytes} bytes; the limit is {limit}")]
    FileTooLarge { bytes: u64, limit: u64 },
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    #[error("the PDF is damaged or not a PDF: {0}")]
    PdfCorrupt(String),
    #[error("the PDF is encrypted with a password")]
    PdfEncrypted,
    #[error("the PDF has {pages} pages; the limit is {limit}")]
    PdfTooManyPages { pages: usize, limit: usize },
    #[error("the image is {width}x{height} = {pixels} pixels; the limit is {limit} (decompression bomb?)")]
    ImageTooLarge {
        width: u32,
        height: u32,
        pixels: u64,
        limit: u64,
    },
    #[error("the image is damaged: {0}")]
    ImageCorrupt(String),
    #[error("no text found: {0}")]
    NoText(String),
    #[error("invalid word JSON: {0}")]
    InvalidWordsJson(String),
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    NativeLibrary(String),
    #[error("OCR failed: {0}")]
    Ocr(String),
}

impl ReadError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::EmptyFile => "empty_file",
            ReadError::FileTooLarge { .. } => "file_too_large",
            ReadError::UnsupportedFormat(_) => "unsupported_format",
            ReadError::PdfCorrupt(_) => "pdf_corrupt",
            ReadError::PdfEncrypted => "pdf_encrypted",
            ReadError::PdfTooManyPages { .. } => "pdf_too_many_pages",
            ReadError::ImageTooLarge { .. } => "image_too_large",
            ReadError::ImageCorrupt(_) => "image_corrupt",
            ReadError::NoText(_) => "no_text",
            ReadError::InvalidWordsJson(_) => "invalid_words_json",
            ReadError::Io(_) => "io_error",
            ReadError::NativeLibrary(_) => "native_library_missing",
            ReadError::Ocr(_) => "ocr_failed",
        }
    }

    /// Whether trying again later could succeed (the file itself is not at fault).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ReadError::Io(_) | ReadError::NativeLibrary(_) | ReadError::Ocr(_)
        )
    }
}

impl From<PdfError> for ReadError {
    fn from(e: PdfError) -> Self {
        match e {
            PdfError::Library(l) => ReadError::NativeLibrary(l.to_string()),
            PdfError::Bind(m) => ReadError::NativeLibrary(format!(
                "pdfium could not be loaded: {m}; {}",
                claimscan_native::INSTALL_HINT
            )),
            PdfError::Encrypted => ReadError::PdfEncrypted,
            PdfError::Corrupt(m) => ReadError::PdfCorrupt(m),
            PdfError::TooManyPages { pages, limit } => ReadError::PdfTooManyPages { pages, limit },
            PdfError::Page { page, message } => {
                ReadError::PdfCorrupt(format!("page {}: {message}", page + 1))
            }
        }
    }
}

impl From<DecodeError> for ReadError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::TooLarge {
                width,
                height,
                pixels,
                limit,
            } => ReadError::ImageTooLarge {
                width,
                height,
                pixels,
                limit,
            },
            DecodeError::Corrupt(m) => ReadError::ImageCorrupt(m),
            DecodeError::Unsupported(m) => ReadError::UnsupportedFormat(m),
        }
    }
}

impl From<claimscan_ocr::OcrError> for ReadError {
    fn from(e: claimscan_ocr::OcrError) -> Self {
        ReadError::Ocr(e.to_string())
    }
}

/// Detects the format from the first bytes.
pub fn detect(bytes: &[u8]) -> Result<Format, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::EmptyFile);
    }
    // PDF readers accept the header anywhere in the first 1024 bytes.
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(Format::Pdf);
    }
    if let Some(kind) = infer::get(bytes) {
        return match kind.mime_type() {
            "image/jpeg" => Ok(Format::Jpeg),
            "image/png" => Ok(Format::Png),
            "image/tiff" => Ok(Format::Tiff),
            "image/webp" => Ok(Format::Webp),
            "image/heif" | "image/heic" | "image/avif" => Ok(Format::Heic),
            other => Err(ReadError::UnsupportedFormat(format!(
                "{other} (accepted: PDF, JPEG, PNG, TIFF, WebP, word JSON)"
            ))),
        };
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Ok(Format::WordsJson);
    }
    Err(ReadError::UnsupportedFormat(
        "unrecognised content (accepted: PDF, JPEG, PNG, TIFF, WebP, word JSON)".into(),
    ))
}

/// Reads a file from disk.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<Document, ReadError> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(ReadError::Io(std::io::Error::other("is a directory")));
    }
    if meta.len() > opts.max_file_bytes {
        return Err(ReadError::FileTooLarge {
            bytes: meta.len(),
            limit: opts.max_file_bytes,
        });
    }
    let bytes = std::fs::read(path)?;
    read_bytes(&bytes, &path.display().to_string(), opts)
}

/// A read document and, when [`ReadOptions::keep_images`] is set, each page's image.
pub struct Read {
    pub document: Document,
    pub images: Vec<Option<GrayImage>>,
}

/// Reads a file's bytes; `name` is only recorded, never used to guess the format.
pub fn read_bytes(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<Document, ReadError> {
    read(bytes, name, opts).map(|r| r.document)
}

/// Like [`read_bytes`], keeping page images if asked to.
pub fn read(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<Read, ReadError> {
    if bytes.len() as u64 > opts.max_file_bytes {
        return Err(ReadError::FileTooLarge {
            bytes: bytes.len() as u64,
            limit: opts.max_file_bytes,
        });
    }
    let format = detect(bytes)?;
    let _span = tracing::debug_span!("read", format = format.name(), bytes = bytes.len()).entered();
    let pages: Vec<(Page, Option<GrayImage>)> = match format {
        Format::Pdf => read_pdf(bytes, opts)?,
        Format::Jpeg | Format::Png | Format::Tiff | Format::Webp => vec![read_image(bytes, opts)?],
        Format::Heic => {
            return Err(ReadError::UnsupportedFormat(
                "HEIC/HEIF photos are not supported yet; ask the app to upload JPEG \
                 (iPhone: Settings > Camera > Formats > Most Compatible)"
                    .into(),
            ))
        }
        Format::WordsJson => WordsInput::parse(bytes)
            .map_err(|e| ReadError::InvalidWordsJson(e.to_string()))?
            .into_pages()
            .into_iter()
            .map(|p| (p, None))
            .collect(),
    };
    let (pages, images): (Vec<Page>, Vec<Option<GrayImage>>) = pages.into_iter().unzip();
    let plausible = pages
        .iter()
        .flat_map(|p| &p.words)
        .filter(|w| is_plausible(w))
        .count();
    if plausible < opts.min_words {
        return Err(ReadError::NoText(format!(
            "{plausible} readable words on {} page(s); is this an invoice?",
            pages.len()
        )));
    }
    let document = Document {
        schema_version: SCHEMA_VERSION.into(),
        source: SourceInfo {
            path: name.into(),
            format: format.name().into(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        },
        pages,
    };
    let images = if opts.keep_images { images } else { Vec::new() };
    Ok(Read { document, images })
}

/// SHA-256 of some bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A word that looks like text rather than noise: confident, with at least two letters or digits.
fn is_plausible(w: &Word) -> bool {
    w.confidence >= 0.6 && w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 2
}

type PageAndImage = (Page, Option<GrayImage>);

fn read_pdf(bytes: &[u8], opts: &ReadOptions) -> Result<Vec<PageAndImage>, ReadError> {
    // Render pages one by one and OCR them in batches as wide as the pool, so memory holds only
    // a few page images at a time while all threads stay busy. Called from outside any rayon
    // pool, pages are OCR'd one at a time on the calling thread: handing them to rayon's global
    // pool would build and keep another set of engines on its threads. (The worker runs its jobs
    // inside the rayon pool of its extraction threads, so its pages spread over those.)
    let in_pool = rayon::current_thread_index().is_some();
    let batch = if in_pool {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    let language = std::sync::OnceLock::new();
    let mut pages: Vec<PageAndImage> = Vec::new();
    let mut pending: Vec<(usize, GrayImage, f32)> = Vec::new();
    let mut failed: Option<ReadError> = None;
    let flush = |pending: &mut Vec<(usize, GrayImage, f32)>,
                 pages: &mut Vec<PageAndImage>,
                 failed: &mut Option<ReadError>| {
        let ocr = |(index, image, dpi): (usize, GrayImage, f32)| {
            ocr_page(index, image, Some(dpi), &opts.scan, opts, &language)
        };
        let done: Vec<Result<PageAndImage, ReadError>> = if in_pool {
            pending.par_drain(..).map(ocr).collect()
        } else {
            pending.drain(..).map(ocr).collect()
        };
        for r in done {
            match r {
                Ok(p) => pages.push(p),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
    };
    let pdf_opts = PdfOptions {
        render_text_pages: opts.keep_images,
        ..opts.pdf.clone()
    };
    claimscan_pdf::read_each(bytes, &pdf_opts, |page| match page.content {
        PageContent::TextLayer { words, image } => pages.push((
            Page::new(
                page.index,
                page.width,
                page.height,
                Some(claimscan_doc::NOMINAL_DPI),
                PageSource::TextLayer,
                words,
            ),
            image,
        )),
        PageContent::Image { image, dpi } => {
            pending.push((page.index, image, dpi));
            if pending.len() >= batch {
                flush(&mut pending, &mut pages, &mut failed);
            }
        }
    })?;
    flush(&mut pending, &mut pages, &mut failed);
    if let Some(e) = failed {
        return Err(e);
    }
    pages.sort_by_key(|p| p.0.index);
    Ok(pages)
}

fn read_image(bytes: &[u8], opts: &ReadOptions) -> Result<PageAndImage, ReadError> {
    let decoded = claimscan_imaging::decode(bytes, opts.decode)?;
    let gray = decoded.image.into_luma8();
    let language = std::sync::OnceLock::new();
    let (mut page, image) = ocr_page(0, gray, None, &opts.photo, opts, &language)?;
    let info = page.preprocessing.get_or_insert_with(Default::default);
    info.exif_rotation = decoded.rotation;
    info.exif_mirrored = decoded.mirrored;
    page.rotation = (page.rotation + decoded.rotation) % 360;
    Ok((page, image))
}

/// Cleans up an image and OCRs it; retries the other orientations when it reads poorly.
/// With languages `auto`, the document's language is detected on its first OCR'd page and kept in
/// `language` for the others.
fn ocr_page(
    index: usize,
    image: GrayImage,
    dpi: Option<f32>,
    prep: &PrepareOptions,
    opts: &ReadOptions,
    language: &std::sync::OnceLock<String>,
) -> Result<PageAndImage, ReadError> {
    let started = std::time::Instant::now();
    // kept for a second clean-up of photos that read poorly (shake)
    let original = (opts.deblur_retry && prep.perspective).then(|| image.clone());
    let prepared = claimscan_imaging::prepare(image, prep);
    let info = prepared.info;
    tracing::debug!(
        page = index,
        ms = started.elapsed().as_millis() as u64,
        ?info,
        "clean-up"
    );
    let mut image = prepared.image;
    // Tesseract wants the resolution; after rescaling, the effective DPI changes with the scale.
    let mut eff_dpi = dpi.map_or(300.0, |d| d * info.scale);
    let started = std::time::Instant::now();
    let ocr = if opts.ocr.languages == claimscan_ocr::AUTO {
        let lang = language.get_or_init(|| {
            let lang = claimscan_ocr::detect_language(&image, eff_dpi, &opts.ocr);
            tracing::debug!(page = index, ?lang, "language");
            lang.unwrap_or("eng").to_string()
        });
        claimscan_ocr::OcrOptions {
            languages: lang.clone(),
            ..opts.ocr.clone()
        }
    } else {
        opts.ocr.clone()
    };
    let mut words = claimscan_ocr::recognise(&image, eff_dpi, &ocr)?;
    tracing::debug!(
        page = index,
        ms = started.elapsed().as_millis() as u64,
        words = words.len(),
        width = image.width(),
        height = image.height(),
        "ocr"
    );
    let mut rotation = 0u32;
    if opts.orientation_retry && sideways(&words) {
        // Tesseract reads a page turned a quarter as vertical text lines: plausible words, each
        // with its line's tall box, and no table to find in them. The quarter turn that reads
        // better, and not sideways itself, is the page.
        let turns = [
            (90, image::imageops::rotate90(&image)),
            (270, image::imageops::rotate270(&image)),
        ];
        let mut best: Option<(f32, u32, GrayImage, Vec<Word>)> = None;
        for (deg, rotated) in turns {
            let w = claimscan_ocr::recognise(&rotated, eff_dpi, &ocr)?;
            let s = score(&w);
            tracing::debug!(page = index, rotation = deg, score = s, "sideways retry");
            if !sideways(&w) && best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, deg, rotated, w));
            }
        }
        if let Some((s, deg, img, w)) = best {
            if s >= 0.5 * score(&words) {
                rotation = deg;
                image = img;
                words = w;
            }
        }
    } else if opts.orientation_retry && reads_poorly(&words) {
        let mut best = (score(&words), 0u32, None::<GrayImage>, None::<Vec<Word>>);
        for (deg, rotated) in [
            (90, image::imageops::rotate90(&image)),
            (270, image::imageops::rotate270(&image)),
            (180, image::imageops::rotate180(&image)),
        ] {
            let w = claimscan_ocr::recognise(&rotated, eff_dpi, &ocr)?;
            let s = score(&w);
            tracing::debug!(page = index, rotation = deg, score = s, "orientation retry");
            if s > best.0 * 1.5 + 2.0 {
                best = (s, deg, Some(rotated), Some(w));
            }
        }
        if let (Some(img), Some(w)) = (best.2, best.3) {
            rotation = best.1;
            image = img;
            words = w;
        }
    }
    // A photo that reads poorly may be shaken: prepared again with the shake divided out, and
    // read again; the better read is kept (a sharp page's stroke pattern can pass for a shake).
    // A photo found turned is turned the same way after the clean-up: the shake is measured
    // on the picture as taken, whichever way up it lies.
    let mut info = info;
    if opts.deblur_retry && prep.perspective && mean_confidence(&words) < 0.9 {
        if let Some(original) = original {
            let retry = PrepareOptions {
                // From 4 px (shorter dips are sharp text's own) at 1.4 standard deviations:
                // set-r train photos shaken 5-7 px 13 -> 16 of 92 lines right, none worse
                // (it was (2.5, 2.0): the true dip often lost to a short one, or fell under 2.0).
                deblur_shake: Some((4.0, 1.4)),
                sharpen: None,
                ..*prep
            };
            let mut again = claimscan_imaging::prepare(original, &retry);
            if again.info.motion_blur.is_some() {
                again.image = match rotation {
                    90 => image::imageops::rotate90(&again.image),
                    180 => image::imageops::rotate180(&again.image),
                    270 => image::imageops::rotate270(&again.image),
                    _ => again.image,
                };
                let dpi = dpi.map_or(300.0, |d| d * again.info.scale);
                // judged before it is read, when the first read was fair: see NOISE_SPECKS_RATIO
                let specks = (mean_confidence(&words) >= NOISE_GATE_CONFIDENCE).then(|| {
                    claimscan_imaging::ink_stats(&again.image).specks_per_glyph()
                        / claimscan_imaging::ink_stats(&image)
                            .specks_per_glyph()
                            .max(1e-3)
                });
                if specks.is_some_and(|r| r >= NOISE_SPECKS_RATIO) {
                    tracing::debug!(page = index, ?specks, "deblur retry skipped: noise");
                } else {
                    let w = claimscan_ocr::recognise(&again.image, dpi, &ocr)?;
                    tracing::debug!(
                        page = index,
                        before = score(&words),
                        after = score(&w),
                        ?specks,
                        "deblur retry"
                    );
                    if score(&w) > score(&words) {
                        image = again.image;
                        info = again.info;
                        words = w;
                        eff_dpi = dpi;
                    }
                }
            }
        }
    }
    let mut page = Page::new(
        index,
        image.width() as f32,
        image.height() as f32,
        Some(eff_dpi),
        PageSource::Ocr,
        words,
    );
    let spaced = claimscan_ocr::mark_unread_spaces(&image, &mut page);
    tracing::debug!(page = index, words = spaced, "unread spaces");
    page.rotation = rotation;
    page.preprocessing = Some(info);
    Ok((page, opts.keep_images.then_some(image)))
}

/// The deconvolved picture of a shake retry is not read when the first read was fair (mean word
/// confidence at least 0.7) and the picture has at least six times the first picture's specks
/// per glyph: a Wiener filter that divided out a blur the photo did not have leaves ringing, and
/// Tesseract spends seconds reading specks. Measured with `claimscan --log claimscan_read=debug
/// extract -j 1` of every photo (each retry's `before`/`after` scores beside both pictures'
/// [`claimscan_imaging::InkStats`], 2026-12-06). Above 0.7 mean confidence, the retries that won
/// had ratios of 1.6 or less on set 99 (42 retries) and seed 73 (45), where 3 was chosen; seed 61
/// (50 retries, not looked at before) then had a win at 3.6 (+5% of the score, and 7 lines right
/// of 13 against 3 without it), so the bar is 6: it skips 11, 17 and 15 retries on the three
/// sets (22 s of 58 s, 26 s of 64 s and 19 s of 78 s of retry OCR), and no retry that won.
/// Retries that read noise measure up to 110. A plain confidence gate (no retry above 0.8)
/// saved more but lost retries that won by 4-8% of the score, one of them 8 of 18 lines right.
const NOISE_SPECKS_RATIO: f32 = 6.0;
const NOISE_GATE_CONFIDENCE: f32 = 0.7;

fn mean_confidence(words: &[Word]) -> f32 {
    words.iter().map(|w| w.confidence).sum::<f32>() / words.len().max(1) as f32
}

fn score(words: &[Word]) -> f32 {
    words
        .iter()
        .filter(|w| is_plausible(w))
        .map(|w| w.confidence)
        .sum()
}

/// Most words of four characters or more are boxes standing upright (taller than one and a half
/// times their width): Tesseract read the lines of a page turned a quarter as vertical text.
fn sideways(words: &[Word]) -> bool {
    let long: Vec<&Word> = words
        .iter()
        .filter(|w| w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 4)
        .collect();
    let tall = long
        .iter()
        .filter(|w| w.bbox[3] - w.bbox[1] > 1.5 * (w.bbox[2] - w.bbox[0]))
        .count();
    long.len() >= 10 && tall * 2 > long.len()
}

/// Sideways text makes Tesseract emit many low-confidence fragments; a picture with hardly any
/// fragments has no text to turn, and retrying it would only cost time.
fn reads_poorly(words: &[Word]) -> bool {
    let plausible = words.iter().filter(|w| is_plausible(w)).count();
    words.len() >= 12 && (plausible < 10 || (plausible as f32) < 0.4 * words.len() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_from_content() {
        assert_eq!(detect(b"%PDF-1.7\n...").unwrap(), Format::Pdf);
        assert_eq!(detect(b"junk\n%PDF-1.4").unwrap(), Format::Pdf);
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap(),
            Format::Png
        );
        assert_eq!(
            detect(b"\xff\xd8\xff\xe0\0\x10JFIF\0").unwrap(),
            Format::Jpeg
        );
        assert_eq!(detect(b"  {\"pages\":[]}").unwrap(), Format::WordsJson);
        assert_eq!(
            detect(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap(),
            Format::Heic
        );
        assert_eq!(detect(b"").unwrap_err().code(), "empty_file");
        assert_eq!(
            detect(b"hello world").unwrap_err().code(),
            "unsupported_format"
        );
        assert_eq!(
            detect(b"PK\x03\x04zipzipzip").unwrap_err().code(),
            "unsupported_format"
        );
    }

    #[test]
    fn heic_is_refused_by_name() {
        let err = read_bytes(
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
            "x.jpg",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "unsupported_format");
        assert!(err.to_string().contains("HEIC"));
    }

    #[test]
    fn words_json_reads_without_ocr_and_short_input_is_no_text() {
        let json = br#"{"pages":[{"width":1000,"height":800,"words":[
            {"text":"INVOICE","bbox":[10,10,120,30]},
            {"text":"No.","bbox":[130,10,160,30]},
            {"text":"2024-118","bbox":[170,10,260,30]},
            {"text":"Total","bbox":[10,700,80,720]}]}]}"#;
        let doc = read_bytes(json, "w.json", &ReadOptions::default()).unwrap();
        assert_eq!(doc.source.format, "words_json");
        assert_eq!(doc.pages[0].lines[0].text, "INVOICE No. 2024-118");
        assert_eq!(doc.pages[0].source, PageSource::Input);

        let short =
            br#"{"pages":[{"width":10,"height":10,"words":[{"text":"a","bbox":[0,0,1,1]}]}]}"#;
        assert_eq!(
            read_bytes(short, "s.json", &ReadOptions::default())
                .unwrap_err()
                .code(),
            "no_text"
        );
        assert_eq!(
            read_bytes(b"{\"pages\":", "b.json", &ReadOptions::default())
                .unwrap_err()
                .code(),
            "invalid_words_json"
        );
    }
}
