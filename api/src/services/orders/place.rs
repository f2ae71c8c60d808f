//! Placing an order: the idempotency key, the checks that need no database, and
//! the replay of an earlier answer. The order itself is written by `write`.
use super::keyed::Keyed;
use super::types::{IdempotencyKey, NewOrder, OrderSource, Placed, Purchaser};
use super::{queries, write};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{now, required_text, today};
use crate::state::AppState;
use sea_orm::{DatabaseTransaction, TransactionTrait};

/// How long an idempotency key is remembered.
pub const KEY_TTL_HOURS: i64 = 24;
pub(super) const MAX_LINES: usize = 200;

/// What a request's key covers beside its body: where it came from.
fn source_of(source: &OrderSource) -> String {
    match source {
        OrderSource::Direct => "direct".to_string(),
        OrderSource::Agreement { agreement_id, period } => format!("agreement:{agreement_id}:{period}"),
        OrderSource::Pledge { alert_id } => format!("pledge:{alert_id}"),
    }
}

/// Validates, reserves stock and writes the order with its idempotency key, in the
/// caller's transaction: the caller commits (and then calls [`stock_changed`]) or
/// rolls back, so rows it writes beside the order (a pledge, an agreement's run)
/// commit with the order or not at all.
///
/// The key row is inserted first, in the statement that reads the products: its primary key
/// serialises racing retries (on PostgreSQL the second insert waits for the first transaction),
/// so a key never yields two orders, and the key, its stored answer and its order commit or
/// vanish together (the answer is written with the order's rows). The role of whoever asks is
/// checked by the caller.
pub async fn place_order(
    txn: &DatabaseTransaction,
    purchaser: &Purchaser,
    req: NewOrder,
    key: &IdempotencyKey,
    source: OrderSource,
) -> AppResult<Placed> {
    let body = serde_json::to_string(&req).map_err(AppError::internal)?;
    place_order_keyed(txn, purchaser, req, key, source, &body).await
}

/// As [`place_order`], the key covering `body`: the request as its caller sent it, before
/// defaults that change with the day or the organisation's name were filled in (a pledge), so
/// that the same key and body replay the first answer whenever they are retried.
pub async fn place_order_keyed(
    txn: &DatabaseTransaction,
    purchaser: &Purchaser,
    req: NewOrder,
    key: &IdempotencyKey,
    source: OrderSource,
    body: &str,
) -> AppResult<Placed> {
    validate_shape(&req, &source)?;
    let keyed = Keyed::hashing(&purchaser.org_id.to_string(), key.clone(), &source_of(&source), body);
    let ids: Vec<String> = req.lines.iter().map(|l| l.product_id.to_string()).collect();
    let (claimed, prods) = queries::claim_key_reading_products(txn, &keyed.claim_at(now()), ids).await?;
    if !claimed {
        return keyed.replay(txn).await.map(Placed::Replayed);
    }
    // Only a new order is held to today's date: a retry after midnight of one that named the day
    // it was placed replays its answer (a refusal here rolls the claim back with the rest).
    not_in_the_past(&req, &source)?;
    let order = write::write_order(txn, purchaser, &req, &source, prods, |writes, order| {
        let body = serde_json::to_string(order).map_err(AppError::internal)?;
        queries::store_response(writes, keyed.scope(), keyed.key(), body, order.id.to_string());
        Ok(())
    })
    .await?;
    Ok(Placed::Created(order))
}

/// `POST /orders`: places a direct order in a transaction of its own. A failure drops the
/// transaction, which rolls it back; after the commit the catalogue learns that stock moved.
pub async fn place_direct(
    state: &AppState,
    purchaser: &Purchaser,
    req: NewOrder,
    key: &IdempotencyKey,
) -> AppResult<Placed> {
    let txn = state.db.begin().await?;
    let placed = place_order(&txn, purchaser, req, key, OrderSource::Direct).await?;
    txn.commit().await?;
    if !placed.is_replay() {
        stock_changed(state).await;
    }
    Ok(placed)
}

/// After the transaction of a placed order commits: the catalogue shows available
/// stock, so pages cached before the reservation are stale.
pub async fn stock_changed(state: &AppState) {
    state.cache.bump_generation("catalog").await;
}

/// Deletes idempotency keys past their 24 hours (expired keys are already ignored; this keeps
/// the table small). Returns how many were removed.
pub async fn sweep_expired_keys(state: &AppState) -> AppResult<u64> {
    queries::delete_expired_keys(&state.db, now()).await
}

/// A direct order's dates are not before today (checked for a new order only, see
/// [`place_order_keyed`]; standing agreements and pledges fill in their own).
fn not_in_the_past(req: &NewOrder, source: &OrderSource) -> AppResult<()> {
    if !matches!(source, OrderSource::Direct) {
        return Ok(());
    }
    let mut errors = Vec::new();
    if req.requested_date < today() {
        errors.push(FieldError::new("requested_date", "must not be in the past"));
    }
    if req.deliver_by.is_some_and(|by| by < today()) {
        errors.push(FieldError::new("deliver_by", "must not be in the past"));
    }
    AppError::check(errors)
}

/// Checks what needs no database and holds whatever the day: line count, text, the order of
/// the dates, quantities above zero.
fn validate_shape(req: &NewOrder, source: &OrderSource) -> AppResult<()> {
    let mut errors = Vec::new();
    if req.lines.is_empty() {
        errors.push(FieldError::new("lines", "must list at least one line"));
    } else if req.lines.len() > MAX_LINES {
        errors.push(FieldError::new("lines", format!("must list at most {MAX_LINES} lines")));
    }
    required_text(&mut errors, "deliver_to", &req.deliver_to, 500);
    if let Some(by) = req.deliver_by.filter(|by| *by < req.requested_date) {
        // Never a valid body, whatever the day: no stored answer is replayed for it.
        let past = matches!(source, OrderSource::Direct) && by < today();
        let why = if past {
            "must not be in the past"
        } else {
            "must be on or after requested_date"
        };
        errors.push(FieldError::new("deliver_by", why));
    }
    for (i, l) in req.lines.iter().enumerate() {
        if l.quantity.is_zero() {
            errors.push(FieldError::new(
                format!("lines[{i}].quantity"),
                "must be greater than zero",
            ));
        }
    }
    AppError::check(errors)
}
