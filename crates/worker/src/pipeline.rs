//! The extraction pipeline as plain functions: bytes -> document (read) -> invoice (layout) ->
//! lines matched to SKUs (matching). No broker, storage or database here: the service worker
//! and the embedded `claimscan run` both call these.

use std::sync::Arc;
use std::time::Instant;

use claimscan_doc::{Document, Invoice};
use claimscan_layout::vocabulary::Vocabulary;
use claimscan_matching::{Catalog, Confirmation, Decision, Matcher, Memory, Model, Query};
use claimscan_read::{Format, ReadError, ReadOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::PipelineConfig;
use crate::models::{compare, Readers, ShadowDiff, SwapPolicy, ValidationSet};

/// What turns a document's words into an invoice (the layout stage). Implemented by the layout
/// crate's reader; kept as a trait so the worker does not care which reader or model runs.
pub trait InvoiceRead: Send + Sync {
    /// `rules` or `name@version` of the model.
    fn name(&self) -> String;
    fn read(&self, doc: &Document) -> Invoice;
    /// Reads with the catalog's vocabulary: descriptions corrected, and the invoice scored by
    /// the model's verifier where it has one. By default, `read` then the corrections.
    fn read_with(&self, doc: &Document, vocabulary: &Vocabulary) -> Invoice {
        let mut inv = self.read(doc);
        vocabulary.correct_invoice(doc, &mut inv);
        inv
    }
}

impl InvoiceRead for claimscan_layout::InvoiceReader {
    fn name(&self) -> String {
        claimscan_layout::InvoiceReader::name(self)
    }
    fn read(&self, doc: &Document) -> Invoice {
        claimscan_layout::InvoiceReader::read(self, doc)
    }
    fn read_with(&self, doc: &Document, vocabulary: &Vocabulary) -> Invoice {
        claimscan_layout::InvoiceReader::read_with(self, doc, Some(vocabulary))
    }
}

/// Loads the reader named in the configuration (`rules` or a model directory).
pub fn load_reader(spec: &str) -> anyhow::Result<Arc<dyn InvoiceRead>> {
    if spec == "rules" {
        Ok(Arc::new(claimscan_layout::InvoiceReader::rules()))
    } else {
        let r = claimscan_layout::InvoiceReader::load(std::path::Path::new(spec))
            .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
        Ok(Arc::new(r))
    }
}

/// Milliseconds spent in each stage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timings {
    pub read_ms: f64,
    pub layout_ms: f64,
    pub match_ms: f64,
    /// The shadow model's reading (not part of the upload's latency budget in spirit, but it
    /// runs on the same thread: shadow mode costs a second layout pass per upload).
    #[serde(default)]
    pub shadow_ms: f64,
    /// Fingerprint, gradient hash of the picture and distributor key (after layout).
    #[serde(default)]
    pub hash_ms: f64,
}

/// One invoice line after matching.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MatchedLine {
    pub line_no: u32,
    pub description: Option<String>,
    pub product_code: Option<String>,
    pub quantity: Option<f64>,
    pub unit_price: Option<f64>,
    pub amount: Option<f64>,
    /// Confidence of the line's reading (layout).
    pub read_confidence: f32,
    pub sku: Option<String>,
    /// `match`, `review` or `none`.
    pub decision: String,
    /// Calibrated probability that `sku` is right.
    pub match_probability: f32,
    /// Calibrated probability that the line is one of the program's products, whichever SKU
    /// (a line matched to none may still be ours).
    #[serde(default)]
    pub ours: f32,
    /// From the catalog, when matched.
    pub points_per_unit: Option<f64>,
    pub eligible: bool,
    pub family: Option<String>,
    /// `memory` when the distributor's confirmed mapping decided it.
    pub source: String,
}

/// The result of read + layout, before matching.
pub struct ReadStage {
    pub document: Document,
    pub invoice: Invoice,
    /// Invoice fingerprint (supplier + number + date + total), when those could be read.
    pub fingerprint: Option<String>,
    /// Gradient hash of the first page's cleaned picture (photos only).
    pub phash: Option<u64>,
    /// Who issued the invoice, as a key for the distributor's memory.
    pub distributor_key: Option<String>,
    /// Page images kept for the review UI (photos: the cleaned picture).
    pub images: Vec<Option<image::GrayImage>>,
    pub timings: Timings,
    /// The live reader that read this upload (`rules` or `name@version`).
    pub reader: String,
    /// How the shadow reader's reading differed, when shadow mode is on.
    pub shadow: Option<ShadowDiff>,
    /// Set when this upload's reading made a model on probation roll back (to this reader).
    pub rolled_back_to: Option<String>,
}

/// Everything the checks and the review UI need about one upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extraction {
    pub schema_version: String,
    pub reader: String,
    pub format: String,
    pub sha256: String,
    pub pages: usize,
    pub invoice: Invoice,
    pub lines: Vec<MatchedLine>,
    pub fingerprint: Option<String>,
    pub phash: Option<u64>,
    pub distributor_key: Option<String>,
    pub timings: Timings,
    /// Width and height of each page in the coordinates of its boxes (for the review UI).
    #[serde(default)]
    pub page_sizes: Vec<[f32; 2]>,
}

/// The loaded pipeline: reading options, layout readers (live, previous, shadow), catalog matcher.
pub struct Pipeline {
    pub read_options: ReadOptions,
    pub readers: Arc<Readers>,
    pub matcher: Arc<Matcher>,
    /// The catalog's words, to correct OCR confusions in line descriptions.
    pub vocabulary: Arc<Vocabulary>,
}

impl Pipeline {
    /// Loads the catalog and the reader; fails with a message naming what is wrong.
    pub fn load(cfg: &PipelineConfig) -> anyhow::Result<Pipeline> {
        let catalog = Catalog::from_path(&cfg.catalog)
            .map_err(|e| anyhow::anyhow!("catalog {}: {e}", cfg.catalog.display()))?;
        let model = Model::trained_default();
        let vocabulary = Vocabulary::from_catalog_and_model(&catalog, &model);
        let matcher = Matcher::new(catalog, model);
        let mut read_options = ReadOptions::default();
        read_options.pdf.max_pages = cfg.max_pages;
        read_options.ocr.languages = cfg.ocr_languages.clone();
        let validation = if cfg.validation_data.as_os_str().is_empty() {
            None
        } else {
            Some(ValidationSet::load(&cfg.validation_data)?)
        };
        let readers = Readers::new(
            load_reader(&cfg.reader)?,
            validation,
            SwapPolicy {
                max_regression: cfg.max_regression,
                probation_reads: cfg.probation_reads,
            },
        );
        if !cfg.shadow_reader.is_empty() {
            readers
                .set_shadow(Some(&cfg.shadow_reader))
                .map_err(|e| anyhow::anyhow!("pipeline.shadow_reader: {e}"))?;
        }
        Ok(Pipeline {
            read_options,
            readers: Arc::new(readers),
            matcher: Arc::new(matcher),
            vocabulary: Arc::new(vocabulary),
        })
    }

    /// Read and layout (CPU-bound: the worker runs it on one of its extraction threads).
    pub fn read(&self, bytes: &[u8], name: &str) -> Result<ReadStage, ReadError> {
        let t0 = Instant::now();
        let format = claimscan_read::detect(bytes)?;
        let photo = matches!(
            format,
            Format::Jpeg | Format::Png | Format::Tiff | Format::Webp
        );
        let mut opts = self.read_options.clone();
        // Pictures are kept for photos only: they feed the perceptual hash and the review UI
        // (a PDF's pages are re-rendered by the UI from the original).
        opts.keep_images = photo;
        let read = claimscan_read::read(bytes, name, &opts)?;
        let t1 = Instant::now();
        // one reader for the whole upload, even if a swap happens meanwhile
        let reader = self.readers.live();
        // OCR confusions in descriptions, corrected against the catalog's words (never on a
        // text layer): before matching, so the memory keys and the review UI see them mended;
        // the verifier then scores the invoice with them
        let invoice = reader.read_with(&read.document, &self.vocabulary);
        let t2 = Instant::now();
        let reader_name = reader.name();
        let shadow = self.readers.shadow().map(|s| {
            let other = s.read_with(&read.document, &self.vocabulary);
            compare(&reader_name, &invoice, &s.name(), &other)
        });
        let t3 = Instant::now();
        let rolled_back_to = self.readers.observe(&reader_name, &invoice);
        let phash = read
            .images
            .first()
            .and_then(|i| i.as_ref())
            .map(gradient_hash);
        let fingerprint = fingerprint(&invoice);
        let distributor_key = distributor_key(&invoice);
        let t4 = Instant::now();
        Ok(ReadStage {
            fingerprint,
            distributor_key,
            phash,
            document: read.document,
            invoice,
            images: read.images,
            timings: Timings {
                read_ms: ms(t1 - t0),
                layout_ms: ms(t2 - t1),
                match_ms: 0.0,
                shadow_ms: ms(t3 - t2),
                hash_ms: ms(t4 - t3),
            },
            reader: reader_name,
            shadow,
            rolled_back_to,
        })
    }

    /// Matches every line (memory first) and assembles the extraction.
    pub fn finish(&self, stage: &ReadStage, memory: &Memory) -> Extraction {
        let t0 = Instant::now();
        let lines = stage
            .invoice
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let q = Query {
                    description: l.description.clone().unwrap_or_default(),
                    product_code: l.product_code.clone(),
                    unit_price: l.unit_price,
                    distributor: stage.distributor_key.clone(),
                };
                let m = self.matcher.match_line(&q, Some(memory));
                let product = m
                    .sku
                    .as_deref()
                    .and_then(|s| self.matcher.product_index(s))
                    .map(|i| &self.matcher.products()[i as usize]);
                MatchedLine {
                    line_no: i as u32,
                    description: l.description.clone(),
                    product_code: l.product_code.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    amount: l.amount,
                    read_confidence: l.confidence,
                    sku: if m.decision == Decision::None {
                        None
                    } else {
                        m.sku.clone()
                    },
                    decision: m.decision.as_str().into(),
                    match_probability: m.probability,
                    ours: m.ours,
                    points_per_unit: product.and_then(|p| p.points_per_unit),
                    eligible: product.map(|p| p.eligible.unwrap_or(true)).unwrap_or(false),
                    family: product.and_then(|p| p.family.clone()),
                    source: format!("{:?}", m.source).to_lowercase(),
                }
            })
            .collect();
        let mut timings = stage.timings.clone();
        timings.match_ms = ms(t0.elapsed());
        Extraction {
            schema_version: "1".into(),
            reader: stage.reader.clone(),
            format: stage.document.source.format.clone(),
            sha256: stage.document.source.sha256.clone(),
            pages: stage.document.pages.len(),
            invoice: stage.invoice.clone(),
            lines,
            fingerprint: stage.fingerprint.clone(),
            phash: stage.phash,
            distributor_key: stage.distributor_key.clone(),
            timings,
            page_sizes: stage
                .document
                .pages
                .iter()
                .map(|p| [p.width, p.height])
                .collect(),
        }
    }
}

/// Builds a distributor's memory from its confirmations (oldest first; later ones win).
pub fn memory_from(confirmations: &[Confirmation]) -> Memory {
    let mut m = Memory::new();
    for c in confirmations {
        m.confirm(c);
    }
    m
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn alnum_lower(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Who issued the invoice: the VAT id when printed (stable across wordings), else the name.
pub fn distributor_key(inv: &Invoice) -> Option<String> {
    if let Some(v) = inv.header.supplier_vat_id.as_deref().map(alnum_lower) {
        if v.len() >= 6 {
            return Some(format!("vat:{v}"));
        }
    }
    let n = inv.header.supplier_name.as_deref().map(alnum_lower)?;
    (n.len() >= 3).then(|| format!("name:{n}"))
}

/// The same invoice gives the same fingerprint whoever uploads it and however it was pictured:
/// issuer + invoice number + date + total. `None` when any of them is missing.
pub fn fingerprint(inv: &Invoice) -> Option<String> {
    let h = &inv.header;
    let issuer = distributor_key(inv)?;
    let number = h
        .invoice_number
        .as_deref()
        .map(alnum_lower)
        .filter(|s| !s.is_empty())?;
    let date = h.invoice_date.as_deref()?;
    let total = h.total?;
    let mut sha = Sha256::new();
    sha.update(format!("{issuer}|{number}|{date}|{:.2}", total.abs()).as_bytes());
    Some(format!("{:x}", sha.finalize()))
}

/// Pictures are shrunk (block means) to at most this many pixels on their long side before
/// hashing. The hash is of a 9x8 Lanczos resize, whose kernel over a full photo spans hundreds
/// of pixels: ~220 ms per photo in a test build before the shrink, with the same bits or nearly
/// after it (see the test).
const HASH_MAX_SIDE: u32 = 512;

/// 64-bit gradient hash of a picture (robust to scale, light and JPEG re-compression).
pub fn gradient_hash(img: &image::GrayImage) -> u64 {
    gradient_hash_of(claimscan_imaging::box_shrink(img, HASH_MAX_SIDE))
}

fn gradient_hash_of(img: image::GrayImage) -> u64 {
    let hasher = image_hasher::HasherConfig::new()
        .hash_size(8, 8)
        .hash_alg(image_hasher::HashAlg::Gradient)
        .to_hasher();
    let dynimg = image::DynamicImage::ImageLuma8(img);
    let h = hasher.hash_image(&dynimg);
    let mut out = 0u64;
    for (i, b) in h.as_bytes().iter().take(8).enumerate() {
        out |= u64::from(*b) << (8 * i);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use claimscan_doc::Header;

    fn inv(vat: Option<&str>, name: &str, number: &str, total: f64) -> Invoice {
        Invoice {
            header: Header {
                supplier_name: Some(name.into()),
                supplier_vat_id: vat.map(Into::into),
                invoice_number: Some(number.into()),
                invoice_date: Some("2026-10-01".into()),
                total: Some(total),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn fingerprint_ignores_formatting_and_sign() {
        let a = inv(Some("ATU 12345678"), "Alpha GmbH", "RE-2026/001", 120.5);
        let b = inv(Some("atu12345678"), "ALPHA gmbh.", "re 2026 001", -120.50);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let c = inv(Some("atu12345678"), "Alpha GmbH", "RE-2026/002", 120.5);
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let mut d = a.clone();
        d.header.invoice_date = None;
        assert_eq!(fingerprint(&d), None);
    }

    #[test]
    fn distributor_key_prefers_vat() {
        assert_eq!(
            distributor_key(&inv(Some("FR 12 345678901"), "X", "1", 1.0)).as_deref(),
            Some("vat:fr12345678901")
        );
        assert_eq!(
            distributor_key(&inv(None, "Elektro Müller", "1", 1.0)).as_deref(),
            Some("name:elektromüller")
        );
    }

    #[test]
    fn gradient_hash_survives_rescale_and_differs_between_pictures() {
        let a = image::GrayImage::from_fn(400, 300, |x, y| {
            image::Luma([((x * 7 + y * 3) % 251) as u8])
        });
        let b = image::imageops::resize(&a, 200, 150, image::imageops::FilterType::Triangle);
        let c =
            image::GrayImage::from_fn(400, 300, |x, y| image::Luma([((x * x + y) % 253) as u8]));
        let d = |x: u64, y: u64| (x ^ y).count_ones();
        assert!(d(gradient_hash(&a), gradient_hash(&b)) <= 6);
        assert!(d(gradient_hash(&a), gradient_hash(&c)) > 10);
    }

    #[test]
    fn shrinking_before_hashing_keeps_the_hash_of_real_photos() {
        // Hashes stored before the shrink existed must still find re-uploads of the same picture
        // (rules.phash_max_distance defaults to 4 bits).
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../training-data/fixtures");
        let mut seen = 0;
        for name in [
            "fx08_photo_de_exif.jpg",
            "fx09_photo_en_blur.jpg",
            "fx10_photo_pt_shadow_rot90.jpg",
            "fx11_photo_fr_perspective.jpg",
        ] {
            let Ok(img) = image::open(dir.join(name)) else {
                continue;
            };
            let img = img.to_luma8();
            assert!(img.width().max(img.height()) > HASH_MAX_SIDE);
            let direct = gradient_hash_of(img.clone());
            let shrunk = gradient_hash(&img);
            let bits = (direct ^ shrunk).count_ones();
            assert!(bits <= 2, "{name}: {bits} bits apart");
            seen += 1;
        }
        assert!(seen > 0, "no fixture photo found in {}", dir.display());
    }
}
