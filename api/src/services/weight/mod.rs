//! Variable weight: products sold `pieces_by_weight` (a pig, a box of mushrooms).
//!
//! - The product's unit is `piece`, its `price` is per kg, and it states
//!   `nominal_weight_kg` per piece and `weight_tolerance` in percent (`terms`).
//! - Orders, reservations and stock count pieces (whole pieces only); the line's amount
//!   at placement is the estimate `pieces x nominal kg x price per kg` (`lines::estimate`),
//!   and the nominal weight and tolerance are copied into `order_line_weights`.
//! - The buyer records the actual weight of the accepted pieces of each weighed line in the
//!   acceptance body (`lines[].actual_weight`, kg, up to 3 decimals): it is weighed on
//!   receipt, where the buyer counts and inspects. A weight outside the tolerance needs
//!   `accept_weight_deviation: true`; zero, or above 3 x the nominal weight of the accepted
//!   pieces, is refused (`lines::check_acceptance`).
//! - The accepted amount and the ledger credit are `actual kg x price per kg`, half up to
//!   the fen on the line total ([`Money::weighed_amount`]); the ledger entry's quantity stays
//!   pieces. Orders show the estimate and the actual amount per line and in total (`attach`).
//! - A return of some accepted pieces reverses their share of the actual amount
//!   ([`amount_of_pieces`], by difference of cumulative shares, so returns add up exactly).
//! - [`actual_weight`] / [`actual_weights`] give the recorded weight of a line (for the
//!   ledger entry's `weight_kg_milli`).
mod lines;
mod queries;
mod terms;

pub use lines::{
    check_acceptance, check_order_total, estimate, record_actuals, snapshot, with_actuals, WeighIn, Weighed,
};
pub use terms::{check_new, check_patch, Given, WeightTerms};

use crate::domain::{Money, OrderLineId, Quantity, SignedMoney, Weight};
use crate::error::{AppError, AppResult};
use crate::services::orders::{Order, SupplierOrder};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// The weighed side of an order line of a product sold `pieces_by_weight`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct LineWeight {
    /// Nominal weight of one piece when the order was placed.
    pub nominal_weight_kg: Weight,
    /// Tolerance in percent around the nominal weight of the pieces.
    pub weight_tolerance: i32,
    /// Nominal weight of the pieces: the accepted pieces once accepted, else the ordered ones.
    pub estimated_weight_kg: Weight,
    /// `estimated_weight_kg x unit_price` (the unit price is per kg), half up to the fen.
    pub estimated_amount: Money,
    /// Weight of the accepted pieces, recorded by the buyer at acceptance (null before).
    pub actual_weight_kg: Option<Weight>,
    /// `actual_weight_kg x unit_price`, half up to the fen: what the ledger credits.
    pub actual_amount: Option<Money>,
    /// `actual_amount - estimated_amount`.
    pub difference: Option<SignedMoney>,
    /// The buyer accepted a weight outside the tolerance.
    pub deviation_accepted: bool,
}

/// Estimated and actual amounts of the weighed lines of a supplier order or an order.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct WeighedTotal {
    pub estimated_amount: Money,
    /// Null until every weighed line has its actual weight (and should their sum pass the
    /// largest amount, which acceptance refuses).
    pub actual_amount: Option<Money>,
    pub difference: Option<SignedMoney>,
}

/// The actual weight recorded for an order line (`None`: not a weighed line, or not yet
/// accepted). For the ledger entry of an accepted line.
pub async fn actual_weight(conn: &impl ConnectionTrait, line_id: OrderLineId) -> AppResult<Option<Weight>> {
    Ok(actual_weights(conn, &[line_id]).await?.remove(&line_id))
}

/// The actual weights recorded for these lines, in one query (lines without one are absent).
pub async fn actual_weights(
    conn: &impl ConnectionTrait,
    line_ids: &[OrderLineId],
) -> AppResult<HashMap<OrderLineId, Weight>> {
    let rows = queries::by_lines(conn, line_ids.iter().map(|l| l.to_string()).collect()).await?;
    let mut out = HashMap::new();
    for r in rows {
        if let Some(g) = r.actual_weight_milli {
            out.insert(crate::services::stored(&r.order_line_id)?, weight(g)?);
        }
    }
    Ok(out)
}

/// What a product sold by weight counts in: orders, reservations, lots, stock, shipments and
/// returns are whole pieces.
pub const WHOLE_PIECES: &str = "must be a whole number of pieces for a product sold by weight";

/// A quantity of whole pieces.
pub fn is_whole(q: crate::domain::Quantity) -> bool {
    q.minor() % 1000 == 0
}

/// Which of these lines are weighed (their product's terms were copied at placement).
pub async fn weighed_lines(
    conn: &impl ConnectionTrait,
    line_ids: Vec<String>,
) -> AppResult<std::collections::HashSet<String>> {
    Ok(queries::by_lines(conn, line_ids)
        .await?
        .into_iter()
        .map(|r| r.order_line_id)
        .collect())
}

/// The actual amounts recorded for these lines (lines without one are absent).
pub async fn actual_amounts(conn: &impl ConnectionTrait, line_ids: Vec<String>) -> AppResult<HashMap<String, Money>> {
    let mut out = HashMap::new();
    for r in queries::by_lines(conn, line_ids).await? {
        if let Some(f) = r.actual_amount_fen {
            out.insert(r.order_line_id, Money::from_minor(f).map_err(AppError::internal)?);
        }
    }
    Ok(out)
}

/// What `pieces` of a line's `accepted` pieces are worth: the share of the actual amount for
/// a weighed line (`actual` given), else `pieces x price`; both half up to the fen.
pub fn amount_of_pieces(
    actual: Option<Money>,
    price: Money,
    accepted: Quantity,
    pieces: Quantity,
) -> Result<Money, crate::domain::AmountError> {
    match actual {
        Some(a) => a.pro_rata(pieces, accepted),
        None => Money::line_amount(price, pieces),
    }
}

fn weight(g: i64) -> AppResult<Weight> {
    Weight::from_minor(g).map_err(AppError::internal)
}

fn amount_error(e: crate::domain::AmountError) -> AppError {
    AppError::internal(format!("a weighed amount is out of range: {e}"))
}

/// Fills `weight` on each weighed line and `weighed` on each supplier order (one query).
pub async fn attach(conn: &impl ConnectionTrait, sos: &mut [SupplierOrder]) -> AppResult<()> {
    let rows = queries::by_supplier_orders(conn, sos.iter().map(|s| s.id.to_string()).collect()).await?;
    attach_rows(sos, rows)
}

/// As [`attach`], from the weight rows of these supplier orders already in hand (those
/// [`snapshot`] just wrote): no query.
pub fn attach_rows(sos: &mut [SupplierOrder], rows: Vec<entity::order_line_weights::Model>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: HashMap<String, entity::order_line_weights::Model> =
        rows.into_iter().map(|r| (r.order_line_id.clone(), r)).collect();
    for so in sos.iter_mut() {
        for line in so.lines.iter_mut() {
            let Some(r) = rows.get(&line.id.to_string()) else {
                continue;
            };
            let nominal = weight(r.nominal_weight_milli)?;
            let pieces = line.accepted_quantity.unwrap_or(line.quantity);
            let estimated = Weight::of_pieces(nominal, pieces).map_err(amount_error)?;
            let estimated_amount = Money::weighed_amount(line.unit_price, estimated).map_err(amount_error)?;
            let actual_amount = r
                .actual_amount_fen
                .map(|f| Money::from_minor(f).map_err(AppError::internal))
                .transpose()?;
            line.weight = Some(LineWeight {
                nominal_weight_kg: nominal,
                weight_tolerance: r.weight_tolerance_pct,
                estimated_weight_kg: estimated,
                estimated_amount,
                actual_weight_kg: r.actual_weight_milli.map(weight).transpose()?,
                actual_amount,
                difference: actual_amount.map(|a| difference(a, estimated_amount)).transpose()?,
                deviation_accepted: r.deviation_accepted,
            });
        }
        so.weighed = total_of(so.lines.iter().filter_map(|l| l.weight.as_ref()))?;
    }
    Ok(())
}

/// Fills the order's `weighed` from its supplier orders (after [`attach`]).
pub fn attach_order(order: &mut Order) -> AppResult<()> {
    let lines = order.supplier_orders.iter().flat_map(|so| so.lines.iter());
    order.weighed = total_of(lines.filter_map(|l| l.weight.as_ref()))?;
    Ok(())
}

fn difference(actual: Money, estimated: Money) -> AppResult<SignedMoney> {
    actual.signed().checked_sub(estimated.signed()).map_err(amount_error)
}

/// The totals of some weighed lines (`None` when there is none). The actual total is null
/// (and so its difference) when it would pass the largest amount: acceptance refuses what
/// would take an order there ([`check_order_total`]), but two of its supplier orders accepted
/// at once may still; a stored order is always readable.
fn total_of<'a>(lines: impl Iterator<Item = &'a LineWeight>) -> AppResult<Option<WeighedTotal>> {
    let mut any = false;
    let mut estimated = Money::ZERO;
    let mut actual = Some(Money::ZERO);
    for l in lines {
        any = true;
        estimated = estimated.checked_add(l.estimated_amount).map_err(amount_error)?;
        actual = match (actual, l.actual_amount) {
            (Some(t), Some(a)) => t.checked_add(a).ok(),
            _ => None,
        };
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(WeighedTotal {
        estimated_amount: estimated,
        actual_amount: actual,
        difference: actual.map(|a| difference(a, estimated)).transpose()?,
    }))
}
