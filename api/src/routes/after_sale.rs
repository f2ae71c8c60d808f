//! Reading back what follows an acceptance: the returns of a supplier order, its rating,
//! and the ratings of a supplier. Visible as the supplier order is (its buyer, its supplier,
//! admin and evaluators; 404 for another organisation's).
use super::extract::GuardedQuery;
use crate::auth::Caller;
use crate::domain::{OrgId, ReturnId, SupplierOrderId};
use crate::error::AppError;
use crate::services::orders::{self, Rating, RatingPage, Return, ReturnPage};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};

/// The returns of a supplier order, oldest first.
#[utoipa::path(operation_id = "listReturns", tag = "orders", params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = ReturnPage)))]
#[get("/supplier-orders/{id}/returns")]
pub async fn list_returns(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(orders::may_read_after_sale(&state, &caller, *id).await)?;
    let (items, next_cursor) = orders::list_returns(&state, &caller, *id, &page).await?;
    Ok(HttpResponse::Ok().json(ReturnPage { items, next_cursor }))
}

/// One return: its lines with their ledger reversals, and the supplier order as it is now.
#[utoipa::path(operation_id = "getReturn", tag = "orders", params(("id" = uuid::Uuid, Path), ("return_id" = uuid::Uuid, Path)), responses((status = 200, body = Return)))]
#[get("/supplier-orders/{id}/returns/{return_id}")]
pub async fn get_return(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(SupplierOrderId, ReturnId)>,
) -> Result<HttpResponse, AppError> {
    let (id, return_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(orders::get_return(&state, &caller, id, return_id).await?))
}

/// The buyer's rating of a supplier order (404 until it is rated).
#[utoipa::path(operation_id = "getRating", tag = "orders", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Rating)))]
#[get("/supplier-orders/{id}/rating")]
pub async fn get_rating(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(orders::get_rating(&state, &caller, *id).await?))
}

/// The ratings of a supplier: the supplier its own, a buyer those it gave, admin and
/// evaluators all; by supplier order.
#[utoipa::path(operation_id = "listSupplierRatings", tag = "orders", params(("id" = uuid::Uuid, Path, description = "The supplier organisation"), PageParams), responses((status = 200, body = RatingPage)))]
#[get("/suppliers/{id}/ratings")]
pub async fn list_ratings(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(orders::may_list_ratings(&state, &caller, *id).await)?;
    let (items, next_cursor) = orders::list_ratings(&state, &caller, *id, &page).await?;
    Ok(HttpResponse::Ok().json(RatingPage { items, next_cursor }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_returns)
        .service(get_return)
        .service(get_rating)
        .service(list_ratings);
}
