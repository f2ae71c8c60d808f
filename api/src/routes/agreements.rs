//! Standing agreements (长期定向采购).
use super::extract::GuardedQuery;
use super::extract::{created, Guarded};
use crate::auth::{Caller, Role};
use crate::domain::AgreementId;
use crate::error::AppError;
use crate::services::agreements::{self, Agreement, AgreementFilter, AgreementPage, NewAgreement, RunSummary};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};

/// Propose a standing agreement to a supplier (buyer).
#[utoipa::path(operation_id = "createAgreement", tag = "agreements", request_body = NewAgreement, responses((status = 201, body = Agreement)))]
#[post("/agreements")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Guarded<NewAgreement>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Buyer]))?;
    let a = agreements::create(&state, &caller, body).await?;
    Ok(created(&a, &format!("/api/v1/agreements/{}", a.id)))
}

/// Agreements of the caller's organisation (all for admin and evaluators).
#[utoipa::path(operation_id = "listAgreements", tag = "agreements", params(AgreementFilter, PageParams), responses((status = 200, body = AgreementPage)))]
#[get("/agreements")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<AgreementFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let f = f.open(agreements::may_list(&caller))?;
    let page = page.open(Ok(()))?;
    let (items, next_cursor) = agreements::list(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(AgreementPage { items, next_cursor }))
}

/// Run the standing-order generator now (admin); answers what it did.
#[utoipa::path(operation_id = "runAgreements", tag = "agreements", responses((status = 200, body = RunSummary)))]
#[post("/agreements/run")]
pub async fn run(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(agreements::run_now(&state, &caller).await?))
}

/// One agreement with its runs.
#[utoipa::path(operation_id = "getAgreement", tag = "agreements", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Agreement)))]
#[get("/agreements/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AgreementId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(agreements::get(&state, &caller, *id).await?))
}

/// The supplier approves a proposed agreement.
#[utoipa::path(operation_id = "approveAgreement", tag = "agreements", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Agreement), (status = 409, description = "The agreement is not proposed, or it has ended (ends_on is past)")))]
#[post("/agreements/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AgreementId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(agreements::approve(&state, &caller, *id).await?))
}

/// The buyer or the supplier cancels a proposed or active agreement.
#[utoipa::path(operation_id = "cancelAgreement", tag = "agreements", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Agreement), (status = 409, description = "The agreement is neither proposed nor active")))]
#[post("/agreements/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AgreementId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(agreements::cancel(&state, &caller, *id).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(run)
        .service(get)
        .service(approve)
        .service(cancel);
}
