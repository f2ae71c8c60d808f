//! Invoices (the supplier's) and payments (the buyer's) against a supplier order.
use super::queries;
use super::terms::overdue_under;
use crate::auth::Caller;
use crate::domain::{InvoiceId, LateUnder, Money, PaymentId, PaymentTerms, SupplierOrderId, SupplierOrderStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{new_id, now, orders, outbox, paginate, required_text, stored, today, PageParams};
use crate::state::AppState;
use chrono::NaiveDate;
use entity::{invoices, payments, supplier_order_terms as terms, supplier_orders};
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvoice {
    /// The invoice number (发票号码), unique on the supplier order.
    pub number: String,
    pub amount: Money,
    /// Not in the future.
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub issued_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invoice {
    pub id: InvoiceId,
    pub supplier_order_id: SupplierOrderId,
    pub number: String,
    pub amount: Money,
    pub issued_on: NaiveDate,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    pub amount: Money,
    /// Not in the future.
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub paid_on: NaiveDate,
    /// The bank transfer's reference.
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payment {
    pub id: PaymentId,
    pub supplier_order_id: SupplierOrderId,
    pub amount: Money,
    pub paid_on: NaiveDate,
    pub reference: String,
    /// Paid after the due date: under the regulation (a budget unit paying an SME) or the contract.
    pub late_under: Option<LateUnder>,
    /// Days after the due date it was paid (0 when on time).
    pub days_late: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(InvoicePage, Invoice);
crate::page_type!(PaymentPage, Payment);

fn money(v: i64) -> AppResult<Money> {
    Money::from_minor(v).map_err(AppError::internal)
}

fn to_invoice(m: invoices::Model) -> AppResult<Invoice> {
    Ok(Invoice {
        id: stored(&m.id)?,
        supplier_order_id: stored(&m.supplier_order_id)?,
        number: m.number,
        amount: money(m.amount_fen)?,
        issued_on: m.issued_on,
        created_at: m.created_at,
    })
}

fn to_payment(m: payments::Model, t: Option<&terms::Model>) -> AppResult<Payment> {
    let due = t.and_then(|t| t.due_on);
    // The regulation counts from delivery: it governs an on-account debt only.
    let late_under = t.and_then(|t| overdue_under(super::terms::under_regulation(t), t.due_on, m.paid_on));
    Ok(Payment {
        id: stored(&m.id)?,
        supplier_order_id: stored(&m.supplier_order_id)?,
        amount: money(m.amount_fen)?,
        paid_on: m.paid_on,
        reference: m.reference,
        late_under,
        days_late: due.map(|d| (m.paid_on - d).num_days().max(0)).unwrap_or(0),
        created_at: m.created_at,
    })
}

/// The supplier order and its terms (both exist once the caller was authorised).
async fn load(state: &AppState, id: SupplierOrderId) -> AppResult<(supplier_orders::Model, terms::Model)> {
    let so = queries::find_supplier_order(&state.db, &id.to_string())
        .await?
        .ok_or(AppError::NotFound("supplier order"))?;
    let t = queries::find_terms(&state.db, &so.id)
        .await?
        .ok_or_else(|| AppError::internal("supplier order without terms"))?;
    Ok((so, t))
}

fn not_future(errors: &mut Vec<FieldError>, field: &str, d: NaiveDate) {
    if d > today() {
        errors.push(FieldError::new(field, "must not be in the future"));
    }
}

/// `POST /supplier-orders/{id}/invoices` (the order's supplier, authorised by the route).
/// On account: only once accepted; prepay: once confirmed. Never more than the order in total.
pub async fn create_invoice(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    body: NewInvoice,
) -> AppResult<Invoice> {
    let (so, t) = load(state, id).await?;
    let mut errors = Vec::new();
    required_text(&mut errors, "number", &body.number, 100);
    if body.amount.is_zero() {
        errors.push(FieldError::new("amount", "must be greater than zero"));
    }
    not_future(&mut errors, "issued_on", body.issued_on);
    AppError::check(errors)?;
    let status: SupplierOrderStatus = stored(&so.status)?;
    let terms: PaymentTerms = stored(&t.payment_terms)?;
    let ok = match terms {
        PaymentTerms::OnAccount => status == SupplierOrderStatus::Accepted,
        PaymentTerms::Prepay => matches!(
            status,
            SupplierOrderStatus::Confirmed
                | SupplierOrderStatus::Shipped
                | SupplierOrderStatus::Delivered
                | SupplierOrderStatus::Accepted
        ),
    };
    if !ok {
        let when = match terms {
            PaymentTerms::OnAccount => "an on-account order is invoiced once accepted",
            PaymentTerms::Prepay => "a prepaid order is invoiced once confirmed",
        };
        return Err(AppError::Conflict(format!(
            "cannot invoice a supplier order that is {status}: {when}"
        )));
    }
    let number = body.number.trim().to_string();
    let txn = state.db.begin().await?;
    if queries::invoice_number_used(&txn, &so.id, &number).await? {
        return Err(AppError::field("number", "is already recorded on this supplier order"));
    }
    let cap = super::invoiceable::invoiceable_fen(&txn, &so, status).await?;
    if queries::add_invoiced(&txn, &so.id, body.amount.minor(), cap).await? != 1 {
        let cur = queries::find_terms(&txn, &so.id)
            .await?
            .map(|t| t.invoiced_fen)
            .unwrap_or(0);
        return Err(AppError::field(
            "amount",
            format!(
                "would invoice more than the order's amount, or once accepted the accepted amount ({} already invoiced of {})",
                money(cur)?,
                money(cap)?
            ),
        ));
    }
    let row = invoices::Model {
        id: new_id(),
        supplier_order_id: so.id.clone(),
        number,
        amount_fen: body.amount.minor(),
        issued_on: body.issued_on,
        created_by: Some(caller.user_id.to_string()),
        created_at: now(),
    };
    // Two invoices racing with one number: the unique key refuses the second.
    queries::insert_invoice(&txn, row.clone()).await.map_err(|e| match e {
        AppError::Internal(m) if m.to_lowercase().contains("unique") => {
            AppError::field("number", "is already recorded on this supplier order")
        }
        e => e,
    })?;
    outbox::enqueue_to_org(
        &txn,
        &so.buyer_org_id,
        &format!("Invoice {} for supplier order {}", row.number, so.id),
        &format!(
            "The supplier recorded invoice {} of {} issued on {} for supplier order {}.\n",
            row.number, body.amount, row.issued_on, so.id
        ),
    )
    .await?;
    txn.commit().await?;
    to_invoice(row)
}

/// `POST /supplier-orders/{id}/payments` (the order's buyer, authorised by the route).
/// Partial payments are fine; never more than is invoiced and unpaid, even when two race.
pub async fn create_payment(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    body: NewPayment,
) -> AppResult<Payment> {
    let (so, _) = load(state, id).await?;
    let mut errors = Vec::new();
    required_text(&mut errors, "reference", &body.reference, 200);
    if body.amount.is_zero() {
        errors.push(FieldError::new("amount", "must be greater than zero"));
    }
    not_future(&mut errors, "paid_on", body.paid_on);
    AppError::check(errors)?;
    let txn = state.db.begin().await?;
    if super::owed::add_paid(&txn, &so.id, body.amount.minor()).await? != 1 {
        let t = queries::find_terms(&txn, &so.id).await?;
        let open = t.as_ref().map(super::terms::owed_fen).unwrap_or(0);
        return Err(AppError::field(
            "amount",
            format!(
                "is more than is invoiced and unpaid ({}); after a return or a partial acceptance only what was kept is owed",
                money(open)?
            ),
        ));
    }
    let row = payments::Model {
        id: new_id(),
        supplier_order_id: so.id.clone(),
        amount_fen: body.amount.minor(),
        paid_on: body.paid_on,
        reference: body.reference.trim().to_string(),
        created_by: Some(caller.user_id.to_string()),
        created_at: now(),
    };
    queries::insert_payment(&txn, row.clone()).await?;
    outbox::enqueue_to_org(
        &txn,
        &so.supplier_org_id,
        &format!("Payment recorded for supplier order {}", so.id),
        &format!(
            "The buyer recorded a payment of {} made on {} (reference {}) for supplier order {}.\n",
            body.amount, row.paid_on, row.reference, so.id
        ),
    )
    .await?;
    let t = queries::find_terms(&txn, &so.id).await?;
    let t = match t {
        Some(t) => Some(super::terms::after_prepayment(&txn, &so, t, body.amount.minor()).await?),
        None => None,
    };
    txn.commit().await?;
    to_payment(row, t.as_ref())
}

/// The invoices of a supplier order its parties, admin and evaluators may see.
pub async fn list_invoices(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    page: &PageParams,
) -> AppResult<(Vec<Invoice>, Option<String>)> {
    orders::get_supplier_order(state, caller, id).await?;
    let limit = page.limit()?;
    let rows = queries::invoices_page(&state.db, &id.to_string(), page.cursor()?, limit + 1).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((rows.into_iter().map(to_invoice).collect::<AppResult<_>>()?, next))
}

/// The payments of a supplier order, each marked late under the regulation or the contract.
pub async fn list_payments(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    page: &PageParams,
) -> AppResult<(Vec<Payment>, Option<String>)> {
    orders::get_supplier_order(state, caller, id).await?;
    let limit = page.limit()?;
    let so_id = id.to_string();
    let rows = queries::payments_page(&state.db, &so_id, page.cursor()?, limit + 1).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let t = queries::find_terms(&state.db, &so_id).await?;
    let items = rows
        .into_iter()
        .map(|r| to_payment(r, t.as_ref()))
        .collect::<AppResult<_>>()?;
    Ok((items, next))
}
