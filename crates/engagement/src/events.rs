//! Loading activity events (CSV or Parquet) with polars into per-partner series.
//!
//! Input columns: `partner_id`, `occurred_at` (required); `kind` (defaults to `purchase`),
//! `quantity` (defaults to 1), `amount` (defaults to 0); any other column is ignored.
//! `occurred_at` may be a Date, a Datetime, an ISO-8601 string (`YYYY-MM-DD`, optionally followed
//! by a time and offset: the written calendar date is used) or a `YYYYMMDD` integer/string.
//!
//! The scan is lazy and runs on polars' streaming engine in two passes: events are projected,
//! filtered to before the as-of date and narrowed (day `i32`, kind `u8`, quantity/amount
//! `f32`); pass one counts events per partner (group_by), pass two streams batches and
//! scatters them into per-partner slots. The raw input is never in memory at once, and the
//! kept events cost 13 bytes each.

use std::path::Path;
use std::sync::{Arc, Mutex};

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

/// Events per partner in a compressed-sparse-row layout: partner `i` (in ascending
/// `partner_id` order) owns rows `offsets[i]..offsets[i+1]` of the event columns, unsorted.
pub struct ActivityTable {
    ids: Vec<String>,
    /// Partner rows in ascending `partner_id` order (here the identity; kept for callers).
    pub order: Vec<u32>,
    offsets: Vec<u64>,
    days: Vec<i32>,
    kinds: Vec<u8>,
    qty: Vec<f32>,
    amt: Vec<f32>,
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
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Partner id of table row `row` (as text).
    pub fn id(&self, row: usize) -> &str {
        &self.ids[row]
    }

    /// Events of table row `row`.
    pub fn events(&self, row: usize) -> PartnerEvents<'_> {
        let (a, b) = (self.offsets[row] as usize, self.offsets[row + 1] as usize);
        PartnerEvents {
            days: &self.days[a..b],
            kinds: &self.kinds[a..b],
            qty: &self.qty[a..b],
            amt: &self.amt[a..b],
        }
    }
}

struct Scatter {
    offsets: Vec<u64>,
    cursor: Vec<u64>,
    days: Vec<i32>,
    kinds: Vec<u8>,
    qty: Vec<f32>,
    amt: Vec<f32>,
    seen: usize,
}

impl Scatter {
    fn scatter(
        &mut self,
        idx: &[u32],
        d: &[i32],
        k: &[u8],
        q: &[f32],
        m: &[f32],
    ) -> PolarsResult<()> {
        for (r, &p) in idx.iter().enumerate() {
            let p = p as usize;
            let pos = self.cursor[p] as usize;
            polars_ensure!(pos < self.offsets[p + 1] as usize, ComputeError: "events changed between passes");
            self.cursor[p] += 1;
            self.days[pos] = d[r];
            self.kinds[pos] = k[r];
            self.qty[pos] = q[r];
            self.amt[pos] = m[r];
        }
        self.seen += idx.len();
        Ok(())
    }
}

/// Partner key to dense index, for integer or text ids.
enum KeyIndex {
    Int(PlHashMap<i64, u32>),
    Str(PlHashMap<String, u32>),
}

impl KeyIndex {
    fn is_int(dt: &DataType) -> bool {
        dt.is_integer()
    }

    /// Dense indices of a batch's partner ids (every id was seen in the counting pass).
    fn lookup(&self, c: &Column) -> Result<Vec<u32>> {
        let missing = || Error::Invalid("partner id missing from counting pass".into());
        match self {
            KeyIndex::Int(m) => {
                let s = c.cast(&DataType::Int64)?;
                s.i64()?
                    .into_no_null_iter()
                    .map(|k| m.get(&k).copied().ok_or_else(missing))
                    .collect()
            }
            KeyIndex::Str(m) => {
                let s = c.cast(&DataType::String)?;
                s.str()?
                    .downcast_iter()
                    .flat_map(|a| a.values_iter())
                    .map(|k| m.get(k).copied().ok_or_else(missing))
                    .collect()
            }
        }
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
        // Scoring only tells purchases from other activity: one comparison per row keeps the
        // scan cheap (a full kind-name match costs several string comparisons per event).
        Some(DataType::String) => {
            let k = col("kind");
            let purchase = k
                .clone()
                .is_null()
                .or(k.clone().eq(lit("")))
                .or(k.eq(lit(Kind::Purchase.name())));
            when(purchase)
                .then(lit(Kind::Purchase as u8))
                .otherwise(lit(Kind::Other as u8))
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
    let key_dt = schema.get("partner_id").expect("checked").clone();
    let events = lf
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
        );

    // Pass 1 (streaming): events per partner, in ascending id order.
    let counts = events
        .clone()
        .group_by([col("partner_id")])
        .agg([len().alias("n"), col("day").min().alias("first")])
        .sort(["partner_id"], SortMultipleOptions::default())
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let key = counts.column("partner_id")?;
    let n_partners = counts.height();
    let ids: Vec<String> = key
        .cast(&DataType::String)?
        .str()?
        .downcast_iter()
        .flat_map(|a| a.values_iter())
        .map(str::to_string)
        .collect();
    let index = if KeyIndex::is_int(&key_dt) {
        let k = key.cast(&DataType::Int64)?;
        let mut m = PlHashMap::with_capacity(n_partners);
        for (i, v) in k.i64()?.into_no_null_iter().enumerate() {
            m.insert(v, i as u32);
        }
        KeyIndex::Int(m)
    } else {
        let mut m = PlHashMap::with_capacity(n_partners);
        for (i, v) in ids.iter().enumerate() {
            m.insert(v.clone(), i as u32);
        }
        KeyIndex::Str(m)
    };
    let n_col = counts.column("n")?.cast(&DataType::UInt64)?;
    let mut offsets = Vec::with_capacity(n_partners + 1);
    offsets.push(0u64);
    for n in n_col.u64()?.into_no_null_iter() {
        offsets.push(offsets.last().copied().unwrap_or(0) + n);
    }
    let min_day = counts.column("first")?.i32()?.min();
    drop(counts);
    let total = *offsets.last().expect("non-empty") as usize;

    // Pass 2 (streaming batches): scatter events into their partner's slots. Ids are looked
    // up outside the lock; only the scatter itself is serialised.
    let state = Arc::new(Mutex::new(Scatter {
        cursor: offsets[..n_partners].to_vec(),
        offsets,
        days: vec![0i32; total],
        kinds: vec![0u8; total],
        qty: vec![0f32; total],
        amt: vec![0f32; total],
        seen: 0,
    }));
    let index = Arc::new(index);
    let sink_state = Arc::clone(&state);
    let callback = PlanCallback::new(move |batch: DataFrame| -> PolarsResult<bool> {
        if batch.height() == 0 {
            return Ok(false);
        }
        let idx = index
            .lookup(batch.column("partner_id")?)
            .map_err(|e| polars_err!(ComputeError: "{e}"))?;
        let d = batch.column("day")?.i32()?.rechunk();
        let k = batch.column("kind")?.u8()?.rechunk();
        let q = batch.column("qty")?.f32()?.rechunk();
        let m = batch.column("amt")?.f32()?.rechunk();
        let mut st = sink_state
            .lock()
            .map_err(|_| polars_err!(ComputeError: "poisoned"))?;
        st.scatter(
            &idx,
            d.cont_slice()?,
            k.cont_slice()?,
            q.cont_slice()?,
            m.cont_slice()?,
        )?;
        Ok(false)
    });
    events
        .sink_batches(callback, false, std::num::NonZeroUsize::new(1 << 18))?
        .collect_with_engine(Engine::Streaming)?;
    let mut st = state
        .lock()
        .map_err(|_| Error::Invalid("poisoned".into()))?;
    if st.seen != total {
        return Err(Error::Invalid(format!(
            "read {} events, counted {total}: did the input change while loading?",
            st.seen
        )));
    }
    let (offsets, days, kinds, qty, amt) = (
        std::mem::take(&mut st.offsets),
        std::mem::take(&mut st.days),
        std::mem::take(&mut st.kinds),
        std::mem::take(&mut st.qty),
        std::mem::take(&mut st.amt),
    );
    Ok(ActivityTable {
        ids,
        order: (0..n_partners as u32).collect(),
        offsets,
        days,
        kinds,
        qty,
        amt,
        n_events: total,
        min_day,
    })
}

/// Events held in memory (e.g. read from a database), one entry per event.
#[derive(Debug, Default, Clone)]
pub struct EventRows {
    pub partner_id: Vec<String>,
    /// Days since 1970-01-01 (the event's calendar date in the program's time).
    pub day: Vec<i32>,
    pub kind: Vec<String>,
    pub quantity: Vec<Option<f64>>,
    pub amount: Vec<Option<f64>>,
}

impl EventRows {
    pub fn len(&self) -> usize {
        self.partner_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.partner_id.is_empty()
    }

    /// As [`load`]: the events strictly before `as_of`, grouped per partner.
    pub fn into_table(self, as_of: i32) -> Result<ActivityTable> {
        let n = self.len();
        if [
            self.day.len(),
            self.kind.len(),
            self.quantity.len(),
            self.amount.len(),
        ]
        .iter()
        .any(|&l| l != n)
        {
            return Err(Error::Invalid("event columns differ in length".into()));
        }
        let day = Series::new("occurred_at".into(), self.day).cast(&DataType::Date)?;
        let df = DataFrame::new_infer_height(vec![
            Column::new("partner_id".into(), self.partner_id),
            day.into(),
            Column::new("kind".into(), self.kind),
            Column::new("quantity".into(), self.quantity),
            Column::new("amount".into(), self.amount),
        ])?;
        load_lazy(df.lazy(), as_of)
    }
}
