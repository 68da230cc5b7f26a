//! claimscan-matching: maps invoice line wording to catalog SKUs (or to none).
//!
//! ```no_run
//! use claimscan_matching::{Catalog, Matcher, Memory, Model, Query, Confirmation};
//! let catalog = Catalog::from_path("catalog.csv".as_ref()).unwrap();
//! let matcher = Matcher::new(catalog, Model::trained_default());
//! let mut memory = Memory::new();
//! let q = Query { description: "PMP CIRC CIRCA E 25-60 180MM".into(), distributor: Some("D0001".into()), ..Default::default() };
//! let r = matcher.match_line(&q, Some(&memory));
//! println!("{:?} {} {:?}", r.sku, r.probability, r.decision);
//! // a manager's correction is one call:
//! memory.confirm(&Confirmation { distributor: "D0001".into(), product_code: None, description: q.description.clone(), sku: Some("NV-123456".into()) });
//! ```

pub mod catalog;
pub mod io;
pub mod matcher;
pub mod memory;
pub mod model;
pub mod normalize;
pub mod train;

pub use catalog::{Catalog, CatalogError, Product};
pub use matcher::{Candidate, Decision, MatchResult, Matcher, Query, Source};
pub use memory::{Confirmation, Memory, Recall, SqliteMemory};
pub use model::{Lexicon, Model};
