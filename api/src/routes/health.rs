//! Liveness and readiness, outside `/api/v1`.
use crate::domain::{ProbeStatus, ServiceStatus};
use crate::infra::cache::RedisHealth;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// The longest `/readyz` waits for the database: it answers within 2 s whatever happens.
const DB_PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: ServiceStatus,
    /// Readiness only: required; `down` makes `/readyz` 503.
    pub database: Option<ProbeStatus>,
    /// Readiness only: optional; `degraded` while Redis does not answer (the service
    /// then uses in-process equivalents), `not_configured` without `ASSIST_REDIS_URL`.
    pub redis: Option<ProbeStatus>,
    /// Readiness only: optional; `degraded` while the last email could not reach the mail
    /// server (emails wait in the outbox), `not_configured` without `ASSIST_SMTP_URL`.
    pub smtp: Option<ProbeStatus>,
}

/// The process is up.
#[utoipa::path(operation_id = "checkHealth", tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: ServiceStatus::Ok,
        database: None,
        redis: None,
        smtp: None,
    })
}

/// The database answers (503 when it does not); Redis, optional, is reported as `degraded`
/// when down without failing readiness. Answers within 2 s.
#[utoipa::path(operation_id = "checkReadiness", tag = "health", responses(
    (status = 200, description = "Ready: the database answers (Redis may be `degraded`)", body = Health),
    (status = 503, description = "The database does not answer", body = Health,
        headers(("Retry-After" = u64, description = "Seconds to wait before asking again")))))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let timeout = DB_PROBE_TIMEOUT.min(Duration::from_millis(state.settings.db_acquire_timeout_ms.max(1)));
    let (db_up, redis) = tokio::join!(crate::infra::db::ping(&state.db, timeout), state.cache.health());
    let database = if db_up { ProbeStatus::Ok } else { ProbeStatus::Down };
    let redis = match redis {
        RedisHealth::NotConfigured => ProbeStatus::NotConfigured,
        RedisHealth::Up => ProbeStatus::Ok,
        RedisHealth::Degraded => ProbeStatus::Degraded,
    };
    let smtp = match state.mailer.smtp_answering() {
        None => ProbeStatus::NotConfigured,
        Some(true) => ProbeStatus::Ok,
        Some(false) => ProbeStatus::Degraded,
    };
    let body = Health {
        status: if db_up {
            ServiceStatus::Ok
        } else {
            ServiceStatus::Unavailable
        },
        database: Some(database),
        redis: Some(redis),
        smtp: Some(smtp),
    };
    if db_up {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((
                actix_web::http::header::RETRY_AFTER,
                crate::error::RETRY_AFTER_UNAVAILABLE_SECS.to_string(),
            ))
            .json(body)
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}
