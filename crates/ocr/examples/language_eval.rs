//! How often [`claimscan_ocr::language_of`] names the language a generated invoice should be read
//! with (its supplier's country's, where that country has one; else the invoice's) from its truth
//! words (no OCR): the words of the top part of page 1 (what the language probe reads), or all
//! of page 1.
//!
//! `cargo run --example language_eval -p claimscan-ocr -- training-data/out/docs`
//!
//! Each share is printed beside whatlang's alone ([`claimscan_ocr::language_by_sound`], the
//! detector before the country and title cues).

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: language_eval DOCS_DIR");
    let code = |l: &str| match l {
        "de" => "deu",
        "en" => "eng",
        "fr" => "fra",
        "it" => "ita",
        "nl" => "nld",
        "pl" => "pol",
        "es" => "spa",
        "pt" => "por",
        _ => "?",
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    entries.sort();
    let fractions = [0.12f32, 0.35, 1.0];
    // the share of the page the product's probe reads (`detect_language`): confusions are listed for it
    const PROBE: usize = 1;
    let mut right = [0usize; 3];
    // whatlang alone (`language_by_sound`), as before the country and title cues
    let mut right_by_sound = [0usize; 3];
    let mut n = 0;
    let mut confusions = std::collections::BTreeMap::<(String, String), usize>::new();
    for path in entries {
        let t: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        let language = code(t["language"].as_str().unwrap_or(""));
        // the model the reader should pick: the supplier's country's, where the country has one
        // language claimscan reads (names and streets carry its letters), else the document's
        let want = claimscan_ocr::country_language(t["country"].as_str().unwrap_or(""))
            .unwrap_or(language);
        let page = &t["pages"][0];
        let height = page["height"].as_f64().unwrap_or(1.0) as f32;
        let words: Vec<(String, f32)> = page["words"]
            .as_array()
            .map(|ws| {
                ws.iter()
                    .map(|w| {
                        (
                            w[0].as_str().unwrap_or("").to_string(),
                            w[1][3].as_f64().unwrap_or(0.0) as f32,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        n += 1;
        for (i, f) in fractions.iter().enumerate() {
            let probe: Vec<&str> = words
                .iter()
                .filter(|(_, y1)| *y1 <= f * height)
                .map(|(w, _)| w.as_str())
                .collect();
            let got = claimscan_ocr::language_of(probe.iter().copied()).unwrap_or("none");
            let by_sound =
                claimscan_ocr::language_by_sound(probe.iter().copied()).unwrap_or("none");
            if by_sound == want {
                right_by_sound[i] += 1;
            }
            if got == want {
                right[i] += 1;
            } else if i == PROBE {
                *confusions
                    .entry((want.to_string(), got.to_string()))
                    .or_default() += 1;
            }
        }
    }
    for (i, f) in fractions.iter().enumerate() {
        println!(
            "top {:.0}% of page 1: {}/{} right ({:.1}%); whatlang alone {}/{} ({:.1}%)",
            f * 100.0,
            right[i],
            n,
            100.0 * right[i] as f64 / n.max(1) as f64,
            right_by_sound[i],
            n,
            100.0 * right_by_sound[i] as f64 / n.max(1) as f64
        );
    }
    println!(
        "confusions at {:.0}% (truth -> detected): {confusions:?}",
        fractions[PROBE] * 100.0
    );
}
