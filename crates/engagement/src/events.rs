//! Loading activity events (CSV or Parquet) with polars into per-partner series.
//!
//! Input columns: `partner_id`, `occurred_at` (required); `kind` (defaults to `purchase`),
//! `quantity` (defaults to 1), `amount` (defaults to 0); any other column is ignored.
//! `occurred_at` may be a Date, a Datetime, an ISO-8601 string (`YYYY-MM-DD`, optionally followed
//! by a time and offset: the written calendar date is used) or a `YYYYMMDD` integer/string.
//!
//! Two passes over the input, batch by batch: events are projected, filtered to before the
//! as-of date and narrowed (day, purchase or not, quantity, amount); pass one counts events per
//! partner, pass two scatters them into per-partner slots. A Parquet file is read with polars'
//! Parquet reader one slice of at most [`SLICE_ROWS`] rows at a time (a row group larger than
//! that is read in several slices, and the file is mapped only while a slice is read), so the
//! memory held for decoding does not depend on how the file was written; CSV and in-memory
//! frames go through polars' streaming engine. The raw input is never in memory at once.
//!
//! What scoring reads is all that is kept: a purchase costs 8 bytes (day as a `u16` offset
//! from the earliest day, quantity as `u16`, amount `f32`), any other event 2 bytes (its day).
//! Days spanning more than 65,536 days fall back to `i32`, quantities that are not whole
//! numbers in `0..=65535` to `f32`.

use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

use polars::prelude::*;

use crate::{Error, Result};

/// Rows decoded at a time from a Parquet file (a larger row group is read in slices).
pub const SLICE_ROWS: usize = 1 << 20;

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

/// Event days: `u16` offsets from `base` when every kept day fits, else `i32`.
enum Days {
    Narrow { base: i32, v: Vec<u16> },
    Wide(Vec<i32>),
}

impl Days {
    fn new(n: usize, min: i32, max: i32) -> Self {
        if i64::from(max) - i64::from(min) <= i64::from(u16::MAX) {
            Days::Narrow {
                base: min,
                v: vec![0; n],
            }
        } else {
            Days::Wide(vec![0; n])
        }
    }

    #[inline]
    fn set(&mut self, pos: usize, day: i32) {
        match self {
            // In range: `min <= day <= max` was seen in the counting pass.
            Days::Narrow { base, v } => v[pos] = (day - *base) as u16,
            Days::Wide(v) => v[pos] = day,
        }
    }

    fn slice(&self, a: usize, b: usize) -> DaySlice<'_> {
        match self {
            Days::Narrow { base, v } => DaySlice::Narrow(*base, &v[a..b]),
            Days::Wide(v) => DaySlice::Wide(&v[a..b]),
        }
    }

    fn is_narrow(&self) -> bool {
        matches!(self, Days::Narrow { .. })
    }
}

/// One partner's event days (days since 1970-01-01).
#[derive(Debug, Clone, Copy)]
pub enum DaySlice<'a> {
    /// Offsets from a base day.
    Narrow(i32, &'a [u16]),
    Wide(&'a [i32]),
}

impl DaySlice<'_> {
    pub fn len(&self) -> usize {
        match self {
            DaySlice::Narrow(_, v) => v.len(),
            DaySlice::Wide(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, i: usize) -> i32 {
        match self {
            DaySlice::Narrow(base, v) => base + i32::from(v[i]),
            DaySlice::Wide(v) => v[i],
        }
    }
}

/// Purchase quantities: `u16` while every value is a whole number in `0..=65535`, else `f32`
/// (switched on the first value that does not fit).
enum Qty {
    Narrow(Vec<u16>),
    Wide(Vec<f32>),
}

impl Qty {
    #[inline]
    fn set(&mut self, pos: usize, q: f32) {
        if let Qty::Narrow(v) = self {
            let n = q as u16;
            if f32::from(n).to_bits() == q.to_bits() {
                v[pos] = n;
                return;
            }
            *self = Qty::Wide(v.iter().map(|&x| f32::from(x)).collect());
        }
        if let Qty::Wide(v) = self {
            v[pos] = q;
        }
    }

    fn slice(&self, a: usize, b: usize) -> QtySlice<'_> {
        match self {
            Qty::Narrow(v) => QtySlice::Narrow(&v[a..b]),
            Qty::Wide(v) => QtySlice::Wide(&v[a..b]),
        }
    }
}

/// One partner's purchase quantities.
#[derive(Debug, Clone, Copy)]
pub enum QtySlice<'a> {
    Narrow(&'a [u16]),
    Wide(&'a [f32]),
}

impl QtySlice<'_> {
    #[inline]
    pub fn get(&self, i: usize) -> f32 {
        match self {
            QtySlice::Narrow(v) => f32::from(v[i]),
            QtySlice::Wide(v) => v[i],
        }
    }
}

/// Events per partner in a compressed-sparse-row layout: partner `i` (in ascending
/// `partner_id` order) owns purchases `p_off[i]..p_off[i+1]` and other events
/// `o_off[i]..o_off[i+1]`, each in input order.
pub struct ActivityTable {
    ids: Vec<String>,
    /// Partner rows in ascending `partner_id` order (here the identity; kept for callers).
    pub order: Vec<u32>,
    p_off: Vec<u64>,
    p_day: Days,
    p_qty: Qty,
    p_amt: Vec<f32>,
    o_off: Vec<u64>,
    o_day: Days,
    /// Number of events kept (before `as_of`).
    pub n_events: usize,
    /// Earliest event day kept.
    pub min_day: Option<i32>,
}

/// Borrowed per-partner slices of an [`ActivityTable`]: purchases (`days`, `qty`, `amt`, same
/// length) and the days of other activity.
pub struct PartnerEvents<'a> {
    pub days: DaySlice<'a>,
    pub qty: QtySlice<'a>,
    pub amt: &'a [f32],
    pub other: DaySlice<'a>,
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
        let (a, b) = (self.p_off[row] as usize, self.p_off[row + 1] as usize);
        let (c, d) = (self.o_off[row] as usize, self.o_off[row + 1] as usize);
        PartnerEvents {
            days: self.p_day.slice(a, b),
            qty: self.p_qty.slice(a, b),
            amt: &self.p_amt[a..b],
            other: self.o_day.slice(c, d),
        }
    }

    /// Bytes held per kept event, as stored (for the load report).
    pub fn storage(&self) -> String {
        format!(
            "days {}, quantities {}",
            if self.p_day.is_narrow() && self.o_day.is_narrow() {
                "u16"
            } else {
                "i32"
            },
            if matches!(self.p_qty, Qty::Narrow(_)) {
                "u16"
            } else {
                "f32"
            }
        )
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

fn num_expr(name: &str, dt: Option<&DataType>, default: f32) -> Expr {
    match dt {
        None => lit(default),
        Some(_) => col(name)
            .cast(DataType::Float32)
            .fill_null(lit(default))
            .fill_nan(lit(default)),
    }
}

/// `true` for purchases: no `kind` column, an empty kind or `purchase`; numeric kinds are codes
/// (`0` = purchase, as [`Kind`]).
fn purchase_expr(dt: Option<&DataType>) -> Expr {
    match dt {
        None => lit(true),
        // One comparison per row keeps the scan cheap.
        Some(DataType::String) => {
            let k = col("kind");
            k.clone()
                .is_null()
                .or(k.clone().eq(lit("")))
                .or(k.eq(lit(Kind::Purchase.name())))
        }
        Some(_) => col("kind")
            .cast(DataType::UInt8)
            .fill_null(lit(Kind::Purchase as u8))
            .eq(lit(Kind::Purchase as u8)),
    }
}

/// The narrowed events of `lf`: `partner_id`, `day` (days since 1970-01-01, `Int32`),
/// `purchase` (bool) and, with `amounts`, `qty` and `amt` (`Float32`); only rows with an id
/// and a day before `as_of`.
fn narrow(lf: LazyFrame, schema: &Schema, as_of: i32, amounts: bool) -> Result<LazyFrame> {
    let day = day_expr(schema.get("occurred_at").expect("checked"))?;
    let mut sel = vec![
        col("partner_id"),
        day.alias("day"),
        purchase_expr(schema.get("kind")).alias("purchase"),
    ];
    if amounts {
        sel.push(
            num_expr("quantity", schema.get("quantity"), 1.0)
                .cast(DataType::Float32)
                .alias("qty"),
        );
        sel.push(
            num_expr("amount", schema.get("amount"), 0.0)
                .cast(DataType::Float32)
                .alias("amt"),
        );
    }
    Ok(lf.select(sel).filter(
        col("partner_id")
            .is_not_null()
            .and(col("day").is_not_null())
            .and(col("day").lt(lit(as_of))),
    ))
}

/// Where the events come from.
#[derive(Clone)]
enum Source {
    /// A Parquet file read slice by slice: `(first row, rows)` per slice.
    Parquet {
        path: std::path::PathBuf,
        meta: FileMetadataRef,
        slices: Vec<(usize, usize)>,
    },
    /// Any lazy frame, run on the streaming engine.
    Lazy(Box<LazyFrame>),
}

/// Slices of at most `max_rows` rows, none crossing a row group boundary.
fn parquet_slices(meta: &FileMetadataRef, max_rows: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for rg in &meta.row_groups {
        let n = rg.num_rows();
        let parts = n.div_ceil(max_rows.max(1)).max(1);
        let mut off = 0;
        for p in 0..parts {
            let len = n * (p + 1) / parts - off;
            if len > 0 {
                out.push((start + off, len));
            }
            off += len;
        }
        start += n;
    }
    out
}

/// Sends the narrowed batches of `src` to `tx` until the input ends or the receiver hangs up.
fn produce(
    src: Source,
    schema: &Schema,
    as_of: i32,
    amounts: bool,
    tx: SyncSender<DataFrame>,
) -> Result<()> {
    match src {
        Source::Parquet { path, meta, slices } => {
            let mut cols = vec!["partner_id".to_string(), "occurred_at".to_string()];
            let wanted: &[&str] = if amounts {
                &["kind", "quantity", "amount"]
            } else {
                &["kind"]
            };
            cols.extend(
                wanted
                    .iter()
                    .filter(|c| schema.get(c).is_some())
                    .map(|c| c.to_string()),
            );
            for (off, len) in slices {
                // The file is mapped by the reader only while this slice is decoded.
                let file = std::fs::File::open(&path)
                    .map_err(|e| Error::Io(path.display().to_string(), e))?;
                let mut r = ParquetReader::new(file)
                    .with_columns(Some(cols.clone()))
                    .with_slice(Some((off, len)))
                    .read_parallel(ParallelStrategy::Columns);
                r.set_metadata(meta.clone());
                let df = narrow(r.finish()?.lazy(), schema, as_of, amounts)?.collect()?;
                if tx.send(df).is_err() {
                    break;
                }
            }
        }
        Source::Lazy(lf) => {
            let lf = *lf;
            let callback = PlanCallback::new(move |batch: DataFrame| -> PolarsResult<bool> {
                if batch.height() == 0 {
                    return Ok(false);
                }
                // `true` stops the scan (the loader failed and hung up).
                Ok(tx.send(batch).is_err())
            });
            narrow(lf, schema, as_of, amounts)?
                .sink_batches(callback, true, std::num::NonZeroUsize::new(1 << 18))?
                .collect_with_engine(Engine::Streaming)?;
        }
    }
    Ok(())
}

/// Runs `f` on every narrowed batch of `src`, decoding the next batch while `f` runs.
fn for_each_batch(
    src: &Source,
    schema: &Schema,
    as_of: i32,
    amounts: bool,
    mut f: impl FnMut(&DataFrame) -> Result<()>,
) -> Result<()> {
    let (tx, rx) = sync_channel::<DataFrame>(1);
    let src = src.clone();
    std::thread::scope(|sc| {
        let producer = sc.spawn(move || produce(src, schema, as_of, amounts, tx));
        let mut res = Ok(());
        for df in rx.iter() {
            if let Err(e) = f(&df) {
                res = Err(e);
                break;
            }
        }
        drop(rx);
        let read = producer
            .join()
            .unwrap_or_else(|_| Err(Error::Invalid("the event reader panicked".into())));
        res.and(read)
    })
}

/// A partner's counts (counting pass) and table row.
#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    purchases: u64,
    other: u64,
    row: u32,
}

/// Partner id to [`Slot`], for integer or text ids.
enum Keys {
    Int(PlHashMap<i64, Slot>),
    Str(PlHashMap<String, Slot>),
}

impl Keys {
    fn new(dt: &DataType) -> Self {
        if dt.is_integer() {
            Keys::Int(PlHashMap::default())
        } else {
            Keys::Str(PlHashMap::default())
        }
    }

    /// Calls `f(slot, row)` for each row of a batch's ids; unseen ids are added when `insert`,
    /// else they are an error.
    fn for_each(
        &mut self,
        c: &Column,
        insert: bool,
        mut f: impl FnMut(&mut Slot, usize) -> Result<()>,
    ) -> Result<()> {
        let missing = || {
            Error::Invalid(
                "partner id missing from counting pass: did the input change while loading?".into(),
            )
        };
        match self {
            Keys::Int(m) => {
                let s = c.cast(&DataType::Int64)?;
                for (r, k) in s.i64()?.into_no_null_iter().enumerate() {
                    let slot = if insert {
                        m.entry(k).or_default()
                    } else {
                        m.get_mut(&k).ok_or_else(missing)?
                    };
                    f(slot, r)?;
                }
            }
            Keys::Str(m) => {
                let s = c.cast(&DataType::String)?;
                let keys = s.str()?.downcast_iter().flat_map(|a| a.values_iter());
                for (r, k) in keys.enumerate() {
                    if insert && !m.contains_key(k) {
                        m.insert(k.to_string(), Slot::default());
                    }
                    f(m.get_mut(k).ok_or_else(missing)?, r)?;
                }
            }
        }
        Ok(())
    }

    /// Numbers the partners in ascending id order; returns their ids (as text) and
    /// `[purchases, other]` counts in that order.
    fn number(&mut self) -> (Vec<String>, Vec<[u64; 2]>) {
        match self {
            Keys::Int(m) => {
                let mut ks: Vec<i64> = m.keys().copied().collect();
                ks.sort_unstable();
                let counts = ks
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let s = m.get_mut(k).expect("own key");
                        s.row = i as u32;
                        [s.purchases, s.other]
                    })
                    .collect();
                (ks.iter().map(|k| k.to_string()).collect(), counts)
            }
            Keys::Str(m) => {
                let mut ks: Vec<String> = m.keys().cloned().collect();
                ks.sort_unstable();
                let counts = ks
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let s = m.get_mut(k.as_str()).expect("own key");
                        s.row = i as u32;
                        [s.purchases, s.other]
                    })
                    .collect();
                (ks, counts)
            }
        }
    }
}

fn bools(c: &Column) -> Result<Vec<bool>> {
    Ok(c.bool()?
        .downcast_iter()
        .flat_map(|a| a.values_iter())
        .collect())
}

fn offsets(counts: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut out = vec![0u64];
    for n in counts {
        out.push(out.last().copied().unwrap_or(0) + n);
    }
    out
}

/// Load events strictly before `as_of` (days since 1970-01-01) and group them per partner.
pub fn load(path: &Path, as_of: i32) -> Result<ActivityTable> {
    load_with(path, as_of, SLICE_ROWS)
}

/// As [`load`], reading a Parquet file in slices of at most `slice_rows` rows.
pub(crate) fn load_with(path: &Path, as_of: i32, slice_rows: usize) -> Result<ActivityTable> {
    let mut lf = scan(path)?;
    if !is_parquet(path) {
        return load_lazy(lf, as_of);
    }
    let schema = lf.collect_schema()?;
    let file = std::fs::File::open(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
    let meta = ParquetReader::new(file).get_metadata()?.clone();
    let slices = parquet_slices(&meta, slice_rows);
    let src = Source::Parquet {
        path: path.to_path_buf(),
        meta,
        slices,
    };
    load_source(&src, &schema, as_of)
}

/// As [`load`], from any lazy frame with the input columns.
pub fn load_lazy(mut lf: LazyFrame, as_of: i32) -> Result<ActivityTable> {
    let schema = lf.collect_schema()?;
    load_source(&Source::Lazy(Box::new(lf)), &schema, as_of)
}

fn load_source(src: &Source, schema: &Schema, as_of: i32) -> Result<ActivityTable> {
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
    let mut keys = Keys::new(schema.get("partner_id").expect("checked"));

    // Pass 1: events per partner and kind, and the range of days.
    let (mut min_day, mut max_day) = (i32::MAX, i32::MIN);
    for_each_batch(src, schema, as_of, false, |df| {
        let day = df.column("day")?.i32()?;
        if let (Some(a), Some(b)) = (day.min(), day.max()) {
            min_day = min_day.min(a);
            max_day = max_day.max(b);
        }
        let purchase = bools(df.column("purchase")?)?;
        keys.for_each(df.column("partner_id")?, true, |slot, r| {
            if purchase[r] {
                slot.purchases += 1;
            } else {
                slot.other += 1;
            }
            Ok(())
        })
    })?;
    let (ids, counts) = keys.number();
    let n_partners = ids.len();
    let p_off = offsets(counts.iter().map(|c| c[0]));
    let o_off = offsets(counts.iter().map(|c| c[1]));
    drop(counts);
    let n_p = *p_off.last().expect("non-empty") as usize;
    let n_o = *o_off.last().expect("non-empty") as usize;
    let min = if n_p + n_o > 0 { min_day } else { as_of };
    let max = if n_p + n_o > 0 { max_day } else { as_of };

    // Pass 2: scatter every event into its partner's slot.
    let mut p_cur = p_off[..n_partners].to_vec();
    let mut o_cur = o_off[..n_partners].to_vec();
    let mut p_day = Days::new(n_p, min, max);
    let mut p_qty = Qty::Narrow(vec![0; n_p]);
    let mut p_amt = vec![0f32; n_p];
    let mut o_day = Days::new(n_o, min, max);
    let mut seen = 0usize;
    let changed = || Error::Invalid("events changed between passes".into());
    for_each_batch(src, schema, as_of, true, |df| {
        let day = df.column("day")?.i32()?.rechunk();
        let qty = df.column("qty")?.f32()?.rechunk();
        let amt = df.column("amt")?.f32()?.rechunk();
        let (d, q, m) = (day.cont_slice()?, qty.cont_slice()?, amt.cont_slice()?);
        if d.iter().any(|&x| x < min || x > max) {
            return Err(changed());
        }
        let purchase = bools(df.column("purchase")?)?;
        keys.for_each(df.column("partner_id")?, false, |slot, r| {
            let i = slot.row as usize;
            if purchase[r] {
                let pos = p_cur[i] as usize;
                if pos >= p_off[i + 1] as usize {
                    return Err(changed());
                }
                p_cur[i] += 1;
                p_day.set(pos, d[r]);
                p_qty.set(pos, q[r]);
                p_amt[pos] = m[r];
            } else {
                let pos = o_cur[i] as usize;
                if pos >= o_off[i + 1] as usize {
                    return Err(changed());
                }
                o_cur[i] += 1;
                o_day.set(pos, d[r]);
            }
            Ok(())
        })?;
        seen += df.height();
        Ok(())
    })?;
    let total = n_p + n_o;
    if seen != total {
        return Err(Error::Invalid(format!(
            "read {seen} events, counted {total}: did the input change while loading?"
        )));
    }
    Ok(ActivityTable {
        ids,
        order: (0..n_partners as u32).collect(),
        p_off,
        p_day,
        p_qty,
        p_amt,
        o_off,
        o_day,
        n_events: total,
        min_day: (total > 0).then_some(min),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{score_table, write_csv, ScoreConfig};
    use crate::synth::{generate_parquet, SynthConfig};

    fn scores_csv(t: &ActivityTable, as_of: i32) -> Vec<u8> {
        let run = score_table(t, &ScoreConfig::new(as_of, 91)).unwrap();
        let mut out = Vec::new();
        write_csv(&run.scores, &mut out).unwrap();
        out
    }

    fn row_groups(p: &Path) -> usize {
        let f = std::fs::File::open(p).unwrap();
        ParquetReader::new(f)
            .get_metadata()
            .unwrap()
            .row_groups
            .len()
    }

    #[test]
    fn row_groups_and_slices_do_not_change_scores() {
        let dir = std::env::temp_dir().join(format!("claimscan-eng-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let start = crate::date::parse_date("2023-01-01").unwrap();
        let cfg = |batch| SynthConfig {
            partners: 600,
            start_day: start,
            days: 500,
            seed: 3,
            batch,
        };
        let (one, many) = (dir.join("one.parquet"), dir.join("many.parquet"));
        let (n1, _) = generate_parquet(&cfg(600), &one).unwrap();
        let (n2, _) = generate_parquet(&cfg(7), &many).unwrap();
        assert_eq!(n1, n2);
        assert_eq!(row_groups(&one), 1);
        assert!(row_groups(&many) > 50, "{}", row_groups(&many));
        let as_of = start + 450;
        let table = load(&one, as_of).unwrap();
        assert!(table.n_events > 10_000 && table.len() > 500);
        assert_eq!(table.storage(), "days u16, quantities u16");
        let base = scores_csv(&table, as_of);
        assert!(base.len() > 20_000);
        assert_eq!(scores_csv(&load(&many, as_of).unwrap(), as_of), base);
        // Slices smaller than a row group, and not dividing it evenly.
        assert_eq!(
            scores_csv(&load_with(&one, as_of, 997).unwrap(), as_of),
            base
        );
        assert_eq!(
            scores_csv(&load_with(&many, as_of, 3).unwrap(), as_of),
            base
        );
        // The streaming engine over the same file agrees.
        let lazy = load_lazy(scan(&one).unwrap(), as_of).unwrap();
        assert_eq!(lazy.n_events, table.n_events);
        assert_eq!(scores_csv(&lazy, as_of), base);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn days_of(e: &PartnerEvents<'_>) -> Vec<i32> {
        (0..e.days.len()).map(|i| e.days.get(i)).collect()
    }

    #[test]
    fn wide_days_and_fractional_quantities_fall_back() {
        let as_of = crate::date::parse_date("2024-02-01").unwrap();
        let d = |s: &str| crate::date::parse_date(s).unwrap();
        let frame = |first: &str, q: f64| {
            df!(
                "partner_id" => ["a", "a", "b", "a", "c"],
                "occurred_at" => [first, "2024-01-02", "2024-01-03", "2024-01-05", "2024-03-01"],
                "kind" => ["purchase", "purchase", "login", "", "purchase"],
                "quantity" => [1.0, q, 3.0, 2.0, 1.0]
            )
            .unwrap()
        };
        let narrow = load_lazy(frame("2023-12-30", 4.0).lazy(), as_of).unwrap();
        assert_eq!(narrow.storage(), "days u16, quantities u16");
        let wide = load_lazy(frame("1800-01-01", 2.5).lazy(), as_of).unwrap();
        assert_eq!(wide.storage(), "days i32, quantities f32");
        for (t, first, q) in [(&narrow, "2023-12-30", 4.0), (&wide, "1800-01-01", 2.5)] {
            // "c" only has an event after the as-of date.
            assert_eq!((t.len(), t.n_events), (2, 4));
            assert_eq!(t.min_day, Some(d(first)));
            let a = t.events(0);
            assert_eq!(t.id(0), "a");
            assert_eq!(days_of(&a), [d(first), d("2024-01-02"), d("2024-01-05")]);
            assert_eq!(
                (0..3).map(|i| a.qty.get(i)).collect::<Vec<_>>(),
                [1.0, q, 2.0]
            );
            assert!(a.other.is_empty());
            let b = t.events(1);
            assert!(b.days.is_empty());
            assert_eq!(b.other.len(), 1);
            assert_eq!(b.other.get(0), d("2024-01-03"));
        }
    }
}
