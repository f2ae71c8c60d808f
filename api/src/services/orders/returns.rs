//! Returns after acceptance (ledger reversals) and the buyer's rating of the supplier.
use super::keyed::Keyed;
use super::lifecycle::acting_on;
use super::queries;
use super::read::reload;
use super::types::IdempotencyKey;
use super::types::SupplierOrder;
use crate::auth::{Caller, Role};
use crate::domain::{
    Money, OrderLineId, OrgId, Quantity, ReturnId, SignedMoney, SignedQuantity, SupplierOrderId, SupplierOrderStatus,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{ledger, new_id, now, outbox, required_text, stored, weight};
use crate::state::AppState;
use entity::order_lines;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    pub line_id: OrderLineId,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    pub lines: Vec<ReturnLine>,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ReturnedLine {
    /// This returned line.
    pub id: ReturnId,
    pub line_id: OrderLineId,
    pub quantity: Quantity,
    pub amount: Money,
    /// The reversal's first ledger entry (its `seq` follows when the sequencer places it);
    /// null when none was written: nothing of the line's credit was left to take back (a
    /// confirmed fraud signal had reversed it), or a return recorded before entries had ids.
    pub ledger_entry_id: Option<String>,
}

/// A return: one request, one or more lines.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Return {
    /// The return, at `/supplier-orders/{supplier_order_id}/returns/{id}`.
    pub id: ReturnId,
    pub supplier_order_id: SupplierOrderId,
    pub reason: String,
    pub lines: Vec<ReturnedLine>,
    pub supplier_order: SupplierOrder,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn qty(v: i64) -> AppResult<Quantity> {
    Quantity::from_minor(v).map_err(AppError::internal)
}

/// What is accepted and not yet returned on a line.
fn returnable(l: &order_lines::Model) -> AppResult<Quantity> {
    qty(l.accepted_quantity_milli.unwrap_or(0))?
        .checked_sub(qty(l.returned_quantity_milli)?)
        .map_err(AppError::internal)
}

/// A return after acceptance: at most what was accepted and not yet returned, per line;
/// each line appends a reversal (negative quantity and amount) to the ledger. With an
/// `Idempotency-Key`, a retry of the same body replays the first answer (`true` beside it)
/// instead of returning the goods again.
pub async fn create_return(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    body: NewReturn,
    key: Option<IdempotencyKey>,
) -> AppResult<(Return, bool)> {
    let so = acting_on(&state.db, caller, id, Role::Buyer).await?;
    let keyed = match key {
        Some(k) => Some(Keyed::new(&so.buyer_org_id, k, &format!("return:{}", so.id), &body)?),
        None => None,
    };
    if let Some(k) = &keyed {
        if let Some(first) = k.answered(&state.db).await? {
            return Ok((first, true));
        }
    }
    if so.status != SupplierOrderStatus::Accepted {
        return Err(AppError::Conflict(format!(
            "only an accepted supplier order can have returns (this one is {})",
            so.status
        )));
    }
    let lines = queries::lines_of(&state.db, vec![so.id.clone()]).await?;
    let mut errors = Vec::new();
    required_text(&mut errors, "reason", &body.reason, 2000);
    if body.lines.is_empty() {
        errors.push(FieldError::new("lines", "must list at least one line"));
    }
    let mut wanted: Vec<(usize, order_lines::Model, Quantity)> = Vec::new();
    let weighed_lines = weight::weighed_lines(&state.db, lines.iter().map(|l| l.id.clone()).collect()).await?;
    for (i, rl) in body.lines.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| rl.line_id == l.id) else {
            errors.push(FieldError::new(
                format!("lines[{i}].line_id"),
                "is not a line of this supplier order",
            ));
            continue;
        };
        if wanted.iter().any(|(_, l, _)| l.id == line.id) {
            errors.push(FieldError::new(format!("lines[{i}].line_id"), "is listed twice"));
            continue;
        }
        let qf = format!("lines[{i}].quantity");
        if rl.quantity.is_zero() {
            errors.push(FieldError::new(qf, "must be greater than zero"));
            continue;
        }
        if weighed_lines.contains(&line.id) && !weight::is_whole(rl.quantity) {
            errors.push(FieldError::new(qf, weight::WHOLE_PIECES));
            continue;
        }
        let left = returnable(line)?;
        if rl.quantity > left {
            errors.push(FieldError::new(
                qf,
                format!("must not exceed what was accepted and not yet returned ({left})"),
            ));
        } else {
            wanted.push((i, line.clone(), rl.quantity));
        }
    }
    AppError::check(errors)?;
    let t = now();
    let reason = body.reason.trim().to_string();
    let txn = state.db.begin().await?;
    // The key first: a racing retry waits here for this request, then replays its answer.
    if let Some(k) = &keyed {
        if let Some(first) = k.claim(&txn).await? {
            txn.rollback().await?;
            return Ok((first, true));
        }
    }
    // The lines first, in id order: a fraud signal's confirmation or a correction of the same
    // credit waits for this return, and reads what it leaves (ledger::holding).
    ledger::holding::lock_lines(&txn, wanted.iter().map(|(_, l, _)| l.id.clone()).collect()).await?;
    let mut errors = Vec::new();
    for (i, l, q) in &wanted {
        if queries::add_returned(&txn, &l.id, *q).await? != 1 {
            errors.push(FieldError::new(
                format!("lines[{i}].quantity"),
                "must not exceed what was accepted and not yet returned",
            ));
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        AppError::check(errors)?;
        return Err(AppError::internal("return refused without a reason"));
    }
    let now_lines: HashMap<String, order_lines::Model> =
        queries::lines_by_ids(&txn, wanted.iter().map(|(_, l, _)| l.id.clone()).collect())
            .await?
            .into_iter()
            .map(|l| (l.id.clone(), l))
            .collect();
    let weighed = weight::actual_amounts(&txn, wanted.iter().map(|(_, l, _)| l.id.clone()).collect()).await?;
    let mut reversals = Vec::with_capacity(wanted.len());
    for (i, read, q) in &wanted {
        // The row as re-read under the lock, after this return's update: a concurrent return
        // of the same line committed before it is counted (the row read first may not show it).
        let l = now_lines.get(&read.id).ok_or(AppError::NotFound("order line"))?;
        let after = qty(l.returned_quantity_milli)?;
        let before = after.checked_sub(*q).map_err(AppError::internal)?;
        let price = Money::from_minor(l.unit_price_fen).map_err(AppError::internal)?;
        let accepted = qty(l.accepted_quantity_milli.unwrap_or(0))?;
        let worth = |k| weight::amount_of_pieces(weighed.get(&l.id).copied(), price, accepted, k);
        // Amounts by difference, so that pieces returned add up to the credited amount exactly.
        let amount = worth(after)
            .and_then(|a| Ok((a, worth(before)?)))
            .and_then(|(a, b)| a.checked_sub(b))
            .map_err(|e| AppError::amount(format!("lines[{i}].quantity"), e))?;
        let back = SignedQuantity::from_minor(-q.minor()).map_err(AppError::internal)?;
        reversals.push((l, back, amount.signed().negate(), *q, amount));
    }
    let items: Vec<_> = reversals.iter().map(|(l, q, a, _, _)| (*l, *q, *a)).collect();
    // Taken back from whoever holds the line's credit now (return_parts), not re-attributed.
    let parts = super::return_parts::reversal_parts(&txn, &items).await?;
    let traces = reversal_traces(&txn, &reversals).await?;
    let written = ledger::append_traced(&txn, crate::services::plans::traced_parts(parts, &traces)).await?;
    let first: HashMap<&str, &str> = crate::services::plans::first_per_line(&written)
        .into_iter()
        .map(|m| (m.order_line_id.as_str(), m.id.as_str()))
        .collect();
    let return_id = new_id();
    let mut rows = Vec::with_capacity(reversals.len());
    let mut out = Vec::with_capacity(reversals.len());
    for (l, _, _, q, amount) in &reversals {
        let entry = first.get(l.id.as_str()).map(|id| id.to_string());
        let rid = new_id();
        rows.push(entity::order_returns::Model {
            id: rid.clone(),
            supplier_order_id: so.id.clone(),
            return_id: Some(return_id.clone()),
            order_line_id: l.id.clone(),
            quantity_milli: q.minor(),
            amount_fen: amount.minor(),
            reason: reason.clone(),
            ledger_seq: None,
            ledger_entry_id: entry.clone(),
            created_by: Some(caller.user_id.to_string()),
            created_at: t,
        });
        out.push(ReturnedLine {
            id: stored(&rid)?,
            line_id: stored(&l.id)?,
            quantity: *q,
            amount: *amount,
            ledger_entry_id: entry,
        });
    }
    queries::insert_returns(&txn, rows).await?;
    // The buyer owes what it kept: an invoice written before the return is owed only in part.
    crate::services::payments::after_return(&txn, &so).await?;
    outbox::enqueue_to_org(
        &txn,
        &so.supplier_org_id,
        &format!("Return on supplier order {}", so.id),
        &format!(
            "The buyer returned goods of supplier order {}.\n\nReason: {reason}\n",
            so.id
        ),
    )
    .await?;
    let answer = Return {
        id: stored(&return_id)?,
        supplier_order_id: stored(&so.id)?,
        reason,
        lines: out,
        supplier_order: reload(&txn, &so.id).await?,
        created_at: t,
    };
    if let Some(k) = &keyed {
        k.store(&txn, &answer, &return_id).await?;
    }
    txn.commit().await?;
    Ok((answer, false))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// 1 to 5.
    pub score: i32,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    pub supplier_order_id: SupplierOrderId,
    pub supplier_org_id: OrgId,
    pub buyer_org_id: OrgId,
    pub score: i32,
    pub comment: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The buyer rates the supplier after acceptance, once per supplier order.
pub async fn rate(state: &AppState, caller: &Caller, id: SupplierOrderId, body: NewRating) -> AppResult<Rating> {
    let so = acting_on(&state.db, caller, id, Role::Buyer).await?;
    let mut errors = Vec::new();
    if !(1..=5).contains(&body.score) {
        errors.push(FieldError::new("score", "must be between 1 and 5"));
    }
    if body.comment.chars().count() > 2000 {
        errors.push(FieldError::new("comment", "must be at most 2000 characters"));
    }
    AppError::check(errors)?;
    if so.status != SupplierOrderStatus::Accepted {
        return Err(AppError::Conflict(format!(
            "only an accepted supplier order can be rated (this one is {})",
            so.status
        )));
    }
    let t = now();
    let comment = body.comment.trim().to_string();
    let written = queries::insert_rating(
        &state.db,
        &so.id,
        &so.supplier_org_id,
        &so.buyer_org_id,
        body.score,
        &comment,
        &caller.user_id.to_string(),
        t,
    )
    .await?;
    if written != 1 {
        return Err(AppError::Conflict("this supplier order has already been rated".into()));
    }
    Ok(Rating {
        supplier_order_id: stored(&so.id)?,
        supplier_org_id: stored(&so.supplier_org_id)?,
        buyer_org_id: stored(&so.buyer_org_id)?,
        score: body.score,
        comment,
        created_at: t,
    })
}

/// The lot and certificate of each returned line's credit, and for a weighed line the kg
/// its returned pieces carry (negative; by difference of cumulative shares, like the amount).
/// Each line is its row as re-read after this return's update: its returned quantity
/// includes this return's and every one committed before it.
async fn reversal_traces(
    conn: &impl sea_orm::ConnectionTrait,
    reversals: &[(&order_lines::Model, SignedQuantity, SignedMoney, Quantity, Money)],
) -> AppResult<HashMap<String, ledger::EntryTrace>> {
    let ids: Vec<String> = reversals.iter().map(|(l, ..)| l.id.clone()).collect();
    let mut traces = ledger::credit_traces(conn, ids.clone()).await?;
    let line_ids = ids.iter().map(|i| stored(i)).collect::<AppResult<Vec<_>>>()?;
    let kg = weight::actual_weights(conn, &line_ids).await?;
    for ((l, _, _, q, _), id) in reversals.iter().zip(&line_ids) {
        let Some(w) = kg.get(id) else { continue };
        let accepted = Quantity::from_minor(l.accepted_quantity_milli.unwrap_or(0)).map_err(AppError::internal)?;
        let after = Quantity::from_minor(l.returned_quantity_milli).map_err(AppError::internal)?;
        let before = after.checked_sub(*q).map_err(AppError::internal)?;
        let back = w
            .pro_rata(after, accepted)
            .and_then(|a| Ok(a.minor() - w.pro_rata(before, accepted)?.minor()));
        let back = back.map_err(AppError::internal)?;
        traces.entry(l.id.clone()).or_default().weight_kg_milli = Some(-back);
    }
    Ok(traces)
}
