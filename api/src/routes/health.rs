//! Liveness and readiness, outside `/api/v1`.
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// database: ok | down; redis: ok | down | not_configured
    pub database: Option<String>,
    pub redis: Option<String>,
}

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
        database: None,
        redis: None,
    })
}

/// The database and, when configured, Redis answer.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Health)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = crate::infra::db::ping(&state.db).await;
    let redis = if state.cache.is_redis() {
        Some(if state.cache.ping().await { "ok" } else { "down" })
    } else {
        Some("not_configured")
    };
    let ok = db_ok && redis != Some("down");
    let body = Health {
        status: if ok { "ok".into() } else { "unavailable".into() },
        database: Some(if db_ok { "ok".into() } else { "down".into() }),
        redis: redis.map(str::to_string),
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
