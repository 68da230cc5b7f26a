//! The model admin endpoints of a running worker (mounted beside `/metrics` when
//! `http.admin_token` is set; every request needs `Authorization: Bearer <token>`):
//!
//! - `GET /admin/model`: live, previous and shadow readers, probation, validation figures;
//! - `POST /admin/model` `{"reader": "DIR"}`: validate the model in DIR on the validation data
//!   against the live one, then make it live (422 with `{code, message}` when refused);
//! - `POST /admin/model/rollback`: put the previous reader back (409 `no_previous_model`);
//! - `POST /admin/shadow` `{"reader": "DIR"}` / `DELETE /admin/shadow`: shadow mode on / off.
//!
//! `claimscan model deploy|rollback|shadow|status --worker URL` is the client.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::metrics::Metrics;
use crate::models::{Readers, Refusal};

#[derive(Clone)]
struct Admin {
    readers: Arc<Readers>,
    metrics: Arc<Metrics>,
    token: Arc<str>,
}

/// Body of `POST /admin/model` and `POST /admin/shadow`.
#[derive(Debug, Deserialize)]
pub struct ReaderSpec {
    /// A model directory on the worker's machine, or `rules`.
    pub reader: String,
}

/// The admin router; `token` must not be empty.
pub fn router(readers: Arc<Readers>, metrics: Arc<Metrics>, token: &str) -> Router {
    assert!(!token.is_empty(), "the admin API needs a token");
    Router::new()
        .route("/admin/model", get(status).post(deploy))
        .route("/admin/model/rollback", post(rollback))
        .route("/admin/shadow", post(shadow_on).delete(shadow_off))
        .with_state(Admin {
            readers,
            metrics,
            token: token.into(),
        })
}

/// Compares in time independent of where the strings first differ.
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Some(401 response)` unless the request carries the token.
fn deny(a: &Admin, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if same(given.as_bytes(), a.token.as_bytes()) {
        None
    } else {
        Some(refused(
            StatusCode::UNAUTHORIZED,
            &Refusal {
                code: "unauthorized",
                message: "missing or wrong bearer token (http.admin_token)".into(),
            },
        ))
    }
}

fn refused(status: StatusCode, r: &Refusal) -> Response {
    (status, Json(json!({"code": r.code, "message": r.message}))).into_response()
}

async fn status(State(a): State<Admin>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&a, &headers) {
        return r;
    }
    Json(a.readers.status()).into_response()
}

async fn deploy(
    State(a): State<Admin>,
    headers: HeaderMap,
    Json(spec): Json<ReaderSpec>,
) -> Response {
    if let Some(r) = deny(&a, &headers) {
        return r;
    }
    let readers = a.readers.clone();
    let result = tokio::task::spawn_blocking(move || readers.deploy(&spec.reader)).await;
    match result {
        Ok(Ok(d)) => {
            a.metrics.model_swaps.with_label_values(&["deployed"]).inc();
            Json(d).into_response()
        }
        Ok(Err(r)) => {
            a.metrics.model_swaps.with_label_values(&["refused"]).inc();
            tracing::warn!(code = r.code, "model deploy refused: {}", r.message);
            refused(StatusCode::UNPROCESSABLE_ENTITY, &r)
        }
        Err(e) => refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Refusal {
                code: "model_load_failed",
                message: format!("loading the model crashed: {e}"),
            },
        ),
    }
}

async fn rollback(State(a): State<Admin>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&a, &headers) {
        return r;
    }
    match a.readers.rollback() {
        Ok(live) => {
            a.metrics
                .model_swaps
                .with_label_values(&["rolled_back"])
                .inc();
            Json(json!({"live": live})).into_response()
        }
        Err(r) => refused(StatusCode::CONFLICT, &r),
    }
}

async fn shadow_on(
    State(a): State<Admin>,
    headers: HeaderMap,
    Json(spec): Json<ReaderSpec>,
) -> Response {
    if let Some(r) = deny(&a, &headers) {
        return r;
    }
    let readers = a.readers.clone();
    match tokio::task::spawn_blocking(move || readers.set_shadow(Some(&spec.reader))).await {
        Ok(Ok(name)) => Json(json!({"shadow": name})).into_response(),
        Ok(Err(r)) => refused(StatusCode::UNPROCESSABLE_ENTITY, &r),
        Err(e) => refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            &Refusal {
                code: "model_load_failed",
                message: format!("loading the model crashed: {e}"),
            },
        ),
    }
}

async fn shadow_off(State(a): State<Admin>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&a, &headers) {
        return r;
    }
    match a.readers.set_shadow(None) {
        Ok(_) => Json(json!({"shadow": null})).into_response(),
        Err(r) => refused(StatusCode::UNPROCESSABLE_ENTITY, &r),
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn token_comparison() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"x"));
    }
}
