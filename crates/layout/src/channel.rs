//! What OCR does to printed characters, learned by comparing words read with the words printed
//! (a noisy channel), and the description words it explains.
//!
//! The confusion table of [`crate::vocabulary`] knows a dozen shapes (`0/O`, `5/S`, ...). Photos
//! and scans go wrong in more ways: `Pane!` for `Panel`, `rn` read as `m`, `ci` as `d`, a letter
//! lost at a blurred edge. Rather than type them in, [`Channel::learn`] counts them: each word
//! of a wrongly read description is aligned with the printed word (edit distance, adjacent
//! substitution and deletion or insertion merged into one two-character edit), and every edit
//! and every printed character is counted. The cost of reading `printed` as `read` is then
//! `-ln P(read | printed)` under those counts, by the cheapest alignment.
//!
//! A description word that is neither a catalog word nor a word distributors print is replaced
//! by a known word `w` only when `w` explains it far better than the word itself does
//! (`cost(w -> read) - ln P(w)` below `cost(read -> read) + UNKNOWN_WORD + UNKNOWN_CHAR x
//! length`) and no other known word comes close ([`MARGIN`]). A distributor's own typo
//! (`Grlile`: two letters swapped, which OCR does not do) stays, as it was printed.
//!
//! The shipped table (`ocr_channel.json`) is learned from the train split of generated
//! documents read by this repository's own pipeline: `claimscan model channel` (see
//! `pipelines/layout/README.md`).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// Cost of an edit never seen in learning (one character for another, one lost or added).
const UNSEEN: f64 = 16.0;

/// Cost of a character added or lost: never worth a correction. Distributors' own typos double,
/// drop and swap letters (`GRIIGLIA`, `BRONPOM`, `Merlagen`), OCR glues specks to words; on the
/// train split of set-r, corrections that added or removed letters spoiled 20 correctly read
/// words for each 10 they fixed.
const INDEL: f64 = 100.0;

/// Fewest times a two-character edit must have been seen to be used.
const MIN_MULTI: u32 = 2;

/// `-ln` of the share of description words that are unknown words printed as they are.
pub const UNKNOWN_WORD: f64 = 6.0;

/// `-ln` of the probability of each character of an unknown word.
pub const UNKNOWN_CHAR: f64 = 2.5;

/// How much better (in `-ln` probability) the best known word must be than the next one.
pub const MARGIN: f64 = 2.0;

/// Counts of what OCR read for what was printed (upper case).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Channel {
    /// Where the counts come from.
    pub source: String,
    /// Words aligned, and how many of them were read wrong.
    pub words: u64,
    pub words_wrong: u64,
    /// printed -> read -> times seen; printed and read are 0-2 characters, `""` printed is an
    /// added character, `""` read a lost one. Characters read right are counted as `a -> a`.
    pub edits: BTreeMap<String, BTreeMap<String, u32>>,
    /// How often each one and two characters were printed; `""`: places an added character
    /// could go (characters + 1 per word).
    pub printed: BTreeMap<String, u32>,
    #[serde(skip)]
    costs: Costs,
}

/// `-ln P(read | printed)` of each edit seen, keyed by characters (`None`: no character).
#[derive(Debug, Clone, Default)]
struct Costs {
    one: HashMap<(Option<char>, Option<char>), f64>,
    /// two printed characters read as one (`rn -> m`)
    merge: HashMap<(char, char, char), f64>,
    /// one printed character read as two (`ü -> ii`)
    split: HashMap<(char, char, char), f64>,
}

/// The decision rule: how unlikely an unknown word is, and how far ahead the best known word
/// must be.
#[derive(Debug, Clone, Copy)]
pub struct Threshold {
    pub unknown_word: f64,
    pub unknown_char: f64,
    pub margin: f64,
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold {
            unknown_word: UNKNOWN_WORD,
            unknown_char: UNKNOWN_CHAR,
            margin: MARGIN,
        }
    }
}

static DEFAULT_JSON: &str = include_str!("ocr_channel.json");

impl Channel {
    /// The channel learned from this repository's OCR path, shipped with the crate.
    pub fn trained_default() -> Channel {
        Channel::from_json(DEFAULT_JSON).unwrap_or_default()
    }

    /// A table written by `claimscan model channel --out`.
    pub fn from_json(text: &str) -> Result<Channel, serde_json::Error> {
        serde_json::from_str::<Channel>(text).map(Channel::prepared)
    }

    /// Counts edits over (printed, read) word pairs.
    pub fn learn<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, source: &str) -> Channel {
        let mut c = Channel {
            source: source.to_string(),
            ..Channel::default()
        };
        for (printed, read) in pairs {
            let p: Vec<char> = printed.to_uppercase().chars().collect();
            let r: Vec<char> = read.to_uppercase().chars().collect();
            c.words += 1;
            if p != r {
                c.words_wrong += 1;
            }
            for (i, ch) in p.iter().enumerate() {
                *c.printed.entry(ch.to_string()).or_default() += 1;
                if let Some(n) = p.get(i + 1) {
                    *c.printed.entry(format!("{ch}{n}")).or_default() += 1;
                }
            }
            *c.printed.entry(String::new()).or_default() += p.len() as u32 + 1;
            for (a, b) in align(&p, &r) {
                *c.edits.entry(a).or_default().entry(b).or_default() += 1;
            }
        }
        c.prepared()
    }

    /// Fills the cost table from the counts.
    fn prepared(mut self) -> Channel {
        let mut costs = Costs::default();
        for (a, reads) in &self.edits {
            let base = f64::from(self.printed.get(a).copied().unwrap_or(0)).max(1.0);
            let pa: Vec<char> = a.chars().collect();
            for (b, n) in reads {
                let rb: Vec<char> = b.chars().collect();
                let cost = -(f64::from(*n) / (base + 1.0)).min(1.0).ln();
                match (pa.as_slice(), rb.as_slice()) {
                    // a character added or lost is left at [`INDEL`]: distributors' own
                    // typos double and drop letters too, so it tells nothing apart
                    ([], [_]) | ([_], []) => {}
                    ([x], [y]) => {
                        costs.one.insert((Some(*x), Some(*y)), cost);
                    }
                    ([x, z], [y]) if *n >= MIN_MULTI => {
                        costs.merge.insert((*x, *z, *y), cost);
                    }
                    ([x], [y, z]) if *n >= MIN_MULTI => {
                        costs.split.insert((*x, *y, *z), cost);
                    }
                    _ => {}
                }
            }
        }
        self.costs = costs;
        self
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// `-ln P(read | printed)` by the cheapest alignment (both upper case).
    pub fn cost(&self, printed: &str, read: &str) -> f64 {
        let p: Vec<char> = printed.chars().collect();
        let r: Vec<char> = read.chars().collect();
        let (m, n) = (p.len(), r.len());
        let w = n + 1;
        let mut d = vec![f64::INFINITY; (m + 1) * w];
        d[0] = 0.0;
        for i in 0..=m {
            for j in 0..=n {
                let mut best = d[i * w + j];
                if i > 0 && j > 0 {
                    best = best
                        .min(d[(i - 1) * w + j - 1] + self.edit(Some(p[i - 1]), Some(r[j - 1])));
                }
                if i > 0 {
                    best = best.min(d[(i - 1) * w + j] + self.edit(Some(p[i - 1]), None));
                }
                if j > 0 {
                    best = best.min(d[i * w + j - 1] + self.edit(None, Some(r[j - 1])));
                }
                if i > 1 && j > 0 {
                    if let Some(c) = self.costs.merge.get(&(p[i - 2], p[i - 1], r[j - 1])) {
                        best = best.min(d[(i - 2) * w + j - 1] + c);
                    }
                }
                if i > 0 && j > 1 {
                    if let Some(c) = self.costs.split.get(&(p[i - 1], r[j - 2], r[j - 1])) {
                        best = best.min(d[(i - 1) * w + j - 2] + c);
                    }
                }
                d[i * w + j] = best;
            }
        }
        d[m * w + n]
    }

    /// Cost of one single-character edit (or of a character read right).
    fn edit(&self, a: Option<char>, b: Option<char>) -> f64 {
        if let Some(c) = self.costs.one.get(&(a, b)) {
            return *c;
        }
        if a == b {
            // a character never seen printed is read right like most
            return 0.02;
        }
        if a.is_none() || b.is_none() {
            return INDEL;
        }
        UNSEEN
    }
}

/// Edits turning `p` into `r` by a least-edits alignment, characters read right included as
/// `(a, a)`; a substitution next to a lost or added character becomes one two-character edit
/// (`rn -> m`, `ü -> ii`).
fn align(p: &[char], r: &[char]) -> Vec<(String, String)> {
    let (m, n) = (p.len(), r.len());
    let mut d = vec![vec![0u32; n + 1]; m + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as u32;
    }
    for (j, x) in d[0].iter_mut().enumerate() {
        *x = j as u32;
    }
    for i in 1..=m {
        for j in 1..=n {
            let sub = d[i - 1][j - 1] + u32::from(p[i - 1] != r[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    // back from the end: diagonal first
    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        Keep(char),
        Sub(char, char),
        Del(char),
        Ins(char),
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (m, n);
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + u32::from(p[i - 1] != r[j - 1]) {
            ops.push(if p[i - 1] == r[j - 1] {
                Op::Keep(p[i - 1])
            } else {
                Op::Sub(p[i - 1], r[j - 1])
            });
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j] + 1 {
            ops.push(Op::Del(p[i - 1]));
            i -= 1;
        } else {
            ops.push(Op::Ins(r[j - 1]));
            j -= 1;
        }
    }
    ops.reverse();
    let mut out = Vec::new();
    let mut k = 0;
    while k < ops.len() {
        let next = ops.get(k + 1).copied();
        let pair = match (ops[k], next) {
            (Op::Sub(a, b), Some(Op::Del(c))) => Some((format!("{a}{c}"), b.to_string())),
            (Op::Del(c), Some(Op::Sub(a, b))) => Some((format!("{c}{a}"), b.to_string())),
            (Op::Sub(a, b), Some(Op::Ins(c))) => Some((a.to_string(), format!("{b}{c}"))),
            (Op::Ins(c), Some(Op::Sub(a, b))) => Some((a.to_string(), format!("{c}{b}"))),
            _ => None,
        };
        if let Some(e) = pair {
            out.push(e);
            k += 2;
            continue;
        }
        out.push(match ops[k] {
            Op::Keep(a) => (a.to_string(), a.to_string()),
            Op::Sub(a, b) => (a.to_string(), b.to_string()),
            Op::Del(a) => (a.to_string(), String::new()),
            Op::Ins(b) => (String::new(), b.to_string()),
        });
        k += 1;
    }
    out
}

/// Pairs the words of a read description with those of the printed one: position by position
/// when both have as many words, else by a least-cost word alignment in which only words at
/// most half different pair up. Pairs are (printed, read).
pub fn word_pairs<'a>(printed: &'a str, read: &'a str) -> Vec<(&'a str, &'a str)> {
    let p: Vec<&str> = printed.split_whitespace().collect();
    let r: Vec<&str> = read.split_whitespace().collect();
    let near = |a: &str, b: &str| {
        let d = strsim::levenshtein(&a.to_uppercase(), &b.to_uppercase());
        (d as f64) <= 0.5 * a.chars().count().max(b.chars().count()) as f64
    };
    if p.len() == r.len() {
        return p.into_iter().zip(r).filter(|(a, b)| near(a, b)).collect();
    }
    let (m, n) = (p.len(), r.len());
    let cost = |a: &str, b: &str| {
        let d = strsim::levenshtein(&a.to_uppercase(), &b.to_uppercase()) as f64;
        d / a.chars().count().max(b.chars().count()).max(1) as f64
    };
    let mut d = vec![vec![0.0f64; n + 1]; m + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as f64;
    }
    for (j, x) in d[0].iter_mut().enumerate() {
        *x = j as f64;
    }
    for i in 1..=m {
        for j in 1..=n {
            d[i][j] = (d[i - 1][j - 1] + 2.0 * cost(p[i - 1], r[j - 1]))
                .min(d[i - 1][j] + 1.0)
                .min(d[i][j - 1] + 1.0);
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (m, n);
    while i > 0 && j > 0 {
        if d[i][j] == d[i - 1][j - 1] + 2.0 * cost(p[i - 1], r[j - 1]) {
            if near(p[i - 1], r[j - 1]) {
                out.push((p[i - 1], r[j - 1]));
            }
            i -= 1;
            j -= 1;
        } else if d[i][j] == d[i - 1][j] + 1.0 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learned() -> Channel {
        let mut pairs = Vec::new();
        for _ in 0..40 {
            pairs.push(("PANEL", "PANE!"));
            pairs.push(("CORNER", "COMER"));
            pairs.push(("RADIATOR", "RADIATOR"));
            pairs.push(("LÜFTUNG", "LIIFTUNG"));
        }
        for _ in 0..400 {
            pairs.push(("ELBOW", "ELBOW"));
            pairs.push(("PANEL", "PANEL"));
        }
        Channel::learn(pairs, "test")
    }

    #[test]
    fn alignment_merges_two_character_edits() {
        let a = |p: &str, r: &str| {
            let p: Vec<char> = p.chars().collect();
            let r: Vec<char> = r.chars().collect();
            align(&p, &r)
                .into_iter()
                .filter(|(x, y)| x != y)
                .collect::<Vec<_>>()
        };
        assert_eq!(a("PANEL", "PANE!"), [("L".into(), "!".into())]);
        assert_eq!(a("CORNER", "COMER"), [("RN".into(), "M".into())]);
        assert_eq!(a("LÜFT", "LIIFT"), [("Ü".into(), "II".into())]);
        assert_eq!(a("ABC", "ABC"), Vec::<(String, String)>::new());
    }

    #[test]
    fn learned_edits_are_cheap_and_unseen_ones_dear() {
        let c = learned();
        let right = c.cost("PANEL", "PANEL");
        assert!(right < 0.5, "{right}");
        let seen = c.cost("PANEL", "PANE!");
        assert!(seen < 4.0, "{seen}");
        assert!(c.cost("CORNER", "COMER") < 5.0);
        // two letters swapped: never seen, two dear edits
        assert!(c.cost("GRILLE", "GRLILE") > 2.0 * UNSEEN - 1.0);
        // the table survives a round trip through JSON
        let back = Channel::from_json(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.cost("PANEL", "PANE!"), seen);
    }

    #[test]
    fn words_pair_by_position_or_alignment() {
        assert_eq!(
            word_pairs("Panel radiator 300", "Pane! radiator 300"),
            [("Panel", "Pane!"), ("radiator", "radiator"), ("300", "300")]
        );
        assert_eq!(
            word_pairs("Panel radiator type 22", "Pane! radiator 22"),
            [("Panel", "Pane!"), ("radiator", "radiator"), ("22", "22")]
        );
        // nothing alike: no pair
        assert_eq!(word_pairs("ELBOW", "zzzzzz"), Vec::<(&str, &str)>::new());
    }
}
