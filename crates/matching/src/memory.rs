//! Per-distributor memory of confirmed mappings: (distributor, their article code) and
//! (distributor, normalised wording) -> SKU, or -> "not ours" (`None`).
//! In-memory maps; [`SqliteMemory`] persists them (write-through) in an embedded SQLite file.

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::normalize;

/// Normalised key of a distributor's article code (`ab-12 345` == `AB12345`).
pub fn code_key(code: &str) -> Option<String> {
    let k: String = code
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    (!k.is_empty()).then_some(k)
}

/// Normalised key of a line's wording.
pub fn text_key(description: &str) -> Option<String> {
    let k = normalize::canonical(description);
    (!k.is_empty()).then_some(k)
}

/// One confirmed mapping (what the review UI sends).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Confirmation {
    pub distributor: String,
    pub product_code: Option<String>,
    pub description: String,
    /// The right SKU, or `None` for "not one of our products".
    pub sku: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Memory {
    by_code: FxHashMap<(String, String), Option<String>>,
    by_text: FxHashMap<(String, String), Option<String>>,
}

/// What the memory knows about a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Recall {
    /// Confirmed as this SKU.
    Sku(String),
    /// Confirmed as not ours.
    NotOurs,
}

impl Memory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.by_code.len() + self.by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record a confirmation or a manager's correction (later calls win).
    pub fn confirm(&mut self, c: &Confirmation) {
        if let Some(k) = c.product_code.as_deref().and_then(code_key) {
            self.by_code
                .insert((c.distributor.clone(), k), c.sku.clone());
        }
        if let Some(k) = text_key(&c.description) {
            self.by_text
                .insert((c.distributor.clone(), k), c.sku.clone());
        }
    }

    /// Code first (stable per distributor and product), then wording.
    pub fn recall(
        &self,
        distributor: &str,
        product_code: Option<&str>,
        description: &str,
    ) -> Option<Recall> {
        let to = |v: &Option<String>| match v {
            Some(s) => Recall::Sku(s.clone()),
            None => Recall::NotOurs,
        };
        if let Some(k) = product_code.and_then(code_key) {
            // A distributor's article code names one product. An unknown code with known wording
            // is most often a sibling printed with the same words (a size cut off), so the wording
            // is not trusted when there is a code.
            return self.by_code.get(&(distributor.to_string(), k)).map(to);
        }
        let k = text_key(description)?;
        self.by_text.get(&(distributor.to_string(), k)).map(to)
    }
}

/// Memory persisted in SQLite (one table, write-through; everything is loaded at open).
pub struct SqliteMemory {
    conn: rusqlite::Connection,
    pub memory: Memory,
}

impl SqliteMemory {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = rusqlite::Connection::open(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS match_memory (
                distributor TEXT NOT NULL,
                key_kind TEXT NOT NULL CHECK (key_kind IN ('code','text')),
                key TEXT NOT NULL,
                sku TEXT,
                updated_at TEXT NOT NULL DEFAULT (datetime('now')),
                PRIMARY KEY (distributor, key_kind, key)
            );",
        )?;
        let mut memory = Memory::new();
        {
            let mut st =
                conn.prepare("SELECT distributor, key_kind, key, sku FROM match_memory")?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?;
            for row in rows {
                let (d, kind, key, sku) = row?;
                let map = if kind == "code" {
                    &mut memory.by_code
                } else {
                    &mut memory.by_text
                };
                map.insert((d, key), sku);
            }
        }
        Ok(SqliteMemory { conn, memory })
    }

    /// Confirm / correct: one call, persisted before it returns.
    pub fn confirm(&mut self, c: &Confirmation) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare(
                "INSERT INTO match_memory (distributor, key_kind, key, sku) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (distributor, key_kind, key) DO UPDATE SET sku = excluded.sku, updated_at = datetime('now')",
            )?;
            if let Some(k) = c.product_code.as_deref().and_then(code_key) {
                st.execute(rusqlite::params![c.distributor, "code", k, c.sku])?;
            }
            if let Some(k) = text_key(&c.description) {
                st.execute(rusqlite::params![c.distributor, "text", k, c.sku])?;
            }
        }
        tx.commit()?;
        self.memory.confirm(c);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(d: &str, code: Option<&str>, desc: &str, sku: Option<&str>) -> Confirmation {
        Confirmation {
            distributor: d.into(),
            product_code: code.map(Into::into),
            description: desc.into(),
            sku: sku.map(Into::into),
        }
    }

    #[test]
    fn code_then_text_and_corrections() {
        let mut m = Memory::new();
        m.confirm(&conf("D1", Some("AB-123"), "PMP CIRC 25-60", Some("NV-1")));
        assert_eq!(
            m.recall("D1", Some("ab123"), "anything"),
            Some(Recall::Sku("NV-1".into()))
        );
        assert_eq!(
            m.recall("D1", None, "pmp  circ 25-60"),
            Some(Recall::Sku("NV-1".into()))
        );
        assert_eq!(
            m.recall("D2", Some("AB-123"), "PMP CIRC 25-60"),
            None,
            "memory is per distributor"
        );
        assert_eq!(
            m.recall("D1", Some("AB-124"), "PMP CIRC 25-60"),
            None,
            "an unknown code with known words is another article (a sibling worded the same)"
        );
        m.confirm(&conf("D1", Some("AB-123"), "PMP CIRC 25-60", None));
        assert_eq!(m.recall("D1", Some("AB-123"), ""), Some(Recall::NotOurs));
    }

    #[test]
    fn sqlite_persists() {
        let path =
            std::env::temp_dir().join(format!("claimscan-mem-{}.sqlite", std::process::id()));
        std::fs::remove_file(&path).ok();
        {
            let mut s = SqliteMemory::open(&path).unwrap();
            s.confirm(&conf("D1", Some("X1"), "pump a", Some("NV-1")))
                .unwrap();
            s.confirm(&conf("D1", Some("X1"), "pump a", Some("NV-2")))
                .unwrap();
            s.confirm(&conf("D1", None, "hydrotec pump", None)).unwrap();
        }
        let s = SqliteMemory::open(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(
            s.memory.recall("D1", Some("X1"), ""),
            Some(Recall::Sku("NV-2".into()))
        );
        assert_eq!(
            s.memory.recall("D1", None, "Hydrotec pump"),
            Some(Recall::NotOurs)
        );
    }
}
