//! The messages claimscan exchanges over RabbitMQ, as versioned JSON.
//!
//! Every message is one flat JSON object with two envelope fields beside its own:
//! `"type"` (also the routing key, e.g. `"invoice.uploaded"`) and `"version"` (an integer; this
//! crate speaks [`VERSION`]). Unknown fields are ignored, so producers may add fields within a
//! version; removing or changing the meaning of a field needs a new version.
//!
//! [`decode`] refuses what it cannot use with a [`ContractError`] whose [`ContractError::code`] is
//! stable, so a refused message can be parked with its reason.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The message version this crate reads and writes.
pub const VERSION: u32 = 1;

/// Largest message body accepted (bytes). Messages carry references to files, never files.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Why a message body was refused. `code()` is stable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContractError {
    #[error("message body is not a JSON object: {0}")]
    NotJson(String),
    #[error("message body is {0} bytes, more than {MAX_MESSAGE_BYTES}")]
    TooLarge(usize),
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("message version {found} is not supported (this worker reads version {VERSION})")]
    UnsupportedVersion { found: i64 },
    #[error("invalid {kind} message: {reason}")]
    Invalid { kind: &'static str, reason: String },
}

impl ContractError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ContractError::NotJson(_) => "message_not_json",
            ContractError::TooLarge(_) => "message_too_large",
            ContractError::UnknownType(_) => "message_unknown_type",
            ContractError::UnsupportedVersion { .. } => "message_unsupported_version",
            ContractError::Invalid { .. } => "message_invalid",
        }
    }
}

/// A message kind: its `type` string and its own validation.
pub trait Message: Serialize + DeserializeOwned {
    /// The `type` field and routing key.
    const TYPE: &'static str;
    /// Checks beyond the JSON shape (non-empty ids, sane values).
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Serialises `msg` with its `type` and `version`.
pub fn encode<M: Message>(msg: &M) -> Vec<u8> {
    let mut v = serde_json::to_value(msg).expect("messages serialise");
    let obj = v.as_object_mut().expect("messages are JSON objects");
    obj.insert("type".into(), M::TYPE.into());
    obj.insert("version".into(), VERSION.into());
    serde_json::to_vec(&v).expect("JSON values serialise")
}

/// Reads a message of kind `M`, checking envelope, shape and values.
pub fn decode<M: Message>(body: &[u8]) -> Result<M, ContractError> {
    let (kind, value) = envelope(body)?;
    if kind != M::TYPE {
        return Err(ContractError::UnknownType(kind));
    }
    let msg: M = serde_json::from_value(value).map_err(|e| ContractError::Invalid {
        kind: M::TYPE,
        reason: e.to_string(),
    })?;
    msg.validate().map_err(|reason| ContractError::Invalid {
        kind: M::TYPE,
        reason,
    })?;
    Ok(msg)
}

/// Parses the envelope: the `type` and the whole object (version checked).
pub fn envelope(body: &[u8]) -> Result<(String, serde_json::Value), ContractError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(ContractError::TooLarge(body.len()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ContractError::NotJson(e.to_string()))?;
    let Some(obj) = value.as_object() else {
        return Err(ContractError::NotJson("not an object".into()));
    };
    let kind = match obj.get("type") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => return Err(ContractError::UnknownType(String::new())),
    };
    match obj.get("version").and_then(|v| v.as_i64()) {
        Some(v) if v == i64::from(VERSION) => {}
        Some(found) => return Err(ContractError::UnsupportedVersion { found }),
        None => {
            return Err(ContractError::Invalid {
                kind: "envelope",
                reason: "missing integer field `version`".into(),
            })
        }
    }
    Ok((kind, value))
}

fn require(name: &str, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err(format!("`{name}` is empty"));
    }
    if v.len() > 256 {
        return Err(format!("`{name}` is longer than 256 bytes"));
    }
    Ok(())
}

/// RFC 3339 timestamp shape check (`2026-11-23T17:42:12Z`, offsets and fractions allowed).
fn require_timestamp(name: &str, v: &str) -> Result<(), String> {
    let b = v.as_bytes();
    let ok = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        && b[13] == b':'
        && b[16] == b':'
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .into_iter()
            .all(|r| b[r].iter().all(u8::is_ascii_digit))
        && matches!(b.last(), Some(b'Z' | b'z' | b'0'..=b'9'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not an RFC 3339 timestamp: {v:?}"))
    }
}

/// A partner uploaded an invoice: the file is in object storage at `bucket`/`key`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceUploaded {
    /// Unique per upload; the idempotency key (a redelivered or re-sent message is one upload).
    pub upload_id: String,
    pub program_id: String,
    pub partner_id: String,
    pub bucket: String,
    pub key: String,
    /// As sent by the app (`application/pdf`, `image/jpeg`, ...); the content decides.
    pub content_type: String,
    /// RFC 3339.
    pub uploaded_at: String,
}

impl Message for InvoiceUploaded {
    const TYPE: &'static str = "invoice.uploaded";
    fn validate(&self) -> Result<(), String> {
        require("upload_id", &self.upload_id)?;
        require("program_id", &self.program_id)?;
        require("partner_id", &self.partner_id)?;
        require("bucket", &self.bucket)?;
        if self.key.is_empty() || self.key.len() > 1024 {
            return Err("`key` must be 1-1024 bytes".into());
        }
        require_timestamp("uploaded_at", &self.uploaded_at)
    }
}

/// Who decided a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    Auto,
    Manager,
}

/// One paid line of a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimLine {
    /// Position of the line on the invoice (0-based).
    pub line_no: u32,
    pub sku: String,
    pub quantity: f64,
    pub points_per_unit: f64,
    /// Campaign multiplier applied (1.0 when none).
    pub multiplier: f64,
    pub points: i64,
}

/// Points were granted for an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimCreated {
    pub claim_id: String,
    pub upload_id: String,
    pub partner_id: String,
    pub program_id: String,
    /// The invoice fingerprint (supplier + number + date + total, hashed).
    pub fingerprint: String,
    pub lines: Vec<ClaimLine>,
    pub total_points: i64,
    /// Confidence of the extraction, 0-1.
    pub confidence: f32,
    pub decided_by: DecidedBy,
    /// RFC 3339.
    pub created_at: String,
}

impl Message for ClaimCreated {
    const TYPE: &'static str = "claim.created";
    fn validate(&self) -> Result<(), String> {
        require("claim_id", &self.claim_id)?;
        require("upload_id", &self.upload_id)?;
        if self.total_points != self.lines.iter().map(|l| l.points).sum::<i64>() {
            return Err("`total_points` is not the sum of the lines' points".into());
        }
        Ok(())
    }
}

/// A reason code with a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

/// An upload needs a manager's look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRequested {
    pub task_id: String,
    pub upload_id: String,
    pub partner_id: String,
    pub program_id: String,
    pub reasons: Vec<Reason>,
    pub confidence: f32,
    /// Object key of the extraction JSON (same bucket as the upload).
    pub extraction_key: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl Message for ReviewRequested {
    const TYPE: &'static str = "review.requested";
    fn validate(&self) -> Result<(), String> {
        require("task_id", &self.task_id)?;
        require("upload_id", &self.upload_id)
    }
}

/// How a manager resolved a review task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Approved,
    Rejected,
}

/// A manager's correction of one line: this distributor's code or wording means that SKU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub line_no: u32,
    pub product_code: Option<String>,
    pub description: Option<String>,
    /// `None`: the line is no product of ours.
    pub sku: Option<String>,
    pub quantity: Option<f64>,
}

/// A manager resolved a review task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewResolved {
    pub task_id: String,
    pub upload_id: String,
    pub resolution: Resolution,
    /// The claim created on approval.
    pub claim_id: Option<String>,
    pub resolved_by: String,
    #[serde(default)]
    pub corrections: Vec<Correction>,
    /// RFC 3339.
    pub resolved_at: String,
}

impl Message for ReviewResolved {
    const TYPE: &'static str = "review.resolved";
    fn validate(&self) -> Result<(), String> {
        require("task_id", &self.task_id)?;
        require("resolved_by", &self.resolved_by)
    }
}

/// An upload was refused for good: it will never make a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRejected {
    pub upload_id: String,
    pub partner_id: String,
    pub program_id: String,
    /// Stable code (`pdf_corrupt`, `not_an_invoice`, `duplicate_invoice`, ...).
    pub code: String,
    pub message: String,
    /// RFC 3339.
    pub rejected_at: String,
}

impl Message for UploadRejected {
    const TYPE: &'static str = "upload.rejected";
    fn validate(&self) -> Result<(), String> {
        require("upload_id", &self.upload_id)?;
        require("code", &self.code)
    }
}

/// Something a partner did, for the engagement worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecorded {
    pub partner_id: String,
    pub program_id: String,
    /// RFC 3339.
    pub occurred_at: String,
    /// `purchase`, `claim`, `login`, `message_opened`, `challenge_joined`, `challenge_completed`.
    pub kind: String,
    pub quantity: Option<f64>,
    pub amount: Option<f64>,
}

impl Message for ActivityRecorded {
    const TYPE: &'static str = "activity.recorded";
    fn validate(&self) -> Result<(), String> {
        require("partner_id", &self.partner_id)?;
        require("kind", &self.kind)?;
        require_timestamp("occurred_at", &self.occurred_at)
    }
}

/// A reactivation challenge is due: the app shows it to the partner (and sends `message`).
/// Published once per challenge by the engagement worker's scheduler, at `send_at`; the
/// AMQP `message_id` is `challenge.scheduled:<challenge_id>` (dedupe on it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeScheduled {
    pub challenge_id: String,
    pub program_id: String,
    pub partner_id: String,
    /// Purchases to make within the window.
    pub goal: u32,
    /// RFC 3339 (UTC).
    pub window_start: String,
    /// RFC 3339 (UTC), after `window_start`.
    pub window_end: String,
    /// Points multiplier while the window is open, at least 1.
    pub multiplier: f64,
    /// The filled-in message for the partner.
    pub message: String,
    /// RFC 3339 (UTC): when it was due.
    pub send_at: String,
}

impl Message for ChallengeScheduled {
    const TYPE: &'static str = "challenge.scheduled";
    fn validate(&self) -> Result<(), String> {
        require("challenge_id", &self.challenge_id)?;
        require("program_id", &self.program_id)?;
        require("partner_id", &self.partner_id)?;
        if self.goal == 0 {
            return Err("`goal` must be at least 1".into());
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err("`multiplier` must be at least 1".into());
        }
        if self.message.trim().is_empty() {
            return Err("`message` is empty".into());
        }
        require_timestamp("window_start", &self.window_start)?;
        require_timestamp("window_end", &self.window_end)?;
        require_timestamp("send_at", &self.send_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploaded() -> InvoiceUploaded {
        InvoiceUploaded {
            upload_id: "u-1".into(),
            program_id: "p-1".into(),
            partner_id: "partner-9".into(),
            bucket: "uploads".into(),
            key: "p-1/partner-9/u-1.jpg".into(),
            content_type: "image/jpeg".into(),
            uploaded_at: "2026-11-23T10:00:00Z".into(),
        }
    }

    #[test]
    fn round_trip_carries_type_and_version() {
        let body = encode(&uploaded());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["type"], "invoice.uploaded");
        assert_eq!(v["version"], 1);
        assert_eq!(decode::<InvoiceUploaded>(&body).unwrap(), uploaded());
    }

    #[test]
    fn refusals_have_stable_codes() {
        let code = |b: &[u8]| decode::<InvoiceUploaded>(b).unwrap_err().code();
        assert_eq!(code(b"\xff\xfe"), "message_not_json");
        assert_eq!(code(b"[1,2]"), "message_not_json");
        assert_eq!(
            code(br#"{"type":"x.y","version":1}"#),
            "message_unknown_type"
        );
        assert_eq!(code(br#"{"version":1}"#), "message_unknown_type");
        let mut v = serde_json::to_value(uploaded()).unwrap();
        v["type"] = "invoice.uploaded".into();
        v["version"] = 2.into();
        assert_eq!(
            code(&serde_json::to_vec(&v).unwrap()),
            "message_unsupported_version"
        );
        v["version"] = 1.into();
        v["upload_id"] = "".into();
        assert_eq!(code(&serde_json::to_vec(&v).unwrap()), "message_invalid");
        v["upload_id"] = 7.into();
        assert_eq!(code(&serde_json::to_vec(&v).unwrap()), "message_invalid");
        v["upload_id"] = "u".into();
        v["uploaded_at"] = "yesterday".into();
        assert_eq!(code(&serde_json::to_vec(&v).unwrap()), "message_invalid");
        assert_eq!(
            code(&vec![b' '; MAX_MESSAGE_BYTES + 1]),
            "message_too_large"
        );
    }

    #[test]
    fn unknown_fields_are_ignored_within_a_version() {
        let mut v: serde_json::Value = serde_json::from_slice(&encode(&uploaded())).unwrap();
        v["app_build"] = "4.2.0".into();
        assert!(decode::<InvoiceUploaded>(&serde_json::to_vec(&v).unwrap()).is_ok());
    }

    #[test]
    fn challenge_scheduled_round_trip_and_checks() {
        let mut c = ChallengeScheduled {
            challenge_id: "c-1".into(),
            program_id: "prog".into(),
            partner_id: "p-1".into(),
            goal: 3,
            window_start: "2026-12-04T10:00:00Z".into(),
            window_end: "2026-12-18T10:00:00Z".into(),
            multiplier: 2.0,
            message: "3 purchases and x2".into(),
            send_at: "2026-12-04T10:00:00Z".into(),
        };
        let body = encode(&c);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["type"], "challenge.scheduled");
        assert_eq!(v["version"], 1);
        assert_eq!(decode::<ChallengeScheduled>(&body).unwrap(), c);
        c.goal = 0;
        assert_eq!(
            decode::<ChallengeScheduled>(&encode(&c))
                .unwrap_err()
                .code(),
            "message_invalid"
        );
        c.goal = 1;
        c.multiplier = 0.5;
        assert!(decode::<ChallengeScheduled>(&encode(&c)).is_err());
        c.multiplier = 1.0;
        c.send_at = "tomorrow".into();
        assert!(decode::<ChallengeScheduled>(&encode(&c)).is_err());
    }

    #[test]
    fn claim_total_must_add_up() {
        let line = ClaimLine {
            line_no: 0,
            sku: "NV-000001".into(),
            quantity: 2.0,
            points_per_unit: 10.0,
            multiplier: 1.0,
            points: 20,
        };
        let mut c = ClaimCreated {
            claim_id: "c".into(),
            upload_id: "u".into(),
            partner_id: "p".into(),
            program_id: "g".into(),
            fingerprint: "f".into(),
            lines: vec![line],
            total_points: 20,
            confidence: 0.99,
            decided_by: DecidedBy::Auto,
            created_at: "2026-11-23T10:00:00Z".into(),
        };
        assert!(decode::<ClaimCreated>(&encode(&c)).is_ok());
        c.total_points = 21;
        assert_eq!(
            decode::<ClaimCreated>(&encode(&c)).unwrap_err().code(),
            "message_invalid"
        );
    }
}
