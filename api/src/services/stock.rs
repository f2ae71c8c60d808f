//! Stock arithmetic shared by products, orders and alerts.
//!
//! on hand   = what remains in lots that are not past best-before
//! reserved  = what placed/confirmed/shipped/delivered orders hold (`products.reserved_milli`)
//! available = on hand - reserved
//!
//! Reservation is one conditional UPDATE, so it is correct under concurrency on
//! both backends: the row lock (PostgreSQL) or the single writer (SQLite)
//! serialises reservations, and the condition is re-checked on the locked row.
use super::{new_id, now, sql, today};
use crate::error::{AppError, AppResult};
use entity::lots;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

#[derive(Debug, Clone, Copy, Default)]
pub struct Stock {
    pub on_hand_milli: i64,
    pub expired_milli: i64,
    pub reserved_milli: i64,
    pub available_milli: i64,
}

pub async fn stock_of(conn: &impl ConnectionTrait, product_id: &str) -> AppResult<Stock> {
    let row = conn
        .query_one_raw(sql(
            conn,
            "SELECT p.reserved_milli AS reserved, \
             COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = p.id AND l.best_before >= $2), 0) AS on_hand, \
             COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = p.id AND l.best_before < $2), 0) AS expired \
             FROM products p WHERE p.id = $1",
            vec![product_id.into(), today().into()],
        ))
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let reserved: i64 = row.try_get("", "reserved")?;
    let on_hand: i64 = get_sum(&row, "on_hand")?;
    let expired: i64 = get_sum(&row, "expired")?;
    Ok(Stock {
        on_hand_milli: on_hand,
        expired_milli: expired,
        reserved_milli: reserved,
        available_milli: (on_hand - reserved).max(0),
    })
}

/// SUM over BIGINT is NUMERIC on PostgreSQL and INTEGER on SQLite; read either.
pub fn get_sum(row: &sea_orm::QueryResult, col: &str) -> AppResult<i64> {
    if let Ok(v) = row.try_get::<i64>("", col) {
        return Ok(v);
    }
    let d: rust_decimal::Decimal = row.try_get("", col)?;
    use rust_decimal::prelude::ToPrimitive;
    d.to_i64().ok_or_else(|| AppError::internal("sum out of range"))
}

/// Reserves `qty_milli` if that much is available. Returns false (and changes nothing) otherwise.
pub async fn reserve(conn: &impl ConnectionTrait, product_id: &str, qty_milli: i64) -> AppResult<bool> {
    let res = conn
        .execute_raw(sql(
            conn,
            "UPDATE products SET reserved_milli = reserved_milli + $1 WHERE id = $2 AND \
             COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = $2 AND l.best_before >= $3), 0) - reserved_milli >= $1",
            vec![qty_milli.into(), product_id.into(), today().into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Gives back a reservation (order rejected, cancelled, or partly accepted).
pub async fn release(conn: &impl ConnectionTrait, product_id: &str, qty_milli: i64) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        "UPDATE products SET reserved_milli = CASE WHEN reserved_milli >= $1 THEN reserved_milli - $1 ELSE 0 END WHERE id = $2",
        vec![qty_milli.into(), product_id.into()],
    ))
    .await?;
    Ok(())
}

/// Takes `qty_milli` out of the product's lots, soonest best-before first, and records
/// the movement. Expired lots are used last. Never takes a lot below zero; returns what
/// could not be taken (0 when all was).
pub async fn consume(
    conn: &impl ConnectionTrait,
    product_id: &str,
    qty_milli: i64,
    kind: &str,
    ref_id: Option<&str>,
    actor: Option<&str>,
) -> AppResult<i64> {
    let today = today();
    let mut lots = lots::Entity::find()
        .filter(lots::Column::ProductId.eq(product_id.to_string()))
        .filter(lots::Column::RemainingMilli.gt(0))
        .order_by_asc(lots::Column::BestBefore)
        .order_by_asc(lots::Column::Id)
        .all(conn)
        .await?;
    lots.sort_by_key(|l| (l.best_before < today, l.best_before));
    let mut left = qty_milli;
    for lot in lots {
        if left == 0 {
            break;
        }
        let take = left.min(lot.remaining_milli);
        let res = conn
            .execute_raw(sql(
                conn,
                "UPDATE lots SET remaining_milli = remaining_milli - $1 WHERE id = $2 AND remaining_milli >= $1",
                vec![take.into(), lot.id.clone().into()],
            ))
            .await?;
        if res.rows_affected() != 1 {
            continue;
        }
        record_movement(conn, product_id, Some(&lot.id), -take, kind, None, ref_id, actor).await?;
        left -= take;
    }
    Ok(left)
}

#[allow(clippy::too_many_arguments)]
pub async fn record_movement(
    conn: &impl ConnectionTrait,
    product_id: &str,
    lot_id: Option<&str>,
    delta_milli: i64,
    kind: &str,
    reason: Option<&str>,
    ref_id: Option<&str>,
    actor: Option<&str>,
) -> AppResult<()> {
    entity::stock_movements::ActiveModel {
        id: Set(new_id()),
        product_id: Set(product_id.to_string()),
        lot_id: Set(lot_id.map(str::to_string)),
        delta_milli: Set(delta_milli),
        kind: Set(kind.to_string()),
        reason: Set(reason.map(str::to_string)),
        ref_id: Set(ref_id.map(str::to_string)),
        actor_user_id: Set(actor.map(str::to_string)),
        created_at: Set(now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}
