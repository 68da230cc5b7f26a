//! `claimscan`: the command-line front of the invoice-to-points pipeline.
//!
//! Thin glue: argument parsing and output. The work lives in the library crates.

mod claims;
mod engagement;
mod engagement_service;
mod extract;
mod matching;
mod model;
mod review;
mod run;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status when every input was read.
pub const EXIT_OK: u8 = 0;
/// Exit status for a fatal error (cannot write output, native stack missing, ...).
pub const EXIT_FATAL: u8 = 1;
/// Exit status when some inputs failed (each failure is reported with its code).
pub const EXIT_SOME_FAILED: u8 = 2;
/// Exit status for a usage error.
pub const EXIT_USAGE: u8 = 64;

#[derive(Debug, Parser)]
#[command(
    name = "claimscan",
    version,
    about = "Invoices in, loyalty points out."
)]
struct Cli {
    /// Log filter (also RUST_LOG), e.g. `info`, `claimscan_read=debug`.
    #[arg(long, global = true, env = "CLAIMSCAN_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read PDFs, photos, scans or word JSON into the document model (words, lines, boxes).
    Extract(extract::ExtractCmd),
    /// Check the native stack (pdfium, Tesseract and its languages, ONNX Runtime).
    Doctor,
    /// Match invoice lines to catalog SKUs (or to none).
    Match(matching::MatchCmd),
    /// Score partners for disengagement, plan reactivation challenges, run the engagement worker.
    Engagement(engagement_service::EngagementCmd),
    /// The whole pipeline on one machine: a folder in, claims out (SQLite state, no broker).
    Run(run::RunCmd),
    /// Layout models: check and evaluate side by side (`check`, `eval`); hot swap, rollback and
    /// shadow mode in a running worker (`deploy`, `rollback`, `shadow`, `status`).
    Model(model::ModelCmd),
    /// Run the invoice worker (RabbitMQ, S3, PostgreSQL) until SIGTERM.
    Worker(worker::WorkerCmd),
    /// Put invoice files in object storage and announce them, as the app's backend does.
    Submit(worker::SubmitCmd),
    /// Partner data: right of erasure.
    Partner(worker::PartnerCmd),
    /// The manager review web app (`serve`), its managers (`add-manager`), corrections (`export`).
    Review(review::ReviewCmd),
}

/// Tesseract's OpenMP reads `OMP_THREAD_LIMIT` when the library loads, before `main` runs; if it
/// is not set, run this program again with it set (6x faster OCR on 2 cores).
fn ensure_omp_limit() {
    use std::os::unix::process::CommandExt;
    let (key, value) = claimscan_ocr::OMP_ENV;
    if std::env::var_os(key).is_some() || std::env::var_os("CLAIMSCAN_NO_REEXEC").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(key, value)
        .env("CLAIMSCAN_NO_REEXEC", "1")
        .exec();
    // exec only returns on failure; carry on, slower.
    eprintln!("warning: could not re-execute with {key}={value}: {err}");
}

fn main() -> ExitCode {
    ensure_omp_limit();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let result = match cli.command {
        Command::Extract(cmd) => cmd.run(),
        Command::Doctor => doctor(),
        Command::Match(cmd) => cmd.run(),
        Command::Engagement(cmd) => cmd.run(),
        Command::Run(cmd) => cmd.run(),
        Command::Model(cmd) => cmd.run().map(i32::from),
        Command::Worker(cmd) => cmd.run(),
        Command::Submit(cmd) => cmd.run(),
        Command::Partner(cmd) => cmd.run(),
        Command::Review(cmd) => cmd.run(),
    };
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

fn doctor() -> anyhow::Result<i32> {
    let mut ok = true;
    match claimscan_pdf::pdfium() {
        Ok(_) => println!(
            "pdfium        ok   {}",
            claimscan_native::locate(claimscan_native::Library::Pdfium)?.display()
        ),
        Err(e) => {
            ok = false;
            println!("pdfium        FAIL {e}");
        }
    }
    println!("tesseract     ok   {}", claimscan_ocr::version());
    for lang in ["eng", "fra", "deu", "spa", "ita", "pol", "nld", "por"] {
        let opts = claimscan_ocr::OcrOptions {
            languages: lang.into(),
            ..Default::default()
        };
        match claimscan_ocr::warm_up(&opts) {
            Ok(()) => println!("  language    ok   {lang}"),
            Err(e) => {
                ok = false;
                println!("  language    FAIL {lang}: {e}");
            }
        }
    }
    let omp = claimscan_ocr::omp_limited();
    println!(
        "  OMP_THREAD_LIMIT=1 {}",
        if omp { "set" } else { "NOT set (slow OCR)" }
    );
    match claimscan_native::onnxruntime_info() {
        Ok(info) => println!(
            "onnxruntime   ok   {} ({})",
            claimscan_native::locate(claimscan_native::Library::OnnxRuntime)?.display(),
            info.lines().next().unwrap_or("")
        ),
        Err(e) => {
            ok = false;
            println!("onnxruntime   FAIL {e}");
        }
    }
    Ok(if ok { 0 } else { EXIT_FATAL as i32 })
}
