//! Right of erasure: a partner's uploaded files and extraction artifacts are deleted from object
//! storage, personal data is removed from every table, anonymised claim totals stay for the
//! ledger. Objects go first: if that fails half-way, the database still lists them and running the
//! erasure again finishes the job (idempotent).

use serde::Serialize;

use crate::db::Db;
use crate::s3::Store;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct EraseReport {
    pub partner_hash: String,
    pub uploads: usize,
    pub objects_deleted: usize,
}

pub async fn erase_partner(
    db: &Db,
    store: &Store,
    artifacts_bucket: &str,
    partner_id: &str,
) -> anyhow::Result<EraseReport> {
    let plan = db.erase_plan(partner_id).await?;
    let mut deleted = 0;
    for (bucket, key) in &plan.objects {
        store.delete(bucket, key).await?;
        deleted += 1;
    }
    for prefix in &plan.artifact_prefixes {
        for key in store.list(artifacts_bucket, prefix).await? {
            store.delete(artifacts_bucket, &key).await?;
            deleted += 1;
        }
    }
    let uploads = db.erase_rows(partner_id, deleted).await?;
    Ok(EraseReport {
        partner_hash: crate::db::partner_hash(partner_id),
        uploads,
        objects_deleted: deleted,
    })
}
