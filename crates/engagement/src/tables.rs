//! Side tables for planning, read from CSV or Parquet with polars: message opens (from the
//! events file), consent and earlier challenges; and the plan written as CSV.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::plan::{rfc3339, Challenge};
use crate::{Error, Result};

/// UTC seconds of a timestamp: RFC 3339 (any offset), `YYYY-MM-DD[ T]HH:MM:SS[.f]` (taken as
/// UTC) or, when `date_ok`, a bare `YYYY-MM-DD` (midnight UTC).
pub fn parse_timestamp(s: &str, date_ok: bool) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp());
        }
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp());
        }
    }
    if date_ok {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
        }
    }
    None
}

/// String columns of a lazy frame (missing columns come back as `None`).
fn string_columns(lf: LazyFrame, names: &[&str]) -> Result<Vec<Option<Vec<Option<String>>>>> {
    let mut lf = lf;
    let schema = lf.collect_schema()?;
    let present: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| schema.get(n).is_some())
        .collect();
    let df = lf
        .select(
            present
                .iter()
                .map(|n| col(*n).cast(DataType::String))
                .collect::<Vec<_>>(),
        )
        .collect()?;
    names
        .iter()
        .map(|n| {
            if !present.contains(n) {
                return Ok(None);
            }
            let c = df.column(n)?.str()?;
            Ok(Some(
                c.downcast_iter()
                    .flat_map(|a| a.iter())
                    .map(|v| v.map(str::to_string))
                    .collect(),
            ))
        })
        .collect()
}

fn scan_csv_text(path: &Path) -> Result<LazyFrame> {
    if !path.exists() {
        return Err(Error::Invalid(format!("no such file: {}", path.display())));
    }
    let pl_path = PlRefPath::try_from_path(path)?;
    if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    {
        return Ok(LazyFrame::scan_parquet(
            pl_path,
            ScanArgsParquet::default(),
        )?);
    }
    // Every column as text: ids keep leading zeros, timestamps and flags are parsed here.
    Ok(LazyCsvReader::new(pl_path)
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()?)
}

/// `(partner_id, opened_at)` of the `message_opened` events of an events file (rows without a
/// time of day are skipped: they say nothing about the hour).
pub fn load_opens(events: &Path, before: i64) -> Result<Vec<(String, i64)>> {
    let mut lf = crate::events::scan(events)?;
    let schema = lf.collect_schema()?;
    if schema.get("kind").is_none() {
        return Ok(Vec::new());
    }
    let lf = lf.filter(
        col("kind")
            .cast(DataType::String)
            .eq(lit(crate::Kind::MessageOpened.name())),
    );
    let cols = string_columns(lf, &["partner_id", "occurred_at"])?;
    let (Some(ids), Some(at)) = (&cols[0], &cols[1]) else {
        return Ok(Vec::new());
    };
    Ok(ids
        .iter()
        .zip(at)
        .filter_map(|(p, t)| {
            let ts = parse_timestamp(t.as_deref()?, false)?;
            let p = p.clone()?;
            (ts < before).then_some((p, ts))
        })
        .collect())
}

/// Consent rows `partner_id[,consented]` in file order (no `consented` column: every row
/// consents; `true`/`1`/`yes`/`t`/`y` consent, anything else does not).
pub fn load_consent_rows(path: &Path) -> Result<Vec<(String, bool)>> {
    let cols = string_columns(scan_csv_text(path)?, &["partner_id", "consented"])?;
    let Some(ids) = &cols[0] else {
        return Err(Error::Invalid(format!(
            "{}: consent needs a partner_id column",
            path.display()
        )));
    };
    Ok(ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let yes = match &cols[1] {
                None => true,
                Some(c) => c[i].as_deref().is_some_and(|v| {
                    matches!(
                        v.trim().to_ascii_lowercase().as_str(),
                        "true" | "1" | "yes" | "t" | "y"
                    )
                }),
            };
            Some((id.clone()?, yes))
        })
        .collect())
}

/// Consented partners (a later row of the same partner wins).
pub fn load_consent(path: &Path) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for (id, yes) in load_consent_rows(path)? {
        if yes {
            out.insert(id);
        } else {
            out.remove(&id);
        }
    }
    Ok(out)
}

/// Earlier challenges `partner_id,send_at[,status]` (`cancelled` rows are ignored) as
/// `(partner_id, send_at)`.
pub fn load_existing(path: &Path) -> Result<Vec<(String, i64)>> {
    let cols = string_columns(scan_csv_text(path)?, &["partner_id", "send_at", "status"])?;
    let (Some(ids), Some(at)) = (&cols[0], &cols[1]) else {
        return Err(Error::Invalid(format!(
            "{}: earlier challenges need partner_id and send_at columns",
            path.display()
        )));
    };
    let mut out = Vec::new();
    for (i, (id, t)) in ids.iter().zip(at).enumerate() {
        let cancelled = cols[2]
            .as_ref()
            .is_some_and(|s| s[i].as_deref() == Some("cancelled"));
        let (Some(id), Some(t)) = (id, t) else {
            continue;
        };
        if cancelled {
            continue;
        }
        let ts = parse_timestamp(t, true).ok_or_else(|| {
            Error::Invalid(format!(
                "{}: send_at {t:?} is not a timestamp",
                path.display()
            ))
        })?;
        out.push((id.clone(), ts));
    }
    Ok(out)
}

/// One event of a file with its full timestamp (for a bulk import).
#[derive(Debug, Clone, PartialEq)]
pub struct FileEvent {
    pub partner_id: String,
    /// UTC seconds (a bare date is midnight UTC).
    pub occurred_at: i64,
    pub kind: String,
    pub quantity: Option<f64>,
    pub amount: Option<f64>,
}

/// Every event of a CSV or Parquet file (`partner_id,occurred_at[,kind,quantity,amount]`;
/// `kind` defaults to `purchase`). A row without a readable timestamp is an error naming it.
pub fn load_file_events(path: &Path) -> Result<Vec<FileEvent>> {
    let cols = string_columns(
        crate::events::scan(path)?,
        &["partner_id", "occurred_at", "kind", "quantity", "amount"],
    )?;
    let (Some(ids), Some(at)) = (&cols[0], &cols[1]) else {
        return Err(Error::Invalid(format!(
            "{}: events need partner_id and occurred_at columns",
            path.display()
        )));
    };
    let num = |c: &Option<Vec<Option<String>>>, i: usize| -> Option<f64> {
        c.as_ref()?[i].as_deref()?.trim().parse().ok()
    };
    let mut out = Vec::with_capacity(ids.len());
    for (i, (id, t)) in ids.iter().zip(at).enumerate() {
        let Some(id) = id else { continue };
        let t = t.as_deref().unwrap_or("");
        let occurred_at = parse_timestamp(t, true).ok_or_else(|| {
            Error::Invalid(format!(
                "{}: row {}: occurred_at {t:?} is not a timestamp",
                path.display(),
                i + 2
            ))
        })?;
        let kind = cols[2]
            .as_ref()
            .and_then(|k| k[i].clone())
            .filter(|k| !k.trim().is_empty())
            .unwrap_or_else(|| "purchase".into());
        out.push(FileEvent {
            partner_id: id.clone(),
            occurred_at,
            kind,
            quantity: num(&cols[3], i),
            amount: num(&cols[4], i),
        });
    }
    Ok(out)
}

/// Header of [`write_plan_csv`].
pub const PLAN_CSV_HEADER: &str = "challenge_id,program_id,partner_id,segment,score,goal,window_start,window_end,multiplier,send_at,send_hour_learned,expected_cost,message";

/// One line per challenge (times RFC 3339 UTC).
pub fn write_plan_csv(
    challenges: &[Challenge],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    use crate::score::csv_field;
    writeln!(out, "{PLAN_CSV_HEADER}")?;
    for c in challenges {
        writeln!(
            out,
            "{},{},{},{},{:.6},{},{},{},{},{},{},{:.2},{}",
            c.challenge_id,
            csv_field(&c.program_id),
            csv_field(&c.partner_id),
            csv_field(&c.segment),
            c.score,
            c.goal,
            rfc3339(c.window_start),
            rfc3339(c.window_end),
            c.multiplier,
            rfc3339(c.send_at),
            c.send_hour_learned,
            c.expected_cost,
            csv_field(&c.message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("claimscan-eng-tables-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn timestamps_in_every_written_form() {
        let t = 1_710_763_200; // 2024-03-18T12:00:00Z
        assert_eq!(parse_timestamp("2024-03-18T12:00:00Z", false), Some(t));
        assert_eq!(parse_timestamp("2024-03-18T14:00:00+02:00", false), Some(t));
        assert_eq!(parse_timestamp("2024-03-18 12:00:00", false), Some(t));
        assert_eq!(parse_timestamp("2024-03-18 12:00:00.000", false), Some(t));
        assert_eq!(parse_timestamp("2024-03-18", false), None);
        assert_eq!(parse_timestamp("2024-03-18", true), Some(t - 12 * 3_600));
        assert_eq!(parse_timestamp("yesterday", true), None);
    }

    #[test]
    fn file_events_keep_their_time_and_default_kind() {
        let ev = tmp(
            "full.csv",
            "partner_id,occurred_at,kind,quantity\n007,2024-03-01T17:05:00+01:00,login,\n008,2024-03-02,,2.5\n",
        );
        let got = load_file_events(&ev).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].occurred_at, 1_709_309_100);
        assert_eq!(got[0].kind, "login");
        assert_eq!(got[1].kind, "purchase");
        assert_eq!(got[1].quantity, Some(2.5));
        assert_eq!(got[1].amount, None);
        let bad = tmp(
            "bad_ts.csv",
            "partner_id,occurred_at\n1,2024-03-01\n2,later\n",
        );
        let e = load_file_events(&bad).unwrap_err().to_string();
        assert!(e.contains("row 3"), "{e}");
    }

    #[test]
    fn consent_existing_and_opens_files() {
        let c = tmp(
            "consent.csv",
            "partner_id,consented\n007,true\n008,false\n009,1\n009,no\n010,yes\n",
        );
        let got = load_consent(&c).unwrap();
        let mut v: Vec<_> = got.into_iter().collect();
        v.sort();
        assert_eq!(v, ["007", "010"]);
        let all = tmp("consent_all.csv", "partner_id\n1\n2\n");
        assert_eq!(load_consent(&all).unwrap().len(), 2);
        let bad = tmp("consent_bad.csv", "who\n1\n");
        assert!(load_consent(&bad).is_err());

        let e = tmp(
            "existing.csv",
            "partner_id,send_at,status\n007,2024-03-01T10:00:00Z,published\n008,2024-03-02,cancelled\n009,2024-03-03,scheduled\n",
        );
        let ex = load_existing(&e).unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].0, "007");
        let bad = tmp("existing_bad.csv", "partner_id,send_at\n1,soon\n");
        assert!(load_existing(&bad).is_err());

        let ev = tmp(
            "events.csv",
            "partner_id,occurred_at,kind\n007,2024-03-01T17:05:00Z,message_opened\n007,2024-03-01T18:00:00Z,purchase\n008,2024-03-02,message_opened\n009,2024-04-01T09:00:00+02:00,message_opened\n",
        );
        let opens = load_opens(&ev, i64::MAX).unwrap();
        assert_eq!(
            opens,
            vec![
                ("007".to_string(), 1_709_312_700),
                ("009".to_string(), 1_711_954_800)
            ]
        );
        assert_eq!(load_opens(&ev, 1_711_000_000).unwrap().len(), 1);
        let no_kind = tmp("nokind.csv", "partner_id,occurred_at\n1,2024-01-01\n");
        assert!(load_opens(&no_kind, i64::MAX).unwrap().is_empty());
    }
}
