//! The manager review web app (`claimscan review serve`): server-rendered pages (axum + minijinja,
//! a few lines of JavaScript) over the worker's PostgreSQL schema and object storage.
//!
//! - [`auth`]: managers (argon2id hashes), sessions (random token, `HttpOnly; Secure;
//!   SameSite=Strict` cookie, server-side expiry), a CSRF token per session checked on every POST.
//! - [`queue`]: the open tasks of the manager's programs, filtered, sorted and paged in SQL.
//! - [`decision`]: approve, correct-and-approve, reject, each in one transaction (task, claim or
//!   rejection, outbox messages, audit, distributor memory).
//! - [`engagement`]: partners at risk with their weekly activity (SVG drawn here) and challenge.
//! - [`export`]: corrections as labelled examples (JSONL) for retraining.
//! - [`web`]: the routes and pages.
//!
//! Every failure a manager can cause has a stable code ([`AppError::code`]).

pub mod auth;
pub mod decision;
pub mod engagement;
pub mod export;
pub mod page;
pub mod queue;
pub mod svg;
pub mod web;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use claimscan_matching::{Catalog, Matcher, Model};
use claimscan_worker::config::{Config, ReviewConfig, RulesConfig};
use claimscan_worker::s3::Store;
use sqlx::PgPool;

/// Everything a request needs.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: Store,
    pub artifacts_bucket: String,
    pub matcher: Arc<Matcher>,
    pub rules: RulesConfig,
    pub review: ReviewConfig,
}

impl AppState {
    /// Connects to the database (running the migrations), object storage and loads the catalog.
    pub async fn from_config(cfg: &Config) -> anyhow::Result<AppState> {
        let db = claimscan_worker::db::Db::connect(&cfg.database).await?;
        let catalog = Catalog::from_path(&cfg.pipeline.catalog)
            .map_err(|e| anyhow::anyhow!("catalog {}: {e}", cfg.pipeline.catalog.display()))?;
        Ok(AppState {
            pool: db.pool,
            store: Store::new(&cfg.s3),
            artifacts_bucket: cfg.s3.artifacts_bucket.clone(),
            matcher: Arc::new(Matcher::new(catalog, Model::trained_default())),
            rules: cfg.rules.clone(),
            review: cfg.review.clone(),
        })
    }
}

/// Serves the app until SIGINT/SIGTERM.
pub async fn serve(state: AppState, listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "review app listening");
    axum::serve(listener, web::router(state))
        .with_graceful_shutdown(async {
            let ctrl_c = tokio::signal::ctrl_c();
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        })
        .await?;
    Ok(())
}

/// A failure shown to the manager: HTTP status, stable code, message.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError {
            status,
            code,
            message: message.into(),
        }
    }
    /// The stable code (`login_failed`, `csrf_invalid`, `not_found`, `forbidden_program`,
    /// `already_decided`, `unknown_sku`, `bad_quantity`, `bad_reason`, `bad_filter`,
    /// `internal_error`).
    pub fn code(&self) -> &'static str {
        self.code
    }
    pub fn not_found() -> AppError {
        AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such task in your programs",
        )
    }
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "internal error");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong; it was logged",
        )
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::internal(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = web::templates()
            .get_template("error.html")
            .and_then(|t| {
                t.render(minijinja::context! {
                    status => self.status.as_u16(),
                    code => self.code,
                    message => self.message,
                })
            })
            .unwrap_or_else(|_| format!("{}: {}", self.code, self.message));
        let mut r = (self.status, Html(body)).into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(self.code) {
            r.headers_mut().insert("x-error-code", v);
        }
        r
    }
}
