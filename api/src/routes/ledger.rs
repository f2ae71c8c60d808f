//! The consumption-assistance ledger: read-only over HTTP.
use super::extract::Query;
use crate::auth::Caller;
use crate::error::AppError;
use crate::services::ledger::VerifyResult;
use crate::services::ledger_view::{self, LedgerFilter, LedgerPage};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};

/// Ledger entries in `seq` order, scoped to the caller (evaluators and admins see all).
#[utoipa::path(operation_id = "listLedgerEntries", tag = "ledger", params(LedgerFilter, PageParams), responses((status = 200, body = LedgerPage)))]
#[get("/ledger")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: Query<LedgerFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (items, next_cursor) = ledger_view::list(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(LedgerPage { items, next_cursor }))
}

/// Recomputes every hash of the chain (admin, evaluator).
#[utoipa::path(operation_id = "verifyLedger", tag = "ledger", responses((status = 200, body = VerifyResult)))]
#[get("/ledger/verify")]
pub async fn verify(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ledger_view::verify(&state, &caller).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(verify).service(list);
}
