//! `claimscan extract FILE|DIR...`: files in, document model out; one bad file never stops a batch.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use claimscan_doc::{Document, PageSource, SourceInfo, SCHEMA_VERSION};
use claimscan_layout::vocabulary::Vocabulary;
use claimscan_read::{ReadError, ReadOptions};
use clap::{Args, ValueEnum};
use image::{GrayImage, Rgb, RgbImage};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One pretty JSON object per document (an array on stdout when there are several).
    Json,
    /// One JSON object per line.
    Jsonl,
    /// The text, line by line.
    Text,
}

#[derive(Debug, Args)]
pub struct ExtractCmd {
    /// Files or directories (read recursively); the format is detected from content.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
    /// Write one output file per input into this directory instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Files and pages processed in parallel.
    #[arg(long, short = 'j', default_value_t = default_jobs())]
    pub jobs: usize,
    /// Write each page as a PNG with its word boxes drawn, into this directory.
    #[arg(long, value_name = "DIR")]
    pub debug_image: Option<PathBuf>,
    /// Tesseract languages, `+`-joined (`eng`, `deu+eng`), or `auto`: detect each document's
    /// language (from a quick read of the first page's top) and read it with that model.
    #[arg(long, env = "CLAIMSCAN_OCR_LANG", default_value = "auto")]
    pub lang: String,
    /// Refuse PDFs with more pages than this.
    #[arg(long, default_value_t = 20)]
    pub max_pages: usize,
    /// Refuse images with more pixels than this (checked from the header).
    #[arg(long, default_value_t = 60_000_000)]
    pub max_pixels: u64,
    /// Refuse files larger than this many bytes.
    #[arg(long, default_value_t = 50 * 1024 * 1024)]
    pub max_bytes: u64,
    /// Skip photo/scan clean-up (for comparisons).
    #[arg(long)]
    pub no_preprocess: bool,
    /// How to read the invoice from the words: `rules`, a model directory
    /// (`models/layout-gbdt-cord`), or `none` for words only.
    #[arg(long, env = "CLAIMSCAN_READER", default_value = "rules")]
    pub reader: String,
    /// Correct OCR character confusions in line descriptions against this catalog's words (CSV
    /// or Parquet), as the worker does: `H05VV-F` read as `HOSVV-F` is written `H05VV-F`.
    #[arg(long, env = "CLAIMSCAN_CATALOG")]
    pub catalog: Option<PathBuf>,
    /// Do not print the summary line on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One output record: the document, or the error that stopped it, always with its source; with
/// the invoice read from it (header, lines, confidence, boxes, checks) unless `--reader none`.
#[derive(Debug, Serialize)]
pub struct Output {
    #[serde(flatten)]
    pub document: Document,
    #[serde(flatten)]
    pub invoice: Option<InvoiceOutput>,
    /// Why the file could not be read (empty when it was).
    pub errors: Vec<OutputError>,
}

/// The invoice part of `extract`'s output.
#[derive(Debug, Serialize)]
pub struct InvoiceOutput {
    pub header: claimscan_doc::Header,
    pub lines: Vec<claimscan_doc::LineItem>,
    pub confidence: f32,
    pub field_confidence: std::collections::BTreeMap<String, f32>,
    /// Where each header value was read (page, box in page pixels).
    pub boxes: std::collections::BTreeMap<String, claimscan_doc::ValueBox>,
    /// Problems found by the invoice checks (sums, arithmetic, missing fields); stable codes.
    pub checks: Vec<claimscan_doc::InvoiceIssue>,
    pub reader: Option<String>,
}

impl From<claimscan_doc::Invoice> for InvoiceOutput {
    fn from(i: claimscan_doc::Invoice) -> Self {
        InvoiceOutput {
            header: i.header,
            lines: i.lines,
            confidence: i.confidence,
            field_confidence: i.field_confidence,
            boxes: i.boxes,
            checks: i.errors,
            reader: i.reader,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct OutputError {
    pub code: &'static str,
    pub message: String,
}

impl ExtractCmd {
    pub fn options(&self) -> ReadOptions {
        let mut o = ReadOptions::default();
        o.pdf.max_pages = self.max_pages;
        o.decode.max_pixels = self.max_pixels;
        o.max_file_bytes = self.max_bytes;
        o.ocr.languages = self.lang.clone();
        o.keep_images = self.debug_image.is_some();
        if self.no_preprocess {
            o.photo = claimscan_imaging::PrepareOptions::none();
            o.scan = claimscan_imaging::PrepareOptions::none();
        }
        o
    }

    pub fn run(self) -> anyhow::Result<i32> {
        let files = collect_inputs(&self.inputs);
        for dir in [&self.out, &self.debug_image].into_iter().flatten() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let opts = self.options();
        let reader = match self.reader.as_str() {
            "none" => None,
            "rules" => Some(claimscan_layout::InvoiceReader::rules()),
            dir => Some(
                claimscan_layout::InvoiceReader::load(Path::new(dir))
                    .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?,
            ),
        };
        let vocabulary = match (&self.catalog, &reader) {
            (Some(path), Some(_)) => {
                let c = claimscan_matching::Catalog::from_path(path)
                    .map_err(|e| anyhow::anyhow!("catalog {}: {e}", path.display()))?;
                Some(Vocabulary::from_catalog_and_model(
                    &c,
                    &claimscan_matching::Model::trained_default(),
                ))
            }
            _ => None,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.max(1))
            .build()?;
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let started = Instant::now();
        let stems = unique_stems(files.iter().map(|(p, _)| p.as_path()));
        let results: Vec<(String, Output)> = pool.install(|| {
            files
                .par_iter()
                .zip(stems)
                .map(|((path, problem), stem)| {
                    let out = match problem {
                        Some(e) => failed(path, e.code(), e.to_string()),
                        None => {
                            self.read_one(path, &stem, &opts, reader.as_ref(), vocabulary.as_ref())
                        }
                    };
                    bar.inc(1);
                    bar.set_message(path.display().to_string());
                    (stem, out)
                })
                .collect()
        });
        bar.finish_and_clear();
        let elapsed = started.elapsed();

        self.write(&results)?;

        let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut text_pages, mut ocr_pages, mut input_pages) = (0, 0, 0);
        for (_, r) in &results {
            for e in &r.errors {
                *codes.entry(e.code).or_default() += 1;
            }
            for p in &r.document.pages {
                match p.source {
                    PageSource::TextLayer => text_pages += 1,
                    PageSource::Ocr => ocr_pages += 1,
                    PageSource::Input => input_pages += 1,
                }
            }
        }
        let failures: usize = codes.values().sum();
        if !self.quiet {
            let mut summary = format!(
                "read {} of {} files ({} pages: {} text layer, {} OCR, {} word input) in {:.2} s",
                results.len() - failures,
                results.len(),
                text_pages + ocr_pages + input_pages,
                text_pages,
                ocr_pages,
                input_pages,
                elapsed.as_secs_f64()
            );
            if failures > 0 {
                let detail: Vec<String> = codes.iter().map(|(c, n)| format!("{c} {n}")).collect();
                summary.push_str(&format!("; {failures} failed: {}", detail.join(", ")));
            }
            eprintln!("{summary}");
        }
        Ok(if failures > 0 {
            crate::EXIT_SOME_FAILED as i32
        } else {
            crate::EXIT_OK as i32
        })
    }

    fn read_one(
        &self,
        path: &Path,
        stem: &str,
        opts: &ReadOptions,
        reader: Option<&claimscan_layout::InvoiceReader>,
        vocabulary: Option<&Vocabulary>,
    ) -> Output {
        let bytes = match std::fs::metadata(path) {
            Ok(m) if m.len() > opts.max_file_bytes => {
                let e = ReadError::FileTooLarge {
                    bytes: m.len(),
                    limit: opts.max_file_bytes,
                };
                return failed(path, e.code(), e.to_string());
            }
            Ok(_) => match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => return failed(path, "io_error", e.to_string()),
            },
            Err(e) => return failed(path, "io_error", e.to_string()),
        };
        let name = path.display().to_string();
        // A panic in a native library or a decoder must cost one file, not the batch.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            claimscan_read::read(&bytes, &name, opts)
        }));
        match outcome {
            Ok(Ok(read)) => {
                if let Some(dir) = &self.debug_image {
                    if let Err(e) = write_debug_images(dir, stem, &read.document, &read.images) {
                        tracing::warn!("debug image for {name}: {e:#}");
                    }
                }
                let invoice = reader.map(|r| r.read_with(&read.document, vocabulary).into());
                Output {
                    document: read.document,
                    invoice,
                    errors: Vec::new(),
                }
            }
            Ok(Err(e)) => {
                let mut out = failed(path, e.code(), e.to_string());
                out.document.source.sha256 = claimscan_read::sha256_hex(&bytes);
                out.document.source.bytes = bytes.len() as u64;
                out
            }
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                failed(path, "internal_error", msg)
            }
        }
    }

    fn write(&self, results: &[(String, Output)]) -> anyhow::Result<()> {
        match &self.out {
            Some(dir) => {
                for (stem, out) in results {
                    let (ext, body) = match self.format {
                        OutputFormat::Json => ("json", serde_json::to_string_pretty(out)? + "\n"),
                        OutputFormat::Jsonl => ("jsonl", serde_json::to_string(out)? + "\n"),
                        OutputFormat::Text => ("txt", render_text(out)),
                    };
                    let target = dir.join(format!("{stem}.{ext}"));
                    std::fs::write(&target, body)
                        .with_context(|| format!("cannot write {}", target.display()))?;
                }
            }
            None => {
                let stdout = std::io::stdout();
                let mut w = std::io::BufWriter::new(stdout.lock());
                match self.format {
                    OutputFormat::Json if results.len() == 1 => {
                        serde_json::to_writer_pretty(&mut w, &results[0].1)?;
                        writeln!(w)?;
                    }
                    OutputFormat::Json => {
                        let all: Vec<&Output> = results.iter().map(|(_, o)| o).collect();
                        serde_json::to_writer_pretty(&mut w, &all)?;
                        writeln!(w)?;
                    }
                    OutputFormat::Jsonl => {
                        for (_, out) in results {
                            serde_json::to_writer(&mut w, out)?;
                            writeln!(w)?;
                        }
                    }
                    OutputFormat::Text => {
                        for (_, out) in results {
                            w.write_all(render_text(out).as_bytes())?;
                        }
                    }
                }
                w.flush()?;
            }
        }
        for (_, out) in results {
            for e in &out.errors {
                eprintln!("{}: {}: {}", out.document.source.path, e.code, e.message);
            }
        }
        Ok(())
    }
}

fn render_text(out: &Output) -> String {
    let mut s = format!("==> {} <==\n", out.document.source.path);
    for e in &out.errors {
        s.push_str(&format!("[error {}] {}\n", e.code, e.message));
    }
    s.push_str(&out.document.text());
    s.push('\n');
    s
}

/// Output names for a batch: each input's file name, with `~2`, `~3`, ... added when inputs from
/// different folders share a name, so no output overwrites another.
fn unique_stems<'a>(paths: impl Iterator<Item = &'a Path>) -> Vec<String> {
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    paths
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "input".into());
            let n = seen.entry(name.clone()).or_default();
            *n += 1;
            if *n == 1 {
                name
            } else {
                format!("{name}~{n}")
            }
        })
        .collect()
}

fn failed(path: &Path, code: &'static str, message: String) -> Output {
    Output {
        document: Document {
            schema_version: SCHEMA_VERSION.into(),
            source: SourceInfo {
                path: path.display().to_string(),
                format: "unknown".into(),
                bytes: 0,
                sha256: String::new(),
            },
            pages: Vec::new(),
        },
        invoice: None,
        errors: vec![OutputError { code, message }],
    }
}

/// Expands directories (recursively, sorted); paths that cannot be listed become per-file errors.
fn collect_inputs(inputs: &[PathBuf]) -> Vec<(PathBuf, Option<ReadError>)> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut stack = vec![input.clone()];
            let mut files = Vec::new();
            while let Some(dir) = stack.pop() {
                match std::fs::read_dir(&dir) {
                    Ok(entries) => {
                        for entry in entries.flatten() {
                            let p = entry.path();
                            let name = entry.file_name();
                            if name.to_string_lossy().starts_with('.') {
                                continue;
                            }
                            if p.is_dir() {
                                stack.push(p);
                            } else {
                                files.push(p);
                            }
                        }
                    }
                    Err(e) => out.push((dir.clone(), Some(ReadError::Io(e)))),
                }
            }
            files.sort();
            out.extend(files.into_iter().map(|f| (f, None)));
        } else if input.exists() {
            out.push((input.clone(), None));
        } else {
            out.push((
                input.clone(),
                Some(ReadError::Io(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file",
                ))),
            ));
        }
    }
    out
}

/// Draws word boxes (blue; red below 0.6 confidence) and line boxes (green) on each page.
fn write_debug_images(
    dir: &Path,
    stem: &str,
    doc: &Document,
    images: &[Option<GrayImage>],
) -> anyhow::Result<()> {
    use imageproc::drawing::draw_hollow_rect_mut;
    use imageproc::rect::Rect;
    for (page, image) in doc.pages.iter().zip(images) {
        let Some(image) = image else { continue };
        let mut rgb: RgbImage = image::DynamicImage::ImageLuma8(image.clone()).into_rgb8();
        let (sx, sy) = (
            rgb.width() as f32 / page.width.max(1.0),
            rgb.height() as f32 / page.height.max(1.0),
        );
        let rect = |b: [f32; 4], pad: f32| {
            let x = ((b[0] - pad) * sx).max(0.0) as i32;
            let y = ((b[1] - pad) * sy).max(0.0) as i32;
            let w = (((b[2] - b[0] + 2.0 * pad) * sx) as u32).max(1);
            let h = (((b[3] - b[1] + 2.0 * pad) * sy) as u32).max(1);
            Rect::at(x, y).of_size(w, h)
        };
        for line in &page.lines {
            draw_hollow_rect_mut(&mut rgb, rect(line.bbox, 4.0), Rgb([0, 170, 0]));
        }
        for w in &page.words {
            let colour = if w.confidence < 0.6 {
                Rgb([220, 0, 0])
            } else {
                Rgb([0, 60, 220])
            };
            draw_hollow_rect_mut(&mut rgb, rect(w.bbox, 0.0), colour);
        }
        let target = dir.join(format!("{stem}.p{}.png", page.index + 1));
        rgb.save(&target)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unique_stems;
    use std::path::Path;

    #[test]
    fn same_file_names_in_different_folders_get_distinct_outputs() {
        let paths = [
            Path::new("a/inv.pdf"),
            Path::new("b/inv.pdf"),
            Path::new("b/x.jpg"),
        ];
        assert_eq!(
            unique_stems(paths.into_iter()),
            ["inv.pdf", "inv.pdf~2", "x.jpg"]
        );
    }
}
