//! The SKU catalog: `sku,name[,brand,family,gtin,mpn,unit,pack_size,list_price,points_per_unit,eligible]`
//! from CSV (csv crate) or Parquet (polars), validated.

use std::path::Path;

use rustc_hash::FxHashSet;

use crate::normalize::gtin_valid;

/// One catalog row.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub brand: Option<String>,
    pub family: Option<String>,
    pub gtin: Option<String>,
    pub mpn: Option<String>,
    pub unit: Option<String>,
    pub pack_size: Option<f64>,
    pub list_price: Option<f64>,
    pub points_per_unit: Option<f64>,
    pub eligible: Option<bool>,
}

/// Why a catalog was rejected. `row` is 1-based over data rows (the header is row 0).
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read catalog {path}: {msg}")]
    Io { path: String, msg: String },
    #[error("catalog has no `{0}` column (required: sku,name)")]
    MissingColumn(&'static str),
    #[error("catalog row {row}: empty sku")]
    EmptySku { row: usize },
    #[error("catalog row {row}: sku {sku} has no name")]
    MissingName { row: usize, sku: String },
    #[error("catalog row {row}: duplicate sku {sku} (first seen on row {first})")]
    DuplicateSku {
        row: usize,
        sku: String,
        first: usize,
    },
    #[error("catalog row {row}: sku {sku}: bad GTIN {gtin:?} (length or check digit)")]
    BadGtin {
        row: usize,
        sku: String,
        gtin: String,
    },
    #[error("catalog row {row}: sku {sku}: column {column}: not a number: {value:?}")]
    BadNumber {
        row: usize,
        sku: String,
        column: &'static str,
        value: String,
    },
    #[error("catalog row {row}: sku {sku}: eligible must be true/false, got {value:?}")]
    BadBool {
        row: usize,
        sku: String,
        value: String,
    },
    #[error("catalog is empty")]
    Empty,
}

/// A validated catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub products: Vec<Product>,
}

fn opt(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

const COLS: [&str; 11] = [
    "sku",
    "name",
    "brand",
    "family",
    "gtin",
    "mpn",
    "unit",
    "pack_size",
    "list_price",
    "points_per_unit",
    "eligible",
];

impl Catalog {
    /// Validate rows given as string cells (column order of [`COLS`]; `None` = absent/empty).
    fn from_cells<I>(rows: I) -> Result<Self, CatalogError>
    where
        I: IntoIterator<Item = [Option<String>; 11]>,
    {
        let mut products = Vec::new();
        let mut seen: rustc_hash::FxHashMap<String, usize> = Default::default();
        for (i, cells) in rows.into_iter().enumerate() {
            let row = i + 1;
            let [sku, name, brand, family, gtin, mpn, unit, pack, price, points, eligible] = cells;
            let sku = sku.ok_or(CatalogError::EmptySku { row })?;
            let name = name.ok_or_else(|| CatalogError::MissingName {
                row,
                sku: sku.clone(),
            })?;
            if let Some(first) = seen.insert(sku.clone(), row) {
                return Err(CatalogError::DuplicateSku { row, sku, first });
            }
            if let Some(g) = &gtin {
                if !gtin_valid(g) {
                    return Err(CatalogError::BadGtin {
                        row,
                        sku,
                        gtin: g.clone(),
                    });
                }
            }
            let num =
                |v: Option<String>, column: &'static str| -> Result<Option<f64>, CatalogError> {
                    match v {
                        None => Ok(None),
                        Some(v) => v.replace(',', ".").parse::<f64>().map(Some).map_err(|_| {
                            CatalogError::BadNumber {
                                row,
                                sku: sku.clone(),
                                column,
                                value: v,
                            }
                        }),
                    }
                };
            let pack_size = num(pack, "pack_size")?;
            let list_price = num(price, "list_price")?;
            let points_per_unit = num(points, "points_per_unit")?;
            let eligible = match eligible.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => None,
                Some("true" | "1" | "yes" | "y" | "t") => Some(true),
                Some("false" | "0" | "no" | "n" | "f") => Some(false),
                Some(v) => {
                    return Err(CatalogError::BadBool {
                        row,
                        sku,
                        value: v.to_string(),
                    })
                }
            };
            products.push(Product {
                sku,
                name,
                brand,
                family,
                gtin,
                mpn,
                unit,
                pack_size,
                list_price,
                points_per_unit,
                eligible,
            });
        }
        if products.is_empty() {
            return Err(CatalogError::Empty);
        }
        Ok(Catalog { products })
    }

    /// Build from already-parsed products (validated the same way).
    pub fn from_products(products: Vec<Product>) -> Result<Self, CatalogError> {
        Self::from_cells(products.into_iter().map(|p| {
            [
                opt(Some(&p.sku)),
                opt(Some(&p.name)),
                p.brand,
                p.family,
                p.gtin,
                p.mpn,
                p.unit,
                p.pack_size.map(|v| v.to_string()),
                p.list_price.map(|v| v.to_string()),
                p.points_per_unit.map(|v| v.to_string()),
                p.eligible.map(|v| v.to_string()),
            ]
        }))
    }

    /// Read CSV text (header required; extra columns ignored).
    pub fn from_csv_reader<R: std::io::Read>(r: R) -> Result<Self, CatalogError> {
        let io = |e: csv::Error| CatalogError::Io {
            path: "<csv>".into(),
            msg: e.to_string(),
        };
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(r);
        let header = rdr.headers().map_err(io)?.clone();
        let pos: Vec<Option<usize>> = COLS
            .iter()
            .map(|c| header.iter().position(|h| h.trim().eq_ignore_ascii_case(c)))
            .collect();
        if pos[0].is_none() {
            return Err(CatalogError::MissingColumn("sku"));
        }
        if pos[1].is_none() {
            return Err(CatalogError::MissingColumn("name"));
        }
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(io)?;
            rows.push(std::array::from_fn(
                |k| opt(pos[k].and_then(|p| rec.get(p))),
            ));
        }
        Self::from_cells(rows)
    }

    /// CSV file.
    pub fn from_csv_path(path: &Path) -> Result<Self, CatalogError> {
        let f = std::fs::File::open(path).map_err(|e| CatalogError::Io {
            path: path.display().to_string(),
            msg: e.to_string(),
        })?;
        Self::from_csv_reader(std::io::BufReader::new(f)).map_err(|e| match e {
            CatalogError::Io { msg, .. } => CatalogError::Io {
                path: path.display().to_string(),
                msg,
            },
            e => e,
        })
    }

    /// Parquet file (polars); columns are read as strings, so integer GTINs work too.
    pub fn from_parquet_path(path: &Path) -> Result<Self, CatalogError> {
        use polars::prelude::*;
        let io = |e: PolarsError| CatalogError::Io {
            path: path.display().to_string(),
            msg: e.to_string(),
        };
        let f = std::fs::File::open(path).map_err(|e| CatalogError::Io {
            path: path.display().to_string(),
            msg: e.to_string(),
        })?;
        let df = ParquetReader::new(f).finish().map_err(io)?;
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut cols: Vec<Option<StringChunked>> = Vec::with_capacity(COLS.len());
        for c in COLS {
            match names.iter().find(|n| n.eq_ignore_ascii_case(c)) {
                None => cols.push(None),
                Some(n) => {
                    let s = df
                        .column(n)
                        .map_err(io)?
                        .as_materialized_series()
                        .cast(&DataType::String)
                        .map_err(io)?;
                    cols.push(Some(s.str().map_err(io)?.clone()));
                }
            }
        }
        if cols[0].is_none() {
            return Err(CatalogError::MissingColumn("sku"));
        }
        if cols[1].is_none() {
            return Err(CatalogError::MissingColumn("name"));
        }
        let n = df.height();
        let rows =
            (0..n).map(|i| std::array::from_fn(|k| opt(cols[k].as_ref().and_then(|c| c.get(i)))));
        Self::from_cells(rows)
    }

    /// By extension: `.parquet`/`.pq` -> Parquet, anything else CSV.
    pub fn from_path(path: &Path) -> Result<Self, CatalogError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet" | "pq") => Self::from_parquet_path(path),
            _ => Self::from_csv_path(path),
        }
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// SKUs (for tests and diagnostics).
    pub fn skus(&self) -> FxHashSet<&str> {
        self.products.iter().map(|p| p.sku.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "sku,name,brand,family,gtin,mpn,unit,pack_size,list_price,points_per_unit,eligible\n";

    #[test]
    fn loads_minimal_and_full_schema() {
        let c =
            Catalog::from_csv_reader("sku,name\nA1,Pump X 25\nA2,Pump X 32\n".as_bytes()).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.products[1].name, "Pump X 32");
        let full = format!("{HEAD}NV-1,Circulator pump CIRCA 32-40,Norvik,pumps,4057312001191,CI9333142,pc,1,231.87,23,true\n");
        let c = Catalog::from_csv_reader(full.as_bytes()).unwrap();
        let p = &c.products[0];
        assert_eq!(p.gtin.as_deref(), Some("4057312001191"));
        assert_eq!(p.list_price, Some(231.87));
        assert_eq!(p.eligible, Some(true));
    }

    #[test]
    fn duplicate_sku_is_an_error() {
        let e = Catalog::from_csv_reader("sku,name\nA1,Pump\nA2,Valve\nA1,Other\n".as_bytes())
            .unwrap_err();
        match e {
            CatalogError::DuplicateSku { row, sku, first } => {
                assert_eq!((row, sku.as_str(), first), (3, "A1", 1));
            }
            e => panic!("wrong error {e}"),
        }
        assert!(e_str("sku,name\nA1,Pump\nA1,Other\n").contains("duplicate sku A1"));
    }

    fn e_str(csv: &str) -> String {
        Catalog::from_csv_reader(csv.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_gtin_missing_name_and_columns() {
        let bad = format!("{HEAD}NV-1,Pump,Norvik,pumps,4057312001192,CI1,pc,1,2.0,1,true\n");
        assert!(matches!(
            Catalog::from_csv_reader(bad.as_bytes()),
            Err(CatalogError::BadGtin { row: 1, .. })
        ));
        assert!(matches!(
            Catalog::from_csv_reader("sku,name\nA1,\n".as_bytes()),
            Err(CatalogError::MissingName { .. })
        ));
        assert!(matches!(
            Catalog::from_csv_reader("sku,title\nA1,x\n".as_bytes()),
            Err(CatalogError::MissingColumn("name"))
        ));
        assert!(e_str("sku,name,list_price\nA1,x,abc\n").contains("list_price"));
        assert!(matches!(
            Catalog::from_csv_reader("sku,name\n".as_bytes()),
            Err(CatalogError::Empty)
        ));
    }

    #[test]
    fn parquet_round_trip() {
        use polars::prelude::*;
        let mut df = df!(
            "sku" => ["A1", "A2"],
            "name" => ["Pump 25", "Pump 32"],
            "gtin" => [4057312001191i64, 4057312001337],
            "list_price" => [10.5f64, 12.0],
        )
        .unwrap();
        let path =
            std::env::temp_dir().join(format!("claimscan-matching-{}.parquet", std::process::id()));
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let c = Catalog::from_path(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(c.len(), 2);
        assert_eq!(c.products[0].gtin.as_deref(), Some("4057312001191"));
        assert_eq!(c.products[1].list_price, Some(12.0));
    }
}
