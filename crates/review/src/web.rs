//! Routes and pages. Every page but `/login` needs a session ([`Manager`]); every POST checks
//! the session's CSRF token; every task query is scoped to the manager's programs.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use claimscan_matching::Query as MatchQuery;
use minijinja::{context, Environment};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{self, Manager};
use crate::decision::{self, Decided, Decision, RejectReason};
use crate::queue::{self, QueueParams};
use crate::{engagement, page, AppError, AppState};

/// The templates, embedded in the binary.
pub fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../templates/base.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("queue.html", include_str!("../templates/queue.html")),
            ("task.html", include_str!("../templates/task.html")),
            (
                "engagement.html",
                include_str!("../templates/engagement.html"),
            ),
            ("error.html", include_str!("../templates/error.html")),
        ] {
            env.add_template(name, src).expect("templates parse");
        }
        env
    })
}

const APP_JS: &str = include_str!("../templates/app.js");
const APP_CSS: &str = include_str!("../templates/app.css");

fn render(name: &str, ctx: minijinja::Value) -> Result<Html<String>, AppError> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map(Html)
        .map_err(AppError::internal)
}

/// The app's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/queue", get(queue_page))
        .route("/tasks/{id}", get(task_page))
        .route("/tasks/{id}/page/{file}", get(page_image))
        .route("/tasks/{id}/decide", post(decide))
        .route("/catalog", get(catalog_search))
        .route("/engagement", get(engagement_page))
        .route(
            "/static/app.js",
            get(|| async { asset("text/javascript", APP_JS) }),
        )
        .route(
            "/static/app.css",
            get(|| async { asset("text/css", APP_CSS) }),
        )
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

fn asset(ctype: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ctype)], body).into_response()
}

fn with_cookies(mut r: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

// --- login -----------------------------------------------------------------------------------

async fn login_form(State(st): State<AppState>) -> Result<Response, AppError> {
    let token = auth::random_token();
    let page = render("login.html", context! { csrf => &token, error => "" })?;
    Ok(with_cookies(
        page.into_response(),
        &[auth::login_cookie(&token, st.review.cookie_secure)],
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    let cookie = auth::cookie_value(&headers, auth::LOGIN_COOKIE).unwrap_or_default();
    if !auth::tokens_equal(&f.csrf, &cookie) {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "csrf_invalid",
            "the login form's security token is missing or stale: reload the page",
        ));
    }
    match auth::login(&st, &f.email, &f.password).await {
        Ok((token, _csrf)) => Ok(with_cookies(
            Redirect::to("/queue").into_response(),
            &[auth::session_cookie(
                &token,
                st.review.cookie_secure,
                st.review.session_hours,
            )],
        )),
        Err(e) if e.code == "login_failed" => {
            let page = render(
                "login.html",
                context! { csrf => &f.csrf, error => e.message, email => f.email },
            )?;
            let mut r = (StatusCode::UNAUTHORIZED, page).into_response();
            r.headers_mut()
                .insert("x-error-code", HeaderValue::from_static("login_failed"));
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

async fn logout(
    State(st): State<AppState>,
    m: Manager,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    m.check_csrf(f.get("csrf").map(String::as_str))?;
    auth::logout(&st.pool, &m.token).await?;
    Ok(with_cookies(
        Redirect::to("/login").into_response(),
        &[auth::session_cookie(
            "",
            st.review.cookie_secure,
            st.review.session_hours,
        )],
    ))
}

// --- queue -----------------------------------------------------------------------------------

async fn queue_page(
    State(st): State<AppState>,
    m: Manager,
    Query(p): Query<QueueParams>,
) -> Result<Response, AppError> {
    let t0 = Instant::now();
    let q = queue::load(&st.pool, &m, &p, i64::from(st.review.page_size.max(1))).await?;
    let page = render(
        "queue.html",
        context! { m => manager_ctx(&m), q => q, p => &p, sorts => SORTS },
    )?;
    let mut r = page.into_response();
    // The server's own time, for the browser's devtools and the performance test.
    if let Ok(v) = HeaderValue::from_str(&format!(
        "app;dur={:.2}",
        t0.elapsed().as_secs_f64() * 1000.0
    )) {
        r.headers_mut().insert("server-timing", v);
    }
    Ok(r)
}

const SORTS: [(&str, &str); 5] = [
    ("oldest", "oldest first"),
    ("newest", "newest first"),
    ("confidence", "least confident first"),
    ("confidence_desc", "most confident first"),
    ("points_desc", "most points first"),
];

fn manager_ctx(m: &Manager) -> minijinja::Value {
    context! { email => &m.email, programs => &m.programs, csrf => &m.csrf }
}

// --- task ------------------------------------------------------------------------------------

fn task_id(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::not_found())
}

async fn task_page(
    State(st): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = task_id(&id)?;
    let t = page::load(&st, &m, id).await?;
    let reasons: Vec<(&str, &str)> = RejectReason::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect();
    Ok(render(
        "task.html",
        context! { m => manager_ctx(&m), t => t, reject_reasons => reasons },
    )?
    .into_response())
}

async fn page_image(
    State(st): State<AppState>,
    m: Manager,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = task_id(&id)?;
    let n: usize = file
        .strip_suffix(".png")
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=page::MAX_PAGES).contains(n))
        .ok_or_else(AppError::not_found)?;
    let prefix: Option<String> = sqlx::query_scalar(
        "SELECT u.artifacts_prefix FROM review_tasks t JOIN uploads u USING (upload_id)
         WHERE t.task_id = $1 AND t.program_id = ANY($2)",
    )
    .bind(id)
    .bind(&m.programs)
    .fetch_optional(&st.pool)
    .await?
    .flatten();
    let png = match prefix {
        Some(p) => page::page_png(&st, &p, n).await,
        None => None,
    }
    .ok_or_else(AppError::not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        png,
    )
        .into_response())
}

async fn decide(
    State(st): State<AppState>,
    m: Manager,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    m.check_csrf(f.get("csrf").map(String::as_str))?;
    let id = task_id(&id)?;
    let d = match f.get("action").map(String::as_str) {
        Some("approve") => Decision::Approve,
        Some("reject") => Decision::Reject(
            f.get("reason")
                .and_then(|r| RejectReason::parse(r))
                .ok_or_else(|| {
                    AppError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "bad_reason",
                        "choose why: duplicate, unreadable, not eligible or suspected fraud",
                    )
                })?,
        ),
        Some("correct") => {
            // The lines as extracted, to read the form's fields against.
            let t = sqlx::query_scalar::<_, Option<serde_json::Value>>(
                "SELECT u.extraction FROM review_tasks t JOIN uploads u USING (upload_id)
                 WHERE t.task_id = $1 AND t.program_id = ANY($2)",
            )
            .bind(id)
            .bind(&m.programs)
            .fetch_optional(&st.pool)
            .await?
            .ok_or_else(AppError::not_found)?;
            let lines: Vec<claimscan_worker::pipeline::MatchedLine> = t
                .and_then(|v| serde_json::from_value(v["lines"].clone()).ok())
                .unwrap_or_default();
            Decision::Correct(decision::edits_from_form(&f, &lines)?)
        }
        _ => {
            return Err(AppError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_action",
                "action must be approve, correct or reject",
            ))
        }
    };
    let done = decision::decide(&st.pool, &st.matcher, &st.rules, &m, id, &d).await?;
    let next: Option<String> = sqlx::query_scalar(
        "SELECT task_id::text FROM review_tasks WHERE status = 'open' AND program_id = ANY($1)
         ORDER BY created_at, task_id LIMIT 1",
    )
    .bind(&m.programs)
    .fetch_optional(&st.pool)
    .await?;
    let note = match done {
        Decided::Claimed { total_points, .. } => format!("claimed-{total_points}"),
        Decided::Rejected { code } => format!("rejected-{code}"),
    };
    let to = match next {
        Some(n) => format!("/tasks/{n}?done={note}"),
        None => format!("/queue?done={note}"),
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
}

/// Catalog search for the task page: SKU or words -> the best few products.
async fn catalog_search(
    State(st): State<AppState>,
    _m: Manager,
    Query(p): Query<SearchParams>,
) -> Json<Vec<page::Candidate>> {
    let q = p.q.trim();
    if q.len() < 2 {
        return Json(Vec::new());
    }
    let mut out: Vec<page::Candidate> = Vec::new();
    if let Some(i) = st.matcher.product_index(q) {
        let pr = &st.matcher.products()[i as usize];
        out.push(page::Candidate {
            sku: pr.sku.clone(),
            name: pr.name.clone(),
            score: 99.0,
            points_per_unit: page::ppu(&st, &pr.sku),
        });
    }
    let m = st.matcher.match_line(
        &MatchQuery {
            description: q.to_string(),
            ..Default::default()
        },
        None,
    );
    for c in m.candidates {
        if !out.iter().any(|o| o.sku == c.sku) {
            out.push(page::Candidate {
                points_per_unit: page::ppu(&st, &c.sku),
                sku: c.sku,
                name: c.name,
                score: c.score,
            });
        }
    }
    Json(out)
}

// --- engagement --------------------------------------------------------------------------------

#[derive(Deserialize)]
struct EngagementParams {
    #[serde(default)]
    min_score: Option<f64>,
}

async fn engagement_page(
    State(st): State<AppState>,
    m: Manager,
    Query(p): Query<EngagementParams>,
) -> Result<Response, AppError> {
    let min = p.min_score.unwrap_or(0.5).clamp(0.0, 1.0);
    let partners = engagement::at_risk(&st.pool, &m, min).await?;
    Ok(render(
        "engagement.html",
        context! { m => manager_ctx(&m), partners => partners, min_score => min, weeks => engagement::WEEKS },
    )?
    .into_response())
}
