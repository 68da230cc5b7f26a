//! Finds claimscan's native libraries and loads ONNX Runtime.
//!
//! `scripts/setup.sh` unpacks pinned `libpdfium.so` and `libonnxruntime.so` into `.native/lib` of
//! the checkout. At run time each library is looked for, in order:
//! 1. its own variable, `CLAIMSCAN_PDFIUM` / `CLAIMSCAN_ONNXRUNTIME` (a file path);
//! 2. `CLAIMSCAN_LIB_DIR` (a directory);
//! 3. `lib/` beside the executable, then `../lib/claimscan` (an installed layout);
//! 4. the checkout's `.native/lib` (the path this crate was built from);
//! 5. `/usr/local/lib/claimscan`.
//!
//! A missing library is an error that names the library, where it was looked for and the command
//! that installs it. Tesseract is a Debian package linked at build time and needs no lookup.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The command that installs the native stack; shown in every "missing library" error.
pub const INSTALL_HINT: &str = "run `make setup` (scripts/setup.sh) in the claimscan checkout, \
or point CLAIMSCAN_LIB_DIR at a directory that holds it";

/// A native library claimscan loads at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    Pdfium,
    OnnxRuntime,
}

impl Library {
    /// File names tried in each directory, preferred first.
    pub fn file_names(self) -> &'static [&'static str] {
        match self {
            Library::Pdfium => &["libpdfium.so"],
            Library::OnnxRuntime => &["libonnxruntime.so", "libonnxruntime.so.1.31.1"],
        }
    }

    /// The variable that names this library's file directly.
    pub fn env_var(self) -> &'static str {
        match self {
            Library::Pdfium => "CLAIMSCAN_PDFIUM",
            Library::OnnxRuntime => "CLAIMSCAN_ONNXRUNTIME",
        }
    }
}

/// Errors loading the native stack.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error("native library {name} not found (looked in: {searched}); {hint}", searched = display_paths(.searched), hint = INSTALL_HINT)]
    Missing {
        name: &'static str,
        searched: Vec<PathBuf>,
    },
    #[error("could not load {path}: {message}; {hint}", hint = INSTALL_HINT)]
    Load { path: PathBuf, message: String },
}

impl NativeError {
    /// Stable error code.
    pub fn code(&self) -> &'static str {
        "native_library_missing"
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Directories searched for native libraries, in order (see the crate documentation).
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("CLAIMSCAN_LIB_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(bin) = exe.parent() {
            dirs.push(bin.join("lib"));
            dirs.push(bin.join("../lib/claimscan"));
        }
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.native/lib"));
    dirs.push(PathBuf::from("/usr/local/lib/claimscan"));
    dirs
}

/// Finds a library's file, or says where it looked.
pub fn locate(lib: Library) -> Result<PathBuf, NativeError> {
    let name = lib.file_names()[0];
    if let Some(path) = std::env::var_os(lib.env_var()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(NativeError::Missing {
                name,
                searched: vec![path],
            })
        };
    }
    let mut searched = Vec::new();
    for dir in search_dirs() {
        for file in lib.file_names() {
            let candidate = dir.join(file);
            if candidate.is_file() {
                return Ok(candidate.canonicalize().unwrap_or(candidate));
            }
        }
        searched.push(dir);
    }
    Err(NativeError::Missing { name, searched })
}

static ORT_ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime once per process and returns its environment.
///
/// Uses `ort::init_from` (an error, never a panic, on a missing or wrong library).
pub fn onnxruntime() -> Result<&'static ort::environment::Environment, NativeError> {
    let path = locate(Library::OnnxRuntime)?;
    let env = ORT_ENV.get_or_init(|| {
        ort::init_from(&path)
            .map_err(|e| e.to_string())?
            .with_name("claimscan")
            .build()
            .map_err(|e| e.to_string())
    });
    env.as_ref().map_err(|message| NativeError::Load {
        path,
        message: message.clone(),
    })
}

/// ONNX Runtime's build description, after loading it.
pub fn onnxruntime_info() -> Result<String, NativeError> {
    onnxruntime()?;
    Ok(ort::info().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_error_names_library_and_install_command() {
        let err = NativeError::Missing {
            name: "libpdfium.so",
            searched: vec![PathBuf::from("/nowhere")],
        };
        let msg = err.to_string();
        assert!(msg.contains("libpdfium.so"), "{msg}");
        assert!(msg.contains("/nowhere"), "{msg}");
        assert!(msg.contains("make setup"), "{msg}");
        assert_eq!(err.code(), "native_library_missing");
    }

    #[test]
    fn checkout_native_dir_is_searched() {
        let dirs = search_dirs();
        assert!(dirs.iter().any(|d| d.ends_with(".native/lib")));
    }
}
