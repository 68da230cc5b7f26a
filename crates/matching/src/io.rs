//! Query CSV in, result CSV/JSON out (the `claimscan match` contract).

use std::io::Write;
use std::path::Path;

use crate::matcher::{MatchResult, Query};

/// A query row: `id,description[,product_code,unit_price,distributor]`.
#[derive(Debug, Clone)]
pub struct QueryRow {
    pub id: String,
    pub query: Query,
}

pub fn read_queries(path: &Path) -> anyhow::Result<Vec<QueryRow>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let h = rdr.headers()?.clone();
    let col = |n: &str| h.iter().position(|x| x.trim().eq_ignore_ascii_case(n));
    let c_id = col("id")
        .ok_or_else(|| anyhow::anyhow!("{}: queries need an `id` column", path.display()))?;
    let c_desc = col("description").ok_or_else(|| {
        anyhow::anyhow!("{}: queries need a `description` column", path.display())
    })?;
    let (c_code, c_price, c_dist) = (col("product_code"), col("unit_price"), col("distributor"));
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let r = rec?;
        let get = |c: Option<usize>| {
            c.and_then(|c| r.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let unit_price = match get(c_price) {
            None => None,
            Some(s) => Some(s.replace(',', ".").parse::<f64>().map_err(|_| {
                anyhow::anyhow!(
                    "{}: row {}: unit_price {s:?} is not a number",
                    path.display(),
                    i + 1
                )
            })?),
        };
        out.push(QueryRow {
            id: r.get(c_id).unwrap_or("").to_string(),
            query: Query {
                description: r.get(c_desc).unwrap_or("").to_string(),
                product_code: get(c_code).map(str::to_string),
                unit_price,
                distributor: get(c_dist).map(str::to_string),
            },
        });
    }
    Ok(out)
}

/// `id,sku,score,probability,decision` (empty sku for none), one row per query, same order.
pub fn write_csv<W: Write>(w: W, rows: &[QueryRow], results: &[MatchResult]) -> anyhow::Result<()> {
    let mut wr = csv::Writer::from_writer(w);
    wr.write_record(["id", "sku", "score", "probability", "decision"])?;
    for (q, r) in rows.iter().zip(results) {
        wr.write_record([
            q.id.as_str(),
            r.sku.as_deref().unwrap_or(""),
            &format!("{:.4}", r.score),
            &format!("{:.4}", r.probability),
            r.decision.as_str(),
        ])?;
    }
    wr.flush()?;
    Ok(())
}

/// JSON array: per query `id` plus the whole [`MatchResult`] (margin, top-k candidates, source).
/// With `explain`, also each candidate's ranking features and the probability features by name
/// (`features`, `prob_features`), to see why one candidate beat another.
pub fn write_json<W: Write>(
    mut w: W,
    rows: &[QueryRow],
    results: &[MatchResult],
    explain: bool,
) -> anyhow::Result<()> {
    use crate::matcher::{FEATURES, PROB_FEATURES};
    type Named = std::collections::BTreeMap<&'static str, f32>;
    #[derive(serde::Serialize)]
    struct Row<'a> {
        id: &'a str,
        #[serde(flatten)]
        result: &'a MatchResult,
        #[serde(skip_serializing_if = "Option::is_none")]
        features: Option<Vec<Named>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        prob_features: Option<Named>,
    }
    let named = |names: &[&'static str], v: &[f32]| -> Named {
        names.iter().copied().zip(v.iter().copied()).collect()
    };
    let v: Vec<Row> = rows
        .iter()
        .zip(results)
        .map(|(q, r)| Row {
            id: &q.id,
            result: r,
            features: explain.then(|| {
                r.candidates
                    .iter()
                    .map(|c| named(&FEATURES, &c.features))
                    .collect()
            }),
            prob_features: explain.then(|| named(&PROB_FEATURES, &r.prob_features)),
        })
        .collect();
    serde_json::to_writer_pretty(&mut w, &v)?;
    writeln!(w)?;
    Ok(())
}
