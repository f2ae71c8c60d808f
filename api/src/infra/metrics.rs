//! `/metrics` (Prometheus text format). Every label set is bounded:
//!
//! - `assist_http_requests_total{route, method, status}` and
//!   `assist_http_request_duration_seconds{route, method}`: `route` is the matched route
//!   pattern (actix `match_pattern()`), `method` one of the HTTP methods the API knows;
//!   an unknown path or an unknown method is the one label `other`.
//! - `assist_db_statements_total{endpoint, method}`: database statements per request,
//!   counted by the database's metric callback in a task-local counter (shows N+1).
//! - `assist_db_pool_connections{state="in_use"|"idle"}`, `assist_db_pool_max_connections`:
//!   the sqlx pool at scrape time. Waiting: sqlx keeps no count of waiting acquires, so
//!   `assist_db_pool_acquire_wait_seconds` (how long each acquire waited) and
//!   `assist_db_pool_acquire_timeouts_total` say it instead ([`crate::infra::pool_wait`]).
//! - `assist_outbox_emails{status}` and `assist_outbox_oldest_pending_age_seconds`: read at
//!   scrape time.
//! - `assist_job_runs_total{job}`, `assist_job_failures_total{job}`,
//!   `assist_job_duration_seconds{job}`: each scheduled job's ticks ([`job`]).
//! - `assist_cache_hits_total{cache}`, `assist_cache_misses_total{cache}`: [`cache_hit`],
//!   [`cache_miss`], by the key's prefix (`catalog`, `revoked`).
use crate::domain::OutboxStatus;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::cell::Cell;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Instant;

tokio::task_local! {
    static STATEMENTS: Cell<u64>;
}

/// The label of an unknown route or method.
pub const OTHER: &str = "other";

fn counter(name: &str, help: &str, labels: &[&str]) -> Option<IntCounterVec> {
    IntCounterVec::new(Opts::new(name, help), labels).ok()
}

fn histogram(name: &str, help: &str, labels: &[&str]) -> Option<HistogramVec> {
    HistogramVec::new(HistogramOpts::new(name, help), labels).ok()
}

/// Statements run by requests, by route pattern and method.
pub static DB_STATEMENTS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "assist_db_statements_total",
        "Database statements run by requests",
        &["endpoint", "method"],
    )
});
static HTTP_REQUESTS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "assist_http_requests_total",
        "HTTP requests by matched route pattern, method and status",
        &["route", "method", "status"],
    )
});
static HTTP_DURATION: LazyLock<Option<HistogramVec>> = LazyLock::new(|| {
    histogram(
        "assist_http_request_duration_seconds",
        "HTTP request duration by matched route pattern and method",
        &["route", "method"],
    )
});
static JOB_RUNS: LazyLock<Option<IntCounterVec>> =
    LazyLock::new(|| counter("assist_job_runs_total", "Runs of each background job", &["job"]));
static JOB_FAILURES: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "assist_job_failures_total",
        "Failed runs of each background job",
        &["job"],
    )
});
static JOB_DURATION: LazyLock<Option<HistogramVec>> = LazyLock::new(|| {
    histogram(
        "assist_job_duration_seconds",
        "Duration of each background job's runs",
        &["job"],
    )
});
static CACHE_HITS: LazyLock<Option<IntCounterVec>> =
    LazyLock::new(|| counter("assist_cache_hits_total", "Cache reads that found a value", &["cache"]));
static CACHE_MISSES: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    counter(
        "assist_cache_misses_total",
        "Cache reads that found nothing",
        &["cache"],
    )
});

/// Called by the database for every statement.
pub fn count_statement() {
    let _ = STATEMENTS.try_with(|c| c.set(c.get() + 1));
}

/// Runs `f`, counting the statements it runs in this task.
pub async fn counting<F: Future>(f: F) -> (F::Output, u64) {
    STATEMENTS
        .scope(Cell::new(0), async {
            let out = f.await;
            let n = STATEMENTS.try_with(|c| c.get()).unwrap_or(0);
            (out, n)
        })
        .await
}

/// The `(route, method)` labels of a request: the matched pattern and a known method, else
/// [`OTHER`] for both.
pub fn route_labels(pattern: Option<String>, method: &Method) -> (String, &'static str) {
    let m = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => return (OTHER.into(), OTHER),
    };
    match pattern {
        Some(p) => (p, m),
        None => (OTHER.into(), OTHER),
    }
}

/// Records a finished request: its count, duration and database statements.
pub fn record(route: &str, method: &str, status: u16, started: Instant, statements: u64) {
    if let Some(c) = HTTP_REQUESTS.as_ref() {
        c.with_label_values(&[route, method, &status.to_string()]).inc();
    }
    if let Some(h) = HTTP_DURATION.as_ref() {
        h.with_label_values(&[route, method])
            .observe(started.elapsed().as_secs_f64());
    }
    if let Some(c) = DB_STATEMENTS.as_ref() {
        c.with_label_values(&[route, method]).inc_by(statements);
    }
}

/// Runs one tick of job `name`, counting it, its failure (`Err`) and its duration.
pub async fn job<F, T, E>(name: &str, f: F) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let started = Instant::now();
    let out = f.await;
    if let Some(c) = JOB_RUNS.as_ref() {
        c.with_label_values(&[name]).inc();
    }
    if let Some(c) = JOB_FAILURES.as_ref() {
        // Touched on success too, so that a job's failure count shows as 0.
        c.with_label_values(&[name]).inc_by(u64::from(out.is_err()));
    }
    if let Some(h) = JOB_DURATION.as_ref() {
        h.with_label_values(&[name]).observe(started.elapsed().as_secs_f64());
    }
    out
}

/// The cache label of a key: its prefix before `:` (keys are written by the code, so the
/// set is small), or [`OTHER`].
fn cache_label(key: &str) -> &str {
    let p = key.split(':').next().unwrap_or_default();
    if !p.is_empty() && p.len() <= 32 && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-') {
        p
    } else {
        OTHER
    }
}

/// A cache read of `key` that found a value.
pub fn cache_hit(key: &str) {
    if let Some(c) = CACHE_HITS.as_ref() {
        c.with_label_values(&[cache_label(key)]).inc();
    }
}

/// A cache read of `key` that found nothing.
pub fn cache_miss(key: &str) {
    if let Some(c) = CACHE_MISSES.as_ref() {
        c.with_label_values(&[cache_label(key)]).inc();
    }
}

/// The process-wide families (one registry per application; the families are shared).
pub fn registry() -> Registry {
    let r = Registry::new();
    for c in [
        &DB_STATEMENTS,
        &HTTP_REQUESTS,
        &JOB_RUNS,
        &JOB_FAILURES,
        &CACHE_HITS,
        &CACHE_MISSES,
    ] {
        if let Some(c) = c.as_ref() {
            let _ = r.register(Box::new(c.clone()));
        }
    }
    for h in [&HTTP_DURATION, &JOB_DURATION] {
        if let Some(h) = h.as_ref() {
            let _ = r.register(Box::new(h.clone()));
        }
    }
    crate::infra::gauges::register(&r);
    crate::infra::pool_wait::register(&r);
    r
}

/// The families read at scrape time from this application's pool and outbox.
async fn scrape_state(state: &AppState, r: &Registry) -> Result<(), prometheus::Error> {
    let db = &state.db;
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        _ => (0, 0, 0),
    };
    let pool = IntGaugeVec::new(
        Opts::new("assist_db_pool_connections", "Database pool connections by state"),
        &["state"],
    )?;
    let idle = i64::try_from(idle).unwrap_or(i64::MAX);
    pool.with_label_values(&["in_use"]).set((i64::from(size) - idle).max(0));
    pool.with_label_values(&["idle"]).set(idle);
    r.register(Box::new(pool))?;
    let most = IntGauge::new("assist_db_pool_max_connections", "Largest size of the database pool")?;
    most.set(i64::from(max));
    r.register(Box::new(most))?;

    let depth = IntGaugeVec::new(
        Opts::new("assist_outbox_emails", "Emails in the outbox by status"),
        &["status"],
    )?;
    let age = Gauge::new(
        "assist_outbox_oldest_pending_age_seconds",
        "Age of the oldest pending email (0 when none)",
    )?;
    use entity::outbox;
    let counts: Vec<(String, i64)> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(outbox::Column::Id.count(), "n")
        .group_by(outbox::Column::Status)
        .into_tuple()
        .all(db)
        .await
        .unwrap_or_default();
    for s in OutboxStatus::ALL {
        let n = counts.iter().find(|(k, _)| k == s.as_str()).map_or(0, |c| c.1);
        depth.with_label_values(&[s.as_str()]).set(n);
    }
    let oldest = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
        .order_by_asc(outbox::Column::CreatedAt)
        .one(db)
        .await
        .ok()
        .flatten();
    let secs = oldest.map_or(0.0, |m| {
        (crate::services::now() - m.created_at).num_milliseconds().max(0) as f64 / 1000.0
    });
    age.set(secs);
    r.register(Box::new(depth))?;
    r.register(Box::new(age))?;
    Ok(())
}

/// `GET /metrics`: the process-wide families and this application's pool and outbox.
pub async fn serve(state: web::Data<AppState>, registry: web::Data<Registry>) -> HttpResponse {
    let mut families = registry.gather();
    let now = Registry::new();
    if let Err(e) = scrape_state(&state, &now).await {
        tracing::warn!(error = %e, "metrics: pool and outbox figures missing");
    }
    families.extend(now.gather());
    let mut buf = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&families, &mut buf) {
        tracing::warn!(error = %e, "metrics encoding failed");
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(buf)
}
