//! The queue: open tasks of the manager's programs, filtered, sorted and paged in one SQL query
//! (indexes in migration 0002).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};

use crate::auth::Manager;
use crate::AppError;

/// Filters and sorting from the query string. Empty strings mean "no filter".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct QueueParams {
    pub program: String,
    pub distributor: String,
    pub reason: String,
    /// Tasks at or under this confidence (0..1).
    pub max_confidence: String,
    /// Tasks at least this many hours old.
    pub min_age_hours: String,
    /// `oldest` (default), `newest`, `confidence`, `confidence_desc`, `points_desc`.
    pub sort: String,
    /// 1-based.
    pub page: String,
}

/// One row of the queue page.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    pub task_id: String,
    pub upload_id: String,
    pub program_id: String,
    pub distributor_key: Option<String>,
    pub distributor_name: Option<String>,
    pub reasons: Vec<String>,
    pub confidence: f32,
    pub points: i64,
    pub age_hours: f64,
    pub created_at: String,
}

/// One queue page.
#[derive(Debug, Clone, Serialize)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// Distributors with open tasks in the manager's programs (for the filter).
    pub distributors: Vec<(String, String)>,
    /// Reason codes of open tasks (for the filter).
    pub reasons: Vec<String>,
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, "bad_filter", msg)
}

fn order_by(sort: &str) -> Result<&'static str, AppError> {
    Ok(match sort {
        "" | "oldest" => "t.created_at ASC, t.task_id",
        "newest" => "t.created_at DESC, t.task_id",
        "confidence" => "t.confidence ASC, t.created_at ASC, t.task_id",
        "confidence_desc" => "t.confidence DESC, t.created_at ASC, t.task_id",
        "points_desc" => "(t.proposal->>'total_points')::bigint DESC, t.created_at ASC, t.task_id",
        other => return Err(bad(format!("unknown sort {other:?}"))),
    })
}

/// Loads one page of the queue.
#[tracing::instrument(skip_all, fields(manager_id = %m.id))]
pub async fn load(
    pool: &PgPool,
    m: &Manager,
    p: &QueueParams,
    page_size: i64,
) -> Result<QueuePage, AppError> {
    let programs: Vec<String> = if p.program.is_empty() {
        m.programs.clone()
    } else if m.may_see(&p.program) {
        vec![p.program.clone()]
    } else {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            "forbidden_program",
            "that program is not one of yours",
        ));
    };
    let max_conf: Option<f32> = match p.max_confidence.trim() {
        "" => None,
        s => Some(
            s.parse::<f32>()
                .ok()
                .filter(|c| (0.0..=1.0).contains(c))
                .ok_or_else(|| bad("max_confidence must be a number from 0 to 1"))?,
        ),
    };
    let min_age: Option<f64> = match p.min_age_hours.trim() {
        "" => None,
        s => Some(
            s.parse::<f64>()
                .ok()
                .filter(|h| *h >= 0.0 && h.is_finite())
                .ok_or_else(|| bad("min_age_hours must be a number of hours"))?,
        ),
    };
    let page: i64 = match p.page.trim() {
        "" => 1,
        s => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1 && *n <= 1_000_000)
            .ok_or_else(|| bad("page must be a positive number"))?,
    };
    let order = order_by(&p.sort)?;
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let sql = format!(
        "SELECT t.task_id::text, t.upload_id, t.program_id, t.distributor_key, t.distributor_name,
                t.reasons, t.confidence, coalesce((t.proposal->>'total_points')::bigint, 0) AS points,
                extract(epoch FROM now() - t.created_at)::float8 / 3600.0 AS age_hours,
                to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS created,
                count(*) OVER () AS total
         FROM review_tasks t
         WHERE t.status = 'open' AND t.program_id = ANY($1)
           AND ($2::text IS NULL OR t.distributor_key = $2)
           AND ($3::text IS NULL OR t.reasons @> jsonb_build_array(jsonb_build_object('code', $3::text)))
           AND ($4::real IS NULL OR t.confidence <= $4)
           AND ($5::float8 IS NULL OR t.created_at <= now() - make_interval(secs => $5 * 3600.0))
         ORDER BY {order}
         LIMIT $6 OFFSET $7"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&programs)
        .bind(opt(&p.distributor))
        .bind(opt(&p.reason))
        .bind(max_conf)
        .bind(min_age)
        .bind(page_size)
        .bind((page - 1) * page_size)
        .fetch_all(pool)
        .await?;
    let mut total = 0;
    let rows = rows
        .into_iter()
        .map(|r| {
            total = r.get::<i64, _>("total");
            let reasons: serde_json::Value = r.get("reasons");
            QueueRow {
                task_id: r.get(0),
                upload_id: r.get(1),
                program_id: r.get(2),
                distributor_key: r.get(3),
                distributor_name: r.get(4),
                reasons: reasons
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x["code"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                confidence: r.get(6),
                points: r.get(7),
                age_hours: r.get(8),
                created_at: r.get(9),
            }
        })
        .collect();
    if total == 0 && page > 1 {
        // past the end: the count comes with the rows, ask for it alone
        total = sqlx::query_scalar(
            "SELECT count(*) FROM review_tasks WHERE status = 'open' AND program_id = ANY($1)",
        )
        .bind(&programs)
        .fetch_one(pool)
        .await?;
    }
    let distributors = sqlx::query(
        "SELECT DISTINCT distributor_key, coalesce(distributor_name, distributor_key)
         FROM review_tasks WHERE status = 'open' AND program_id = ANY($1) AND distributor_key IS NOT NULL
         ORDER BY 2 LIMIT 500",
    )
    .bind(&m.programs)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
    .collect();
    let reasons = sqlx::query_scalar(
        "SELECT DISTINCT r->>'code' FROM review_tasks t, jsonb_array_elements(t.reasons) r
         WHERE t.status = 'open' AND t.program_id = ANY($1) ORDER BY 1",
    )
    .bind(&m.programs)
    .fetch_all(pool)
    .await?;
    Ok(QueuePage {
        rows,
        total,
        page,
        pages: ((total + page_size - 1) / page_size).max(1),
        distributors,
        reasons,
    })
}
