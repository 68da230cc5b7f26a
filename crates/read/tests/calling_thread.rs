//! Its own test binary (one process, one test), so the process-wide engine count is this test's.

use claimscan_ocr::OcrOptions;
use claimscan_read::ReadOptions;

#[test]
fn scanned_pages_read_outside_a_rayon_pool_are_ocrd_on_the_calling_thread() {
    // Two scanned pages (the Spanish scan twice): with one page, rayon would run the batch
    // inline on the calling thread anyway; two make it split into its pool.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../training-data/fixtures/fx06_scan_es.pdf"
    );
    let one = std::fs::read(path).expect("fixture");
    let pdfium = claimscan_pdf::pdfium().expect("pdfium");
    let scan = pdfium
        .load_pdf_from_byte_slice(&one, None)
        .expect("fixture opens");
    let mut two = pdfium.create_new_pdf().expect("new pdf");
    two.pages_mut().append(&scan).expect("append");
    two.pages_mut().append(&scan).expect("append");
    let bytes = two.save_to_bytes().expect("save");
    drop((two, scan));
    let opts = ReadOptions {
        ocr: OcrOptions {
            languages: "spa".into(),
            ..OcrOptions::default()
        },
        ..ReadOptions::default()
    };
    // A plain OS thread, outside any rayon pool (the worker runs its jobs inside the pool of its
    // extraction threads instead: `threads::tests::a_jobs_own_parallel_work_runs_on_the_extraction_threads`).
    std::thread::spawn(move || {
        let doc = claimscan_read::read_bytes(&bytes, "fx06", &opts).expect("read");
        assert_eq!(doc.pages.len(), 2);
        assert!(doc.pages.iter().all(|p| p.words.len() > 50));
        assert_eq!(
            claimscan_ocr::engines_on_this_thread(),
            1,
            "the page's engine lives here"
        );
        assert_eq!(
            claimscan_ocr::engines_created(),
            1,
            "and no other thread built one"
        );
    })
    .join()
    .expect("reader thread");
}
