//! The terms of each supplier order: written with the order, read with it, and moved
//! along by the lifecycle (due dates, lateness, the prepay rule for shipping).
use super::queries;
use super::types::SupplierOrderTerms;
use crate::domain::{LateUnder, Money, PaymentTerms, SupplierOrderStatus, SupplierSize};
use crate::error::{AppError, AppResult};
use crate::services::orders::SupplierOrder;
use crate::services::writes::Writes;
use crate::services::{now, stored, today};
use chrono::NaiveDate;
use entity::{organizations, supplier_order_terms as terms, supplier_orders};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

/// Days an on-account order of a budget unit to an SME is due by default, and at most.
pub const REGULATED_DEFAULT_DAYS: i32 = 30;
pub const REGULATED_MAX_DAYS: i32 = 60;
/// Days an on-account order is due otherwise, unless the buyer set its own.
pub const DEFAULT_DAYS: i32 = 60;

/// Whether a buyer organisation is a budget unit (a state organ or public institution):
/// its `budget_unit` flag.
pub fn is_budget_unit(org: &organizations::Model) -> bool {
    org.budget_unit
}

/// The payment days of an on-account order from `buyer` to a supplier of `size`, and whether
/// the regulation applies: a budget unit paying an SME pays within 30 days unless it set
/// fewer or more, never more than 60; anyone else within its own days (default 60).
pub fn payment_days(buyer: &organizations::Model, size: SupplierSize) -> (i32, bool) {
    if is_budget_unit(buyer) && size == SupplierSize::Sme {
        let days = buyer.payment_days.unwrap_or(REGULATED_DEFAULT_DAYS);
        (days.clamp(1, REGULATED_MAX_DAYS), true)
    } else {
        (buyer.payment_days.unwrap_or(DEFAULT_DAYS).max(1), false)
    }
}

/// Writes the terms row of each new supplier order, in the order's transaction.
/// `orgs` holds the supplier organisations (read once by the order); the rows written are
/// returned, so that the order's answer needs not read them back ([`attach_rows`]).
pub fn write_terms(
    writes: &mut Writes,
    buyer: &organizations::Model,
    orgs: &HashMap<String, organizations::Model>,
    sos: &[supplier_orders::Model],
    payment_terms: PaymentTerms,
    deliver_by: Option<NaiveDate>,
) -> AppResult<Vec<terms::Model>> {
    let suppliers = orgs;
    let rows: Vec<terms::Model> = sos
        .iter()
        .map(|so| {
            let size = suppliers
                .get(&so.supplier_org_id)
                .and_then(|o| SupplierSize::parse(&o.supplier_size))
                .unwrap_or(SupplierSize::Sme);
            let (days, regulated) = payment_days(buyer, size);
            terms::Model {
                supplier_order_id: so.id.clone(),
                payment_terms: payment_terms.as_str().to_string(),
                payment_days: days,
                regulated,
                deliver_by,
                delivered_on: None,
                due_on: None,
                invoiced_fen: 0,
                paid_fen: 0,
                late_at: None,
                payable_fen: Some(so.total_fen),
            }
        })
        .collect();
    queries::insert_terms(writes, rows.clone());
    Ok(rows)
}

fn money(v: i64) -> AppResult<Money> {
    Money::from_minor(v).map_err(AppError::internal)
}

/// Before delivery, a supplier order is late once its `deliver_by` has passed; a prepaid
/// order is not while it waits for the buyer's payment (it may not ship before).
fn late_now(t: &terms::Model, status: SupplierOrderStatus, day: NaiveDate) -> bool {
    use SupplierOrderStatus as S;
    t.late_at.is_some()
        || (matches!(status, S::Placed | S::Confirmed | S::Shipped)
            && !awaiting_prepayment(t, status)
            && t.deliver_by.is_some_and(|d| d < day))
}

/// A prepaid order the supplier has confirmed and invoiced in full, waiting for the buyer's
/// payment before it may ship (a supplier slow to confirm or invoice is not excused).
fn awaiting_prepayment(t: &terms::Model, status: SupplierOrderStatus) -> bool {
    t.payment_terms == PaymentTerms::Prepay.as_str()
        && status == SupplierOrderStatus::Confirmed
        && t.payable_fen.is_some_and(|p| t.invoiced_fen >= p && t.paid_fen < p)
}

/// Whether the SME payment regulation governs the debt: it counts from delivery, so it
/// governs an on-account debt only (an unpaid prepayment is late under the contract).
pub(super) fn under_regulation(t: &terms::Model) -> bool {
    t.regulated && t.payment_terms == PaymentTerms::OnAccount.as_str()
}

/// What may be paid in all: what is invoiced, but never more than the buyer owes (an
/// invoice written before a return or a partial acceptance is owed only in part).
fn payable_cap(t: &terms::Model) -> i64 {
    match t.payable_fen {
        Some(p) if p < t.invoiced_fen => p,
        _ => t.invoiced_fen,
    }
}

/// What is owed and unpaid on a terms row (never below zero).
pub(super) fn owed_fen(t: &terms::Model) -> i64 {
    payable_cap(t).saturating_sub(t.paid_fen).max(0)
}

/// The payment of `fen` just recorded completed a prepaid order's payment: its latest
/// delivery date moves back by the days the supplier waited for it once it had confirmed and
/// invoiced in full (the order could not ship meanwhile), so that the buyer's delay is not
/// the supplier's lateness.
pub(super) async fn after_prepayment(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    t: terms::Model,
    fen: i64,
) -> AppResult<terms::Model> {
    let completed = t.paid_fen >= so.total_fen && t.paid_fen.saturating_sub(fen) < so.total_fen;
    if t.payment_terms != PaymentTerms::Prepay.as_str() || !completed {
        return Ok(t);
    }
    let (Some(deliver_by), Some(confirmed_on)) = (t.deliver_by, t.due_on) else {
        return Ok(t);
    };
    let invoiced_on = queries::last_invoiced_on(conn, &so.id).await?.unwrap_or(confirmed_on);
    let waited = (today() - confirmed_on.max(invoiced_on)).num_days();
    if waited <= 0 {
        return Ok(t);
    }
    let Some(moved) = deliver_by.checked_add_signed(chrono::Duration::days(waited)) else {
        return Ok(t);
    };
    queries::set_deliver_by(conn, &so.id, moved).await?;
    Ok(terms::Model {
        deliver_by: Some(moved),
        ..t
    })
}

/// Under what an unpaid amount due on `due_on` is overdue on `day`, if it is.
pub(super) fn overdue_under(regulated: bool, due_on: Option<NaiveDate>, day: NaiveDate) -> Option<LateUnder> {
    match due_on {
        Some(d) if d < day && regulated => Some(LateUnder::Regulation),
        Some(d) if d < day => Some(LateUnder::Contract),
        _ => None,
    }
}

pub(super) fn to_terms(t: &terms::Model, status: SupplierOrderStatus) -> AppResult<SupplierOrderTerms> {
    let day = today();
    let invoiced = money(t.invoiced_fen)?;
    let paid = money(t.paid_fen)?;
    let outstanding = money(owed_fen(t))?;
    let refund_due = money(t.payable_fen.map_or(0, |p| t.paid_fen.saturating_sub(p).max(0)))?;
    Ok(SupplierOrderTerms {
        payment_terms: stored(&t.payment_terms)?,
        payment_days: t.payment_days,
        regulated: t.regulated,
        deliver_by: t.deliver_by,
        late: late_now(t, status, day),
        late_since: t.late_at,
        delivered_on: t.delivered_on,
        due_on: t.due_on,
        invoiced,
        paid,
        outstanding,
        refund_due,
        overdue_under: if outstanding.is_zero() {
            None
        } else {
            overdue_under(under_regulation(t), t.due_on, day)
        },
    })
}

/// Fills each supplier order's `payment` from its terms row.
pub async fn attach(conn: &impl ConnectionTrait, sos: &mut [SupplierOrder]) -> AppResult<()> {
    let rows = queries::terms_of(conn, sos.iter().map(|s| s.id.to_string()).collect()).await?;
    attach_rows(sos, rows)
}

/// Runs `writes` and reads the terms of the supplier orders `ids` with them (one statement on
/// PostgreSQL), for [`attach_rows`]: an acceptance's answer read in its own transaction.
pub async fn terms_after(
    conn: &impl ConnectionTrait,
    writes: Writes,
    ids: Vec<String>,
) -> AppResult<Vec<terms::Model>> {
    queries::terms_after(conn, writes, ids).await
}

/// As [`attach`], from terms rows already in hand (those [`write_terms`] wrote): no query.
pub fn attach_rows(sos: &mut [SupplierOrder], rows: Vec<terms::Model>) -> AppResult<()> {
    let rows: HashMap<String, terms::Model> = rows.into_iter().map(|t| (t.supplier_order_id.clone(), t)).collect();
    for so in sos.iter_mut() {
        so.payment = rows
            .get(&so.id.to_string())
            .map(|t| to_terms(t, so.status))
            .transpose()?;
    }
    Ok(())
}

/// As `attach`, for one supplier order.
pub async fn attach_one(conn: &impl ConnectionTrait, so: &mut SupplierOrder) -> AppResult<()> {
    attach(conn, std::slice::from_mut(so)).await
}

/// The states a supplier order may reach `to` from: the lifecycle's, and for a cancellation
/// also `shipped` once the order is late (the buyer may cancel a late delivery in transit).
pub async fn sources_for(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    to: SupplierOrderStatus,
) -> AppResult<Vec<SupplierOrderStatus>> {
    let mut from = SupplierOrderStatus::sources_of(to);
    if to == SupplierOrderStatus::Cancelled {
        if let Some(t) = queries::find_terms(conn, &so.id).await? {
            if late_now(&t, stored(&so.status)?, today()) {
                from.push(SupplierOrderStatus::Shipped);
            }
        }
    }
    Ok(from)
}

/// Refuses what the terms forbid: a prepaid order ships only once paid in full (409).
pub async fn before_transition(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    to: SupplierOrderStatus,
) -> AppResult<()> {
    if to != SupplierOrderStatus::Shipped {
        return Ok(());
    }
    let Some(t) = queries::find_terms(conn, &so.id).await? else {
        return Ok(());
    };
    if t.payment_terms == PaymentTerms::Prepay && t.paid_fen < so.total_fen {
        return Err(AppError::Conflict(format!(
            "a prepaid order ships only once the buyer has recorded payment in full ({} of {} paid)",
            money(t.paid_fen)?,
            money(so.total_fen)?
        )));
    }
    Ok(())
}

/// What a step of the lifecycle (from `was`) does to the terms, in its transaction: a prepaid
/// order is due on confirmation; a delivery fixes the due date of an on-account order (delivery
/// day plus its payment days) and records lateness past `deliver_by`; so does a cancellation
/// past `deliver_by` (the hourly job may not have flagged it yet, and never will once cancelled).
pub async fn after_transition(
    conn: &impl ConnectionTrait,
    so_id: &str,
    was: SupplierOrderStatus,
    to: SupplierOrderStatus,
) -> AppResult<()> {
    let Some(t) = queries::find_terms(conn, so_id).await? else {
        return Ok(());
    };
    let day = today();
    let prepay = t.payment_terms == PaymentTerms::Prepay;
    match to {
        SupplierOrderStatus::Confirmed if prepay => queries::set_due(conn, so_id, day).await,
        // Nothing is owed on an order cancelled or rejected: what was paid is a refund due.
        SupplierOrderStatus::Cancelled | SupplierOrderStatus::Rejected => {
            if to == SupplierOrderStatus::Cancelled && t.late_at.is_none() && late_now(&t, was, day) {
                queries::mark_late(conn, so_id, now()).await?;
            }
            super::owed::set_payable(conn, so_id, 0).await
        }
        SupplierOrderStatus::Delivered => {
            let due = (!prepay).then(|| day + chrono::Duration::days(i64::from(t.payment_days)));
            let late = (t.late_at.is_none() && t.deliver_by.is_some_and(|d| d < day)).then(now);
            queries::set_delivered(conn, so_id, day, due, late).await
        }
        _ => Ok(()),
    }
}

/// Moves a delivered supplier order's delivery back to `on` and its due date with it (demo data).
pub async fn backdate_delivery(conn: &impl ConnectionTrait, so_id: &str, on: NaiveDate) -> AppResult<()> {
    let Some(t) = queries::find_terms(conn, so_id).await? else {
        return Ok(());
    };
    let due =
        (t.payment_terms == PaymentTerms::OnAccount).then(|| on + chrono::Duration::days(i64::from(t.payment_days)));
    queries::set_delivered(conn, so_id, on, due, None).await
}
