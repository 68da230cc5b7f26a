//! Extraction benchmarks: figures, printed, never asserted. Run with `make bench`, or
//! `cargo bench -p claimscan --bench extract -- <extract|sroie|truth> ...`.
//!
//! - `extract`: digital-PDF pages/s on one core; per-page OCR time of our warm in-process
//!   path against the `tesseract` command-line tool on the same page images (as installed, and
//!   with `OMP_THREAD_LIMIT=1`); peak memory of `claimscan extract --jobs 2`.
//! - `sroie`: share of SROIE receipts whose `total` appears among the OCR words, and the
//!   recall of their annotated words, with and without photo clean-up.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use claimscan_imaging::PrepareOptions;
use claimscan_pdf::PageContent;
use claimscan_read::{Format, ReadOptions};
use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;

#[derive(Debug, Parser)]
#[command(name = "extract-bench")]
struct BenchCmd {
    #[command(subcommand)]
    what: BenchWhat,
}

#[derive(Debug, Subcommand)]
enum BenchWhat {
    /// Speed and memory of extraction against the tesseract CLI.
    Extract(ExtractBench),
    /// SROIE: does the receipt's total appear among the OCR words, with and without clean-up?
    Sroie(SroieBench),
    /// Generated invoices with truth: word and field recall by kind, with and without clean-up.
    Truth(TruthBench),
}

#[derive(Debug, Args)]
struct TruthBench {
    /// Files or directories holding documents with `<stem>.truth.json` beside them.
    #[arg(required = true)]
    data: Vec<PathBuf>,
    /// Only the first N documents (sorted by name).
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, short = 'j', default_value_t = 2)]
    jobs: usize,
    /// Only documents of this kind: digital_pdf, scanned_pdf, photo.
    #[arg(long)]
    kind: Option<String>,
    /// Extra clean-up runs beside "without" and the default ("with"): step lists as in
    /// `sroie --steps`, separated by `;`. A list naming `scan` applies to scanned PDF pages
    /// instead of photos, e.g. `scan,lighting,rescale,deskew,text=20`.
    #[arg(long, default_value = "")]
    steps: String,
}

#[derive(Debug, Args)]
struct ExtractBench {
    /// Sample files or directories (digital PDFs, scanned PDFs, photos).
    #[arg(required = true)]
    samples: Vec<PathBuf>,
    /// Repetitions of the digital-PDF loop.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Jobs for the memory run.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// The claimscan binary for the whole-batch memory run (skipped when absent).
    #[arg(long, env = "CLAIMSCAN_BIN")]
    bin: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SroieBench {
    /// The SROIE folder with img/ and key/.
    #[arg(long, default_value = "../shared/data/sroie-train")]
    data: PathBuf,
    /// Only the first N receipts.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, short = 'j', default_value_t = 2)]
    jobs: usize,
    /// Clean-up steps for the "with" run: any of perspective,lighting,rescale,deskew,binarise,
    /// plus `deskew>=D`, `rescale=LO..HI`, `text=H` (target text height in pixels);
    /// several runs separated by `;` (each is compared with the run without clean-up).
    #[arg(long, default_value = "perspective,lighting,rescale,deskew")]
    steps: String,
    /// OCR languages (`auto`, the product default, or e.g. `eng`).
    #[arg(long, default_value = "auto")]
    lang: String,
    /// List the receipts on which the runs disagree.
    #[arg(long)]
    misses: bool,
}

/// Photo clean-up with only the named steps on; `deskew>=D` deskews only from D degrees on.
fn steps(list: &str) -> PrepareOptions {
    let on = |s: &str| list.split(',').any(|x| x.trim() == s);
    let min_skew = list
        .split(',')
        .find_map(|x| x.trim().strip_prefix("deskew>="))
        .and_then(|d| d.parse::<f32>().ok());
    // `rescale=LO..HI`: rescale, but leave factors within LO..HI alone.
    let keep = list
        .split(',')
        .find_map(|x| x.trim().strip_prefix("rescale="))
        .and_then(|r| r.split_once(".."))
        .and_then(|(a, b)| Some((a.parse::<f32>().ok()?, b.parse::<f32>().ok()?)));
    // `text=H`: rescale towards a median text height of H pixels instead of the default.
    let text = list
        .split(',')
        .find_map(|x| x.trim().strip_prefix("text="))
        .and_then(|h| h.parse::<f32>().ok());
    // `sharpen=S:A[:B]`: unsharp masking of sigma S pixels and amount A, of every page or of
    // pages whose edge sharpness is below B; `sharpen=no`: none.
    let sharpen: Option<Vec<f32>> = list
        .split(',')
        .find_map(|x| x.trim().strip_prefix("sharpen="))
        .map(|r| r.split(':').filter_map(|v| v.parse().ok()).collect());
    let (sharpen, sharpen_below) = match sharpen.as_deref() {
        None => (
            PrepareOptions::photo().sharpen,
            PrepareOptions::photo().sharpen_below,
        ),
        Some([s, a]) => (Some((*s, *a)), f32::MAX),
        Some([s, a, b]) => (Some((*s, *a)), *b),
        Some(_) => (None, 0.0),
    };
    PrepareOptions {
        sharpen,
        sharpen_below,
        target_text_height: text.unwrap_or(PrepareOptions::photo().target_text_height),
        keep_scale: keep.unwrap_or(PrepareOptions::photo().keep_scale),
        perspective: on("perspective"),
        normalise_lighting: on("lighting"),
        rescale: on("rescale") || keep.is_some(),
        deskew: on("deskew") || min_skew.is_some(),
        min_skew_degrees: min_skew.unwrap_or(PrepareOptions::photo().min_skew_degrees),
        deblur_shake: on("deblur").then_some((2.5, 2.0)),
        binarise: on("binarise"),
        ..PrepareOptions::photo()
    }
}

/// Read options for one `--steps` run: the steps go to photos, or, when the list names `scan`,
/// to scanned and rendered PDF pages (never with sheet detection).
fn run_options(list: &str, ocr: &claimscan_ocr::OcrOptions) -> ReadOptions {
    let mut opts = ReadOptions {
        ocr: ocr.clone(),
        ..ReadOptions::default()
    };
    if list.split(',').any(|x| x.trim() == "scan") {
        let scan = steps(list);
        opts.scan = PrepareOptions {
            perspective: false,
            // as in the product's scan clean-up unless the list names `sharpen=`
            sharpen: if list.contains("sharpen=") {
                scan.sharpen
            } else {
                PrepareOptions::scan().sharpen
            },
            ..scan
        };
    } else {
        opts.photo = steps(list);
    }
    opts
}

/// Two-sided exact sign test: the chance of a split at least this uneven among `a + b`
/// discordant pairs if either side were equally likely.
fn sign_test(a: usize, b: usize) -> f64 {
    let n = a + b;
    if n == 0 {
        return 1.0;
    }
    let k = a.min(b);
    // P(X <= k) for X ~ Binomial(n, 1/2), summed in logs to stay finite for large n.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_c = 0.0f64; // ln C(n, 0)
    let mut tail = 0.0f64;
    for i in 0..=k {
        if i > 0 {
            ln_c += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        tail += (ln_c + ln_half_n).exp();
    }
    (2.0 * tail).min(1.0)
}

fn main() -> anyhow::Result<()> {
    // cargo bench passes `--bench`; drop it so the subcommands parse.
    let args = std::env::args().filter(|a| a != "--bench");
    BenchCmd::parse_from(args).run()?;
    Ok(())
}

impl BenchCmd {
    fn run(self) -> anyhow::Result<i32> {
        match self.what {
            BenchWhat::Extract(b) => b.run(),
            BenchWhat::Sroie(b) => b.run(),
            BenchWhat::Truth(b) => b.run(),
        }
    }
}

fn files_in(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for i in inputs {
        if i.is_dir() {
            if let Ok(rd) = std::fs::read_dir(i) {
                let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
                v.sort();
                out.extend(v.into_iter().filter(|p| p.is_file()));
            }
        } else {
            out.push(i.clone());
        }
    }
    out
}

fn per_page_ms(d: Duration, pages: usize) -> f64 {
    d.as_secs_f64() * 1000.0 / pages.max(1) as f64
}

/// Runs the tesseract CLI on each image, returning the total wall time.
fn tesseract_cli(images: &[PathBuf], omp_limit: bool) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for img in images {
        let mut cmd = Command::new("tesseract");
        cmd.arg(img)
            .arg("stdout")
            .args(["--psm", "3", "-l", "eng", "tsv"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if omp_limit {
            cmd.env("OMP_THREAD_LIMIT", "1");
        } else {
            cmd.env_remove("OMP_THREAD_LIMIT");
        }
        let status = cmd
            .status()
            .context("cannot run `tesseract` (apt-get install tesseract-ocr, or `make setup`)")?;
        if !status.success() {
            bail!("tesseract failed on {}", img.display());
        }
    }
    Ok(started.elapsed())
}

/// Runs a child process and returns its wall time and peak resident memory in MiB.
fn run_measured(cmd: &mut Command) -> anyhow::Result<(Duration, f64, i32)> {
    let started = Instant::now();
    let mut child = cmd.spawn().context("cannot start the child process")?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, filling status and usage.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    if r < 0 {
        let _ = child.wait();
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((elapsed, usage.ru_maxrss as f64 / 1024.0, code))
}

impl ExtractBench {
    fn run(self) -> anyhow::Result<i32> {
        let files = files_in(&self.samples);
        if files.is_empty() {
            bail!("no sample files");
        }
        let tmp = std::env::temp_dir().join(format!("claimscan-bench-{}", std::process::id()));
        std::fs::create_dir_all(&tmp)?;
        let opts = ReadOptions::default();

        // Classify: digital PDFs (text layer), scanned PDF pages (rendered to PNG), photos.
        let mut digital: Vec<(Vec<u8>, usize)> = Vec::new();
        let mut scan_pages: Vec<PathBuf> = Vec::new();
        let mut photos: Vec<PathBuf> = Vec::new();
        let mut documents: Vec<PathBuf> = Vec::new();
        for f in &files {
            let bytes = std::fs::read(f)?;
            match claimscan_read::detect(&bytes) {
                Ok(Format::Pdf) => {
                    let pages = claimscan_pdf::read(&bytes, &opts.pdf)?;
                    let text = pages
                        .iter()
                        .filter(|p| matches!(p.content, PageContent::TextLayer { .. }))
                        .count();
                    if text == pages.len() {
                        digital.push((bytes, text));
                    }
                    documents.push(f.clone());
                    for p in pages {
                        if let PageContent::Image { image, .. } = p.content {
                            let name = format!(
                                "{}.p{}.png",
                                f.file_stem().unwrap_or_default().to_string_lossy(),
                                p.index + 1
                            );
                            let target = tmp.join(name);
                            image.save(&target)?;
                            scan_pages.push(target);
                        }
                    }
                }
                Ok(Format::Jpeg | Format::Png | Format::Tiff | Format::Webp) => {
                    photos.push(f.clone());
                    documents.push(f.clone());
                }
                _ => {}
            }
        }
        println!(
            "claimscan bench extract — {} documents ({} digital PDFs, {} scanned pages, {} photos)",
            documents.len(),
            digital.len(),
            scan_pages.len(),
            photos.len()
        );
        println!(
            "  machine: {} cores; OMP_THREAD_LIMIT={} in this process",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            std::env::var("OMP_THREAD_LIMIT").unwrap_or_else(|_| "unset".into())
        );

        // 1. Digital PDFs on one core.
        if !digital.is_empty() {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
            let pages: usize = digital.iter().map(|d| d.1).sum();
            // One warm-up pass loads pdfium.
            for (bytes, _) in &digital {
                claimscan_read::read_bytes(bytes, "bench", &opts)?;
            }
            let started = Instant::now();
            pool.install(|| -> anyhow::Result<()> {
                for _ in 0..self.rounds {
                    for (bytes, _) in &digital {
                        claimscan_read::read_bytes(bytes, "bench", &opts)?;
                    }
                }
                Ok(())
            })?;
            let t = started.elapsed();
            let n = pages * self.rounds;
            println!(
                "\ndigital PDF (text layer, no OCR), 1 thread: {n} pages in {:.3} s = {:.0} pages/s ({:.2} ms/page)",
                t.as_secs_f64(),
                n as f64 / t.as_secs_f64(),
                per_page_ms(t, n)
            );
        }

        // 2. OCR: ours (warm engine, in process) against the tesseract CLI, same page images and
        //    the same language (eng), one page at a time on one thread.
        let eng = claimscan_ocr::OcrOptions {
            languages: "eng".into(),
            ..claimscan_ocr::OcrOptions::default()
        };
        let none = ReadOptions {
            photo: PrepareOptions::none(),
            scan: PrepareOptions::none(),
            orientation_retry: false,
            ocr: eng.clone(),
            ..ReadOptions::default()
        };
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
        one.install(|| claimscan_ocr::warm_up(&eng))?;
        one.install(|| claimscan_ocr::warm_up(&opts.ocr))?;
        println!(
            "\nOCR per page, 1 thread (ms/page; ratio = ours / better CLI, language eng for both):"
        );
        let clean_eng = ReadOptions {
            ocr: eng.clone(),
            ..opts.clone()
        };
        println!(
            "  {:<16} {:>5} {:>9} {:>11} {:>11} {:>10} {:>10} {:>10} {:>12}",
            "set",
            "pages",
            "ours: raw",
            "ours: clean",
            "ours: auto",
            "CLI as-is",
            "CLI OMP=1",
            "ratio raw",
            "ratio clean"
        );
        for (label, set, scanned) in [
            ("300-DPI scans", &scan_pages, true),
            ("phone photos", &photos, false),
        ] {
            if set.is_empty() {
                continue;
            }
            // The rendered scan pages are PNG files here, which the reader would take for photos:
            // give them the scan clean-up that scanned PDF pages get in the product.
            let as_product = |o: &ReadOptions| ReadOptions {
                photo: if scanned { o.scan } else { o.photo },
                ..o.clone()
            };
            let (clean_eng, opts) = (as_product(&clean_eng), as_product(&opts));
            let time_ours = |o: &ReadOptions| -> anyhow::Result<Duration> {
                let started = Instant::now();
                for f in set.iter() {
                    let bytes = std::fs::read(f)?;
                    // no_text pages still cost their OCR; only count time.
                    let _ = one.install(|| claimscan_read::read_bytes(&bytes, "bench", o));
                }
                Ok(started.elapsed())
            };
            let ocr_only = time_ours(&none)?;
            let clean = time_ours(&clean_eng)?;
            let full = time_ours(&opts)?;
            let cli_default = tesseract_cli(set, false)?;
            let cli_limited = tesseract_cli(set, true)?;
            let best_cli = cli_default.min(cli_limited);
            println!(
                "  {:<16} {:>5} {:>9.0} {:>11.0} {:>11.0} {:>10.0} {:>10.0} {:>10.2} {:>12.2}",
                label,
                set.len(),
                per_page_ms(ocr_only, set.len()),
                per_page_ms(clean, set.len()),
                per_page_ms(full, set.len()),
                per_page_ms(cli_default, set.len()),
                per_page_ms(cli_limited, set.len()),
                ocr_only.as_secs_f64() / best_cli.as_secs_f64(),
                clean.as_secs_f64() / best_cli.as_secs_f64(),
            );
        }
        println!(
            "  raw = decode + Tesseract (eng) on the same image, no clean-up: the engine alone against the CLI.\n  \
             clean = our OCR path: decode, the photo/scan clean-up (for scans: rescaling to the target text\n  \
             height) and Tesseract (eng), i.e. the product path with the CLI's language.\n  \
             auto = the product default: language detected per document, then read with that language."
        );

        // 3. Peak memory of a whole batch with --jobs N.
        let Some(exe) = self.bin.clone().filter(|b| b.is_file()) else {
            println!("\nwhole batch: skipped (pass --bin path/to/claimscan)");
            let _ = std::fs::remove_dir_all(&tmp);
            return Ok(0);
        };
        let out_dir = tmp.join("out");
        let mut cmd = Command::new(exe);
        cmd.arg("extract")
            .args(["--jobs", &self.jobs.to_string(), "--quiet", "--out"])
            .arg(&out_dir)
            .args(&documents)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let (t, rss, code) = run_measured(&mut cmd)?;
        println!(
            "\nwhole batch: claimscan extract --jobs {} on {} documents: {:.2} s, peak RSS {:.0} MiB (exit {code})",
            self.jobs,
            documents.len(),
            t.as_secs_f64(),
            rss
        );
        let _ = std::fs::remove_dir_all(&tmp);
        Ok(0)
    }
}

/// A word that carries the total: equal to it, or with a currency prefix/suffix around it.
fn word_has_total(word: &str, total: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != ',');
    if w == total {
        return true;
    }
    let stripped = w.trim_start_matches(|c: char| c.is_alphabetic() || c == '$' || c == ':');
    stripped == total
}

impl SroieBench {
    fn run(self) -> anyhow::Result<i32> {
        let img_dir = self.data.join("img");
        let key_dir = self.data.join("key");
        if !img_dir.is_dir() || !key_dir.is_dir() {
            println!("SROIE data not found at {} (skipped)", self.data.display());
            return Ok(0);
        }
        let box_dir = self.data.join("box");
        let mut items: Vec<(PathBuf, String)> = Vec::new();
        let mut imgs: Vec<PathBuf> = std::fs::read_dir(&img_dir)?
            .flatten()
            .map(|e| e.path())
            .collect();
        imgs.sort();
        for img in imgs {
            let stem = img
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let key = key_dir.join(format!("{stem}.json"));
            let Ok(text) = std::fs::read_to_string(&key) else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&text)?;
            if let Some(total) = v.get("total").and_then(|t| t.as_str()) {
                items.push((img, total.trim().to_string()));
            }
        }
        if let Some(n) = self.limit {
            items.truncate(n);
        }
        // The printed words of each receipt, from its annotated text lines (`box/*.csv`:
        // x1,y1,..,x4,y4,text): a word-level measure, far more sensitive than one total per receipt.
        let truth_words: Vec<Vec<String>> = items
            .iter()
            .map(|(img, _)| {
                let stem = img.file_stem().unwrap_or_default().to_string_lossy();
                sroie_words(&box_dir.join(format!("{stem}.csv")))
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.max(1))
            .build()?;
        let ocr = claimscan_ocr::OcrOptions {
            languages: self.lang.clone(),
            ..claimscan_ocr::OcrOptions::default()
        };
        let mut runs: Vec<(String, ReadOptions)> = vec![(
            "without clean-up".into(),
            ReadOptions {
                photo: PrepareOptions::none(),
                scan: PrepareOptions::none(),
                ocr: ocr.clone(),
                ..ReadOptions::default()
            },
        )];
        for list in self.steps.split(';').filter(|l| !l.trim().is_empty()) {
            runs.push((format!("with {}", list.trim()), run_options(list, &ocr)));
        }
        println!(
            "SROIE ({}): receipts whose total appears among the OCR words (languages {})",
            self.data.display(),
            self.lang
        );
        let mut found: Vec<Vec<bool>> = Vec::new();
        let mut recalls: Vec<Vec<usize>> = Vec::new();
        for (label, opts) in &runs {
            let started = Instant::now();
            let (hits, words): (Vec<bool>, Vec<usize>) = pool.install(|| {
                items
                    .par_iter()
                    .zip(truth_words.par_iter())
                    .map(|((img, total), truth)| {
                        let Ok(bytes) = std::fs::read(img) else {
                            return (false, 0);
                        };
                        match claimscan_read::read_bytes(&bytes, &img.display().to_string(), opts) {
                            Ok(doc) => (
                                doc.words().any(|w| word_has_total(&w.text, total)),
                                words_found(
                                    doc.words().map(|w| w.text.as_str()),
                                    truth.iter().map(String::as_str),
                                ),
                            ),
                            Err(_) => (false, 0),
                        }
                    })
                    .unzip()
            });
            let n = hits.iter().filter(|h| **h).count();
            // Paired with the run without clean-up: receipts gained and lost, and the two-sided
            // sign-test p-value of that split (small p: the difference is not luck).
            let paired = found.first().map_or(String::new(), |base| {
                let gained = hits.iter().zip(base).filter(|(h, b)| **h && !**b).count();
                let lost = hits.iter().zip(base).filter(|(h, b)| !**h && **b).count();
                format!(
                    "  +{gained} -{lost} vs without, sign test p={:.3}",
                    sign_test(gained, lost)
                )
            });
            println!(
                "  {label:<48} {n}/{} = {:.1}%  ({:.1} s, {} jobs){paired}",
                items.len(),
                100.0 * n as f64 / items.len().max(1) as f64,
                started.elapsed().as_secs_f64(),
                self.jobs
            );
            let all: usize = truth_words.iter().map(Vec::len).sum();
            let got: usize = words.iter().sum();
            // Paired per receipt: receipts with more printed words read, and with fewer.
            let paired = recalls.first().map_or(String::new(), |base| {
                let better = words.iter().zip(base).filter(|(w, b)| w > b).count();
                let worse = words.iter().zip(base).filter(|(w, b)| w < b).count();
                format!(
                    "  receipts read better {better} / worse {worse}, sign test p={:.3}",
                    sign_test(better, worse)
                )
            });
            println!(
                "  {:<48} word recall {got}/{all} = {:.1}%{paired}",
                "",
                100.0 * got as f64 / all.max(1) as f64
            );
            found.push(hits);
            recalls.push(words);
        }
        if self.misses {
            println!(
                "  receipts where the runs disagree (1 = total found), runs in the order above:"
            );
            for (i, (img, total)) in items.iter().enumerate() {
                let row: Vec<bool> = found.iter().map(|f| f[i]).collect();
                if row.iter().any(|h| *h != row[0]) {
                    let marks: String = row.iter().map(|h| if *h { '1' } else { '0' }).collect();
                    println!(
                        "    {} {marks} total={total}",
                        img.file_name().unwrap_or_default().to_string_lossy()
                    );
                }
            }
        }
        Ok(0)
    }
}

/// The words of a SROIE receipt's annotated text lines (`x1,y1,..,x4,y4,text` per line; the
/// text may itself hold commas). Empty when the file is missing.
fn sroie_words(path: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| line.splitn(9, ',').nth(8))
        .flat_map(|t| t.split_whitespace().map(str::to_string))
        .collect()
}

/// How many of the truth words are among the read words (each read word counts once).
fn words_found<'a, 'b>(
    read: impl Iterator<Item = &'a str>,
    truth: impl Iterator<Item = &'b str>,
) -> usize {
    let mut have: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for w in read {
        *have.entry(w).or_default() += 1;
    }
    truth
        .filter(|t| match have.get_mut(t) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count()
}

/// Truth words found, truth words, fields found, fields.
type Recall = (usize, usize, usize, usize);

/// Recall of one document against its truth (`None`: the document failed to read).
fn truth_recall(doc: Option<&claimscan_doc::Document>, truth: &serde_json::Value) -> Recall {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(|c| c.to_lowercase())
            .collect()
    };
    let page_text: String = doc.map_or(String::new(), |d| squash(&d.text()));
    let (mut ff, mut fnn) = (0, 0);
    let pages = || truth["pages"].as_array().into_iter().flatten();
    let truth_words = || {
        pages()
            .flat_map(|p| p["words"].as_array().into_iter().flatten())
            .filter_map(|w| w[0].as_str())
    };
    let wn = truth_words().count();
    let wf = words_found(
        doc.iter().flat_map(|d| d.words()).map(|w| w.text.as_str()),
        truth_words(),
    );
    for page in pages() {
        for f in page["fields"].as_array().into_iter().flatten() {
            let Some(v) = f["value_text"].as_str() else {
                continue;
            };
            if f["visible"].as_f64().unwrap_or(1.0) < 0.99 {
                continue;
            }
            fnn += 1;
            if page_text.contains(&squash(v)) {
                ff += 1;
            }
        }
    }
    (wf, wn, ff, fnn)
}

impl TruthBench {
    fn run(self) -> anyhow::Result<i32> {
        let mut docs: Vec<(PathBuf, serde_json::Value)> = Vec::new();
        for f in files_in(&self.data) {
            let name = f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if name.ends_with(".json") {
                continue;
            }
            let stem = f
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let truth = f.with_file_name(format!("{stem}.truth.json"));
            let Ok(text) = std::fs::read_to_string(&truth) else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&text)?;
            if let Some(k) = &self.kind {
                if v["kind"].as_str() != Some(k.as_str()) {
                    continue;
                }
            }
            docs.push((f, v));
        }
        if let Some(n) = self.limit {
            docs.truncate(n);
        }
        if docs.is_empty() {
            bail!("no documents with truth found");
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs.max(1))
            .build()?;
        let without = ReadOptions {
            photo: PrepareOptions::none(),
            scan: PrepareOptions::none(),
            ..ReadOptions::default()
        };
        let mut runs: Vec<(String, ReadOptions)> = vec![
            ("without".into(), without),
            ("with".into(), ReadOptions::default()),
        ];
        for list in self.steps.split(';').filter(|l| !l.trim().is_empty()) {
            runs.push((
                list.trim().to_string(),
                run_options(list, &ReadOptions::default().ocr),
            ));
        }
        println!("truth recall on {} documents (word recall: exact words; field recall: printed header values found in the text; a failed document finds nothing)", docs.len());
        println!(
            "  {:<40} {:<12} {:>5} {:>12} {:>12} {:>8} {:>10}",
            "clean-up", "kind", "docs", "word recall", "field recall", "failed", "s/doc"
        );
        for (label, opts) in &runs {
            let results: Vec<(String, Recall, bool, f64)> = pool.install(|| {
                docs.par_iter()
                    .map(|(f, truth)| {
                        let kind = truth["kind"].as_str().unwrap_or("?").to_string();
                        let started = Instant::now();
                        let r = std::fs::read(f).ok().and_then(|b| {
                            claimscan_read::read_bytes(&b, &f.display().to_string(), opts).ok()
                        });
                        let t = started.elapsed().as_secs_f64();
                        // A document that fails to read finds none of its words and values: it
                        // counts in the denominators, so a run cannot gain by failing more.
                        (kind, truth_recall(r.as_ref(), truth), r.is_none(), t)
                    })
                    .collect()
            });
            let mut kinds: Vec<String> = results.iter().map(|r| r.0.clone()).collect();
            kinds.sort();
            kinds.dedup();
            for k in kinds {
                let rs: Vec<_> = results.iter().filter(|r| r.0 == k).collect();
                let (mut wf, mut wn, mut ff, mut fnn, mut failed, mut t) = (0, 0, 0, 0, 0, 0.0);
                for r in &rs {
                    let (a, b, c, d) = r.1;
                    wf += a;
                    wn += b;
                    ff += c;
                    fnn += d;
                    failed += usize::from(r.2);
                    t += r.3;
                }
                println!(
                    "  {:<40} {:<12} {:>5} {:>11.1}% {:>11.1}% {:>8} {:>10.2}",
                    label,
                    k,
                    rs.len(),
                    100.0 * wf as f64 / wn.max(1) as f64,
                    100.0 * ff as f64 / fnn.max(1) as f64,
                    failed,
                    t / rs.len() as f64
                );
            }
        }
        Ok(0)
    }
}
