//! The decode path of untrusted uploads: format detection, image header checks and decoding
//! (with small limits so the fuzzer explores parsing, not allocation), and word JSON parsing.
//! PDFs go through pdfium, a C++ library outside the fuzzer's instrumentation; `read_bytes` still
//! runs them so a crash there would show, but OCR is skipped by the small pixel limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = claimscan_read::detect(data);
    let limits = claimscan_imaging::DecodeLimits {
        max_pixels: 1_000_000,
        max_alloc: 64 * 1024 * 1024,
    };
    if let Ok(decoded) = claimscan_imaging::decode(data, limits) {
        let (w, h) = (decoded.image.width(), decoded.image.height());
        assert!(w as u64 * h as u64 <= limits.max_pixels);
    }
    let _ = claimscan_doc::WordsInput::parse(data).map(|w| w.into_pages());
});
