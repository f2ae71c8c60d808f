//! Demo orders with payment histories, so that the ageing report has something in it on
//! first start: one paid in full, one partly paid, one overdue (all on account, from the
//! first canteen to the millet cooperative), and a prepaid one invoiced and awaiting payment.
use super::queries;
use crate::auth::Caller;
use crate::domain::{Money, OrgId, PaymentTerms, Quantity, Role, SupplierOrderId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::orders::{self, AcceptLine, Acceptance, Action, ActionNote, IdempotencyKey, NewOrder, Purchaser};
use crate::services::{accounts, payments, stored, today};
use crate::state::AppState;
use chrono::Duration;
use std::collections::HashMap;

pub(super) async fn caller_for(state: &AppState, email: &str, role: Role) -> AppResult<Option<Caller>> {
    let Some(u) = accounts::queries::user_by_email(&state.db, email).await? else {
        return Ok(None);
    };
    let user: UserId = stored(&u.id)?;
    let org: OrgId = stored(&u.org_id)?;
    Ok(Some(Caller::new(user, org, role, "demo".into(), i64::MAX)))
}

/// (key, terms, days since delivery, share paid in percent; `None`: not delivered).
const ORDERS: [(&str, PaymentTerms, Option<i64>, i64); 4] = [
    ("demo-payments-paid", PaymentTerms::OnAccount, Some(20), 100),
    ("demo-payments-partly", PaymentTerms::OnAccount, Some(10), 50),
    ("demo-payments-overdue", PaymentTerms::OnAccount, Some(75), 0),
    ("demo-payments-prepay", PaymentTerms::Prepay, None, 0),
];

pub(super) async fn seed_payments(state: &AppState, ids: &HashMap<&str, String>) -> AppResult<()> {
    if queries::any_invoice(&state.db).await? {
        return Ok(());
    }
    let (Some(supplier_org), Some(_)) = (ids.get("millet_coop"), ids.get("first_canteen")) else {
        return Ok(());
    };
    let Some(product) = queries::product_by_name(&state.db, supplier_org, "阳原小米").await? else {
        return Ok(());
    };
    let (Some(buyer), Some(supplier)) = (
        caller_for(state, "buyer@demo.assist", Role::Buyer).await?,
        caller_for(state, "supplier@demo.assist", Role::Supplier).await?,
    ) else {
        return Ok(());
    };
    let qty = Quantity::parse("50").map_err(AppError::internal)?;
    let day = today();
    for (key, terms, delivered_ago, percent) in ORDERS {
        let req = NewOrder {
            lines: vec![orders::NewOrderLine {
                product_id: stored(&product.id)?,
                quantity: qty,
            }],
            credit_category: crate::domain::CreditCategory::Purchase,
            pairing_id: None,
            deliver_to: "省直机关第一食堂".into(),
            requested_date: day,
            payment_terms: Some(terms),
            deliver_by: Some(day + Duration::days(7)),
        };
        let purchaser = Purchaser::of(&buyer)?;
        let placed = orders::place_direct(state, &purchaser, req, &IdempotencyKey::parse(key)?).await?;
        let Some(so) = placed.order().supplier_orders.first().cloned() else {
            continue;
        };
        let id: SupplierOrderId = so.id;
        orders::transition(state, &supplier, id, Action::Confirm, ActionNote::default()).await?;
        let number = format!("DEMO-{}", &key["demo-payments-".len()..]);
        let Some(ago) = delivered_ago else {
            // Prepaid: invoiced on confirmation, ships once paid.
            let inv = payments::NewInvoice {
                number,
                amount: so.total,
                issued_on: day,
            };
            payments::create_invoice(state, &supplier, id, inv).await?;
            continue;
        };
        for a in [Action::Ship, Action::Deliver] {
            orders::transition(state, &supplier, id, a, ActionNote::default()).await?;
        }
        let lines = so
            .lines
            .iter()
            .map(|l| AcceptLine {
                line_id: l.id,
                accepted_quantity: l.quantity,
                actual_weight: None,
            })
            .collect();
        let acc = Acceptance {
            lines,
            invoice_number: number.clone(),
            note: None,
            accept_weight_deviation: false,
        };
        orders::accept(state, &buyer, id, acc).await?;
        let delivered = day - Duration::days(ago);
        payments::backdate_delivery(&state.db, &id.to_string(), delivered).await?;
        let inv = payments::NewInvoice {
            number,
            amount: so.total,
            issued_on: delivered,
        };
        payments::create_invoice(state, &supplier, id, inv).await?;
        if percent > 0 {
            let fen = so.total.minor() * percent / 100;
            let pay = payments::NewPayment {
                amount: Money::from_minor(fen).map_err(AppError::internal)?,
                paid_on: delivered + Duration::days(ago.min(14)),
                reference: format!("ICBC {}", key.len() * 1_000_003),
            };
            payments::create_payment(state, &buyer, id, pay).await?;
        }
    }
    Ok(())
}
