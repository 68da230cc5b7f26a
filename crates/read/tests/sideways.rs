//! A photo of a page turned a quarter the other way from the fixture's: Tesseract reads its lines
//! as vertical text (plausible words in tall boxes), so it reads "well" and only the box shapes
//! show that it is sideways. Measured on generated photos turned this way (rot90 = 3): before the
//! check, 9-11 of every 9-12 such photos per 400-document set gave no line at all.

use claimscan_ocr::OcrOptions;
use claimscan_read::ReadOptions;

/// Fixture fx10, a Portuguese photo turned a quarter, in gray.
fn fx10() -> image::GrayImage {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../training-data/fixtures/fx10_photo_pt_shadow_rot90.jpg"
    );
    image::open(path).expect("fixture").to_luma8()
}

/// Reads an encoded picture in Portuguese and checks that its page was found turned a quarter.
fn read_upright(bytes: &[u8], name: &str) -> claimscan_doc::Document {
    let opts = ReadOptions {
        ocr: OcrOptions {
            languages: "por".into(),
            ..OcrOptions::default()
        },
        ..ReadOptions::default()
    };
    let doc = claimscan_read::read_bytes(bytes, name, &opts).expect("read");
    let page = &doc.pages[0];
    assert!(
        page.rotation == 90 || page.rotation == 270,
        "rotation {}",
        page.rotation
    );
    doc
}

#[test]
fn a_photo_turned_a_quarter_is_read_upright_whichever_way_it_was_turned() {
    let photo = fx10();
    // the fixture is turned one quarter; half a turn more makes it turned the other quarter
    let other_way = image::imageops::rotate180(&photo);
    let mut png = Vec::new();
    other_way
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    let doc = read_upright(&png, "fx10-turned");
    let page = &doc.pages[0];
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

/// The same photo, turned a quarter, also shaken sideways by 7 pixels (before JPEG, as a phone
/// would): the shake retry measures the blur on the picture as taken and reads the page turned
/// upright. Before, the retry ran only on photos read the right way up, so a turned, shaken
/// photo kept its blurred read (7 of set-r's 27 shaken train photos were turned).
#[test]
fn a_turned_shaken_photo_gets_the_shake_retry() {
    let photo = fx10();
    const LEN: u32 = 7;
    let (w, h) = photo.dimensions();
    let shaken = image::GrayImage::from_fn(w, h, |x, y| {
        let sum: u32 = (0..LEN)
            .map(|i| {
                let xx = (x + i).saturating_sub(LEN / 2).min(w - 1);
                u32::from(photo.get_pixel(xx, y)[0])
            })
            .sum();
        image::Luma([(sum / LEN) as u8])
    });
    let mut jpg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpg, 88)
        .encode_image(&shaken)
        .expect("encode");
    let doc = read_upright(&jpg, "fx10-shaken");
    let page = &doc.pages[0];
    let info = page.preprocessing.as_ref().expect("clean-up recorded");
    let [length, angle] = info.motion_blur.expect("the shake was divided out");
    assert!((length - LEN as f32).abs() <= 1.5, "length {length}");
    assert!(
        angle.abs() <= 15.0 || (180.0 - angle.abs()) <= 15.0,
        "angle {angle}"
    );
}
