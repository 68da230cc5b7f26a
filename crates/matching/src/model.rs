//! Learned parts of the matcher: ranking weights, probability calibration, decision thresholds and
//! the lexicon of distributor wording (abbreviations / other-language nouns -> catalog words,
//! and noise words). All of it is fitted by [`crate::train`] from confirmed lines of *train*
//! distributors; `default_model.json` (embedded) is the result on the `make match-eval` data
//! (`gen_lines.py --docs 6000`, train split), regenerated with
//! `claimscan match train --catalog DIR/catalog.csv --lines DIR/lines.csv --out crates/matching/src/default_model.json`
//! whenever `NF`, `NP` or the features change (a unit test refuses a JSON that no longer fits).

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// Number of per-candidate features (see [`crate::matcher::FEATURES`]).
pub const NF: usize = 12;
/// Number of probability features (see [`crate::matcher::PROB_FEATURES`]).
pub const NP: usize = 11;

/// Wording learned from confirmed lines.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Lexicon {
    /// A distributor word -> catalog words it stands for (with confidence). A catalog word has an
    /// entry when distributors also use it for other words (`inox` for `stainless`).
    pub expand: FxHashMap<String, Vec<(String, f32)>>,
    /// Words that distributors add and that carry no product information (`ean`, unit words...).
    pub noise: FxHashSet<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    /// Linear ranking weights over the candidate features.
    pub rank: [f32; NF],
    /// Logistic calibration over the probability features -> P(top-1 is the right SKU).
    pub calib: [f32; NP],
    /// Logistic calibration over the probability features -> P(the line is one of our products).
    pub ours: [f32; NP],
    /// `probability >= match_threshold` -> decision `match`.
    pub match_threshold: f32,
    /// Below `match_threshold`: P(ours) `< review_threshold` -> decision `none`, else `review`.
    pub review_threshold: f32,
    /// `[low, high]` of ln(unit price / list price) on confirmed lines (learned: the band that
    /// holds 99.6% of the training lines). A price inside it is "in band" (`price_ok`).
    #[serde(default = "default_price_band")]
    pub price_band: [f32; 2],
    pub lexicon: Lexicon,
    /// P(a line is one of our products | it prints this word), for words printed on enough
    /// confirmed lines: our series names are ~1, competitors' ~0, generic nouns in between.
    #[serde(default)]
    pub ours_words: FxHashMap<String, f32>,
    /// How often distributors print each word (upper-cased, as printed; words with digits left
    /// out), for words on at least two confirmed lines: what an OCR'd description may be made
    /// of. The layout crate's vocabulary splits glued words with it.
    #[serde(default)]
    pub printed_words: BTreeMap<String, u32>,
}

/// +-12.5% around the list price, before any training.
fn default_price_band() -> [f32; 2] {
    [-0.125, 0.125]
}

impl Default for Model {
    /// Hand-set starting point (used before any training and in unit tests of training).
    fn default() -> Self {
        Model {
            rank: [
                4.0, 2.0, 6.0, -2.0, -0.5, -3.0, 0.5, 1.0, 1.0, 10.0, 1.0, 1.0,
            ],
            calib: [1.0, 1.0, 2.0, 0.0, 2.0, 0.5, -2.0, 1.0, 0.0, 0.0, -6.0],
            ours: [0.5, 0.0, 6.0, 0.0, 2.0, 0.5, -6.0, 0.0, 0.0, 0.0, -3.0],
            match_threshold: 0.9,
            review_threshold: 0.2,
            price_band: default_price_band(),
            lexicon: Lexicon::default(),
            ours_words: FxHashMap::default(),
            printed_words: BTreeMap::new(),
        }
    }
}

static DEFAULT_JSON: &str = include_str!("default_model.json");

impl Model {
    /// The model trained on the default training data (train distributors only).
    pub fn trained_default() -> Model {
        // a JSON that no longer fits NF/NP must fail loudly (a unit test loads it), not fall back
        serde_json::from_str(DEFAULT_JSON).expect("embedded default_model.json fits NF and NP")
    }

    pub fn from_json(s: &str) -> Result<Model, serde_json::Error> {
        serde_json::from_str(s)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("model serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_model_fits_the_feature_counts() {
        let m: Model = serde_json::from_str(DEFAULT_JSON).expect("default_model.json parses");
        assert!(m.rank.iter().any(|w| *w != 0.0));
        assert!(!m.lexicon.expand.is_empty());
    }
}
