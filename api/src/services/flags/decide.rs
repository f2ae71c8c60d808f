//! Dismissing or confirming a flag (evaluators; a supervisor for the buyers of its region), with a
//! note. Confirming reverses the credits the flag covers out of the credit totals: one reversal
//! entry per entry, for what is still credited of its line, up to the entry or (a lot's flag)
//! the lot's part of it (as supervision corrections append reversals: the ledger is never
//! edited), each linked to the flag with the note as its reason.
//! Credits that come under it later are reversed by the flag scan (`reversal.rs`).
use super::listing::{to_flag, visible};
use super::Flag;
use crate::auth::{Caller, Role};
use crate::domain::{FlagId, FlagState};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{new_id, now, required_text, sql};
use crate::state::AppState;
use entity::{flag_events, flags};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, TransactionTrait};
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

/// Reverses what the flag covers now ([`super::reversal`]); later credits under it are
/// reversed by the flag scan.
async fn reverse_named(txn: &impl ConnectionTrait, f: &flags::Model, reason: &str) -> AppResult<()> {
    let named = super::reversal::covered(txn, f).await?;
    super::reversal::reverse(txn, f, &named, reason).await?;
    Ok(())
}
