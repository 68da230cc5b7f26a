//! Every kind of bad upload ends as a clear error with a stable code, read with the real pdfium
//! and Tesseract; none of them panics or takes the process down.

use std::time::Instant;

use claimscan::{bomb_png, minimal_pdf, no_text_photo};
use claimscan_doc::PageSource;
use claimscan_read::{read_bytes, ReadOptions};

fn code_of(bytes: &[u8]) -> String {
    match read_bytes(bytes, "upload", &ReadOptions::default()) {
        Ok(doc) => panic!("expected an error, read {} pages", doc.pages.len()),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            e.code().to_string()
        }
    }
}

#[test]
fn digital_pdf_reads_from_text_layer_with_boxes_at_300_dpi() {
    let pdf = minimal_pdf(1, "INVOICE 2024-118 Total 1,234.56 EUR");
    let doc = read_bytes(&pdf, "min.pdf", &ReadOptions::default()).unwrap();
    assert_eq!(doc.source.format, "pdf");
    let page = &doc.pages[0];
    assert_eq!(page.source, PageSource::TextLayer);
    assert!((page.width - 595.0 * 300.0 / 72.0).abs() < 1.0);
    let texts: Vec<&str> = page.words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(
        texts,
        ["INVOICE", "2024-118", "Total", "1,234.56", "EUR", "Page", "1", "of", "1"]
    );
    // "INVOICE" starts at x = 72 pt = 300 px; its baseline is at 842 - 770 = 72 pt = 300 px from
    // the top. Its box is the font's line box: Helvetica's ascender above the baseline, its
    // descender (0.207 em) below.
    let b = page.words[0].bbox;
    assert!((b[0] - 300.0).abs() < 6.0, "{b:?}");
    assert!(b[1] < 290.0 && b[3] > 302.0 && b[3] < 320.0, "{b:?}");
    assert_eq!(page.lines[0].text, "INVOICE 2024-118 Total 1,234.56 EUR");
}

#[test]
fn empty_file() {
    assert_eq!(code_of(b""), "empty_file");
}

#[test]
fn truncated_pdf() {
    let pdf = minimal_pdf(2, "INVOICE 42 Total 10.00");
    let cut = &pdf[..pdf.len() / 3];
    assert_eq!(code_of(cut), "pdf_corrupt");
}

#[test]
fn garbage_after_pdf_header() {
    let mut junk = b"%PDF-1.7\n".to_vec();
    junk.extend((0..5000u32).map(|i| (i * 7919 % 251) as u8));
    assert_eq!(code_of(&junk), "pdf_corrupt");
}

#[test]
fn encrypted_pdf() {
    let dir = std::env::temp_dir().join(format!("claimscan-enc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("plain.pdf");
    let enc = dir.join("enc.pdf");
    std::fs::write(&plain, minimal_pdf(1, "INVOICE secret Total 99.00")).unwrap();
    let status = std::process::Command::new("qpdf")
        .args(["--encrypt", "user-pw", "owner-pw", "256", "--"])
        .arg(&plain)
        .arg(&enc)
        .status()
        .expect("qpdf is installed by scripts/setup.sh");
    assert!(status.success());
    let bytes = std::fs::read(&enc).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code_of(&bytes), "pdf_encrypted");
}

#[test]
fn too_many_pages_is_refused_before_reading_them() {
    assert_eq!(code_of(&minimal_pdf(21, "x")), "pdf_too_many_pages");
    // A 900-page file costs a page count, not 900 pages.
    let big = minimal_pdf(900, "INVOICE");
    let t = Instant::now();
    assert_eq!(code_of(&big), "pdf_too_many_pages");
    assert!(t.elapsed().as_secs_f32() < 5.0, "{:?}", t.elapsed());
    // The limit is configurable.
    let mut opts = ReadOptions::default();
    opts.pdf.max_pages = 30;
    let doc = read_bytes(&minimal_pdf(21, "INVOICE 7 Total 3.00"), "ok", &opts).unwrap();
    assert_eq!(doc.pages.len(), 21);
}

#[test]
fn decompression_bomb_is_refused_from_the_header() {
    let bomb = bomb_png(8000, 8000); // 64 MP decoded, a few KB on disk
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let t = Instant::now();
    assert_eq!(code_of(&bomb), "image_too_large");
    assert!(t.elapsed().as_millis() < 500, "{:?}", t.elapsed());
}

#[test]
fn unsupported_formats() {
    assert_eq!(
        code_of(b"PK\x03\x04\x14\0\0\0\x08\0zipzipzip"),
        "unsupported_format"
    );
    assert_eq!(
        code_of(b"just some text, not a document"),
        "unsupported_format"
    );
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\0";
    let err = read_bytes(heic, "IMG_0001.HEIC", &ReadOptions::default()).unwrap_err();
    assert_eq!(err.code(), "unsupported_format");
    assert!(err.to_string().contains("HEIC"));
}

#[test]
fn corrupt_images() {
    let mut jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
    jpeg.extend((0..3000u32).map(|i| (i * 31 % 256) as u8));
    assert_eq!(code_of(&jpeg), "image_corrupt");
    let png = &bomb_png(64, 64)[..40];
    assert_eq!(code_of(png), "image_corrupt");
}

#[test]
fn a_photo_without_text_is_no_text() {
    assert_eq!(code_of(&no_text_photo()), "no_text");
}

#[test]
fn invalid_word_json() {
    assert_eq!(
        code_of(b"{\"pages\": [{\"width\": 10}]}"),
        "invalid_words_json"
    );
}

#[test]
fn file_size_limit() {
    let opts = ReadOptions {
        max_file_bytes: 100,
        ..Default::default()
    };
    let err = read_bytes(&minimal_pdf(1, "x"), "big", &opts).unwrap_err();
    assert_eq!(err.code(), "file_too_large");
}
