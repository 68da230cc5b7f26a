//! Loading activity events (CSV or Parquet) with polars into per-partner series.
//!
//! Input columns: `partner_id`, `occurred_at` (required); `kind` (defaults to `purchase`),
//! `quantity` (defaults to 1), `amount` (defaults to 0); any other column is ignored.
//! `occurred_at` may be a Date, a Datetime, an ISO-8601 string (`YYYY-MM-DD`, optionally followed
//! by a time and offset: the written calendar date is used) or a `YYYYMMDD` integer/string.
//!
//! The scan is lazy and runs on polars' streaming engine: events are projected, filtered to
//! before the as-of date, narrowed (day `i32`, kind `u8`, quantity/amount `f32`) and grouped
//! by partner into list columns, so the raw input never has to sit in memory at once.

use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::{Error, Result};

/// Event kinds, stored as a `u8` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Purchase = 0,
    Claim = 1,
    Login = 2,
    ChallengeJoined = 3,
    ChallengeCompleted = 4,
    MessageOpened = 5,
    Other = 255,
}

impl Kind {
    pub const NAMES: [(&'static str, Kind); 6] = [
        ("purchase", Kind::Purchase),
        ("claim", Kind::Claim),
        ("login", Kind::Login),
        ("challenge_joined", Kind::ChallengeJoined),
        ("challenge_completed", Kind::ChallengeCompleted),
        ("message_opened", Kind::MessageOpened),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("other", |(n, _)| n)
    }
}

/// Events grouped per partner: one row per partner, list columns `day`, `kind`, `qty`, `amt`
/// (unsorted within a partner), all single-chunk.
pub struct ActivityTable {
    ids: StringChunked,
    /// Partner rows in ascending `partner_id` order (deterministic output and sampling).
    pub order: Vec<u32>,
    offsets: Vec<i64>,
    days: Int32Chunked,
    kinds: UInt8Chunked,
    qty: Float32Chunked,
    amt: Float32Chunked,
    /// Number of events kept (before `as_of`).
    pub n_events: usize,
    /// Earliest event day kept.
    pub min_day: Option<i32>,
}

/// Borrowed per-partner slices of an [`ActivityTable`].
pub struct PartnerEvents<'a> {
    pub days: &'a [i32],
    pub kinds: &'a [u8],
    pub qty: &'a [f32],
    pub amt: &'a [f32],
}

impl ActivityTable {
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Partner id of table row `row` (as text).
    pub fn id(&self, row: usize) -> &str {
        self.ids.get(row).unwrap_or("")
    }

    /// Events of table row `row`.
    pub fn events(&self, row: usize) -> PartnerEvents<'_> {
        let (a, b) = (self.offsets[row] as usize, self.offsets[row + 1] as usize);
        // All four columns were checked to be single-chunk without nulls in `from_grouped`.
        PartnerEvents {
            days: &self.days.cont_slice().expect("single chunk")[a..b],
            kinds: &self.kinds.cont_slice().expect("single chunk")[a..b],
            qty: &self.qty.cont_slice().expect("single chunk")[a..b],
            amt: &self.amt.cont_slice().expect("single chunk")[a..b],
        }
    }

    fn from_grouped(df: DataFrame) -> Result<Self> {
        let list = |name: &str| -> Result<(Vec<i64>, Series)> {
            let lc = df.column(name)?.list()?.rechunk();
            let offsets = if lc.is_empty() {
                vec![0]
            } else {
                lc.downcast_as_array().offsets().as_slice().to_vec()
            };
            let inner = lc.get_inner().rechunk();
            Ok((offsets, inner))
        };
        let (offsets, days) = list("day")?;
        let (o2, kinds) = list("kind")?;
        let (o3, qty) = list("qty")?;
        let (o4, amt) = list("amt")?;
        if o2 != offsets || o3 != offsets || o4 != offsets {
            return Err(Error::Invalid("grouped list columns disagree".into()));
        }
        let days = days.i32()?.clone();
        let kinds = kinds.u8()?.clone();
        let qty = qty.f32()?.clone();
        let amt = amt.f32()?.clone();
        for (name, nulls) in [
            ("day", days.null_count()),
            ("kind", kinds.null_count()),
            ("qty", qty.null_count()),
            ("amt", amt.null_count()),
        ] {
            if nulls > 0 {
                return Err(Error::Invalid(format!("unexpected nulls in {name}")));
            }
        }
        let key = df.column("partner_id")?.as_materialized_series().clone();
        let order_idx = key.arg_sort(SortOptions::default().with_multithreaded(true));
        let order: Vec<u32> = order_idx.into_no_null_iter().collect();
        let ids = key.cast(&DataType::String)?.str()?.rechunk().into_owned();
        let n_events = days.len();
        let min_day = days.min();
        Ok(Self {
            ids,
            order,
            offsets,
            days,
            kinds,
            qty,
            amt,
            n_events,
            min_day,
        })
    }
}

fn is_parquet(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("parquet" | "pq")
    )
}

fn csv_header(path: &Path) -> Result<Vec<String>> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
    let mut line = String::new();
    std::io::BufReader::new(f)
        .read_line(&mut line)
        .map_err(|e| Error::Io(path.display().to_string(), e))?;
    let line = line.trim_start_matches('\u{feff}').trim_end();
    Ok(line
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .collect())
}

/// Lazy scan of an events file with its column names and dtypes.
pub fn scan(path: &Path) -> Result<LazyFrame> {
    if !path.exists() {
        return Err(Error::Invalid(format!("no such file: {}", path.display())));
    }
    let pl_path = PlRefPath::try_from_path(path)?;
    let lf = if is_parquet(path) {
        LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default())?
    } else {
        // Ids and timestamps are read as text: ids keep leading zeros, dates are parsed below.
        let header = csv_header(path)?;
        let mut schema = Schema::default();
        for c in &header {
            match c.as_str() {
                "partner_id" | "occurred_at" | "kind" | "program_id" => {
                    schema.insert(c.as_str().into(), DataType::String);
                }
                "quantity" | "amount" => {
                    schema.insert(c.as_str().into(), DataType::Float64);
                }
                _ => {}
            }
        }
        LazyCsvReader::new(pl_path)
            .with_has_header(true)
            .with_dtype_overwrite(Some(Arc::new(schema)))
            .with_infer_schema_length(Some(1000))
            .finish()?
    };
    Ok(lf)
}

/// Expression turning `occurred_at` of dtype `dt` into days since 1970-01-01 (`Int32`).
fn day_expr(dt: &DataType) -> Result<Expr> {
    let c = col("occurred_at");
    let opts = |fmt: &str| StrptimeOptions {
        format: Some(fmt.into()),
        strict: false,
        exact: true,
        cache: true,
    };
    let date = match dt {
        DataType::Date => c,
        DataType::Datetime(_, _) => c.cast(DataType::Date),
        DataType::String => {
            // `YYYY-MM-DD...` or `YYYYMMDD`.
            let iso = c
                .clone()
                .str()
                .slice(lit(0), lit(10))
                .str()
                .to_date(opts("%Y-%m-%d"));
            let compact = c.str().slice(lit(0), lit(8)).str().to_date(opts("%Y%m%d"));
            iso.fill_null(compact)
        }
        dt if dt.is_integer() => c.cast(DataType::String).str().to_date(opts("%Y%m%d")),
        other => {
            return Err(Error::Invalid(format!(
                "occurred_at has unsupported type {other}"
            )))
        }
    };
    Ok(date.cast(DataType::Int32))
}

fn kind_expr(dt: Option<&DataType>) -> Expr {
    match dt {
        None => lit(Kind::Purchase as u8),
        Some(DataType::String) => {
            let k = col("kind");
            let empty = k.clone().is_null().or(k.clone().eq(lit("")));
            let mut chain = when(empty)
                .then(lit(Kind::Purchase as u8))
                .when(lit(false))
                .then(lit(Kind::Purchase as u8));
            for (name, code) in Kind::NAMES {
                chain = chain.when(k.clone().eq(lit(name))).then(lit(code as u8));
            }
            chain.otherwise(lit(Kind::Other as u8))
        }
        // Numeric kinds are taken as codes.
        Some(_) => col("kind")
            .cast(DataType::UInt8)
            .fill_null(lit(Kind::Purchase as u8)),
    }
}

fn num_expr(name: &str, dt: Option<&DataType>, default: f32) -> Expr {
    match dt {
        None => lit(default),
        Some(_) => col(name)
            .cast(DataType::Float32)
            .fill_null(lit(default))
            .fill_nan(lit(default)),
    }
}

/// Load events strictly before `as_of` (days since 1970-01-01) and group them per partner.
pub fn load(path: &Path, as_of: i32) -> Result<ActivityTable> {
    load_lazy(scan(path)?, as_of)
}

/// As [`load`], from any lazy frame with the input columns.
pub fn load_lazy(mut lf: LazyFrame, as_of: i32) -> Result<ActivityTable> {
    let schema = lf.collect_schema()?;
    for req in ["partner_id", "occurred_at"] {
        if schema.get(req).is_none() {
            return Err(Error::Invalid(format!(
                "events need a {req} column (found: {})",
                schema
                    .iter_names()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let day = day_expr(schema.get("occurred_at").expect("checked"))?;
    let lf = lf
        .select([
            col("partner_id"),
            day.alias("day"),
            kind_expr(schema.get("kind"))
                .cast(DataType::UInt8)
                .alias("kind"),
            num_expr("quantity", schema.get("quantity"), 1.0)
                .cast(DataType::Float32)
                .alias("qty"),
            num_expr("amount", schema.get("amount"), 0.0)
                .cast(DataType::Float32)
                .alias("amt"),
        ])
        .filter(
            col("partner_id")
                .is_not_null()
                .and(col("day").is_not_null())
                .and(col("day").lt(lit(as_of))),
        )
        .group_by([col("partner_id")])
        .agg([col("day"), col("kind"), col("qty"), col("amt")]);
    // A single in-memory sink: `unwrap_single` cannot panic here.
    let df = lf.collect_with_engine(Engine::Streaming)?.unwrap_single();
    ActivityTable::from_grouped(df)
}
