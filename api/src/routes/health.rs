//! Liveness and readiness, outside `/api/v1`.
use crate::domain::{ProbeStatus, ServiceStatus};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: ServiceStatus,
    /// Readiness only.
    pub database: Option<ProbeStatus>,
    /// Readiness only.
    pub redis: Option<ProbeStatus>,
}

/// The process is up.
#[utoipa::path(operation_id = "checkHealth", tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: ServiceStatus::Ok,
        database: None,
        redis: None,
    })
}

fn probe(up: bool) -> ProbeStatus {
    if up {
        ProbeStatus::Ok
    } else {
        ProbeStatus::Down
    }
}

/// The database and, when configured, Redis answer.
#[utoipa::path(operation_id = "checkReadiness", tag = "health", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = probe(crate::infra::db::ping(&state.db).await);
    let redis = if state.cache.is_redis() {
        probe(state.cache.ping().await)
    } else {
        ProbeStatus::NotConfigured
    };
    let ok = database == ProbeStatus::Ok && redis != ProbeStatus::Down;
    let body = Health {
        status: if ok {
            ServiceStatus::Ok
        } else {
            ServiceStatus::Unavailable
        },
        database: Some(database),
        redis: Some(redis),
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}
