//! Bulk orders and the supplier-order lifecycle.
use super::extract::GuardedQuery;
use super::extract::{created, idempotency_key, optional_idempotency_key, Guarded};
use crate::auth::{Caller, Role};
use crate::domain::{OrderId, SupplierOrderId};
use crate::error::AppError;
use crate::services::compliance::ShipBody;
use crate::services::orders::{
    self, Acceptance, Action, ActionNote, NewOrder, NewRating, NewReturn, Order, OrderPage, Purchaser, Rating, Return,
    SupplierOrder, SupplierOrderFilter, SupplierOrderPage,
};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

/// Place a bulk order (buyer). Requires `Idempotency-Key`: the same key and body replay the
/// first response; the same key with another body is 422.
#[utoipa::path(
    operation_id = "placeOrder",
    tag = "orders",
    request_body(content = NewOrder, example = json!({
        "lines": [{"product_id": "0193a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "quantity": "40"}],
        "credit_category": "purchase", "deliver_to": "省直机关第一食堂", "requested_date": "2026-12-04"})),
    params(("Idempotency-Key" = String, Header, description = "A unique key per intended order; the same key and body replay the first response")),
    responses(
        (status = 201, description = "The order was placed (or replayed)", body = Order, headers(
            ("Idempotent-Replayed" = bool, description = "`true` when this is the replay of an earlier request with the same key"))),
        (status = 409, description = "Not enough stock, a product left the catalogue, or the key is in use by a request still running"))
)]
#[post("/orders")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Guarded<NewOrder>,
) -> Result<HttpResponse, AppError> {
    let (key, body) = body.open_with(caller.require(&[Role::Buyer]).and_then(|()| idempotency_key(&req)))?;
    let purchaser = Purchaser::of(&caller)?;
    let placed = orders::place_direct(&state, &purchaser, body, &key).await?;
    let replayed = placed.is_replay();
    let order = placed.into_order();
    // A replay answers as the first time did: 201 with the same order.
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/orders/{}", order.id)))
        .insert_header(("Idempotent-Replayed", if replayed { "true" } else { "false" }))
        .json(&order))
}

/// Orders: a buyer's own (and its children's); all for admin and evaluators.
#[utoipa::path(operation_id = "listOrders", tag = "orders", params(PageParams), responses((status = 200, body = OrderPage)))]
#[get("/orders")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(orders::may_list_orders(&caller))?;
    let (items, next_cursor) = orders::list_orders(&state, &caller, &page).await?;
    Ok(HttpResponse::Ok().json(OrderPage { items, next_cursor }))
}

/// One order with its supplier orders.
#[utoipa::path(operation_id = "getOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Order)))]
#[get("/orders/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<OrderId>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(orders::get_order(&state, &caller, *id).await?))
}

/// Supplier orders: a supplier's own, a buyer's own; all for admin and evaluators.
#[utoipa::path(operation_id = "listSupplierOrders", tag = "orders", params(SupplierOrderFilter, PageParams), responses((status = 200, body = SupplierOrderPage)))]
#[get("/supplier-orders")]
pub async fn list_supplier(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<SupplierOrderFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let f = f.open(orders::may_list_supplier_orders(&caller))?;
    let page = page.open(Ok(()))?;
    let (items, next_cursor) = orders::list_supplier_orders(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(SupplierOrderPage { items, next_cursor }))
}

/// One supplier order.
#[utoipa::path(operation_id = "getSupplierOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = SupplierOrder)))]
#[get("/supplier-orders/{id}")]
pub async fn get_supplier(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(orders::get_supplier_order(&state, &caller, *id).await?))
}

async fn act(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    action: Action,
    body: Guarded<ActionNote>,
) -> Result<HttpResponse, AppError> {
    let (acting, note) = body.open_optional_with(orders::may_act(state, caller, id, action).await)?;
    Ok(HttpResponse::Ok().json(orders::transition_as(state, acting, action, note).await?))
}

/// Supplier confirms a placed order.
#[utoipa::path(operation_id = "confirmSupplierOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), request_body(content = Option<ActionNote>, description = "An optional note; an empty body is the same as `{}`"), responses((status = 200, body = SupplierOrder), (status = 409, description = "The supplier order is not placed, or its buyer organisation is suspended")))]
#[post("/supplier-orders/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<ActionNote>,
) -> Result<HttpResponse, AppError> {
    act(&state, &caller, *id, Action::Confirm, body).await
}

/// Supplier rejects a placed order (its reservation is released).
#[utoipa::path(operation_id = "rejectSupplierOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), request_body(content = Option<ActionNote>, description = "An optional note; an empty body is the same as `{}`"), responses((status = 200, body = SupplierOrder), (status = 409, description = "The supplier order is not placed")))]
#[post("/supplier-orders/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<ActionNote>,
) -> Result<HttpResponse, AppError> {
    act(&state, &caller, *id, Action::Reject, body).await
}

/// Supplier ships a confirmed order; the note is the shipment note. `lots` names which lots ship
/// each line (a lot without the 合格证 its product requires, of another product, or past best-before
/// is 422 naming it); without it the certified lots are taken soonest best-before first.
#[utoipa::path(operation_id = "shipSupplierOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), request_body(content = Option<ShipBody>, description = "An optional note and lots; an empty body is the same as `{}`", example = json!({"note": "truck 冀G-12345", "lots": [{"line_id": "0192f0a0-0000-7000-8000-000000000001", "lot_id": "0192f0a0-0000-7000-8000-000000000002", "quantity": "10"}]})), responses((status = 200, body = SupplierOrder), (status = 409, description = "The supplier order is not confirmed, its certified lots do not hold what it ordered, or its buyer organisation is suspended")))]
#[post("/supplier-orders/{id}/ship")]
pub async fn ship(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<ShipBody>,
) -> Result<HttpResponse, AppError> {
    let (acting, body) = body.open_optional_with(orders::may_act(&state, &caller, *id, Action::Ship).await)?;
    Ok(HttpResponse::Ok().json(orders::ship_as(&state, acting, body).await?))
}

/// Supplier marks a shipped order delivered.
#[utoipa::path(operation_id = "deliverSupplierOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), request_body(content = Option<ActionNote>, description = "An optional note; an empty body is the same as `{}`"), responses((status = 200, body = SupplierOrder), (status = 409, description = "The supplier order is not shipped, or its buyer organisation is suspended")))]
#[post("/supplier-orders/{id}/deliver")]
pub async fn deliver(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<ActionNote>,
) -> Result<HttpResponse, AppError> {
    act(&state, &caller, *id, Action::Deliver, body).await
}

/// Buyer cancels a placed or confirmed order (its reservation is released); also a shipped one
/// once late or while its supplier organisation is suspended. While the buyer organisation is
/// suspended, its supplier may cancel the order instead, in the same states.
#[utoipa::path(operation_id = "cancelSupplierOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), request_body(content = Option<ActionNote>, description = "An optional note; an empty body is the same as `{}`"), responses((status = 200, body = SupplierOrder), (status = 409, description = "The supplier order is neither placed nor confirmed (nor shipped, when late or the other side is suspended)")))]
#[post("/supplier-orders/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<ActionNote>,
) -> Result<HttpResponse, AppError> {
    act(&state, &caller, *id, Action::Cancel, body).await
}

/// Buyer accepts a delivered order: accepted quantities are credited to the ledger, the rest released.
#[utoipa::path(operation_id = "acceptSupplierOrder", tag = "orders", params(("id" = uuid::Uuid, Path)), request_body(content = Acceptance, example = json!({
        "lines": [{"line_id": "0193a3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6e", "accepted_quantity": "38"}],
        "invoice_number": "INV-2026-001", "note": "2 bags damaged"})), responses((status = 200, body = SupplierOrder), (status = 409, description = "The supplier order is not delivered, or the product's lots no longer hold what is accepted (the supplier must record its stock first)")))]
#[post("/supplier-orders/{id}/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<Acceptance>,
) -> Result<HttpResponse, AppError> {
    let (acting, body) = body.open_with(orders::may_act_as_buyer(&state, &caller, *id).await)?;
    Ok(HttpResponse::Ok().json(orders::accept_as(&state, &caller, acting, body).await?))
}

/// Buyer returns goods of an accepted order; each line appends a reversal to the ledger. An
/// `Idempotency-Key` (recommended) makes a retry safe: the same key and body replay the first
/// answer, so goods are never returned twice by one intended request.
#[utoipa::path(
    operation_id = "returnGoods",
    tag = "orders",
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "A unique key per intended return; the same key and body replay the first response, another body under it is 422")),
    request_body = NewReturn,
    responses(
        (status = 201, description = "The return was recorded (or replayed)", body = Return, headers(
            ("Idempotent-Replayed" = bool, description = "`true` when this is the replay of an earlier request with the same key"))),
        (status = 409, description = "Only an accepted supplier order can have returns, or the key is in use by a request still running"))
)]
#[post("/supplier-orders/{id}/returns")]
pub async fn create_return(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<SupplierOrderId>,
    body: Guarded<NewReturn>,
) -> Result<HttpResponse, AppError> {
    let permit = orders::may_act_as_buyer(&state, &caller, *id).await;
    let (key, body) = body.open_with(permit.and_then(|_| optional_idempotency_key(&req)))?;
    let (r, replayed) = orders::create_return(&state, &caller, *id, body, key).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/supplier-orders/{}/returns/{}", r.supplier_order_id, r.id),
        ))
        .insert_header(("Idempotent-Replayed", if replayed { "true" } else { "false" }))
        .json(&r))
}

/// Buyer rates the supplier of an accepted order (once).
#[utoipa::path(operation_id = "rateSupplier", tag = "orders", params(("id" = uuid::Uuid, Path)), request_body = NewRating, responses((status = 201, body = Rating), (status = 409, description = "The supplier order is not accepted, or it is already rated")))]
#[post("/supplier-orders/{id}/rating")]
pub async fn rate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<NewRating>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(orders::may_act_as_buyer(&state, &caller, *id).await)?;
    let r = orders::rate(&state, &caller, *id, body).await?;
    Ok(created(
        &r,
        &format!("/api/v1/supplier-orders/{}/rating", r.supplier_order_id),
    ))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(list_supplier)
        .service(get_supplier)
        .service(confirm)
        .service(reject)
        .service(ship)
        .service(deliver)
        .service(cancel)
        .service(accept)
        .service(create_return)
        .service(rate);
}
