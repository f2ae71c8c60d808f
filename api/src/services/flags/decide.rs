//! Dismissing or confirming a flag (evaluators; a supervisor for the buyers of its region), with a
//! note. Confirming reverses the entries the flag names out of the credit totals: one reversal
//! entry per entry, for what is still credited of its line (as supervision corrections append
//! reversals: the ledger is never edited), each linked to the flag with the note as its reason.
use super::listing::{to_flag, visible};
use super::Flag;
use crate::auth::{Caller, Role};
use crate::domain::{FlagId, FlagState, LedgerKind};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{ledger, new_id, now, required_text, sql};
use crate::state::AppState;
use entity::{flag_events, flag_reversals, flags, ledger_entries};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use serde::Deserialize;
use utoipa::ToSchema;

/// The evaluator's note on a dismissal or confirmation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why (required, at most 2,000 characters); a confirmation's note is its reversals' reason.
    #[serde(default)]
    pub note: Option<String>,
}

/// The flag `id` if the caller may decide on it: evaluators any, a supervisor those whose buyer
/// is in its region (404 outside it), every other role 403.
pub async fn may_decide(state: &AppState, caller: &Caller, id: FlagId) -> AppResult<flags::Model> {
    caller.require(&[Role::Evaluator, Role::Supervisor])?;
    visible(&state.db, caller, id).await
}

fn note_of(d: &Decision) -> AppResult<String> {
    let note = d.note.clone().unwrap_or_default();
    let mut errors: Vec<FieldError> = Vec::new();
    required_text(&mut errors, "note", &note, 2000);
    AppError::check(errors)?;
    Ok(note.trim().to_string())
}

/// Moves the flag from open to `to` in `txn`, with its event; 409 when it is no longer open.
async fn transition(
    txn: &impl ConnectionTrait,
    caller: &Caller,
    f: &flags::Model,
    to: FlagState,
    note: &str,
) -> AppResult<()> {
    let at = now();
    let st = sql(
        txn,
        "UPDATE flags SET state = $1, note = $2, decided_by = $3, decided_at = $4 WHERE id = $5 AND state = $6",
        vec![
            to.into(),
            note.into(),
            caller.user_id.to_string().into(),
            at.into(),
            f.id.clone().into(),
            FlagState::Open.into(),
        ],
    );
    if txn.execute_raw(st).await?.rows_affected() != 1 {
        return Err(AppError::Conflict(format!("the flag is {} already", f.state)));
    }
    flag_events::ActiveModel {
        id: Set(new_id()),
        flag_id: Set(f.id.clone()),
        from_state: Set(FlagState::Open.as_str().into()),
        to_state: Set(to.as_str().into()),
        note: Set(note.into()),
        by_user_id: Set(caller.user_id.to_string()),
        at: Set(at),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Dismisses or confirms the flag `f` (from `may_decide`) with the note of `d`.
pub async fn decide(state: &AppState, caller: &Caller, f: flags::Model, to: FlagState, d: Decision) -> AppResult<Flag> {
    let note = note_of(&d)?;
    let current: FlagState = crate::services::stored(&f.state)?;
    if !current.can_become(to) {
        return Err(AppError::Conflict(format!("the flag is {current} already")));
    }
    let txn = state.db.begin().await?;
    transition(&txn, caller, &f, to, &note).await?;
    if to == FlagState::Confirmed {
        reverse_named(&txn, &f, &note).await?;
    }
    txn.commit().await?;
    let m = visible(&state.db, caller, crate::services::stored(&f.id)?).await?;
    to_flag(&state.db, m).await
}

/// Appends a reversal for each credit the flag names, of what is still credited of its line
/// (nothing for a line already returned or reversed), and links each to the flag.
async fn reverse_named(txn: &impl ConnectionTrait, f: &flags::Model, reason: &str) -> AppResult<()> {
    let evidence: serde_json::Value = serde_json::from_str(&f.evidence).unwrap_or_default();
    let mut named: Vec<String> = evidence["entry_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    // A lot's flag (origin_mismatch) names the credits of that batch as they stand when it
    // is confirmed: the entries keep their lot (leaf format 2), and most come after the flag.
    if let Some(lot) = evidence["lot_id"].as_str() {
        let of_lot: Vec<String> = ledger_entries::Entity::find()
            .select_only()
            .column(ledger_entries::Column::Id)
            .filter(ledger_entries::Column::LotId.eq(lot))
            .filter(ledger_entries::Column::Kind.eq(LedgerKind::Credit))
            .into_tuple()
            .all(txn)
            .await?;
        named.extend(of_lot);
    }
    // A split is found when its orders are placed, before any is accepted: its flag names
    // the supplier orders, whose credits are taken as they stand when it is confirmed.
    let split: Vec<String> = evidence["supplier_order_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    for orders in split.chunks(500) {
        let of_orders: Vec<String> = ledger_entries::Entity::find()
            .select_only()
            .column(ledger_entries::Column::Id)
            .filter(ledger_entries::Column::SupplierOrderId.is_in(orders.to_vec()))
            .filter(ledger_entries::Column::Kind.eq(LedgerKind::Credit))
            .into_tuple()
            .all(txn)
            .await?;
        named.extend(of_orders);
    }
    named.sort();
    named.dedup();
    for chunk in named.chunks(500) {
        let entries = ledger_entries::Entity::find()
            .filter(ledger_entries::Column::Id.is_in(chunk.to_vec()))
            .filter(ledger_entries::Column::Kind.eq(LedgerKind::Credit))
            .all(txn)
            .await?;
        // Each line is locked before its net is read: a return or another flag's confirmation
        // of the same line waits, and then reads what this one left.
        ledger::holding::lock_lines(txn, entries.iter().map(|e| e.order_line_id.clone()).collect()).await?;
        for e in entries {
            let (net_fen, net_milli) = ledger::holding::net_of(txn, &e.buyer_org_id, &e.order_line_id).await?;
            let amount = net_fen.min(e.amount_fen);
            if amount <= 0 {
                continue;
            }
            let quantity = net_milli.clamp(0, e.quantity_milli);
            let reversal = ledger::NewEntry::like(&e, e.buyer_org_id.clone(), LedgerKind::Reversal, -amount, -quantity);
            let rev = ledger::append(txn, reversal).await?;
            flag_reversals::ActiveModel {
                flag_id: Set(f.id.clone()),
                entry_id: Set(e.id.clone()),
                reversal_entry_id: Set(rev.id),
                amount_fen: Set(amount),
                reason: Set(reason.to_string()),
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}
