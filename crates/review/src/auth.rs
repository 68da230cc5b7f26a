//! Managers, passwords, sessions and CSRF tokens.
//!
//! - Passwords: argon2id (the `argon2` crate's defaults), PHC strings in `managers.password_hash`.
//! - Sessions: 32 random bytes (OS RNG) in the cookie; only their sha256 is stored, with an expiry.
//! - CSRF: a random token per session, put in every form and compared (constant time) on every
//!   POST. The login form, before any session, uses a double-submit cookie instead.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{AppError, AppState};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "cs_session";
/// Name of the login form's double-submit CSRF cookie.
pub const LOGIN_COOKIE: &str = "cs_login";
/// Shortest password `add-manager` accepts.
pub const MIN_PASSWORD_LEN: usize = 10;

/// A random token: 32 bytes from the OS, hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Constant-time comparison of two tokens.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// argon2id hash of a password (PHC string).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Whether `password` matches the PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates a manager, or resets the password of an existing one; adds the programs. Returns the
/// manager's id.
pub async fn add_manager(
    pool: &PgPool,
    email: &str,
    password: &str,
    programs: &[String],
) -> anyhow::Result<Uuid> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() < 3 {
        anyhow::bail!("email_invalid: {email:?} is not an email address");
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        anyhow::bail!("password_too_short: at least {MIN_PASSWORD_LEN} characters");
    }
    if programs.is_empty() || programs.iter().any(|p| p.trim().is_empty()) {
        anyhow::bail!("program_missing: give at least one --program");
    }
    let pw = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw)).await??;
    let mut tx = pool.begin().await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO managers (manager_id, email, password_hash) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash
         RETURNING manager_id",
    )
    .bind(Uuid::now_v7())
    .bind(&email)
    .bind(&hash)
    .fetch_one(&mut *tx)
    .await?;
    for p in programs {
        sqlx::query(
            "INSERT INTO manager_programs (manager_id, program_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(p.trim())
        .execute(&mut *tx)
        .await?;
    }
    // A new password ends the old sessions.
    sqlx::query("DELETE FROM sessions WHERE manager_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// Checks email and password; on success opens a session and returns (cookie token, csrf).
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
) -> Result<(String, String), AppError> {
    let email = email.trim().to_lowercase();
    let row = sqlx::query("SELECT manager_id, password_hash FROM managers WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.pool)
        .await?;
    // Hash even for unknown emails, so that timing does not tell which emails exist.
    let (id, phc) = match row {
        Some(r) => (Some(r.get::<Uuid, _>(0)), r.get::<String, _>(1)),
        None => (None, dummy_hash().to_string()),
    };
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &phc))
        .await
        .map_err(AppError::internal)?;
    let (Some(id), true) = (id, ok) else {
        tracing::info!("login refused");
        return Err(AppError::new(
            StatusCode::UNAUTHORIZED,
            "login_failed",
            "wrong email or password",
        ));
    };
    let token = random_token();
    let csrf = random_token();
    sqlx::query(
        "INSERT INTO sessions (token_sha256, manager_id, csrf_token, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
    )
    .bind(sha256_hex(&token))
    .bind(id)
    .bind(&csrf)
    .bind(state.review.session_hours as i32)
    .execute(&state.pool)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at < now()")
        .execute(&state.pool)
        .await?;
    tracing::info!(manager_id = %id, "login");
    Ok((token, csrf))
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Ends the session.
pub async fn logout(pool: &PgPool, token: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
        .bind(sha256_hex(token))
        .execute(pool)
        .await?;
    Ok(())
}

/// `Set-Cookie` value for a session token (or its removal when `token` is empty).
pub fn session_cookie(token: &str, secure: bool, hours: u32) -> String {
    let mut c = Cookie::build((SESSION_COOKIE, token.to_string()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict);
    c = if token.is_empty() {
        c.max_age(cookie::time::Duration::ZERO)
    } else {
        c.max_age(cookie::time::Duration::hours(i64::from(hours)))
    };
    c.build().to_string()
}

/// `Set-Cookie` value for the login form's CSRF token.
pub fn login_cookie(token: &str, secure: bool) -> String {
    Cookie::build((LOGIN_COOKIE, token.to_string()))
        .path("/login")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build()
        .to_string()
}

/// The value of a request cookie.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// The logged-in manager of a request (an extractor: pages without a session go to `/login`).
#[derive(Debug, Clone)]
pub struct Manager {
    pub id: Uuid,
    pub email: String,
    pub programs: Vec<String>,
    pub csrf: String,
    pub token: String,
}

impl Manager {
    /// Refuses a POST whose form token is not the session's.
    pub fn check_csrf(&self, form_token: Option<&str>) -> Result<(), AppError> {
        if tokens_equal(form_token.unwrap_or(""), &self.csrf) {
            Ok(())
        } else {
            tracing::warn!(manager_id = %self.id, "csrf token refused");
            Err(AppError::new(
                StatusCode::FORBIDDEN,
                "csrf_invalid",
                "the form's security token is missing or stale: reload the page",
            ))
        }
    }

    pub fn may_see(&self, program: &str) -> bool {
        self.programs.iter().any(|p| p == program)
    }
}

/// Why a request has no manager.
pub enum AuthRejection {
    /// Not logged in (or expired): go to the login page.
    Login,
    Error(AppError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::Login => Redirect::to("/login").into_response(),
            AuthRejection::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Manager {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty())
        else {
            return Err(AuthRejection::Login);
        };
        let row = sqlx::query(
            "SELECT m.manager_id, m.email, s.csrf_token,
                    coalesce(array(SELECT program_id FROM manager_programs p
                                   WHERE p.manager_id = m.manager_id ORDER BY program_id), '{}') AS programs
             FROM sessions s JOIN managers m USING (manager_id)
             WHERE s.token_sha256 = $1 AND s.expires_at > now()",
        )
        .bind(sha256_hex(&token))
        .fetch_optional(&state.pool)
        .await
        .map_err(|e| AuthRejection::Error(e.into()))?;
        let Some(r) = row else {
            return Err(AuthRejection::Login);
        };
        Ok(Manager {
            id: r.get(0),
            email: r.get(1),
            csrf: r.get(2),
            programs: r.get(3),
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_compared_exactly() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(tokens_equal(&a, &a.clone()));
        assert!(!tokens_equal(&a, &b));
        assert!(!tokens_equal("", ""));
    }

    #[test]
    fn session_cookie_is_locked_down() {
        let c = session_cookie("abc", true, 12);
        for part in [
            "cs_session=abc",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(session_cookie("", true, 12).contains("Max-Age=0"));
    }
}
