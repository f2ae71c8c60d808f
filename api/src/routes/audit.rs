//! The audit log of security events (admin).
use super::extract::GuardedQuery;
use crate::auth::Caller;
use crate::error::AppError;
use crate::services::accounts::{audit, AuditFilter, AuditPage};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};

/// Security events, newest first (admin): logins and their failures, lockouts, logouts,
/// refresh-token reuse, users created and deactivated, organisations suspended and reinstated.
/// Append-only: no route changes or removes an entry.
#[utoipa::path(operation_id = "listAuditLog", tag = "audit", params(AuditFilter), responses((status = 200, body = AuditPage)))]
#[get("/admin/audit-log")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<AuditFilter>,
) -> Result<HttpResponse, AppError> {
    let f = f.open(audit::may_read(&caller))?;
    let (items, next_cursor) = audit::list(&state, &caller, &f).await?;
    Ok(HttpResponse::Ok().json(AuditPage { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list);
}
