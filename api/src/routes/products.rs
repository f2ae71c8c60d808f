//! Products, certification, lots and stock; the public catalogue.
use super::extract::{created, if_match, ok_with_etag, optional_if_match, Guarded, GuardedQuery, Query};
use crate::auth::{Caller, Role};
use crate::domain::{LotId, ProductId};
use crate::error::AppError;
use crate::services::catalog::{self as catalog_svc, CatalogPage, CatalogQuery};
use crate::services::products::{
    self, AdjustmentResult, Certify, Lot, LotPage, NewLot, NewProduct, Product, ProductEventPage, ProductFilter,
    ProductPage, ProductPatch, Reason, StockAdjustment, StockView,
};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

fn with_etag(p: &Product) -> HttpResponse {
    ok_with_etag(p, &p.version.to_string())
}

/// List a product (supplier). It starts as `draft`.
#[utoipa::path(operation_id = "createProduct", tag = "products", request_body(content = NewProduct, example = json!({
        "name": "阳原黄小米 5kg", "category": "grain", "unit": "bag", "price": "45.00", "min_order_qty": "10",
        "origin_region_code": "130727100201", "description": "Yangyuan yellow millet", "shelf_life_days": 365,
        "supply_capacity_per_month": "2000", "poor_households_linked": 120, "benefit_mechanism": "保底收购+二次分红",
        "certificates": [{"kind": "geographical_indication", "number": "AGI-2016-0123", "valid_until": "2028-12-31"}]})), responses((status = 201, body = Product, headers(("ETag" = String, description = "The product's version, for `If-Match`")))))]
#[post("/products")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Guarded<NewProduct>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Supplier]))?;
    let p = products::create(&state, &caller, body).await?;
    let mut resp = created(&p, &format!("/api/v1/products/{}", p.id));
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&super::extract::etag_value(&p.version.to_string())) {
        resp.headers_mut().insert(actix_web::http::header::ETAG, v);
    }
    Ok(resp)
}

/// Products: a supplier's own, a certifier's county (with a price check on pending ones), or all
/// (admin, evaluator).
#[utoipa::path(operation_id = "listProducts", tag = "products", params(ProductFilter, PageParams), responses((status = 200, body = ProductPage)))]
#[get("/products")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<ProductFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let f = f.open(products::may_list(&caller))?;
    let page = page.open(Ok(()))?;
    let (items, next_cursor) = products::list(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(ProductPage { items, next_cursor }))
}

/// One product, with its `ETag`.
#[utoipa::path(operation_id = "getProduct", tag = "products", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Product, headers(("ETag" = String, description = "The product's version, for `If-Match`")))))]
#[get("/products/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
) -> Result<HttpResponse, AppError> {
    Ok(with_etag(&products::get(&state, &caller, *id).await?))
}

/// Update a product (its supplier, `If-Match`). Changing the name, unit, category, price, origin
/// or certificates of a certified product sends it back to `pending_review`; free text does not.
#[utoipa::path(
    operation_id = "updateProduct",
    tag = "products",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The product's `ETag` as last read; 428 without it, 412 when it no longer matches")),
    request_body = ProductPatch,
    responses((status = 200, body = Product, headers(("ETag" = String, description = "The product's version, for `If-Match`"))), (status = 409, description = "A revoked product cannot be edited"), (status = 412), (status = 428))
)]
#[patch("/products/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<ProductId>,
    body: Guarded<ProductPatch>,
) -> Result<HttpResponse, AppError> {
    let permit = products::may_supply(&state, &caller, *id).await;
    let (tag, body) = body.open_with(permit.and_then(|()| if_match(&req)))?;
    Ok(with_etag(&products::update(&state, &caller, *id, &tag, body).await?))
}

/// Delete a draft product (its supplier, `If-Match`). It goes with its events, lots and stock
/// movements: a draft was never submitted, listed or ordered. Anything past draft is kept (409).
#[utoipa::path(
    operation_id = "deleteProduct",
    tag = "products",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "The product's `ETag` as last read (or `*`); 428 without it, 412 when it no longer matches")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Only a draft product can be deleted"), (status = 412), (status = 428))
)]
#[delete("/products/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<ProductId>,
) -> Result<HttpResponse, AppError> {
    products::may_supply(&state, &caller, *id).await?;
    let tag = if_match(&req)?;
    products::delete(&state, &caller, *id, &tag).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Submit for certification (supplier): draft, rejected or expired → `pending_review`.
#[utoipa::path(operation_id = "submitProduct", tag = "products", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Product, headers(("ETag" = String, description = "The product's version, for `If-Match`"))), (status = 409, description = "The product is not draft, rejected or expired")))]
#[post("/products/{id}/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
) -> Result<HttpResponse, AppError> {
    Ok(with_etag(&products::submit(&state, &caller, *id).await?))
}

/// Certify (the certifier of the origin county): issues a certificate number.
#[utoipa::path(operation_id = "certifyProduct", tag = "products", params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The version the county office reviewed (the product's ETag); 412 when the product has changed since")), request_body(content = Certify, example = json!({"valid_until": "2027-12-31", "note": "checked on site"})), responses((status = 200, body = Product, headers(("ETag" = String, description = "The product's version, for `If-Match`"))), (status = 409, description = "The product is not pending review"), (status = 412, description = "The product changed since the version named in If-Match")))]
#[post("/products/{id}/certify")]
pub async fn certify(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<ProductId>,
    body: Guarded<Certify>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(products::may_certify(&state, &caller, *id).await)?;
    let reviewed = optional_if_match(&req);
    Ok(with_etag(
        &products::certify(&state, &caller, *id, body, reviewed.as_deref()).await?,
    ))
}

/// Reject a pending product (the certifier of the origin county).
#[utoipa::path(operation_id = "rejectProduct", tag = "products", params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The version the county office reviewed (the product's ETag); 412 when the product has changed since")), request_body = Reason, responses((status = 200, body = Product, headers(("ETag" = String, description = "The product's version, for `If-Match`"))), (status = 409, description = "The product is not pending review"), (status = 412, description = "The product changed since the version named in If-Match")))]
#[post("/products/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<ProductId>,
    body: Guarded<Reason>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(products::may_certify(&state, &caller, *id).await)?;
    let reviewed = optional_if_match(&req);
    Ok(with_etag(
        &products::reject(&state, &caller, *id, body, reviewed.as_deref()).await?,
    ))
}

/// Revoke a certification (the certifier of the origin county); the product leaves the catalogue at once.
#[utoipa::path(operation_id = "revokeCertification", tag = "products", params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The version the county office reviewed (the product's ETag); 412 when the product has changed since")), request_body = Reason, responses((status = 200, body = Product, headers(("ETag" = String, description = "The product's version, for `If-Match`"))), (status = 409, description = "The product is not certified"), (status = 412, description = "The product changed since the version named in If-Match")))]
#[post("/products/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<ProductId>,
    body: Guarded<Reason>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(products::may_certify(&state, &caller, *id).await)?;
    let reviewed = optional_if_match(&req);
    Ok(with_etag(
        &products::revoke(&state, &caller, *id, body, reviewed.as_deref()).await?,
    ))
}

/// Every status change: by whom, when, why.
#[utoipa::path(operation_id = "listProductEvents", tag = "products", params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = ProductEventPage)))]
#[get("/products/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(products::visible(&state.db, &caller, *id).await)?;
    let (items, next_cursor) = products::events(&state, &caller, *id, &page).await?;
    Ok(HttpResponse::Ok().json(ProductEventPage { items, next_cursor }))
}

/// Record a lot (supplier).
#[utoipa::path(operation_id = "addLot", tag = "products", params(("id" = uuid::Uuid, Path)), request_body(content = NewLot, example = json!({"quantity": "500", "harvested_on": "2026-10-01", "best_before": "2027-10-01"})), responses((status = 201, body = Lot), (status = 409, description = "The product is revoked, or its lots cannot hold this much more")))]
#[post("/products/{id}/lots")]
pub async fn add_lot(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    body: Guarded<NewLot>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(products::may_supply(&state, &caller, *id).await)?;
    let lot = products::add_lot(&state, &caller, *id, body).await?;
    Ok(created(
        &lot,
        &format!("/api/v1/products/{}/lots/{}", lot.product_id, lot.id),
    ))
}

/// The product's lots.
#[utoipa::path(operation_id = "listLots", tag = "products", params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = LotPage)))]
#[get("/products/{id}/lots")]
pub async fn list_lots(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(products::visible(&state.db, &caller, *id).await)?;
    let (items, next_cursor) = products::list_lots(&state, &caller, *id, &page).await?;
    Ok(HttpResponse::Ok().json(LotPage { items, next_cursor }))
}

/// One lot of the product.
#[utoipa::path(operation_id = "getLot", tag = "products", params(("id" = uuid::Uuid, Path), ("lot_id" = uuid::Uuid, Path)), responses((status = 200, body = Lot)))]
#[get("/products/{id}/lots/{lot_id}")]
pub async fn get_lot(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProductId, LotId)>,
) -> Result<HttpResponse, AppError> {
    let (id, lot) = path.into_inner();
    Ok(HttpResponse::Ok().json(products::get_lot(&state, &caller, id, lot).await?))
}

/// On hand, reserved and available stock.
#[utoipa::path(operation_id = "getStock", tag = "products", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = StockView)))]
#[get("/products/{id}/stock")]
pub async fn stock(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(products::stock(&state, &caller, *id).await?))
}

/// Adjust stock (supplier): spoilage or loss (negative), stock found (positive, into a lot). Never below
/// zero, and a loss never below what open orders have reserved (409 naming the reserved quantity),
/// nor taking from a named lot what shipped orders not yet accepted hold in it. A named expired or
/// uncertified lot (not on hand) may be written off whatever is reserved.
#[utoipa::path(operation_id = "adjustStock", tag = "products", params(("id" = uuid::Uuid, Path)), request_body = StockAdjustment, responses((status = 201, body = AdjustmentResult), (status = 409, description = "The adjustment would take stock below zero, below what open orders have reserved, or from a lot what shipped orders hold in it")))]
#[post("/products/{id}/stock-adjustments")]
pub async fn adjust_stock(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    body: Guarded<StockAdjustment>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(products::may_supply(&state, &caller, *id).await)?;
    let res = products::adjust_stock(&state, &caller, *id, body).await?;
    Ok(created(&res, &format!("/api/v1/products/{}/stock", *id)))
}

/// The public catalogue (no token): certified, unexpired products of active suppliers.
#[utoipa::path(operation_id = "searchCatalog", tag = "catalog", params(CatalogQuery, PageParams), responses((status = 200, body = CatalogPage)))]
#[get("/catalog")]
pub async fn catalog(
    state: web::Data<AppState>,
    q: Query<CatalogQuery>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(catalog_svc::search(&state, &q, &page).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove)
        .service(submit)
        .service(certify)
        .service(reject)
        .service(revoke)
        .service(events)
        .service(add_lot)
        .service(list_lots)
        .service(get_lot)
        .service(stock)
        .service(adjust_stock)
        .service(catalog);
}
