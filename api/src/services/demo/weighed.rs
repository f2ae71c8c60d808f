//! The demo's product sold by the piece at a price per kg (docs/variable-weight.md): fresh
//! shiitake by the box, about 5 kg a box within 10 %, and one order of two boxes delivered
//! to the first canteen and awaiting its acceptance, so the console's deliveries page shows
//! a weighed line (nominal weight, tolerance, estimate) and asks for its weight on first start.
use super::data::ProductRow;
use super::payments::caller_for;
use super::queries;
use crate::domain::{CertificateKind, CreditCategory, ProductCategory, Quantity, Role, SupplierOrderId, Unit};
use crate::error::{AppError, AppResult};
use crate::services::orders::{self, Action, ActionNote, IdempotencyKey, NewOrder, NewOrderLine, Purchaser};
use crate::services::{stored, today};
use crate::state::AppState;
use std::collections::HashMap;

/// (product, nominal weight of a piece in grams, tolerance in percent). The price is per kg.
pub(super) const WEIGHED: &[(ProductRow, i64, i32)] = &[(
    (
        "mushroom_coop",
        Some("certifier.pingquan@demo.assist"),
        "平泉鲜香菇整箱",
        ProductCategory::EdibleFungi,
        Unit::Piece,
        2400,
        1_000,
        "130881100202",
        "Fresh Pingquan shiitake by the box: about 5 kg a box (within 10 %), paid by the kg weighed on delivery",
        (CertificateKind::GreenFood, "LB-13-2108130883"),
        200_000,
    ),
    5_000,
    10,
)];

/// Two boxes for the first canteen, delivered and awaiting acceptance (once: skipped when
/// the product has any order).
pub(super) async fn seed_order(state: &AppState, ids: &HashMap<&str, String>) -> AppResult<()> {
    let Some((row, _, _)) = WEIGHED.first() else {
        return Ok(());
    };
    let Some(supplier_org) = ids.get(row.0) else {
        return Ok(());
    };
    let Some(product) = queries::product_by_name(&state.db, supplier_org, row.2).await? else {
        return Ok(());
    };
    if queries::any_order_line(&state.db, &product.id).await? {
        return Ok(());
    }
    let (Some(buyer), Some(supplier)) = (
        caller_for(state, "buyer@demo.assist", Role::Buyer).await?,
        caller_for(state, "supplier.pingquan@demo.assist", Role::Supplier).await?,
    ) else {
        return Ok(());
    };
    let day = today();
    let req = NewOrder {
        lines: vec![NewOrderLine {
            product_id: stored(&product.id)?,
            quantity: Quantity::parse("2").map_err(AppError::internal)?,
        }],
        credit_category: CreditCategory::Purchase,
        pairing_id: None,
        deliver_to: "省直机关第一食堂".into(),
        requested_date: day,
        payment_terms: None,
        deliver_by: None,
    };
    let placed = orders::place_direct(
        state,
        &Purchaser::of(&buyer)?,
        req,
        &IdempotencyKey::parse("demo-weighed")?,
    )
    .await?;
    let Some(so) = placed.order().supplier_orders.first() else {
        return Ok(());
    };
    let id: SupplierOrderId = so.id;
    for a in [Action::Confirm, Action::Ship, Action::Deliver] {
        orders::transition(state, &supplier, id, a, ActionNote::default()).await?;
    }
    Ok(())
}
