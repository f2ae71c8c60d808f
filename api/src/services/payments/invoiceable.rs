//! How much a supplier may invoice on a supplier order in all.
//!
//! Before acceptance (a prepaid order is invoiced on confirmation) it is the order's
//! amount. Once accepted it is what the buyer accepted and kept: each line's accepted
//! quantity at its price, and a line sold by weight at its actual amount (kg weighed × price
//! per kg), which may be above or below the estimate the order was placed at
//! (docs/variable-weight.md), less what its returns were worth (the same amounts the returns
//! reversed in the ledger).
use crate::domain::{Money, Quantity, SupplierOrderStatus};
use crate::error::{AppError, AppResult};
use crate::services::weight;
use crate::services::writes::Writes;
use entity::{order_lines, supplier_order_terms, supplier_orders};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub(super) async fn invoiceable_fen(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    status: SupplierOrderStatus,
) -> AppResult<i64> {
    if status != SupplierOrderStatus::Accepted {
        return Ok(so.total_fen);
    }
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.eq(so.id.clone()))
        .all(conn)
        .await?;
    let actual = weight::actual_amounts(conn, lines.iter().map(|l| l.id.clone()).collect()).await?;
    let mut total = Money::ZERO;
    for l in &lines {
        let Some(q) = l.accepted_quantity_milli else { continue };
        let price = Money::from_minor(l.unit_price_fen).map_err(AppError::internal)?;
        let accepted = Quantity::from_minor(q).map_err(AppError::internal)?;
        let returned = Quantity::from_minor(l.returned_quantity_milli).map_err(AppError::internal)?;
        let worth = |pieces| weight::amount_of_pieces(actual.get(&l.id).copied(), price, accepted, pieces);
        let kept = worth(accepted)
            .and_then(|all| all.checked_sub(worth(returned)?))
            .map_err(AppError::internal)?;
        total = total.checked_add(kept).map_err(AppError::internal)?;
    }
    Ok(total.minor())
}

/// What the buyer owes in all on an accepted supplier order, recorded on its terms
/// (`payable_fen`) by acceptance (from the amounts it credits, in its own statement: see
/// `orders::accept`) and again by each return.
pub async fn after_return(conn: &impl ConnectionTrait, so: &supplier_orders::Model) -> AppResult<()> {
    // The terms row is locked before the lines are read: a return of other lines committing
    // meanwhile is then seen, and the two never write over each other's amount.
    super::owed::lock_owed(conn, &so.id).await?;
    let fen = invoiceable_fen(conn, so, SupplierOrderStatus::Accepted).await?;
    super::owed::set_payable(conn, &so.id, fen).await
}

/// The update that records what an acceptance credits, `fen`, as what the buyer owes on
/// supplier order `so_id`, deferred with the acceptance's other writes (the terms row is the
/// order's, which the acceptance has changed already).
pub fn accepted_payable(writes: &mut Writes, so_id: &str, fen: i64) {
    writes.update_owned_query(
        sea_orm::sea_query::Query::update()
            .table(supplier_order_terms::Entity)
            .value(supplier_order_terms::Column::PayableFen, Some(fen))
            .and_where(supplier_order_terms::Column::SupplierOrderId.eq(so_id)),
    );
}

/// Prices the accepted supplier orders left without `payable_fen` (those accepted before
/// migration `000270`), a batch at a time; run at start.
pub async fn fill_payable(conn: &impl ConnectionTrait) -> AppResult<u64> {
    let mut filled = 0;
    loop {
        let batch = super::owed::unpriced_accepted(conn, 200).await?;
        if batch.is_empty() {
            return Ok(filled);
        }
        for so in &batch {
            after_return(conn, so).await?;
            filled += 1;
        }
    }
}
