//! The index over the catalog, candidate retrieval and scoring.
//!
//! * tokens of every name go into an inverted index (token -> products), weighted by IDF;
//! * a character-trigram index over the *vocabulary* maps unknown query words (typos, truncated
//!   words) to catalog words, and the learned [`Lexicon`] maps distributor abbreviations;
//! * candidates = products sharing the rarer query words (very common words are skipped in
//!   retrieval, so a query never walks the catalog) + exact GTIN / maker code / SKU hits;
//! * each candidate gets [`FEATURES`]; a linear ranker orders them; a logistic calibration of the
//!   top candidate gives the probability of being right; thresholds give the decision.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::catalog::{Catalog, Product};
use crate::memory::{code_key, Memory, Recall};
use crate::model::{Model, NF, NP};
use crate::normalize::{self, has_digit};

/// Names of the candidate features (order of [`Model::rank`]).
pub const FEATURES: [&str; NF] = [
    "query_coverage",
    "name_coverage",
    "code_exact",
    "query_numbers_missing",
    "name_numbers_missing",
    "price_deviation",
    "price_ok",
    "jaro_winkler",
    "sorensen_dice",
    "memory",
    "price_log_ratio_in_band",
    "price_share",
];
/// Index of `price_share` in [`FEATURES`].
pub const PRICE_SHARE: usize = 11;
/// Index of `code_exact` in [`FEATURES`].
pub const CODE_EXACT: usize = 2;

/// P(top-1 right) of a line whose code names exactly one candidate, the top one: the share of
/// such held-out lines the matcher gets right (`code_ident` 0.992 and `desc_code_ident` 1.000 in
/// `pipelines/matching/README.md`; measured again with this rule in the same file).
pub const CODE_EXACT_PROBABILITY: f32 = 0.99;
/// A SKU recalled by wording alone is sure when its price share is at least this: in band, and no
/// other in-band candidate explains the printed words as well.
pub const MEMORY_ALONE_SHARE: f32 = 0.99;
/// The most a line may be trusted when the memory's SKU, recalled by an ambiguous wording, is not
/// the matcher's own first choice without the memory: under the match threshold, so a manager
/// looks.
pub const MEMORY_UNSURE_PROBABILITY: f32 = 0.5;
/// Names of the probability features (order of [`Model::calib`]).
pub const PROB_FEATURES: [&str; NP] = [
    "top_score",
    "margin",
    "query_coverage",
    "name_coverage",
    "code_exact",
    "price_ok",
    "unknown_share",
    "price_share",
    "ours_word_max",
    "ours_word_min",
    "bias",
];
/// Probability features go to two calibrations: P(top-1 right) and P(the line is one of ours).
pub fn ours_probability(model: &Model, pf: &[f32; NP]) -> f32 {
    sigmoid(pf.iter().zip(model.ours.iter()).map(|(a, b)| a * b).sum())
}

/// One invoice line to match.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Query {
    pub description: String,
    pub product_code: Option<String>,
    pub unit_price: Option<f64>,
    pub distributor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Match,
    Review,
    None,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::Review => "review",
            Decision::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Memory,
    Index,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub sku: String,
    pub name: String,
    pub score: f32,
    #[serde(skip)]
    pub features: [f32; NF],
    #[serde(skip)]
    pub pid: u32,
    /// Share of the whole name's word weight the line prints (the `name_coverage` feature
    /// leaves out a tail the line does not reach); a probability feature.
    #[serde(skip)]
    pub name_full_coverage: f32,
}

/// Result for one line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MatchResult {
    /// Best SKU, `None` when the decision is `none`.
    pub sku: Option<String>,
    /// Ranking score of the best candidate.
    pub score: f32,
    /// Score of the best minus the runner-up.
    pub margin: f32,
    /// Calibrated probability that the best candidate is the right SKU.
    pub probability: f32,
    pub decision: Decision,
    /// Calibrated probability that the line is one of our products at all (drives `none`).
    pub ours: f32,
    pub source: Source,
    /// Top-k candidates, best first (whatever the decision).
    pub candidates: Vec<Candidate>,
    #[serde(skip)]
    pub prob_features: [f32; NP],
}

/// One query word after lookup: catalog words it may stand for (with confidence) and its weight.
#[derive(Debug, Clone)]
struct Term {
    alts: Vec<(u32, f32)>,
    weight: f32,
    numeric: bool,
}

pub struct Matcher {
    pub model: Model,
    products: Vec<Product>,
    vocab: FxHashMap<String, u32>,
    words: Vec<String>,
    idf: Vec<f32>,
    postings: Vec<Vec<u32>>,
    /// Sorted unique token ids of each name.
    name_tokens: Vec<Vec<u32>>,
    /// Token ids of each name in the order printed, each once (where a name's unmatched words
    /// are: inside the matched part, or after it where distributors cut).
    name_seq: Vec<Vec<u32>>,
    name_weight: Vec<f32>,
    canon: Vec<String>,
    /// gtin / mpn / sku (normalised) -> product.
    codes: FxHashMap<String, u32>,
    trigrams: FxHashMap<[u8; 3], Vec<u32>>,
    /// Token ids in the order of their words (prefix lookups).
    sorted_words: Vec<u32>,
    /// Lexicon resolved against the vocabulary.
    expand: FxHashMap<String, Vec<(u32, f32)>>,
    noise: FxHashSet<String>,
    max_df: usize,
    idf_unknown: f32,
    /// ln(list price) of each product (NaN without a price), for the price tie-break at the cut.
    ln_list: Vec<f32>,
    pub top_k: usize,
    pub n_candidates: usize,
}

fn trigrams_of(w: &str) -> impl Iterator<Item = [u8; 3]> + '_ {
    let b = w.as_bytes();
    (0..b.len().saturating_sub(2)).map(move |i| [b[i], b[i + 1], b[i + 2]])
}

/// Sørensen-Dice over character bigrams, the same value as `strsim::sorensen_dice` (whitespace
/// dropped, bigram multisets, denominator in bytes), with the query's side computed once per query
/// rather than once per candidate: strsim builds a SipHash map of the first string's bigrams on
/// every call, which was ~16% of a query's instructions on a 100k catalog (callgrind).
struct Dice {
    chars: Vec<char>,
    bytes: usize,
    bigrams: Vec<(char, char)>,
}

impl Dice {
    fn new(text: &str) -> Dice {
        let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = chars.iter().map(|c| c.len_utf8()).sum();
        let mut bigrams: Vec<(char, char)> = chars.windows(2).map(|w| (w[0], w[1])).collect();
        bigrams.sort_unstable();
        Dice {
            chars,
            bytes,
            bigrams,
        }
    }

    fn similarity(&self, other: &str) -> f64 {
        let other = Dice::new(other);
        if self.chars == other.chars {
            return 1.0;
        }
        if self.bytes < 2 || other.bytes < 2 {
            return 0.0;
        }
        // size of the multiset intersection of two sorted lists
        let (a, b) = (&self.bigrams, &other.bigrams);
        let (mut i, mut j, mut common) = (0, 0, 0usize);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    common += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        (2 * common) as f64 / (self.bytes + other.bytes - 2) as f64
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

impl Matcher {
    /// Build the index (100k SKUs: well under 2 s).
    pub fn new(catalog: Catalog, model: Model) -> Self {
        let products = catalog.products;
        let n = products.len();
        let mut vocab: FxHashMap<String, u32> = FxHashMap::default();
        let mut words: Vec<String> = Vec::new();
        let mut name_tokens = Vec::with_capacity(n);
        let mut name_seq = Vec::with_capacity(n);
        let mut canon = Vec::with_capacity(n);
        let mut codes = FxHashMap::default();
        for (pid, p) in products.iter().enumerate() {
            let toks = normalize::tokens(&p.name);
            let mut ids: Vec<u32> = toks
                .iter()
                .map(|t| {
                    *vocab.entry(t.clone()).or_insert_with(|| {
                        words.push(t.clone());
                        (words.len() - 1) as u32
                    })
                })
                .collect();
            let mut seq = Vec::with_capacity(ids.len());
            for &t in &ids {
                if !seq.contains(&t) {
                    seq.push(t);
                }
            }
            name_seq.push(seq);
            ids.sort_unstable();
            ids.dedup();
            name_tokens.push(ids);
            canon.push(toks.join(" "));
            for c in [Some(&p.sku), p.gtin.as_ref(), p.mpn.as_ref()]
                .into_iter()
                .flatten()
            {
                if let Some(k) = code_key(c) {
                    codes.entry(k).or_insert(pid as u32);
                }
            }
        }
        let mut postings: Vec<Vec<u32>> = vec![Vec::new(); words.len()];
        for (pid, ids) in name_tokens.iter().enumerate() {
            for &t in ids {
                postings[t as usize].push(pid as u32);
            }
        }
        let nf = n as f32;
        let idf: Vec<f32> = postings
            .iter()
            .map(|p| ((nf + 1.0) / (p.len() as f32 + 0.5)).ln().max(0.05))
            .collect();
        let idf_unknown = ((nf + 1.0) / 1.5).ln();
        let name_weight = name_tokens
            .iter()
            .map(|ids| ids.iter().map(|&t| idf[t as usize]).sum::<f32>().max(1e-3))
            .collect();
        let mut trigrams: FxHashMap<[u8; 3], Vec<u32>> = FxHashMap::default();
        for (tid, w) in words.iter().enumerate() {
            if w.len() >= 3 {
                let mut seen = FxHashSet::default();
                for g in trigrams_of(w) {
                    if seen.insert(g) {
                        trigrams.entry(g).or_default().push(tid as u32);
                    }
                }
            }
        }
        let mut sorted_words: Vec<u32> = (0..words.len() as u32).collect();
        sorted_words.sort_by(|a, b| words[*a as usize].cmp(&words[*b as usize]));
        let ln_list = products
            .iter()
            .map(|p| match p.list_price {
                Some(l) if l > 0.0 => (l as f32).ln(),
                _ => f32::NAN,
            })
            .collect();
        let mut m = Matcher {
            model: Model::default(),
            products,
            vocab,
            words,
            idf,
            postings,
            name_tokens,
            name_seq,
            name_weight,
            canon,
            codes,
            trigrams,
            sorted_words,
            expand: FxHashMap::default(),
            noise: FxHashSet::default(),
            max_df: (n / 50).max(1000),
            idf_unknown,
            ln_list,
            top_k: 5,
            n_candidates: 40,
        };
        m.set_model(model);
        m
    }

    /// Replace the model (re-resolves the lexicon against this catalog's vocabulary).
    pub fn set_model(&mut self, model: Model) {
        self.expand = model
            .lexicon
            .expand
            .iter()
            .filter_map(|(k, v)| {
                let alts: Vec<(u32, f32)> = v
                    .iter()
                    .filter_map(|(w, c)| self.vocab.get(w).map(|&t| (t, *c)))
                    .collect();
                (!alts.is_empty()).then(|| (k.clone(), alts))
            })
            .collect();
        self.noise = model
            .lexicon
            .noise
            .iter()
            .filter(|w| !self.vocab.contains_key(*w))
            .cloned()
            .collect();
        self.model = model;
    }

    pub fn products(&self) -> &[Product] {
        &self.products
    }

    pub fn vocabulary(&self) -> &FxHashMap<String, u32> {
        &self.vocab
    }

    pub fn product_index(&self, sku: &str) -> Option<u32> {
        code_key(sku)
            .and_then(|k| self.codes.get(&k).copied())
            .filter(|&p| self.products[p as usize].sku == sku)
    }

    /// Catalog words a word not in the vocabulary may be: one edit away, or the word is a cut-off
    /// prefix of them (found through the trigram index of the vocabulary).
    pub(crate) fn fuzzy(&self, q: &str) -> Vec<(u32, f32)> {
        if q.len() < 3 {
            return Vec::new();
        }
        let mut counts: FxHashMap<u32, u16> = FxHashMap::default();
        let grams: Vec<[u8; 3]> = trigrams_of(q).collect();
        for g in &grams {
            if let Some(p) = self.trigrams.get(g) {
                if p.len() > 3000 {
                    continue;
                }
                for &t in p {
                    *counts.entry(t).or_default() += 1;
                }
            }
        }
        let need = (grams.len() as u16).saturating_sub(3).max(1);
        let mut out: Vec<(u32, f32)> = Vec::new();
        for (t, c) in counts {
            if c < need {
                continue;
            }
            let w = &self.words[t as usize];
            let conf = if w.starts_with(q) && q.len() >= 4 {
                0.7
            } else if (q.len() >= 4 && w.len() + 1 >= q.len() && strsim::osa_distance(q, w) <= 1)
                || (q.len() >= 8 && strsim::osa_distance(q, w) <= 2)
            {
                // a typo in a number is a different size: trust it less
                if has_digit(q) {
                    0.5
                } else {
                    0.8
                }
            } else {
                continue;
            };
            out.push((t, conf));
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(6);
        out
    }

    /// Catalog words that `q` is a proper prefix of: the `PREFIX_ALTS` shortest of the first
    /// `4 * PREFIX_ALTS` in alphabetical order (a bound on the postings a query walks).
    fn completions(&self, q: &str) -> Vec<(u32, f32)> {
        const PREFIX_ALTS: usize = 40;
        let start = self
            .sorted_words
            .partition_point(|&t| self.words[t as usize].as_str() < q);
        let mut out: Vec<u32> = self.sorted_words[start..]
            .iter()
            .take_while(|&&t| self.words[t as usize].starts_with(q))
            .filter(|&&t| self.words[t as usize].len() > q.len())
            .take(PREFIX_ALTS * 4)
            .copied()
            .collect();
        out.sort_by_key(|&t| (self.words[t as usize].len(), t));
        out.truncate(PREFIX_ALTS);
        let mut alts: Vec<(u32, f32)> = out.iter().map(|&t| (t, 0.6)).collect();
        // and what those words stand for (`in` of `inox`, which distributors print for
        // `stainless`)
        for &t in &out {
            if let Some(more) = self.expand.get(&self.words[t as usize]) {
                for &(a, c) in more {
                    if !alts.iter().any(|x| x.0 == a) {
                        alts.push((a, 0.6 * c));
                    }
                }
            }
        }
        alts
    }

    fn terms(&self, toks: &[String]) -> (Vec<Term>, Vec<u32>) {
        let mut terms = Vec::with_capacity(toks.len());
        let mut code_hits = Vec::new();
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for (i, t) in toks.iter().enumerate() {
            if !seen.insert(t.as_str()) {
                continue;
            }
            // Distributors cut long descriptions at a fixed width, so the last word may be the
            // start of a catalog word (`54` of `54mm`, `15m` of `15mm`): it also matches those.
            let last = i + 1 == toks.len();
            let numeric = has_digit(t);
            if let Some(&pid) = code_key(t).and_then(|k| self.codes.get(&k)) {
                if t.len() >= 6 {
                    code_hits.push(pid);
                    continue;
                }
            }
            if let Some(&tid) = self.vocab.get(t) {
                let mut alts = vec![(tid, 1.0)];
                // a catalog word that distributors also use for another one (`inox` for
                // `stainless`) stands for both
                if let Some(more) = self.expand.get(t) {
                    alts.extend(more.iter().filter(|(a, _)| *a != tid));
                }
                if last {
                    alts.extend(self.completions(t));
                }
                terms.push(Term {
                    alts,
                    weight: self.idf[tid as usize],
                    numeric,
                });
            } else if let Some(alts) = self.expand.get(t) {
                let w = alts
                    .iter()
                    .map(|(a, _)| self.idf[*a as usize])
                    .fold(0.0f32, f32::max);
                terms.push(Term {
                    alts: alts.clone(),
                    weight: w,
                    numeric,
                });
            } else if self.noise.contains(t) {
                // at the end, a noise word is often a catalog word cut off (`si` of `silver`)
                let alts = if last {
                    self.completions(t)
                } else {
                    Vec::new()
                };
                if !alts.is_empty() {
                    terms.push(Term {
                        alts,
                        weight: self.idf_unknown,
                        numeric,
                    });
                }
            } else {
                let mut alts = self.fuzzy(t);
                if last && alts.is_empty() {
                    alts = self.completions(t);
                }
                terms.push(Term {
                    alts,
                    weight: self.idf_unknown,
                    numeric,
                });
            }
        }
        (terms, code_hits)
    }

    /// The highest and lowest learned P(ours | word) among the line's words (0.5 and 0.5 when
    /// none of its words was learned): a series name of ours lifts the first, a competitor's
    /// lowers the second.
    fn ours_words(&self, toks: &[String]) -> (f32, f32) {
        let (mut hi, mut lo) = (f32::NEG_INFINITY, f32::INFINITY);
        for p in toks.iter().filter_map(|t| self.model.ours_words.get(t)) {
            hi = hi.max(*p);
            lo = lo.min(*p);
        }
        if hi.is_finite() {
            (hi, lo)
        } else {
            (0.5, 0.5)
        }
    }

    /// Match one line (memory first when a distributor is given).
    pub fn match_line(&self, q: &Query, memory: Option<&Memory>) -> MatchResult {
        let recall = match (memory, q.distributor.as_deref()) {
            (Some(m), Some(d)) => m.recall(d, q.product_code.as_deref(), &q.description),
            _ => None,
        };
        let mut toks = normalize::tokens(&q.description);
        let mut code_pid = None;
        if let Some(k) = q.product_code.as_deref().and_then(code_key) {
            code_pid = self.codes.get(&k).copied();
        }
        toks.retain(|t| !t.is_empty());
        let (terms, mut code_hits) = self.terms(&toks);
        code_hits.extend(code_pid);
        let total_w: f32 = terms.iter().map(|t| t.weight).sum::<f32>().max(1e-3);
        let unknown_w: f32 = terms
            .iter()
            .filter(|t| t.alts.is_empty())
            .map(|t| t.weight)
            .sum();

        // ---- retrieval: accumulate over postings of the rarer words; a term counts once per
        // product, by its best alternative (a distributor's word learned for several catalog
        // words, `double` of `VMC double flux` for heat recovery units' `bypass`, `heat`,
        // `recovery`..., must not count once for each of them)
        let mut acc: FxHashMap<u32, f32> = FxHashMap::default();
        let mut used_any = false;
        let mut best: Vec<(u32, f32)> = Vec::new();
        for t in &terms {
            let rare = |&&(a, _): &&(u32, f32)| self.postings[a as usize].len() <= self.max_df;
            match t.alts.iter().filter(rare).count() {
                0 => {}
                1 => {
                    used_any = true;
                    let &(a, c) = t.alts.iter().find(rare).expect("one rare alternative");
                    for &pid in &self.postings[a as usize] {
                        *acc.entry(pid).or_default() += t.weight * c;
                    }
                }
                _ => {
                    used_any = true;
                    best.clear();
                    for &(a, c) in t.alts.iter().filter(rare) {
                        best.extend(self.postings[a as usize].iter().map(|&pid| (pid, c)));
                    }
                    // by product, the best alternative first
                    best.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(y.1.total_cmp(&x.1)));
                    best.dedup_by_key(|x| x.0);
                    for &(pid, c) in &best {
                        *acc.entry(pid).or_default() += t.weight * c;
                    }
                }
            }
        }
        if !used_any {
            // only very common words: take the rarest one's postings (bounded)
            if let Some(&(a, _)) = terms
                .iter()
                .flat_map(|t| t.alts.iter())
                .min_by_key(|(a, _)| self.postings[*a as usize].len())
            {
                for &pid in self.postings[a as usize].iter().take(self.max_df * 4) {
                    acc.insert(pid, 0.0);
                }
            }
        }
        for &pid in &code_hits {
            *acc.entry(pid).or_default() += 1e6;
        }
        let mut pre: Vec<(u32, f32)> = acc.into_iter().collect();
        // phase 2: the best few hundred by rare words get the common words too, then the best n
        self.cut(&mut pre, self.n_candidates * 8, q.unit_price);
        for (pid, sc) in pre.iter_mut() {
            let name = &self.name_tokens[*pid as usize];
            for t in &terms {
                for &(a, c) in &t.alts {
                    if self.postings[a as usize].len() > self.max_df
                        && name.binary_search(&a).is_ok()
                    {
                        *sc += t.weight * c;
                        break;
                    }
                }
            }
        }
        self.cut(&mut pre, self.n_candidates, q.unit_price);
        let mem_sku = match &recall {
            Some(Recall::Sku(s)) => self.product_index(s),
            _ => None,
        };
        if let Some(pid) = mem_sku {
            if !pre.iter().any(|(p, _)| *p == pid) {
                pre.push((pid, 0.0));
            }
        }

        // ---- scoring
        let qcanon = toks.join(" ");
        let qdice = Dice::new(&qcanon);
        let mut cands: Vec<Candidate> = pre
            .iter()
            .map(|&(pid, _)| {
                let (f, name_full_coverage) = self.features(
                    pid,
                    &terms,
                    total_w,
                    &qcanon,
                    &qdice,
                    q,
                    code_hits.contains(&pid),
                    mem_sku == Some(pid),
                );
                let score = f
                    .iter()
                    .zip(self.model.rank.iter())
                    .map(|(a, b)| a * b)
                    .sum();
                let p = &self.products[pid as usize];
                Candidate {
                    sku: p.sku.clone(),
                    name: p.name.clone(),
                    score,
                    features: f,
                    pid,
                    name_full_coverage,
                }
            })
            .collect();
        self.price_shares(&mut cands);
        cands.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.pid.cmp(&b.pid)));
        let top_score = cands.first().map_or(0.0, |c| c.score);
        let margin = match (cands.first(), cands.get(1)) {
            (Some(a), Some(b)) => a.score - b.score,
            (Some(a), None) => a.score,
            _ => 0.0,
        };
        let (ours_max, ours_min) = self.ours_words(&toks);
        let pf = match cands.first() {
            Some(c) => [
                top_score,
                margin.min(5.0),
                c.features[0],
                c.name_full_coverage,
                c.features[2],
                c.features[6],
                unknown_w / total_w,
                c.features[PRICE_SHARE],
                ours_max,
                ours_min,
                1.0,
            ],
            None => [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, ours_max, ours_min, 1.0,
            ],
        };
        let mut probability = if cands.is_empty() {
            0.0
        } else {
            sigmoid(
                pf.iter()
                    .zip(self.model.calib.iter())
                    .map(|(a, b)| a * b)
                    .sum(),
            )
        };
        let mut ours = if cands.is_empty() {
            0.0
        } else {
            ours_probability(&self.model, &pf)
        };
        // An article code (or a code in the text) that is one product's SKU, GTIN or MPN names
        // that product: the linear calibration, which weighs it against the wording, leaves it
        // unsure when the wording is short or glued (`RADIA C type 33RAD` with the product's
        // GTIN: 0.57, and "not ours", so a right digital invoice went out paid without that line).
        if let Some(top) = cands.first() {
            let coded = cands
                .iter()
                .filter(|c| c.features[CODE_EXACT] > 0.5)
                .count();
            if coded == 1 && top.features[CODE_EXACT] > 0.5 {
                probability = probability.max(CODE_EXACT_PROBABILITY);
                ours = 1.0;
            }
        }
        let mut source = Source::Index;
        match &recall {
            Some(Recall::Sku(_)) if mem_sku.is_some() => {
                // the confirmed SKU goes first whatever the fuzzy score
                let i = cands.iter().position(|c| Some(c.pid) == mem_sku).unwrap();
                let c = cands.remove(i);
                // Recalled by the distributor's article code, it names one product. Recalled by
                // wording alone, it is sure only when no other in-band candidate fits the printed
                // words as well: distributors that print no code cut names short, so one wording
                // covers several sizes, and what the manager confirmed last time was one of them
                // (seed 151, digital, `model claims --learn`: three invoices paid a sibling's SKU
                // at 0.995, `pipelines/matching/README.md`). Otherwise the confirmed SKU is the
                // manager's pre-filled answer, and the line is as sure as the matcher alone is
                // of it (the ranking's memory feature lifts it to the top, so the probability
                // above is not that).
                let by_code = q.product_code.as_deref().and_then(code_key).is_some();
                if by_code || c.features[PRICE_SHARE] >= MEMORY_ALONE_SHARE {
                    probability = probability.max(0.995);
                } else {
                    let alone = self.match_line(
                        &Query {
                            distributor: None,
                            ..q.clone()
                        },
                        None,
                    );
                    probability = if alone.candidates.first().map(|a| a.pid) == Some(c.pid) {
                        alone.probability
                    } else {
                        alone.probability.min(MEMORY_UNSURE_PROBABILITY)
                    };
                }
                cands.insert(0, c);
                ours = 1.0;
                source = Source::Memory;
            }
            Some(Recall::NotOurs) => {
                probability = 0.0;
                ours = 0.0;
                source = Source::Memory;
            }
            _ => {}
        }
        cands.truncate(self.top_k.max(1));
        let decision = if probability >= self.model.match_threshold {
            Decision::Match
        } else if ours >= self.model.review_threshold {
            Decision::Review
        } else {
            Decision::None
        };
        let sku = if decision == Decision::None {
            None
        } else {
            cands.first().map(|c| c.sku.clone())
        };
        MatchResult {
            sku,
            score: cands.first().map_or(0.0, |c| c.score),
            margin,
            probability,
            decision,
            ours,
            source,
            candidates: cands,
            prob_features: pf,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn features(
        &self,
        pid: u32,
        terms: &[Term],
        total_w: f32,
        qcanon: &str,
        qdice: &Dice,
        q: &Query,
        code: bool,
        mem: bool,
    ) -> ([f32; NF], f32) {
        let p = pid as usize;
        let name = &self.name_tokens[p];
        let mut matched_q = 0.0f32;
        let mut q_num_miss = 0u32;
        let mut hit: Vec<u32> = Vec::with_capacity(name.len());
        for t in terms {
            let mut best = 0.0f32;
            for &(a, c) in &t.alts {
                if c > best && name.binary_search(&a).is_ok() {
                    best = c;
                    hit.push(a);
                }
            }
            matched_q += t.weight * best;
            if t.numeric && best == 0.0 {
                q_num_miss += 1;
            }
        }
        // Name words after the last one the line prints do not count against the candidate
        // (`name_coverage`, `name_numbers_missing`): distributors cut descriptions at a column's
        // width and keep only the first attributes, so a missing tail (`... 450x1300` for
        // `... 450x1300 mm anthracite RAL 7016`) says little about which sibling it is, while a
        // word missing between printed ones does. The whole name's coverage goes to the
        // probability features.
        let seq = &self.name_seq[p];
        let last = seq.iter().rposition(|t| hit.contains(t));
        let mut matched_c = 0.0f32;
        let mut head_w = 0.0f32;
        let mut c_num_miss = 0u32;
        for (i, &t) in seq.iter().enumerate() {
            let inside = last.is_some_and(|l| i <= l);
            if inside {
                head_w += self.idf[t as usize];
            }
            if hit.contains(&t) {
                matched_c += self.idf[t as usize];
            } else if inside && has_digit(&self.words[t as usize]) {
                c_num_miss += 1;
            }
        }
        // unit price against list price: distance, inside the learned band, and inside the band
        // the log-ratio (a price p ~ list*U(a,b) has likelihood ~ 1/list: cheaper siblings explain
        // a price better; see also `price_shares`)
        let [lo, hi] = self.model.price_band;
        let (dev, ok, lr) = match (q.unit_price, self.products[p].list_price) {
            (Some(u), Some(l)) if u > 0.0 && l > 0.0 => {
                let r = ((u / l) as f32).ln();
                let d = r.abs().min(1.0);
                if (lo..=hi).contains(&r) {
                    (d, 1.0, r)
                } else {
                    (d, 0.0, 0.0)
                }
            }
            _ => (0.0, 0.0, 0.0),
        };
        let cn = &self.canon[p];
        let f = [
            matched_q / total_w,
            matched_c / head_w.max(1e-3),
            code as u8 as f32,
            q_num_miss.min(3) as f32 / 3.0,
            c_num_miss.min(4) as f32 / 4.0,
            dev,
            ok,
            strsim::jaro_winkler(qcanon, cn) as f32,
            qdice.similarity(cn) as f32,
            mem as u8 as f32,
            lr,
            0.0, // price_share: filled in by `price_shares`, it depends on the other candidates
        ];
        (f, matched_c / self.name_weight[p])
    }

    /// Keeps the best `k` of `pre` by retrieval score. Candidates tied with the last one kept
    /// (the same words matched: siblings that differ only in words the line does not print, like
    /// size or colour) are chosen by how far their list price is from the line's unit price, so a
    /// sibling family larger than the cut keeps the ones the price can tell apart rather than the
    /// first in catalog order. Prices are looked at only for those ties.
    fn cut(&self, pre: &mut Vec<(u32, f32)>, k: usize, unit_price: Option<f64>) {
        if k == 0 || pre.len() <= k {
            return;
        }
        pre.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let edge = pre[k - 1].1;
        if unit_price.is_none() || !pre[k..].iter().any(|e| e.1 == edge) {
            pre.truncate(k);
            return;
        }
        let ln_u = unit_price
            .filter(|u| *u > 0.0)
            .map_or(f32::NAN, |u| (u as f32).ln());
        let gap = |pid: u32| {
            let g = (ln_u - self.ln_list[pid as usize]).abs();
            if g.is_nan() {
                f32::INFINITY
            } else {
                g
            }
        };
        let mut tied: Vec<(f32, u32)> = pre
            .iter()
            .filter(|e| e.1 == edge)
            .map(|e| (gap(e.0), e.0))
            .collect();
        let mut kept: Vec<(u32, f32)> = pre[..k].iter().filter(|e| e.1 > edge).copied().collect();
        let room = k - kept.len();
        if room < tied.len() {
            tied.select_nth_unstable_by(room, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            tied.truncate(room);
        }
        kept.extend(tied.into_iter().map(|(_, pid)| (pid, edge)));
        *pre = kept;
    }

    /// Feature `price_share`: when several candidates explain the query's words equally well and
    /// all hold the unit price in their band, the price is the only evidence left (the group of
    /// a candidate is every in-band candidate covering the query at least as well). A unit price
    /// drawn uniformly from a band proportional to the list price has density ~ 1/list, so each
    /// such candidate's posterior share is (1/list) / sum over the group of (1/list): the cheapest
    /// is the most probable, and a 50/50 tie says so to the calibration. A lone in-band candidate
    /// has share 1; a candidate outside its band (or a line without a price) has 0. The score is
    /// recomputed for the candidates it changes.
    fn price_shares(&self, cands: &mut [Candidate]) {
        const EPS: f32 = 1e-3;
        let inv: Vec<Option<f64>> = cands
            .iter()
            .map(|c| {
                (c.features[6] > 0.0)
                    .then(|| self.products[c.pid as usize].list_price)
                    .flatten()
                    .filter(|l| *l > 0.0)
                    .map(|l| 1.0 / l)
            })
            .collect();
        let shares: Vec<f32> = cands
            .iter()
            .zip(&inv)
            .map(|(c, w)| {
                let Some(w) = w else { return 0.0 };
                // the group: in-band candidates that explain the query's words and numbers at
                // least as well (a candidate that misses a word its sibling has is not alone)
                let z: f64 = cands
                    .iter()
                    .zip(&inv)
                    .filter(|(o, _)| {
                        o.features[0] > c.features[0] - EPS && o.features[3] < c.features[3] + EPS
                    })
                    .filter_map(|(_, ow)| *ow)
                    .sum();
                (w / z) as f32
            })
            .collect();
        for (c, s) in cands.iter_mut().zip(shares) {
            if s != 0.0 {
                c.features[PRICE_SHARE] = s;
                c.score += s * self.model.rank[PRICE_SHARE];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_is_strsims_sorensen_dice() {
        let texts = [
            "",
            "a",
            "ab",
            "a b",
            "aaaa",
            "aa",
            "aa aa",
            "panel radiator radia vm type 22",
            "panel radiator radia vm type 22 600x1000 mm white",
            "pressfit femal",
            "press fitting pressfit female adaptor 22 mm",
            "heizkörper für bäder",
            "heizkorper fur bader",
            "ąę łódź",
        ];
        for a in texts {
            let d = Dice::new(a);
            for b in texts {
                let (ours, theirs) = (d.similarity(b), strsim::sorensen_dice(a, b));
                assert!(
                    (ours - theirs).abs() < 1e-12,
                    "{a:?} {b:?}: {ours} vs {theirs}"
                );
            }
        }
    }

    #[test]
    fn a_code_that_names_one_product_makes_its_match_sure() {
        // a distributor's short, glued wording of a radiator with the product's GTIN in the
        // code column: the calibration alone gave 0.88 and sent the line to review
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../training-data/fixtures/catalog.csv"
        );
        let catalog = Catalog::from_path(std::path::Path::new(path)).unwrap();
        let matcher = Matcher::new(catalog, Model::trained_default());
        let mut q = Query {
            description: "RADIA C type 33RAD".into(),
            product_code: Some("4057312102577".into()),
            unit_price: Some(260.0),
            distributor: None,
        };
        let r = matcher.match_line(&q, None);
        assert_eq!(r.sku.as_deref(), Some("NV-982767"));
        assert_eq!(r.decision, Decision::Match);
        assert!(r.probability >= CODE_EXACT_PROBABILITY, "{}", r.probability);
        // without the code, the same words name none of the sizes and colours surely
        q.product_code = None;
        let r = matcher.match_line(&q, None);
        assert!(r.probability < 0.5, "{}", r.probability);
        // the distributor's own article code names nothing in the catalog: no help either
        q.product_code = Some("HK3497013".into());
        assert!(matcher.match_line(&q, None).probability < 0.5);
    }

    #[test]
    fn equally_worded_siblings_beyond_the_retrieval_cut_are_kept_by_price() {
        // 200 radiators that differ only in a size the line does not print; list prices rise
        // with the size, so catalog order and price order agree and the cut (40 candidates)
        // taken by catalog order would keep only the cheapest 40.
        let mut csv = String::from("sku,name,list_price\n");
        for i in 0..200 {
            csv += &format!(
                "S{i:03},Panel radiator RADIA type 22 {} mm white,{}\n",
                300 + i * 10,
                50 + i * 5
            );
        }
        let catalog = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
        let matcher = Matcher::new(catalog, Model::default());
        let q = Query {
            description: "Panel radiator RADIA type 22 white".into(),
            product_code: None,
            unit_price: Some(950.0), // S180's list price
            distributor: None,
        };
        let r = matcher.match_line(&q, None);
        let best = r.candidates.first().expect("candidates");
        let list = 50.0 + 5.0 * best.sku[1..].parse::<f64>().unwrap();
        assert!(
            (950.0 / list).ln().abs() < 0.13,
            "best {} at list {list} is outside the price band of 950",
            best.sku
        );
    }

    #[test]
    fn a_word_learned_for_several_catalog_words_counts_once_in_retrieval() {
        // `double` is a catalog word (double switches) that French distributors also print for
        // heat recovery units (`VMC double flux`): learned for all the words of those names.
        // Counted once per alternative, it outweighed the rest of a switch's line and the
        // switch did not even reach the candidates.
        let mut csv = String::from("sku,name,list_price\n");
        for i in 0..400 {
            csv += &format!(
                "H{i:03},Heat recovery ventilation unit RECO {} left version without bypass,{}\n",
                100 + i,
                2000 + i
            );
        }
        csv += "S1,Switch ELVO STYLE double 2-way stainless flush,6.40\n";
        csv += "S2,Switch ELVO STYLE 1-way stainless flush,4.10\n";
        let catalog = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
        let mut model = Model::default();
        model.lexicon.expand.insert(
            "double".into(),
            [
                "bypass",
                "heat",
                "left",
                "recovery",
                "unit",
                "ventilation",
                "version",
            ]
            .iter()
            .map(|w| (w.to_string(), 0.9))
            .collect(),
        );
        let matcher = Matcher::new(catalog, model);
        let q = Query {
            description: "ELVO STYLE double".into(),
            product_code: None,
            unit_price: Some(6.4),
            distributor: None,
        };
        let r = matcher.match_line(&q, None);
        assert_eq!(r.candidates.first().map(|c| c.sku.as_str()), Some("S1"));
    }

    #[test]
    fn name_words_after_the_printed_ones_weigh_less_than_words_missing_between_them() {
        // `... 450x1300` is a description cut at its column: the colour after the size is not
        // evidence against either sibling, while a word the line leaves out between printed ones
        // (`compact`) is.
        let csv = "sku,name,list_price\n\
            A,Panel radiator RADIA C type 10 450x1300 mm anthracite RAL 7016,105.94\n\
            W,Panel radiator RADIA C type 10 450x1300 mm white RAL 9016,88.12\n\
            P,Panel radiator RADIA C type 10 compact 450x1300 mm white RAL 9016,80.00\n";
        let catalog = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
        let matcher = Matcher::new(catalog, Model::default());
        let q = Query {
            description: "Panel radiator RADIA C type 10 450x1300".into(),
            unit_price: Some(95.69),
            ..Default::default()
        };
        let mut m = matcher;
        m.top_k = 10;
        let r = m.match_line(&q, None);
        let cov = |sku: &str| {
            let c = r
                .candidates
                .iter()
                .find(|c| c.sku == sku)
                .expect("candidate");
            (c.features[1], c.features[4], c.name_full_coverage)
        };
        let (a, w, p) = (cov("A"), cov("W"), cov("P"));
        assert_eq!(
            a.0, 1.0,
            "the anthracite radiator's printed part is covered: {a:?}"
        );
        assert_eq!(w.0, 1.0, "so is the white one's: {w:?}");
        assert_eq!(
            (a.1, w.1),
            (0.0, 0.0),
            "RAL numbers after the size are not missing"
        );
        assert!(
            p.0 < 1.0,
            "`compact` between printed words is missing: {p:?}"
        );
        // the probability features keep the whole name
        assert!(a.2 < 1.0 && w.2 < 1.0, "{a:?} {w:?}");
    }

    #[test]
    fn a_noise_word_at_the_end_is_read_as_a_cut_off_catalog_word() {
        // `si` is noise on its own (the start of many words), but at the end of a line it is
        // where the distributor's column cut `silver`; the price alone favours the white fan
        let csv = "sku,name,list_price\n\
            W,Bathroom extract fan SILENTO 150 H humidistat white,60.00\n\
            S,Bathroom extract fan SILENTO 150 H humidistat silver,56.04\n";
        let catalog = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
        let mut model = Model::default();
        model.lexicon.noise.insert("si".into());
        model
            .lexicon
            .expand
            .insert("hum".into(), vec![("humidistat".into(), 0.9)]);
        let matcher = Matcher::new(catalog, model);
        let q = Query {
            description: "EXT FAN SILENTO 150 H hum si".into(),
            unit_price: Some(60.11),
            ..Default::default()
        };
        let r = matcher.match_line(&q, None);
        assert_eq!(r.candidates[0].sku, "S", "{:?}", r.candidates);
    }
}
