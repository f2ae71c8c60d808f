//! The statements about what a buyer owes on a supplier order: what may be paid in all (what
//! is invoiced, never more than the terms' `payable_fen`), and the payable amount itself.
use crate::domain::SupplierOrderStatus;
use crate::error::AppResult;
use crate::services::sql;
use entity::{supplier_order_terms as terms, supplier_orders};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};

/// What a terms row `t` may be paid in all: what is invoiced, but never more than the buyer
/// owes (an invoice written before a return or a partial acceptance is owed only in part).
pub(super) const PAYABLE_CAP: &str = "(CASE WHEN t.payable_fen IS NOT NULL AND t.payable_fen < t.invoiced_fen \
     THEN t.payable_fen ELSE t.invoiced_fen END)";

/// Adds `fen` to the paid total unless it would pass what may be paid ([`PAYABLE_CAP`]);
/// returns the rows changed. The one statement that keeps concurrent payments, and a
/// return racing them, within what is owed.
pub(super) async fn add_paid(conn: &impl ConnectionTrait, id: &str, fen: i64) -> AppResult<u64> {
    let text = format!(
        "UPDATE supplier_order_terms AS t SET paid_fen = t.paid_fen + $1 \
         WHERE t.supplier_order_id = $2 AND t.paid_fen + $1 <= {PAYABLE_CAP}"
    );
    let res = conn.execute_raw(sql(conn, &text, vec![fen.into(), id.into()])).await?;
    Ok(res.rows_affected())
}

/// Sets what the buyer owes on supplier order `id` in all ([`super::invoiceable`]'s amount).
pub(super) async fn set_payable(conn: &impl ConnectionTrait, id: &str, fen: i64) -> AppResult<()> {
    super::queries::set_term(conn, id, terms::Column::PayableFen, Some(fen)).await
}

/// Up to `limit` accepted supplier orders whose payable amount is not priced yet.
pub(super) async fn unpriced_accepted(
    conn: &impl ConnectionTrait,
    limit: u64,
) -> AppResult<Vec<supplier_orders::Model>> {
    Ok(supplier_orders::Entity::find()
        .filter(supplier_orders::Column::Status.eq(SupplierOrderStatus::Accepted))
        .filter(
            supplier_orders::Column::Id.in_subquery(
                terms::Entity::find()
                    .select_only()
                    .column(terms::Column::SupplierOrderId)
                    .filter(terms::Column::PayableFen.is_null())
                    .into_query(),
            ),
        )
        .order_by_asc(supplier_orders::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Locks the terms row of `id` and answers what is owed on it now (what may be paid, less
/// what is paid): a reminder is written only for what is still unpaid when it is sent.
pub(super) async fn lock_owed(conn: &impl ConnectionTrait, id: &str) -> AppResult<i64> {
    conn.execute_raw(sql(
        conn,
        "UPDATE supplier_order_terms SET paid_fen = paid_fen WHERE supplier_order_id = $1",
        vec![id.into()],
    ))
    .await?;
    let text =
        format!("SELECT {PAYABLE_CAP} - t.paid_fen AS owed FROM supplier_order_terms t WHERE t.supplier_order_id = $1");
    let row = conn.query_one_raw(sql(conn, &text, vec![id.into()])).await?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "owed")?,
        None => 0,
    })
}
