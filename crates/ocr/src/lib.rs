//! Tesseract OCR with warm engines: one engine per thread, created on first use and reused, so a
//! page costs recognition only (no process spawn, no temporary files, no model reload).
//!
//! Tesseract's OpenMP build is 6x slower on 2 cores unless `OMP_THREAD_LIMIT=1` is in the process
//! environment *before the library loads*; the `claimscan` binary re-executes itself to arrange
//! that (see [`OMP_ENV`]) and `cargo test` gets it from `.cargo/config.toml`.

mod cues;
mod spaces;
pub use cues::country_language;
pub use spaces::mark_unread_spaces;

use std::cell::RefCell;
use std::ffi::CStr;

use claimscan_doc::Word;
use image::GrayImage;
use tesseract::{PageSegMode, Tesseract};

/// The environment variable (and value) Tesseract's OpenMP runtime must see at process start.
pub const OMP_ENV: (&str, &str) = ("OMP_THREAD_LIMIT", "1");

/// OCR settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcrOptions {
    /// Tesseract languages, `+`-joined (`eng`, `eng+deu`, ...), or [`AUTO`] (the default): each
    /// document's language is detected and read with that language's model.
    pub languages: String,
    /// Page segmentation: automatic (the CLI's default, mode 3) suits invoices; the API's own
    /// default is a single block (mode 6), which merges columns.
    pub psm: Psm,
    /// Tesseract variables set on each engine (name, value).
    pub variables: Vec<(String, String)>,
}

impl Default for OcrOptions {
    fn default() -> Self {
        OcrOptions {
            languages: AUTO.into(),
            psm: Psm::Auto,
            variables: env_variables(),
        }
    }
}

/// Extra Tesseract variables from `CLAIMSCAN_TESS_VARS` (`name=value,name=value`), for experiments.
fn env_variables() -> Vec<(String, String)> {
    std::env::var("CLAIMSCAN_TESS_VARS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The page segmentation modes claimscan uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Psm {
    /// Fully automatic layout analysis (mode 3).
    Auto,
    /// Sparse text, no order (mode 11): receipts and scattered fields.
    Sparse,
    /// One uniform block (mode 6).
    Block,
}

impl Psm {
    fn mode(self) -> PageSegMode {
        match self {
            Psm::Auto => PageSegMode::PsmAuto,
            Psm::Sparse => PageSegMode::PsmSparseText,
            Psm::Block => PageSegMode::PsmSingleBlock,
        }
    }
}

/// OCR failures.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("Tesseract could not start with languages `{languages}`: {message} (install tesseract-ocr-<lang> with `make setup`)")]
    Init { languages: String, message: String },
    #[error("Tesseract failed: {0}")]
    Recognise(String),
    #[error("image too large for Tesseract: {0}x{1}")]
    TooLarge(u32, u32),
}

/// Whether this process was started with the OpenMP limit Tesseract needs to be fast.
pub fn omp_limited() -> bool {
    std::env::var(OMP_ENV.0).as_deref() == Ok(OMP_ENV.1)
}

/// The linked Tesseract's version string.
pub fn version() -> String {
    // SAFETY: TessVersion returns a pointer to a static NUL-terminated string.
    unsafe {
        CStr::from_ptr(tesseract::plumbing::tesseract_sys::TessVersion())
            .to_string_lossy()
            .into_owned()
    }
}

struct Engine {
    options: OcrOptions,
    tess: Tesseract,
}

/// Engines kept per thread: the language probe of [`detect_language`] (English) and the detected
/// language's engine live side by side; a document in another language replaces the latter.
/// Measured (2026-12-05, `claimscan extract --jobs 2` on training-data/fixtures and 29 held-out
/// scanned PDFs of seed 31, GNU time's `%M`, which is in KiB although first written as MiB):
/// peak RSS 514 (thousand KiB) with 3 engines per thread, 475-486 with 2, 384 with `--lang eng`
/// (one engine); an engine costs ~30 MiB. Since then 444-451 MiB (README, peak memory).
const ENGINES_PER_THREAD: usize = 2;

thread_local! {
    static ENGINES: RefCell<Vec<Engine>> = const { RefCell::new(Vec::new()) };
}

/// Engines created in this process so far (each costs its start-up and ~30-50 MiB while kept).
static ENGINES_CREATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many Tesseract engines this process has created so far.
pub fn engines_created() -> usize {
    ENGINES_CREATED.load(std::sync::atomic::Ordering::Relaxed)
}

/// How many warm engines the calling thread holds.
pub fn engines_on_this_thread() -> usize {
    ENGINES.with(|cell| cell.borrow().len())
}

fn new_engine(options: &OcrOptions) -> Result<Engine, OcrError> {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        // Leptonica prints internal notes ("Error in boxClipToRectangle") to stderr on ordinary
        // pages; they are not errors of ours and would drown the batch summary.
        // SAFETY: sets a process-wide integer in Leptonica.
        unsafe {
            tesseract::plumbing::leptonica_plumbing::leptonica_sys::setMsgSeverity(
                tesseract::plumbing::leptonica_plumbing::leptonica_sys::L_SEVERITY_NONE as i32,
            );
        }
    });
    if !omp_limited() {
        tracing::warn!(
            "{}={} is not set in this process: Tesseract will be several times slower",
            OMP_ENV.0,
            OMP_ENV.1
        );
    }
    let init_err = |message: String| OcrError::Init {
        languages: options.languages.clone(),
        message,
    };
    let mut tess =
        Tesseract::new(None, Some(&options.languages)).map_err(|e| init_err(e.to_string()))?;
    tess.set_page_seg_mode(options.psm.mode());
    // Keep inter-word spaces out of word boxes and stop Tesseract from writing debug files.
    let mut tess = tess
        .set_variable("debug_file", "/dev/null")
        .map_err(|e| init_err(e.to_string()))?;
    for (k, v) in &options.variables {
        tess = tess
            .set_variable(k, v)
            .map_err(|e| init_err(e.to_string()))?;
    }
    ENGINES_CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Engine {
        options: options.clone(),
        tess,
    })
}

/// Creates this thread's engine ahead of time, so the first page is not slower than the rest.
/// With [`AUTO`], that is the English engine of the language probe.
pub fn warm_up(options: &OcrOptions) -> Result<(), OcrError> {
    if options.languages == AUTO {
        let probe = OcrOptions {
            languages: "eng".into(),
            ..options.clone()
        };
        return with_engine(&probe, |tess| Ok((tess, ())));
    }
    with_engine(options, |tess| Ok((tess, ())))
}

fn with_engine<T>(
    options: &OcrOptions,
    f: impl FnOnce(Tesseract) -> Result<(Tesseract, T), OcrError>,
) -> Result<T, OcrError> {
    ENGINES.with(|cell| {
        let mut engines = cell.borrow_mut();
        let engine = match engines.iter().position(|e| e.options == *options) {
            Some(i) => engines.remove(i),
            None => new_engine(options)?,
        };
        let Engine { options, tess } = engine;
        // On error the engine is consumed (the tesseract crate's builder takes `self`); the next
        // call creates a fresh one.
        let (tess, out) = f(tess)?;
        // most recently used first; the least recently used engine goes when there are too many
        engines.insert(0, Engine { options, tess });
        engines.truncate(ENGINES_PER_THREAD);
        Ok(out)
    })
}

/// The languages claimscan reads, as (Tesseract code, whatlang language).
const LANGUAGES: [(&str, whatlang::Lang); 8] = [
    ("eng", whatlang::Lang::Eng),
    ("deu", whatlang::Lang::Deu),
    ("fra", whatlang::Lang::Fra),
    ("spa", whatlang::Lang::Spa),
    ("ita", whatlang::Lang::Ita),
    ("pol", whatlang::Lang::Pol),
    ("nld", whatlang::Lang::Nld),
    ("por", whatlang::Lang::Por),
];

/// The value of [`OcrOptions::languages`] that asks for the language to be detected per document.
pub const AUTO: &str = "auto";

/// The language of a page, from a quick English read of its top part (letterhead, title and
/// address block: "Rechnung", "Factura", street names), as a Tesseract code (`deu`, `spa`...).
/// Reading with the right language's model is what gets diacritics right ("Gebäudetechnik",
/// "Calefacción", "Kozłowski"); the English model drops or mangles them.
/// `None` when the page has too little text to tell.
pub fn detect_language(image: &GrayImage, dpi: f32, options: &OcrOptions) -> Option<&'static str> {
    let (w, h) = image.dimensions();
    let top = (h as f32 * 0.35).round() as u32;
    if w == 0 || top == 0 {
        return None;
    }
    let crop = image::imageops::crop_imm(image, 0, 0, w, top).to_image();
    let probe = OcrOptions {
        languages: "eng".into(),
        ..options.clone()
    };
    let words = recognise(&crop, dpi, &probe).ok()?;
    language_of(words.iter().map(|w| w.text.as_str()))
}

/// The language of some words, among the languages claimscan reads: the one their supplier's
/// country or title word names ([`cues::language_by_cues`]), else whatlang's guess from the
/// words with letters only.
pub fn language_of<'a>(words: impl Iterator<Item = &'a str>) -> Option<&'static str> {
    let words: Vec<&str> = words.collect();
    cues::language_by_cues(&words).or_else(|| language_by_sound(words.into_iter()))
}

/// whatlang's guess of the language of some words (only words of three letters or more and no
/// digit count), among the languages claimscan reads: what [`language_of`] falls back to where
/// no country or title word names one.
pub fn language_by_sound<'a>(words: impl Iterator<Item = &'a str>) -> Option<&'static str> {
    let text: Vec<&str> = words
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 3)
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    if text.len() < 4 {
        return None;
    }
    let detector = whatlang::Detector::with_allowlist(LANGUAGES.iter().map(|(_, l)| *l).collect());
    let info = detector.detect(&text.join(" "))?;
    LANGUAGES
        .iter()
        .find(|(_, l)| *l == info.lang())
        .map(|(code, _)| *code)
}

/// Recognises the words of a grayscale page image. Boxes are in the image's pixels; confidence
/// is Tesseract's word confidence scaled to `0..1`.
pub fn recognise(image: &GrayImage, dpi: f32, options: &OcrOptions) -> Result<Vec<Word>, OcrError> {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Ok(Vec::new());
    }
    if w > 32_000 || h > 32_000 {
        return Err(OcrError::TooLarge(w, h));
    }
    if options.languages == AUTO {
        // a caller that did not resolve the language itself: detect it for this image
        let lang = detect_language(image, dpi, options).unwrap_or("eng");
        let resolved = OcrOptions {
            languages: lang.into(),
            ..options.clone()
        };
        return recognise(image, dpi, &resolved);
    }
    let tsv = with_engine(options, |tess| {
        let mut tess = tess
            .set_frame(image.as_raw(), w as i32, h as i32, 1, w as i32)
            .map_err(|e| OcrError::Recognise(e.to_string()))?
            .set_source_resolution(dpi.round().max(70.0) as i32)
            .recognize()
            .map_err(|e| OcrError::Recognise(e.to_string()))?;
        let tsv = tess
            .get_tsv_text(0)
            .map_err(|e| OcrError::Recognise(e.to_string()))?;
        Ok((tess, tsv))
    })?;
    Ok(parse_tsv(&tsv, w as f32, h as f32))
}

/// Parses Tesseract's TSV output into words (level-5 rows with text).
pub fn parse_tsv(tsv: &str, width: f32, height: f32) -> Vec<Word> {
    // Each word's box spans its text line's height (the level-4 row before it): Tesseract's word
    // boxes are ink boxes, so "ago" and "TOTAL" on one line would get different heights, while the
    // text layer of a PDF and the layout model's training data use the font's ascent..descent.
    let mut line_y: Option<(f32, f32)> = None;
    let mut words = Vec::new();
    for line in tsv.lines() {
        let cols: Vec<&str> = line.splitn(12, '\t').collect();
        if cols.len() < 12 {
            continue;
        }
        let num = |i: usize| cols[i].parse::<f32>().ok();
        match cols[0] {
            "4" => {
                line_y = match (num(7), num(9)) {
                    (Some(y), Some(h)) if h > 0.0 => Some((y, y + h)),
                    _ => None,
                };
            }
            "5" => {
                // table rules and the paper's edge come out as `_`, `|` or `~` glued to words
                let text = cols[11]
                    .trim()
                    .trim_matches(|c| matches!(c, '_' | '|' | '~'));
                if text.is_empty() {
                    continue;
                }
                let (Some(x), Some(y), Some(bw), Some(bh), Some(conf)) =
                    (num(6), num(7), num(8), num(9), num(10))
                else {
                    continue;
                };
                let (mut y0, mut y1) = (y, y + bh);
                if let Some((ly0, ly1)) = line_y {
                    // Only when the word lies within its line (it always should).
                    if ly0 <= y0 + 1.0 && ly1 + 1.0 >= y1 {
                        (y0, y1) = (ly0, ly1);
                    }
                }
                words.push(Word::new(
                    text,
                    [x, y0, x + bw, y1],
                    (conf / 100.0).clamp(0.0, 1.0),
                    width,
                    height,
                ));
            }
            _ => {}
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_told_apart_from_english_reads_of_invoice_headers() {
        let cases = [
            ("Rechnung Datum Kunde Lieferschein Gebaudetechnik Hoffmann Hauptstrasse Bezeichnung Menge", "deu"),
            ("Facture Date Client Adresse de livraison Materiel Electrique Designation Quantite Prix unitaire", "fra"),
            ("Factura Fecha Cliente Fontaneria Calefaccion Descripcion Cantidad Precio unitario Calle Mayor", "spa"),
            ("Fattura Data Cliente Termoidraulica Descrizione Quantita Prezzo unitario Via Roma Partita", "ita"),
            ("Faktura Data Nabywca Instalacje Sanitarne Nazwa towaru Ilosc Cena jednostkowa Sprzedawca ulica", "pol"),
            ("Factuur Datum Klant Installatietechniek Omschrijving Aantal Prijs Bedrag Vervaldatum referentie", "nld"),
            ("Fatura Data Cliente Materiais de Construcao Descricao Quantidade Preco unitario Rua", "por"),
            ("Invoice Date Customer Delivery address Description Quantity Unit price Amount Street", "eng"),
        ];
        for (text, want) in cases {
            assert_eq!(language_of(text.split(' ')), Some(want), "{text}");
        }
        assert_eq!(language_of("12 34 ab".split(' ')), None);
    }

    #[test]
    fn tsv_words_only_level_five_with_text() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t100\t50\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t96.5\tInvoice\n\
                   5\t1\t1\t1\t1\t2\t45\t20\t20\t12\t-1\t \n\
                   5\t1\t1\t1\t1\t3\t70\t21\t25\t11\t88\tNo.\n";
        let words = parse_tsv(tsv, 100.0, 50.0);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "Invoice");
        assert_eq!(words[0].bbox, [10.0, 20.0, 40.0, 32.0]);
        assert!((words[0].confidence - 0.965).abs() < 1e-6);
        assert_eq!(words[1].text, "No.");
    }

    #[test]
    fn rule_debris_is_trimmed_from_words() {
        let tsv = "5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t80\t_VDC01629\n\
                   5\t1\t1\t1\t1\t2\t45\t20\t20\t12\t70\t|\n\
                   5\t1\t1\t1\t1\t3\t70\t21\t25\t11\t88\t-12,50~\n";
        let words = parse_tsv(tsv, 100.0, 50.0);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["VDC01629", "-12,50"]);
    }

    #[test]
    fn words_take_their_text_line_height() {
        let tsv = "4\t1\t1\t1\t1\t0\t10\t18\t90\t16\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t96\tago\n\
                   5\t1\t1\t1\t1\t2\t50\t18\t40\t10\t90\tTOTAL\n\
                   4\t1\t1\t1\t2\t0\t10\t40\t90\t15\t-1\t\n\
                   5\t1\t1\t1\t2\t1\t10\t41\t30\t12\t91\tnext\n";
        let words = parse_tsv(tsv, 100.0, 60.0);
        assert_eq!(words.len(), 3);
        assert_eq!(words[0].bbox, [10.0, 18.0, 40.0, 34.0]);
        assert_eq!(words[1].bbox, [50.0, 18.0, 90.0, 34.0]);
        assert_eq!(words[2].bbox, [10.0, 40.0, 40.0, 55.0]);
    }
}
