//! Stock arithmetic shared by products, orders and alerts.
//!
//! on hand   = what remains in lots that are not past best-before
//! reserved  = what placed/confirmed/shipped/delivered orders hold (`products.reserved_milli`)
//! available = on hand - reserved
//!
//! Reservation is one conditional UPDATE, so it is correct under concurrency on
//! both backends: the row lock (PostgreSQL) or the single writer (SQLite)
//! serialises reservations, and the condition is re-checked on the locked row.
//!
//! The batch functions (`release_many`, `consume_many`) run a fixed number of
//! statements whatever the number of products: acceptance uses them.
mod queries;
pub use queries::lock_products;

use super::writes::Writes;
use super::{new_id, now, today};
use crate::domain::{ProductId, Quantity, StockMovementKind, UserId};
use crate::error::{AppError, AppResult};
use entity::lots;
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, Default)]
pub struct Stock {
    pub on_hand_milli: i64,
    pub expired_milli: i64,
    /// In lots flagged `uncertified_batch` (not on hand until their 合格证 is recorded).
    pub uncertified_milli: i64,
    pub reserved_milli: i64,
    pub available_milli: i64,
}

impl Stock {
    /// What can still be reserved.
    pub fn available(&self) -> Quantity {
        Quantity::from_minor(self.available_milli).unwrap_or(Quantity::ZERO)
    }
}

pub async fn stock_of(conn: &impl ConnectionTrait, product_id: &str) -> AppResult<Stock> {
    let row = queries::stock_row(conn, product_id, today())
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let reserved: i64 = row.try_get("", "reserved")?;
    let on_hand: i64 = get_sum(&row, "on_hand")?;
    let expired: i64 = get_sum(&row, "expired")?;
    let uncertified: i64 = get_sum(&row, "uncertified")?;
    Ok(Stock {
        on_hand_milli: on_hand,
        expired_milli: expired,
        uncertified_milli: uncertified,
        reserved_milli: reserved,
        available_milli: on_hand.saturating_sub(reserved).max(0),
    })
}

/// SUM over BIGINT is NUMERIC on PostgreSQL and INTEGER on SQLite; read either.
/// A sum beyond 64 bits is a state of the data, not a server fault: 409.
pub fn get_sum(row: &sea_orm::QueryResult, col: &str) -> AppResult<i64> {
    if let Ok(v) = row.try_get::<i64>("", col) {
        return Ok(v);
    }
    let d: rust_decimal::Decimal = row.try_get("", col)?;
    use rust_decimal::prelude::ToPrimitive;
    d.to_i64()
        .ok_or_else(|| AppError::Conflict(format!("the stock total ({col}) is out of range")))
}

/// The row locks a reservation needs first, on PostgreSQL: its products `FOR NO KEY UPDATE` in
/// id order, so two orders sharing products never deadlock. It is the lock the reservation's
/// update takes anyway, so the foreign-key checks of other transactions' lines, movements and
/// ledger entries naming the products do not wait for it.
///
/// It must be sent in a statement before the reservation (the caller's read, see
/// [`ReservationLock::select_sql`]): the reservation then starts after every take from these
/// products' lots that held their lock has committed, and sums the lots as that take left them.
/// Locking inside the reservation would re-check a product that changed under it against the
/// lots as they stood when the statement began, and reserve what a concurrent loss just took.
/// SQLite has one writer at a time and needs no lock. [`reserve_many`] takes the value, so no
/// reservation is written without one.
pub struct ReservationLock {
    ids: Vec<String>,
}

impl ReservationLock {
    pub fn new(ids: impl IntoIterator<Item = ProductId>) -> Self {
        let mut ids: Vec<String> = ids.into_iter().map(|p| p.to_string()).collect();
        ids.sort();
        ids.dedup();
        Self { ids }
    }

    /// `SELECT id FROM products WHERE id IN (…) ORDER BY id FOR NO KEY UPDATE` (PostgreSQL), its
    /// ids appended to `values` and numbered `$n` after those already there. The statement that
    /// embeds it must read it whatever else it finds (a SELECT in `WITH` runs only when read).
    pub fn select_sql(&self, values: &mut Vec<sea_orm::Value>) -> String {
        if self.ids.is_empty() {
            return "SELECT id FROM products WHERE FALSE".to_string();
        }
        let list = super::placeholders(values, &self.ids);
        format!("SELECT id FROM products WHERE id IN ({list}) ORDER BY id FOR NO KEY UPDATE")
    }
}

/// Reserves each product's quantity if that much is available, in one statement (quantities
/// of one product are added up first). Returns the products that could not be reserved (their
/// reservation is unchanged); the others are reserved. `writes` are run first (on PostgreSQL
/// in the same statement). `lock` was sent earlier in the transaction and covers every product.
pub async fn reserve_many(
    conn: &impl ConnectionTrait,
    lock: &ReservationLock,
    writes: Writes,
    items: &[(ProductId, Quantity)],
) -> AppResult<Vec<ProductId>> {
    let per = per_product(items)?;
    if let Some((p, _)) = per.iter().find(|(p, _)| !lock.ids.contains(&p.to_string())) {
        return Err(AppError::internal(format!("product {p} is reserved without its lock")));
    }
    if per.is_empty() {
        writes.run(conn).await?;
        return Ok(Vec::new());
    }
    let done = queries::reserve_many(conn, writes, &per, today()).await?;
    Ok(per
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !done.contains(&p.to_string()))
        .collect())
}

/// Gives back a reservation (order rejected, cancelled, or partly accepted).
pub async fn release(conn: &impl ConnectionTrait, product_id: ProductId, qty: Quantity) -> AppResult<()> {
    release_many(conn, &[(product_id, qty)]).await
}

/// Gives back reservations of many products in one statement (quantities of one
/// product are added up first).
pub async fn release_many(conn: &impl ConnectionTrait, items: &[(ProductId, Quantity)]) -> AppResult<()> {
    release_many_after(conn, Writes::new(conn), items).await
}

/// As [`release_many`], after `writes` (in the same statement on PostgreSQL).
pub async fn release_many_after(
    conn: &impl ConnectionTrait,
    writes: Writes,
    items: &[(ProductId, Quantity)],
) -> AppResult<()> {
    let per = per_product(items)?;
    if per.is_empty() {
        return Ok(writes.run(conn).await?);
    }
    queries::release_many(conn, writes, &per).await
}

fn per_product(items: &[(ProductId, Quantity)]) -> AppResult<Vec<(ProductId, Quantity)>> {
    let mut per: BTreeMap<ProductId, Quantity> = BTreeMap::new();
    for (p, q) in items {
        let e = per.entry(*p).or_insert(Quantity::ZERO);
        *e = e
            .checked_add(*q)
            .map_err(|_| AppError::Conflict("the quantities to release are out of range".into()))?;
    }
    Ok(per.into_iter().filter(|(_, q)| !q.is_zero()).collect())
}

/// Takes `qty_milli` out of the product's lots, soonest best-before first, and records
/// the movement. Expired lots are used last. Never takes a lot below zero, nor below what
/// `keep` names for it (what shipped orders not yet accepted hold in it: their acceptance
/// takes it from that lot); returns what could not be taken (0 when all was).
pub async fn consume(
    conn: &impl ConnectionTrait,
    product_id: &str,
    qty_milli: i64,
    kind: &str,
    ref_id: Option<&str>,
    actor: Option<&str>,
    keep: &std::collections::HashMap<String, i64>,
) -> AppResult<i64> {
    let today = today();
    let mut lots = queries::lots_with_stock(conn, &[product_id.to_string()]).await?;
    lots.sort_by_key(|l| (l.best_before < today, l.best_before));
    let mut left = qty_milli;
    for lot in lots {
        if left == 0 {
            break;
        }
        let kept = keep.get(&lot.id).copied().unwrap_or(0).max(0);
        let take = left.min(lot.remaining_milli.saturating_sub(kept));
        if take <= 0 {
            continue;
        }
        if queries::take_from_lot(conn, &lot.id, take).await? != 1 {
            continue;
        }
        record_movement(conn, product_id, Some(&lot.id), -take, kind, None, ref_id, actor).await?;
        left -= take;
    }
    Ok(left)
}

/// Takes the quantities out of the products' lots (soonest best-before first, expired
/// last) and records one movement per lot touched, in a fixed number of statements.
/// Returns 409 when a lot changed under it or the lots hold less than is taken (the
/// caller's transaction is rolled back).
pub async fn consume_many(
    conn: &impl ConnectionTrait,
    items: &[(ProductId, Quantity)],
    kind: StockMovementKind,
    ref_id: Option<&str>,
    actor: Option<UserId>,
) -> AppResult<()> {
    let per = per_product(items)?;
    if per.is_empty() {
        return Ok(());
    }
    let today = today();
    let mut ids: Vec<String> = per.iter().map(|(p, _)| p.to_string()).collect();
    ids.sort();
    // Lock first, then read: a concurrent take of the same lots waits here and this
    // reads what it left, instead of planning on stale lots and failing with 409.
    // (Acceptance already holds these locks through its release; other callers may not.)
    queries::lock_products(conn, &ids).await?;
    let all = queries::lots_with_stock(conn, &ids).await?;
    let mut by_product: BTreeMap<String, Vec<lots::Model>> = BTreeMap::new();
    for l in all {
        by_product.entry(l.product_id.clone()).or_default().push(l);
    }
    let t = now();
    let mut takes: Vec<(String, i64)> = Vec::new();
    let mut moves: Vec<entity::stock_movements::Model> = Vec::new();
    for (pid, qty) in &per {
        let pid = pid.to_string();
        let mut lots = by_product.remove(&pid).unwrap_or_default();
        lots.sort_by_key(|l| (l.best_before < today, l.best_before));
        let mut left = qty.minor();
        for lot in lots {
            if left == 0 {
                break;
            }
            let take = left.min(lot.remaining_milli);
            left -= take;
            takes.push((lot.id.clone(), take));
            moves.push(entity::stock_movements::Model {
                id: new_id(),
                product_id: pid.clone(),
                lot_id: Some(lot.id.clone()),
                delta_milli: -take,
                kind: kind.as_str().to_string(),
                reason: None,
                ref_id: ref_id.map(str::to_string),
                actor_user_id: actor.map(|a| a.to_string()),
                created_at: t,
            });
        }
        // Goods credited must leave stock: a shortfall (lots lost, or no longer certified,
        // since the goods were reserved) refuses the whole take rather than credit goods
        // that could be sold again.
        if left > 0 {
            return Err(AppError::Conflict(format!(
                "the lots of product {pid} hold {} less than is being taken; the supplier must record its stock first",
                Quantity::from_minor(left).unwrap_or(Quantity::ZERO)
            )));
        }
    }
    if takes.is_empty() {
        return Ok(());
    }
    take_recorded(
        conn,
        Writes::new(conn),
        &takes,
        moves,
        "the stock changed while it was being taken; retry",
    )
    .await
}

/// Takes `(lot, thousandths)` from the lots after `writes` and with the movements that
/// record it (one round
/// trip on PostgreSQL); 409 `short` when a lot holds less, and the caller's transaction rolls
/// the movements back with it.
async fn take_recorded(
    conn: &impl ConnectionTrait,
    mut writes: Writes,
    takes: &[(String, i64)],
    moves: Vec<entity::stock_movements::Model>,
    short: &str,
) -> AppResult<()> {
    queries::insert_movements(&mut writes, moves);
    if queries::take_from_lots(conn, writes, takes).await? != takes.len() as u64 {
        return Err(AppError::Conflict(short.into()));
    }
    Ok(())
}

/// Takes quantities out of named lots `(product, lot, thousandths)` (acceptance of a
/// shipment's lots) and records one movement per lot, in a fixed number of statements.
/// 409 when a lot no longer holds what is taken (the caller's transaction is rolled back).
pub async fn take_from_named_lots(
    conn: &impl ConnectionTrait,
    writes: Writes,
    takes: &[(ProductId, String, i64)],
    kind: StockMovementKind,
    ref_id: Option<&str>,
    actor: Option<UserId>,
) -> AppResult<()> {
    let mut per_lot: BTreeMap<String, (ProductId, i64)> = BTreeMap::new();
    for (p, lot, q) in takes.iter().filter(|t| t.2 > 0) {
        let e = per_lot.entry(lot.clone()).or_insert((*p, 0));
        e.1 = e.1.saturating_add(*q);
    }
    if per_lot.is_empty() {
        return Ok(writes.run(conn).await?);
    }
    let pairs: Vec<(String, i64)> = per_lot.iter().map(|(l, (_, q))| (l.clone(), *q)).collect();
    let t = now();
    let moves = per_lot
        .into_iter()
        .map(|(lot, (p, q))| entity::stock_movements::Model {
            id: new_id(),
            product_id: p.to_string(),
            lot_id: Some(lot),
            delta_milli: -q,
            kind: kind.as_str().to_string(),
            reason: None,
            ref_id: ref_id.map(str::to_string),
            actor_user_id: actor.map(|a| a.to_string()),
            created_at: t,
        })
        .collect();
    take_recorded(
        conn,
        writes,
        &pairs,
        moves,
        "a shipped lot no longer holds what was shipped from it; retry",
    )
    .await
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
    let mut writes = Writes::new(conn);
    queries::insert_movements(
        &mut writes,
        vec![entity::stock_movements::Model {
            id: new_id(),
            product_id: product_id.to_string(),
            lot_id: lot_id.map(str::to_string),
            delta_milli,
            kind: kind.to_string(),
            reason: reason.map(str::to_string),
            ref_id: ref_id.map(str::to_string),
            actor_user_id: actor.map(str::to_string),
            created_at: now(),
        }],
    );
    Ok(writes.run(conn).await?)
}
