//! Fitting the [`Model`] from confirmed lines (train distributors only), and the evaluation:
//! top-1 on held-out distributors, none-rate on non-catalog lines, calibration table and the
//! day-by-day learning-curve simulation with a review loop feeding the memory.

use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::catalog::Catalog;
use crate::matcher::{Decision, MatchResult, Matcher, Query};
use crate::memory::{Confirmation, Memory};
use crate::model::{Lexicon, Model, NF, NP};
use crate::normalize::{self, has_digit};

/// A line with its truth.
#[derive(Debug, Clone)]
pub struct Labeled {
    pub query: Query,
    /// True SKU, `None` for lines that are not ours (other brands, services, shipping...).
    pub sku: Option<String>,
    pub kind: String,
    pub doc_id: String,
    pub doc_seq: usize,
    pub split: String,
    /// 0-based data row of the line in its file (to join results with other tables).
    pub row: usize,
}

/// Read a lines table: `pipelines/matching/gen_lines.py` output
/// (`doc_id,doc_seq,distributor_id,split,kind,product_code,description,unit_price,sku`) or the
/// generator's `out/lines.csv` (no unit price).
pub fn read_lines(path: &Path) -> anyhow::Result<Vec<Labeled>> {
    let mut rdr = csv::Reader::from_path(path)?;
    let h = rdr.headers()?.clone();
    let col = |n: &str| h.iter().position(|x| x == n);
    let need =
        |n: &str| col(n).ok_or_else(|| anyhow::anyhow!("{}: no `{n}` column", path.display()));
    let (c_doc, c_dist, c_desc, c_sku) = (
        need("doc_id")?,
        need("distributor_id")?,
        need("description")?,
        need("sku")?,
    );
    let (c_seq, c_split, c_kind, c_code, c_price) = (
        col("doc_seq"),
        col("split"),
        col("kind"),
        col("product_code"),
        col("unit_price"),
    );
    let mut out = Vec::new();
    for (row, rec) in rdr.records().enumerate() {
        let r = rec?;
        let get = |c: Option<usize>| {
            c.and_then(|c| r.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let doc_id = r[c_doc].to_string();
        let doc_seq = get(c_seq)
            .and_then(|s| s.parse().ok())
            .or_else(|| {
                doc_id
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
        out.push(Labeled {
            query: Query {
                description: r[c_desc].to_string(),
                product_code: get(c_code).map(str::to_string),
                unit_price: get(c_price).and_then(|s| s.parse().ok()),
                distributor: Some(r[c_dist].to_string()),
            },
            sku: get(Some(c_sku)).map(str::to_string),
            kind: get(c_kind).unwrap_or("product").to_string(),
            doc_id,
            doc_seq,
            split: get(c_split).unwrap_or("train").to_string(),
            row,
        });
    }
    Ok(out)
}

/// Learn distributor wording from confirmed product lines. A distributor word seen on >= 3 lines
/// (a catalog word of 3 letters or more counts only on lines whose product lacks it: `inox` for
/// `stainless`, beside the series DRENA INOX) expands to the catalog words of its products' names
/// that come with it on >= 80% of its lines. When some of those are also left unprinted on >= 80%
/// of its lines (`alu` on `GRILLE LINEAR 400x200 alu` leaves `air` and `aluminium` unprinted),
/// only they are kept; then only the ones it spells out, if any (`blk` -> `black`, not `matt`);
/// then only those within half of the best share of "lines leaving this word unprinted that print
/// the distributor's word" (`inx` -> `stainless`, not the `air` every grille leaves unprinted).
/// A frequent non-catalog word that predicts no catalog word is noise.
pub fn learn_lexicon(matcher: &Matcher, catalog: &Catalog, lines: &[Labeled]) -> Lexicon {
    let vocab = matcher.vocabulary();
    let names: FxHashMap<&str, Vec<String>> = catalog
        .products
        .iter()
        .map(|p| {
            let mut t = normalize::tokens(&p.name);
            t.sort();
            t.dedup();
            t.retain(|t| !has_digit(t) && t.len() > 1);
            (p.sku.as_str(), t)
        })
        .collect();
    let mut n: FxHashMap<String, u32> = FxHashMap::default();
    // (distributor word, catalog word) -> (lines with both, of which the line does not print
    // the catalog word)
    let mut co: FxHashMap<(String, String), (u32, u32)> = FxHashMap::default();
    // catalog word -> lines whose product name has it and whose description does not print it
    let mut unprinted: FxHashMap<String, u32> = FxHashMap::default();
    for l in lines {
        let Some(name) = l.sku.as_deref().and_then(|s| names.get(s)) else {
            continue;
        };
        let mut toks = normalize::tokens(&l.query.description);
        toks.sort();
        toks.dedup();
        let unprinted_here = |t: &String| toks.binary_search(t).is_err();
        for t in name.iter().filter(|t| unprinted_here(t)) {
            *unprinted.entry(t.clone()).or_default() += 1;
        }
        for q in &toks {
            // Numbers and typos / cut-off words (the vocabulary's trigram index resolves those
            // more precisely) are not learned. A catalog word is learned only from lines whose
            // product does not have it: `inox` is the series DRENA INOX and, on other lines, the
            // distributor's word for `stainless`.
            let learn = !has_digit(q)
                && if vocab.contains_key(q) {
                    // (not the letters of series names: `V` of RADIA V)
                    q.chars().count() >= 3 && name.binary_search(q).is_err()
                } else {
                    q.len() <= 24 && matcher.fuzzy(q).is_empty()
                };
            if !learn {
                continue;
            }
            for t in name {
                let e = co.entry((q.clone(), t.clone())).or_default();
                e.0 += 1;
                e.1 += u32::from(unprinted_here(t));
            }
            *n.entry(q.clone()).or_default() += 1;
        }
    }
    // q -> (catalog word, unprinted with it in >= 80% of its lines, share of the lines leaving
    // the catalog word unprinted that print q)
    let mut found: FxHashMap<String, Vec<(String, bool, f32)>> = FxHashMap::default();
    for ((q, t), (c, open)) in co {
        let nq = n[&q] as f32;
        if nq >= 3.0 && c as f32 >= 0.8 * nq {
            let share = open as f32 / unprinted.get(&t).copied().unwrap_or(0).max(1) as f32;
            found
                .entry(q)
                .or_default()
                .push((t, open as f32 >= 0.8 * nq, share));
        }
    }
    let mut lex = Lexicon::default();
    for (q, mut ts) in found {
        // Sharpen to the words the distributor's word leaves unprinted, when there are any (a
        // word that only ever comes with printed words, such as a translated product type
        // beside the printed brand, keeps all of them).
        if ts.iter().any(|(_, open, _)| *open) {
            ts.retain(|(_, open, _)| *open);
            // An abbreviation is spelt out by the words it abbreviates (`blk` -> `black`, not
            // the `matt` of matt black products): when some of the candidates do, only they stay.
            if ts.iter().any(|(t, _, _)| abbreviates(&q, t)) {
                ts.retain(|(t, _, _)| abbreviates(&q, t));
            }
            let best = ts.iter().map(|(_, _, s)| *s).fold(0.0f32, f32::max);
            ts.retain(|(_, _, s)| *s >= 0.5 * best);
        }
        lex.expand
            .insert(q, ts.into_iter().map(|(t, _, _)| (t, 0.9)).collect());
    }
    for v in lex.expand.values_mut() {
        v.sort_by(|a, b| a.0.cmp(&b.0));
    }
    for (q, c) in n {
        if c >= 5 && !lex.expand.contains_key(&q) && !vocab.contains_key(&q) {
            lex.noise.insert(q);
        }
    }
    lex
}

/// Whether `short` can abbreviate `word`: same first letter, and its letters appear in `word`
/// in order (`blk` / `black`, `pmp` / `pump`, `ant` / `anthracite`).
fn abbreviates(short: &str, word: &str) -> bool {
    let mut rest = word.chars();
    match (short.chars().next(), word.chars().next()) {
        (Some(a), Some(b)) if a == b && short.len() < word.len() => {}
        _ => return false,
    }
    short.chars().all(|c| rest.any(|w| w == c))
}

fn softmax_fit(data: &[(Vec<[f32; NF]>, usize)], init: [f32; NF], fixed: &[usize]) -> [f32; NF] {
    let mut w = init;
    let mut g2 = [1e-6f32; NF];
    let lr = 0.3f32;
    for _epoch in 0..150 {
        let mut grad = [0f32; NF];
        for (cands, y) in data {
            let s: Vec<f32> = cands
                .iter()
                .map(|f| f.iter().zip(w.iter()).map(|(a, b)| a * b).sum())
                .collect();
            let m = s.iter().cloned().fold(f32::MIN, f32::max);
            let e: Vec<f32> = s.iter().map(|x| (x - m).exp()).collect();
            let z: f32 = e.iter().sum();
            for (f, ei) in cands.iter().zip(e.iter()) {
                let p = ei / z;
                for k in 0..NF {
                    grad[k] += p * f[k];
                }
            }
            for k in 0..NF {
                grad[k] -= cands[*y][k];
            }
        }
        let nd = data.len().max(1) as f32;
        for k in 0..NF {
            if fixed.contains(&k) {
                continue;
            }
            let g = grad[k] / nd + 1e-3 * w[k];
            g2[k] += g * g;
            w[k] -= lr * g / g2[k].sqrt();
        }
    }
    w
}

fn logistic_fit(x: &[[f32; NP]], y: &[f32]) -> [f32; NP] {
    let mut w = [0f32; NP];
    let mut g2 = [1e-6f32; NP];
    for _ in 0..600 {
        let mut grad = [0f32; NP];
        for (xi, yi) in x.iter().zip(y) {
            let p = 1.0 / (1.0 + (-xi.iter().zip(w.iter()).map(|(a, b)| a * b).sum::<f32>()).exp());
            for k in 0..NP {
                grad[k] += (p - yi) * xi[k];
            }
        }
        let n = x.len().max(1) as f32;
        for k in 0..NP {
            let g = grad[k] / n + 1e-4 * w[k];
            g2[k] += g * g;
            w[k] -= 0.5 * g / g2[k].sqrt();
        }
    }
    w
}

fn is_right(r: &MatchResult, truth: Option<&str>) -> bool {
    truth.is_some() && r.candidates.first().map(|c| c.sku.as_str()) == truth
}

/// Fit lexicon, ranking weights, calibration and thresholds on `lines` (use train distributors only).
pub fn train(catalog: &Catalog, lines: &[Labeled]) -> Model {
    let mut m = Matcher::new(catalog.clone(), Model::default());
    let lexicon = learn_lexicon(&m, catalog, lines);
    let price_band = learn_price_band(&m, lines).unwrap_or(Model::default().price_band);
    let start = Model {
        price_band,
        ours_words: learn_ours_words(lines),
        printed_words: learn_printed_words(lines),
        ..Model::default()
    };
    m.set_model(Model {
        lexicon: lexicon.clone(),
        ..start.clone()
    });
    // ranking: softmax over the candidates of lines whose true SKU was retrieved
    m.top_k = m.n_candidates + 1;
    let mut data = Vec::new();
    for l in lines {
        let Some(sku) = l.sku.as_deref() else {
            continue;
        };
        let r = m.match_line(&l.query, None);
        if let Some(y) = r.candidates.iter().position(|c| c.sku == sku) {
            if r.candidates.len() > 1 {
                data.push((
                    r.candidates.iter().map(|c| c.features).collect::<Vec<_>>(),
                    y,
                ));
            }
        }
    }
    let rank = softmax_fit(&data, start.rank, &[9]);
    drop(data);
    m.set_model(Model {
        rank,
        lexicon: lexicon.clone(),
        ..start.clone()
    });
    m.top_k = 5;
    // calibrations over all lines: P(top-1 right) (non-catalog lines are never right), P(ours)
    let results: Vec<MatchResult> = lines.iter().map(|l| m.match_line(&l.query, None)).collect();
    let x: Vec<[f32; NP]> = results.iter().map(|r| r.prob_features).collect();
    let y: Vec<f32> = results
        .iter()
        .zip(lines)
        .map(|(r, l)| is_right(r, l.sku.as_deref()) as u8 as f32)
        .collect();
    let calib = logistic_fit(&x, &y);
    let y_ours: Vec<f32> = lines.iter().map(|l| l.sku.is_some() as u8 as f32).collect();
    let ours = logistic_fit(&x, &y_ours);
    let sig = |w: &[f32; NP], f: &[f32; NP]| {
        1.0 / (1.0 + (-f.iter().zip(w.iter()).map(|(a, b)| a * b).sum::<f32>()).exp())
    };
    let probs: Vec<f32> = x.iter().map(|f| sig(&calib, f)).collect();
    // review threshold on P(ours): 99.5% of non-catalog lines fall below it
    let mut neg: Vec<f32> = x
        .iter()
        .zip(lines)
        .filter(|(_, l)| l.sku.is_none())
        .map(|(f, _)| sig(&ours, f))
        .collect();
    neg.sort_by(f32::total_cmp);
    let review = neg
        .get(((neg.len() as f32) * 0.995) as usize)
        .copied()
        .unwrap_or(0.5)
        .clamp(0.02, 0.9)
        + 1e-4;
    // match threshold: the lowest one whose auto-matches are >= 99.5% right
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    let (mut ok, mut tot, mut thr) = (0usize, 0usize, 0.99f32);
    for &i in &order {
        tot += 1;
        ok += y[i] as usize;
        if tot >= 50 && (ok as f32) / (tot as f32) >= 0.995 {
            thr = probs[i];
        }
    }
    let match_threshold = thr.clamp(0.5, 0.99);
    Model {
        rank,
        calib,
        ours,
        match_threshold,
        review_threshold: review,
        price_band,
        lexicon,
        ours_words: start.ours_words,
        printed_words: start.printed_words,
    }
}

/// How often each word is printed on the lines (upper-cased, split at white space, words with
/// digits left out), for words printed at least twice: one-off typos stay out.
pub fn learn_printed_words(lines: &[Labeled]) -> std::collections::BTreeMap<String, u32> {
    let mut count: std::collections::BTreeMap<String, u32> = Default::default();
    for l in lines {
        for w in l.query.description.split_whitespace() {
            if !w.chars().any(|c| c.is_ascii_digit()) {
                *count.entry(w.to_uppercase()).or_default() += 1;
            }
        }
    }
    count.retain(|_, n| *n >= 2);
    count
}

/// P(a line is one of our products | it prints the word), smoothed ((ours + 1) / (lines + 2)),
/// for words printed on at least 10 confirmed lines (numbers left out).
pub fn learn_ours_words(lines: &[Labeled]) -> FxHashMap<String, f32> {
    let mut count: FxHashMap<String, (u32, u32)> = FxHashMap::default();
    for l in lines {
        let mut toks = normalize::tokens(&l.query.description);
        toks.sort();
        toks.dedup();
        for t in toks.into_iter().filter(|t| !has_digit(t)) {
            let e = count.entry(t).or_default();
            e.0 += 1;
            e.1 += u32::from(l.sku.is_some());
        }
    }
    count
        .into_iter()
        .filter(|(_, (n, _))| *n >= 10)
        .map(|(t, (n, ours))| (t, (ours as f32 + 1.0) / (n as f32 + 2.0)))
        .collect()
}

/// The band of ln(unit price / list price) on confirmed lines: the 0.2% and 99.8% quantiles,
/// widened by 0.005. `None` with fewer than 100 priced lines.
pub fn learn_price_band(m: &Matcher, lines: &[Labeled]) -> Option<[f32; 2]> {
    let mut r: Vec<f32> = lines
        .iter()
        .filter_map(|l| {
            let u = l.query.unit_price.filter(|u| *u > 0.0)?;
            let pid = m.product_index(l.sku.as_deref()?)?;
            let lp = m.products()[pid as usize].list_price.filter(|l| *l > 0.0)?;
            Some(((u / lp) as f32).ln())
        })
        .collect();
    if r.len() < 100 {
        return None;
    }
    r.sort_by(f32::total_cmp);
    let q = |f: f32| r[((r.len() - 1) as f32 * f).round() as usize];
    Some([q(0.002) - 0.005, q(0.998) + 0.005])
}

/// Figures of one evaluation.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct EvalReport {
    pub catalog_lines: usize,
    pub top1: f64,
    pub top5: f64,
    pub non_catalog_lines: usize,
    pub none_rate: f64,
    pub non_catalog_auto_matched: f64,
    pub auto_rate: f64,
    pub auto_accuracy: f64,
    /// (bin low, bin high, lines, mean probability, observed top-1 right)
    pub calibration: Vec<(f32, f32, usize, f64, f64)>,
    pub p50_us: f64,
    pub p99_us: f64,
    pub queries_per_s: f64,
}

/// Evaluate on `lines` without memory.
pub fn evaluate(m: &Matcher, lines: &[Labeled]) -> EvalReport {
    use rayon::prelude::*;
    let t0 = std::time::Instant::now();
    let timed: Vec<(MatchResult, f64)> = lines
        .par_iter()
        .map(|l| {
            let t = std::time::Instant::now();
            let r = m.match_line(&l.query, None);
            (r, t.elapsed().as_secs_f64() * 1e6)
        })
        .collect();
    let wall = t0.elapsed().as_secs_f64();
    let mut lat: Vec<f64> = timed.iter().map(|x| x.1).collect();
    lat.sort_by(f64::total_cmp);
    let mut rep = EvalReport {
        p50_us: lat.get(lat.len() / 2).copied().unwrap_or(0.0),
        p99_us: lat.get(lat.len() * 99 / 100).copied().unwrap_or(0.0),
        queries_per_s: lines.len() as f64 / wall.max(1e-9),
        ..Default::default()
    };
    let (mut t1, mut t5, mut none, mut negm, mut auto, mut auto_ok) = (0, 0, 0, 0, 0, 0);
    let mut bins = vec![(0usize, 0f64, 0usize); 10];
    for ((r, _), l) in timed.iter().zip(lines) {
        let right = is_right(r, l.sku.as_deref());
        if let Some(s) = l.sku.as_deref() {
            rep.catalog_lines += 1;
            t1 += right as usize;
            t5 += r.candidates.iter().any(|c| c.sku == s) as usize;
        } else {
            rep.non_catalog_lines += 1;
            none += (r.decision == Decision::None) as usize;
            negm += (r.decision == Decision::Match) as usize;
        }
        if r.decision != Decision::Review {
            auto += 1;
            auto_ok += (r.sku.as_deref() == l.sku.as_deref()) as usize;
        }
        let b = ((r.probability * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += r.probability as f64;
        bins[b].2 += right as usize;
    }
    let d = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    rep.top1 = d(t1, rep.catalog_lines);
    rep.top5 = d(t5, rep.catalog_lines);
    rep.none_rate = d(none, rep.non_catalog_lines);
    rep.non_catalog_auto_matched = d(negm, rep.non_catalog_lines);
    rep.auto_rate = d(auto, lines.len());
    rep.auto_accuracy = d(auto_ok, auto);
    rep.calibration = bins
        .iter()
        .enumerate()
        .map(|(i, &(n, sp, ok))| {
            (
                i as f32 / 10.0,
                (i + 1) as f32 / 10.0,
                n,
                d(0, 1) + sp / n.max(1) as f64,
                d(ok, n),
            )
        })
        .collect();
    rep
}

/// One simulated day.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Day {
    pub day: usize,
    pub documents: usize,
    pub lines: usize,
    /// Share of lines decided without a human (match or none).
    pub automation: f64,
    /// Share of automatic decisions that were right (right SKU, or none for non-catalog lines).
    pub auto_accuracy: f64,
    /// Share of all lines ending right (reviewed lines are right by construction).
    pub final_accuracy: f64,
    pub memory_size: usize,
}

/// Documents of `lines` (held-out distributors) arrive over `days` days in document order; lines
/// decided `review` are answered with the truth, which goes into the memory.
pub fn simulate(m: &Matcher, lines: &[Labeled], days: usize) -> Vec<Day> {
    let mut docs: Vec<usize> = lines
        .iter()
        .map(|l| l.doc_seq)
        .collect::<FxHashSet<_>>()
        .into_iter()
        .collect();
    docs.sort_unstable();
    let per_day = docs.len().div_ceil(days.max(1)).max(1);
    let day_of: FxHashMap<usize, usize> = docs
        .iter()
        .enumerate()
        .map(|(i, &d)| (d, i / per_day))
        .collect();
    let mut by_day: Vec<Vec<&Labeled>> = vec![Vec::new(); days];
    for l in lines {
        let d = day_of[&l.doc_seq];
        if d < days {
            by_day[d].push(l);
        }
    }
    let mut mem = Memory::new();
    let mut out = Vec::new();
    for (d, ls) in by_day.into_iter().enumerate() {
        let ndocs = ls.iter().map(|l| l.doc_seq).collect::<FxHashSet<_>>().len();
        let (mut auto, mut auto_ok, mut fin_ok) = (0usize, 0usize, 0usize);
        let mut reviews = Vec::new();
        for l in &ls {
            let r = m.match_line(&l.query, Some(&mem));
            if r.decision == Decision::Review {
                fin_ok += 1;
                reviews.push(Confirmation {
                    distributor: l.query.distributor.clone().unwrap_or_default(),
                    product_code: l.query.product_code.clone(),
                    description: l.query.description.clone(),
                    sku: l.sku.clone(),
                });
            } else {
                auto += 1;
                let ok = r.sku.as_deref() == l.sku.as_deref();
                auto_ok += ok as usize;
                fin_ok += ok as usize;
            }
        }
        // the review team answers at the end of the day
        for c in &reviews {
            mem.confirm(c);
        }
        let n = ls.len().max(1) as f64;
        out.push(Day {
            day: d + 1,
            documents: ndocs,
            lines: ls.len(),
            automation: auto as f64 / n,
            auto_accuracy: if auto == 0 {
                0.0
            } else {
                auto_ok as f64 / auto as f64
            },
            final_accuracy: fin_ok as f64 / n,
            memory_size: mem.len(),
        });
    }
    out
}

/// Each line's result without memory, as CSV (`row,doc_id,distributor,kind,truth,sku,probability,
/// decision,right,top5`), for error analysis.
pub fn write_dump(m: &Matcher, lines: &[Labeled], path: &Path) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "row",
        "doc_id",
        "distributor",
        "kind",
        "truth",
        "sku",
        "probability",
        "decision",
        "right",
        "top5",
    ])?;
    for l in lines {
        let r = m.match_line(&l.query, None);
        let truth = l.sku.as_deref().unwrap_or("");
        // right: the top candidate for a catalog line, `none` for a line that is not ours
        let right = is_right(&r, l.sku.as_deref()) || (l.sku.is_none() && r.sku.is_none());
        let top5 = r
            .candidates
            .iter()
            .map(|c| c.sku.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        w.write_record([
            l.row.to_string().as_str(),
            &l.doc_id,
            l.query.distributor.as_deref().unwrap_or(""),
            &l.kind,
            truth,
            r.sku.as_deref().unwrap_or(""),
            &format!("{:.4}", r.probability),
            r.decision.as_str(),
            if right { "1" } else { "0" },
            &top5,
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    fn line(i: usize, description: &str, sku: &str) -> Labeled {
        Labeled {
            query: Query {
                description: description.into(),
                ..Default::default()
            },
            sku: Some(sku.into()),
            kind: "product".into(),
            doc_id: format!("d{i}"),
            doc_seq: i,
            split: "train".into(),
            row: i,
        }
    }

    #[test]
    fn abbreviations_are_spelt_out_by_their_words() {
        assert!(abbreviates("blk", "black"));
        assert!(abbreviates("alu", "aluminium"));
        assert!(abbreviates("pmp", "pump"));
        assert!(!abbreviates("blk", "matt"));
        assert!(!abbreviates("alu", "air"));
        assert!(!abbreviates("black", "black"));
        assert!(!abbreviates("ss", "steel"));
    }

    #[test]
    fn an_abbreviation_expands_to_the_word_it_stands_for_not_to_its_family() {
        // Grilles whose names all carry `air grille`; the distributor prints `GRILLE` and
        // abbreviates the material. `alu` comes with `air` and `aluminium` unprinted on every one
        // of its lines; only `aluminium` tells its product from the white and stainless ones.
        let mut csv = String::from("sku,name\n");
        let materials = ["white", "aluminium", "stainless", "matt black"];
        for (m, material) in materials.iter().enumerate() {
            for size in 0..5 {
                csv += &format!(
                    "G{m}{size},Air grille GRILLE {}x100 {material}\n",
                    100 + size * 50
                );
            }
        }
        let catalog = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
        let matcher = Matcher::new(catalog.clone(), Model::default());
        let mut lines = Vec::new();
        for (m, short) in ["wht", "alu", "inx", "blk"].iter().enumerate() {
            for size in 0..5 {
                let i = lines.len();
                lines.push(line(
                    i,
                    &format!("GRILLE {}x100 {short}", 100 + size * 50),
                    &format!("G{m}{size}"),
                ));
            }
        }
        let lex = learn_lexicon(&matcher, &catalog, &lines);
        let words = |q: &str| -> Vec<&str> {
            lex.expand
                .get(q)
                .map(|v| v.iter().map(|(w, _)| w.as_str()).collect())
                .unwrap_or_default()
        };
        assert_eq!(words("alu"), ["aluminium"]);
        assert_eq!(words("blk"), ["black"]);
        // no spelling to go by: the word it stands for, not the family's `air`
        assert_eq!(words("inx"), ["stainless"]);
        assert_eq!(words("wht"), ["white"]);
    }

    #[test]
    fn a_catalog_word_distributors_use_for_another_stands_for_both() {
        // `inox` is a pump series here and, on grille lines, the distributor's `stainless`.
        let mut csv = String::from("sku,name\n");
        for size in 0..5 {
            let s = 100 + size * 50;
            csv += &format!("W{size},Air grille GRILLE {s}x100 white\n");
            csv += &format!("S{size},Air grille GRILLE {s}x100 stainless\n");
        }
        csv += "P1,Drainage pump DRENA INOX 400\n";
        let catalog = Catalog::from_csv_reader(csv.as_bytes()).unwrap();
        let mut matcher = Matcher::new(catalog.clone(), Model::default());
        // white grilles, sold twice as often, leave `air` unprinted too
        let lines: Vec<Labeled> = (0..15)
            .map(|i| {
                let (size, word, sku) = match i {
                    0..5 => (i, "inox", "S"),
                    _ => (i % 5, "white", "W"),
                };
                line(
                    i,
                    &format!("GRILLE {}x100 {word}", 100 + size * 50),
                    &format!("{sku}{size}"),
                )
            })
            .collect();
        let lex = learn_lexicon(&matcher, &catalog, &lines);
        assert_eq!(
            lex.expand.get("inox").map(|v| v[0].0.as_str()),
            Some("stainless")
        );
        matcher.set_model(Model {
            lexicon: lex,
            ..Model::default()
        });
        let q = Query {
            description: "GRILLE 200x100 inox".into(),
            ..Default::default()
        };
        let r = matcher.match_line(&q, None);
        assert_eq!(r.candidates[0].sku, "S2");
        let pump = Query {
            description: "DRENA INOX 400".into(),
            ..Default::default()
        };
        assert_eq!(matcher.match_line(&pump, None).candidates[0].sku, "P1");
    }

    #[test]
    fn printed_words_are_counted_as_printed_without_numbers_or_one_offs() {
        let lines = vec![
            line(0, "Flachheizkörper RADIA type 22", "R1"),
            line(1, "FLACHHEIZKÖRPER RADIA typ 22", "R1"),
            line(2, "Pressfitting PRESSFIT 15mm", ""),
        ];
        let w = learn_printed_words(&lines);
        assert_eq!(w.get("FLACHHEIZKÖRPER"), Some(&2));
        assert_eq!(w.get("RADIA"), Some(&2));
        assert!(
            !w.contains_key("22") && !w.contains_key("15MM"),
            "numbers: {w:?}"
        );
        assert!(!w.contains_key("PRESSFITTING"), "printed once: {w:?}");
        assert!(!w.contains_key("TYPE"), "printed once: {w:?}");
    }

    #[test]
    fn words_that_name_our_series_or_a_competitors_are_learned_as_such() {
        let mut lines = Vec::new();
        for i in 0..12 {
            lines.push(line(i, "Panel radiator RADIA type 22", "R1"));
            let mut other = line(100 + i, "Panel radiator FLUXA type 22", "");
            other.sku = None;
            lines.push(other);
        }
        lines.push(line(200, "Towel radiator TOWELA", "T1"));
        let p = learn_ours_words(&lines);
        assert!(p["radia"] > 0.9, "{}", p["radia"]);
        assert!(p["fluxa"] < 0.1, "{}", p["fluxa"]);
        assert!((p["panel"] - 0.5).abs() < 0.05, "{}", p["panel"]);
        assert!(!p.contains_key("towela"), "seen on one line only");
        assert!(!p.contains_key("22"), "numbers are not learned");

        // and they reach the probability features
        let catalog = Catalog::from_csv_reader(
            "sku,name\nR1,Panel radiator RADIA type 22\nT1,Towel radiator TOWELA\n".as_bytes(),
        )
        .unwrap();
        let model = Model {
            ours_words: p,
            ..Model::default()
        };
        let m = Matcher::new(catalog, model);
        let pf = |d: &str| {
            let r = m.match_line(
                &Query {
                    description: d.into(),
                    ..Default::default()
                },
                None,
            );
            let at = |name: &str| {
                let i = crate::matcher::PROB_FEATURES
                    .iter()
                    .position(|f| *f == name)
                    .unwrap();
                r.prob_features[i]
            };
            (at("ours_word_max"), at("ours_word_min"))
        };
        let (hi, lo) = pf("Panel radiator RADIA type 22");
        assert!(hi > 0.9 && (lo - 0.5).abs() < 0.05, "{hi} {lo}");
        let (hi, lo) = pf("Panel radiator FLUXA type 22");
        assert!((hi - 0.5).abs() < 0.05 && lo < 0.1, "{hi} {lo}");
        assert_eq!(pf("TOWELA 500"), (0.5, 0.5), "no learned word: neutral");
    }
}
