//! Object storage over the S3 protocol (aws-sdk-s3): custom endpoint, path-style, static keys.

use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::config::S3Config;

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("object s3://{bucket}/{key} does not exist")]
    NotFound { bucket: String, key: String },
    #[error("object storage: {0}")]
    Transport(String),
}

impl S3Error {
    pub fn code(&self) -> &'static str {
        match self {
            S3Error::NotFound { .. } => "object_missing",
            S3Error::Transport(_) => "storage_unavailable",
        }
    }
}

fn transport<E: std::fmt::Debug>(e: E) -> S3Error {
    // The SDK's Display is terse ("service error"); Debug names the cause.
    let s = format!("{e:?}");
    S3Error::Transport(s.chars().take(400).collect())
}

/// What [`Store::get_limited`] found.
#[derive(Debug)]
pub enum Fetched {
    Bytes(Vec<u8>),
    /// Over the limit: the size (from `Content-Length`, or the bytes read before stopping).
    TooLarge(u64),
}

/// Where an upload's artifacts (extraction JSON, page images) live in the artifacts bucket. The
/// prefix depends only on the upload, so every attempt writes under it and an erasure finds the
/// files of attempts that never committed.
pub fn artifacts_prefix(program_id: &str, upload_id: &str) -> String {
    format!("extractions/{program_id}/{upload_id}/")
}

/// A small S3 client.
#[derive(Clone)]
pub struct Store {
    client: Client,
}

impl Store {
    pub fn new(cfg: &S3Config) -> Store {
        let mut b = aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .region(Region::new(cfg.region.clone()))
            .credentials_provider(Credentials::new(
                cfg.access_key.clone(),
                cfg.secret_key.clone(),
                None,
                None,
                "claimscan-config",
            ))
            .force_path_style(cfg.path_style);
        if !cfg.endpoint.is_empty() {
            b = b.endpoint_url(cfg.endpoint.clone());
        }
        Store {
            client: Client::from_conf(b.build()),
        }
    }

    /// One GET for an upload: the object's bytes, or [`Fetched::TooLarge`] when it is over
    /// `max_bytes`. The size is taken from the response's `Content-Length` before any of the
    /// body is read (the body is then dropped unread); without a length, reading stops as soon as
    /// the limit is passed. This replaces HEAD-then-GET: one round trip instead of two.
    pub async fn get_limited(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: u64,
    ) -> Result<Fetched, S3Error> {
        let mut o = self.get_object(bucket, key).await?;
        if let Some(len) = o.content_length().filter(|l| *l >= 0) {
            if len as u64 > max_bytes {
                return Ok(Fetched::TooLarge(len as u64));
            }
        }
        let mut out =
            Vec::with_capacity(o.content_length().unwrap_or(0).clamp(0, 1 << 26) as usize);
        while let Some(chunk) = o.body.next().await {
            let chunk = chunk.map_err(transport)?;
            out.extend_from_slice(&chunk);
            if out.len() as u64 > max_bytes {
                return Ok(Fetched::TooLarge(out.len() as u64));
            }
        }
        Ok(Fetched::Bytes(out))
    }

    async fn get_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, S3Error> {
        match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => Ok(o),
            Err(e) => Err(
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                    S3Error::NotFound {
                        bucket: bucket.into(),
                        key: key.into(),
                    }
                } else {
                    transport(e)
                },
            ),
        }
    }

    pub async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, S3Error> {
        let o = self.get_object(bucket, key).await?;
        let body = o.body.collect().await.map_err(transport)?;
        Ok(body.into_bytes().to_vec())
    }

    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), S3Error> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(transport)?;
        Ok(())
    }

    /// Deletes an object; deleting an absent object is not an error (S3 semantics).
    pub async fn delete(&self, bucket: &str, key: &str) -> Result<(), S3Error> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(transport)?;
        Ok(())
    }

    /// Keys under a prefix.
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, S3Error> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(transport)?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match out.next_continuation_token() {
                Some(t) if out.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
                _ => return Ok(keys),
            }
        }
    }

    /// Creates a bucket unless it exists.
    pub async fn ensure_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        if self
            .client
            .head_bucket()
            .bucket(bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        match self.client.create_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) {
                    Ok(())
                } else {
                    Err(transport(e))
                }
            }
        }
    }
}
