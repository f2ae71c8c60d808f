//! Every statement of the stock capability.
use crate::domain::{ProductId, Quantity};
use crate::error::AppResult;
use crate::services::sql;
use crate::services::writes::Writes;
use entity::{lots, products, stock_movements};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryResult, QueryTrait, Value};

/// Reserved, on-hand and expired quantities of one product (SUMs need raw SQL).
pub(super) async fn stock_row(
    conn: &impl ConnectionTrait,
    product_id: &str,
    today: chrono::NaiveDate,
) -> AppResult<Option<QueryResult>> {
    Ok(conn
        .query_one_raw(sql(
            conn,
            "SELECT p.reserved_milli AS reserved, \
             COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = p.id AND l.best_before >= $2 AND NOT l.uncertified_batch), 0) AS on_hand, \
             COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = p.id AND l.best_before < $2 AND NOT l.uncertified_batch), 0) AS expired, \
             COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = p.id AND l.uncertified_batch), 0) AS uncertified \
             FROM products p WHERE p.id = $1",
            vec![product_id.into(), today.into()],
        ))
        .await?)
}

/// The conditional reservation of many products in one statement: each product whose available
/// stock covers its quantity is reserved, the others are left alone; returns the ids reserved.
/// On PostgreSQL the caller has locked the rows already (`super::ReservationLock`), in an
/// earlier statement of the transaction. `writes` ride on the reservation as `WITH` clauses on
/// PostgreSQL (and run after it there, in the same statement and snapshot).
pub(super) async fn reserve_many(
    conn: &impl ConnectionTrait,
    writes: Writes,
    items: &[(ProductId, Quantity)],
    today: chrono::NaiveDate,
) -> AppResult<Vec<String>> {
    let items: Vec<(String, i64)> = items.iter().map(|(p, q)| (p.to_string(), q.minor())).collect();
    let mut values: Vec<Value> = vec![today.into()];
    let c1 = case_of(&items, &mut values);
    let c2 = case_of(&items, &mut values);
    let ids = id_list(&items, &mut values);
    let target = format!("id IN ({ids})");
    let reserve = sql(
        conn,
        &format!(
            "UPDATE products SET reserved_milli = reserved_milli + ({c1}) WHERE {target} AND \
             COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = products.id AND l.best_before >= $1 AND NOT l.uncertified_batch), 0) \
             - reserved_milli >= ({c2}) RETURNING id"
        ),
        values,
    );
    let rows = writes.then_query(conn, reserve).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String>("", "id"))
        .collect::<Result<_, _>>()?)
}

/// `CASE id WHEN $a THEN $b ... END` over `(key, value)` pairs, numbering from `next`.
fn case_of(items: &[(String, i64)], values: &mut Vec<Value>) -> String {
    let mut text = String::from("CASE id");
    for (k, v) in items {
        values.push(k.clone().into());
        values.push((*v).into());
        text.push_str(&format!(" WHEN ${} THEN ${}", values.len() - 1, values.len()));
    }
    text.push_str(" END");
    text
}

fn id_list(items: &[(String, i64)], values: &mut Vec<Value>) -> String {
    let mut ids = Vec::with_capacity(items.len());
    for (k, _) in items {
        values.push(k.clone().into());
        ids.push(format!("${}", values.len()));
    }
    ids.join(", ")
}

/// Releases reservations of many products in one UPDATE (never below zero).
pub(super) async fn release_many(
    conn: &impl ConnectionTrait,
    writes: Writes,
    items: &[(ProductId, Quantity)],
) -> AppResult<()> {
    let items: Vec<(String, i64)> = items.iter().map(|(p, q)| (p.to_string(), q.minor())).collect();
    let mut values = Vec::new();
    let c1 = case_of(&items, &mut values);
    let c2 = case_of(&items, &mut values);
    let ids = id_list(&items, &mut values);
    let release = sql(
        conn,
        &format!(
            "UPDATE products SET reserved_milli = CASE WHEN reserved_milli >= ({c1}) THEN reserved_milli - ({c2}) ELSE 0 END WHERE id IN ({ids})"
        ),
        values,
    );
    writes.then_query(conn, release).await?;
    Ok(())
}

/// Lots of these products with something left, soonest best-before first.
pub(super) async fn lots_with_stock(
    conn: &impl ConnectionTrait,
    product_ids: &[String],
) -> AppResult<Vec<lots::Model>> {
    Ok(lots::Entity::find()
        .filter(lots::Column::ProductId.is_in(product_ids.to_vec()))
        .filter(lots::Column::RemainingMilli.gt(0))
        .filter(lots::Column::UncertifiedBatch.eq(false))
        .order_by_asc(lots::Column::BestBefore)
        .order_by_asc(lots::Column::Id)
        .all(conn)
        .await?)
}

/// Takes `take` from one lot if it still has that much; returns the rows changed.
pub(super) async fn take_from_lot(conn: &impl ConnectionTrait, lot_id: &str, take: i64) -> AppResult<u64> {
    let res = conn
        .execute_raw(sql(
            conn,
            "UPDATE lots SET remaining_milli = remaining_milli - $1 WHERE id = $2 AND remaining_milli >= $1",
            vec![take.into(), lot_id.into()],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// Takes from many lots in one UPDATE, after `writes` (the movements that record it, in the
/// same statement on PostgreSQL); a lot without enough left is not changed (the caller
/// compares the rows changed with the number of lots, and rolls back when they differ).
pub(super) async fn take_from_lots(
    conn: &impl ConnectionTrait,
    writes: Writes,
    takes: &[(String, i64)],
) -> AppResult<u64> {
    let mut values = Vec::new();
    let c1 = case_of(takes, &mut values);
    let c2 = case_of(takes, &mut values);
    let ids = id_list(takes, &mut values);
    let take = sql(
        conn,
        &format!(
            "UPDATE lots SET remaining_milli = remaining_milli - ({c1}) WHERE id IN ({ids}) AND remaining_milli >= ({c2}) RETURNING id"
        ),
        values,
    );
    Ok(writes.then_query(conn, take).await?.len() as u64)
}

/// Records movements in one multi-row INSERT, deferred to the statement that follows.
pub(super) fn insert_movements(writes: &mut Writes, rows: Vec<stock_movements::Model>) {
    if rows.is_empty() {
        return;
    }
    writes.insert(
        stock_movements::Entity::insert_many(rows.into_iter().map(stock_movements::ActiveModel::from)).as_query(),
    );
}

/// Takes the row locks of the products' stock (an UPDATE that changes nothing) in one
/// statement, so that whoever takes from or checks their lots next sees them settled:
/// takes, losses and reservations of one product queue behind each other.
pub async fn lock_products(conn: &impl ConnectionTrait, ids: &[String]) -> AppResult<u64> {
    let res = products::Entity::update_many()
        .col_expr(
            products::Column::ReservedMilli,
            Expr::col(products::Column::ReservedMilli),
        )
        .filter(products::Column::Id.is_in(ids.iter().cloned()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}
