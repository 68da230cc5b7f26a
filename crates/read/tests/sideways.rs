//! A photo of a page turned a quarter the other way from the fixture's: Tesseract reads its lines
//! as vertical text (plausible words in tall boxes), so it reads "well" and only the box shapes
//! show that it is sideways. Measured on generated photos turned this way (rot90 = 3): before the
//! check, 9-11 of every 9-12 such photos per 400-document set gave no line at all.

use claimscan_ocr::OcrOptions;
use claimscan_read::ReadOptions;

#[test]
fn a_photo_turned_a_quarter_is_read_upright_whichever_way_it_was_turned() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../training-data/fixtures/fx10_photo_pt_shadow_rot90.jpg"
    );
    let photo = image::open(path).expect("fixture").to_luma8();
    // the fixture is turned one quarter; half a turn more makes it turned the other quarter
    let other_way = image::imageops::rotate180(&photo);
    let mut png = Vec::new();
    other_way
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    let opts = ReadOptions {
        ocr: OcrOptions {
            languages: "por".into(),
            ..OcrOptions::default()
        },
        ..ReadOptions::default()
    };
    let doc = claimscan_read::read_bytes(&png, "fx10-turned", &opts).expect("read");
    let page = &doc.pages[0];
    assert!(
        page.rotation == 90 || page.rotation == 270,
        "rotation {}",
        page.rotation
    );
    let long: Vec<_> = page.words.iter().filter(|w| w.text.len() >= 4).collect();
    let wide = long
        .iter()
        .filter(|w| w.bbox[2] - w.bbox[0] > w.bbox[3] - w.bbox[1])
        .count();
    assert!(
        wide * 10 >= long.len() * 9,
        "{wide} of {} long words lie flat",
        long.len()
    );
    assert!(
        page.words.iter().any(|w| w.text.contains("INV-75308")),
        "the invoice number is read"
    );
}
