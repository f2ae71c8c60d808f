//! Invoices, payments and the ageing report.
use super::extract::{created, Guarded, GuardedQuery};
use crate::auth::Caller;
use crate::domain::SupplierOrderId;
use crate::error::AppError;
use crate::services::payments::{
    self, Ageing, AgeingQuery, Invoice, InvoicePage, NewInvoice, NewPayment, Payment, PaymentPage,
};
use crate::services::{orders, PageParams};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};

/// Record an invoice against a supplier order (its supplier). An on-account order is invoiced
/// once accepted, a prepaid one once confirmed; never more than the order's amount in total.
#[utoipa::path(
    operation_id = "createInvoice",
    tag = "payments",
    params(("id" = uuid::Uuid, Path)),
    request_body(content = NewInvoice, example = json!({"number": "13072701-00012345", "amount": "500.00", "issued_on": "2026-12-01"})),
    responses(
        (status = 201, description = "The invoice was recorded", body = Invoice, headers(("Location" = String, description = "The supplier order's invoices"))),
        (status = 409, description = "The supplier order is not in a state that may be invoiced"))
)]
#[post("/supplier-orders/{id}/invoices")]
pub async fn create_invoice(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<NewInvoice>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(orders::may_act_as_supplier(&state, &caller, *id).await)?;
    let inv = payments::create_invoice(&state, &caller, *id, body).await?;
    Ok(created(
        &inv,
        &format!("/api/v1/supplier-orders/{}/invoices", inv.supplier_order_id),
    ))
}

/// The invoices of a supplier order (its parties, admin, evaluators).
#[utoipa::path(operation_id = "listInvoices", tag = "payments", params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = InvoicePage)))]
#[get("/supplier-orders/{id}/invoices")]
pub async fn list_invoices(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(orders::get_supplier_order(&state, &caller, *id).await)?;
    let (items, next_cursor) = payments::list_invoices(&state, &caller, *id, &page).await?;
    Ok(HttpResponse::Ok().json(InvoicePage { items, next_cursor }))
}

/// Record a payment made for a supplier order (its buyer). Partial payments are allowed;
/// never more than is invoiced and unpaid, never dated in the future.
#[utoipa::path(
    operation_id = "createPayment",
    tag = "payments",
    params(("id" = uuid::Uuid, Path)),
    request_body(content = NewPayment, example = json!({"amount": "250.00", "paid_on": "2026-12-01", "reference": "ICBC 2026120100042"})),
    responses((status = 201, description = "The payment was recorded", body = Payment, headers(("Location" = String, description = "The supplier order's payments"))))
)]
#[post("/supplier-orders/{id}/payments")]
pub async fn create_payment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    body: Guarded<NewPayment>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(orders::may_act_as_buyer(&state, &caller, *id).await)?;
    let p = payments::create_payment(&state, &caller, *id, body).await?;
    Ok(created(
        &p,
        &format!("/api/v1/supplier-orders/{}/payments", p.supplier_order_id),
    ))
}

/// The payments of a supplier order, each marked late under the regulation or the contract.
#[utoipa::path(operation_id = "listPayments", tag = "payments", params(("id" = uuid::Uuid, Path), PageParams), responses((status = 200, body = PaymentPage)))]
#[get("/supplier-orders/{id}/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<SupplierOrderId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(orders::get_supplier_order(&state, &caller, *id).await)?;
    let (items, next_cursor) = payments::list_payments(&state, &caller, *id, &page).await?;
    Ok(HttpResponse::Ok().json(PaymentPage { items, next_cursor }))
}

/// The ageing report: invoiced and unpaid amounts per buyer and supplier in buckets of days
/// overdue (current, 1–30, 31–60, 61–90, over 90), with totals, and the overdue part split
/// into late under 保障中小企业款项支付条例 and late under the contract. Buyers see what they
/// owe, suppliers what they are owed, admin and evaluators everything.
#[utoipa::path(operation_id = "getPaymentAgeing", tag = "payments", params(AgeingQuery), responses((status = 200, body = Ageing)))]
#[get("/payments/ageing")]
pub async fn ageing(
    state: web::Data<AppState>,
    caller: Caller,
    q: GuardedQuery<AgeingQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(payments::may_read_ageing(&caller))?;
    Ok(HttpResponse::Ok().json(payments::ageing(&state, &caller, &q).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_invoice)
        .service(list_invoices)
        .service(create_payment)
        .service(list_payments)
        .service(ageing);
}
