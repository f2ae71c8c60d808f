//! A supervisor's correction of a wrongly attributed ledger credit: a reversal for the buyer
//! credited and a new credit for the right one, each linked to the correction and its reason.
//! The ledger is never edited.
use super::{may_supervise, region_of};
use crate::auth::{Caller, Role};
use crate::domain::{LedgerEntryId, LedgerKind, OrgId};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{ledger, new_id, now, organizations};
use crate::state::AppState;
use entity::{attribution_corrections, ledger_entries};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCorrection {
    /// The id of the wrongly attributed credit (an entry has its id before it has a `seq`).
    pub entry_id: LedgerEntryId,
    /// The budget unit the credit belongs to.
    pub to_org_id: OrgId,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Correction {
    pub id: String,
    /// The corrected credit.
    pub entry_id: String,
    pub from_org_id: String,
    pub to_org_id: OrgId,
    /// The reversal of it written for the buyer first credited.
    pub reversal_entry_id: String,
    /// The new credit written for the right budget unit.
    pub credit_entry_id: String,
    pub reason: String,
}

pub async fn correct(state: &AppState, caller: &Caller, body: NewCorrection) -> AppResult<Correction> {
    caller.require(&[Role::Supervisor])?;
    let db = &state.db;
    region_of(db, caller).await?;
    let entry = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::Id.eq(body.entry_id.to_string()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("ledger entry"))?;
    let from = organizations::find(db, &entry.buyer_org_id).await?;
    if !may_supervise(db, caller, &from).await? {
        return Err(AppError::NotFound("ledger entry"));
    }
    let mut errors = Vec::new();
    let reason = body.reason.trim().to_string();
    if reason.is_empty() {
        errors.push(FieldError::new("reason", "must not be empty"));
    }
    if entry.kind != LedgerKind::Credit {
        errors.push(FieldError::new("entry_id", "only a credit can be corrected"));
    }
    match organizations::queries::find(db, body.to_org_id.to_string()).await? {
        Some(to) if to.id == entry.buyer_org_id => {
            errors.push(FieldError::new("to_org_id", "is the buyer already credited"))
        }
        Some(to) if to.budget_unit && may_supervise(db, caller, &to).await? => {}
        _ => errors.push(FieldError::new(
            "to_org_id",
            "must be a budget unit of the supervisor's region",
        )),
    }
    AppError::check(errors)?;
    let done = attribution_corrections::Entity::find()
        .filter(attribution_corrections::Column::EntryId.eq(entry.id.clone()))
        .one(db)
        .await?;
    if done.is_some() {
        return Err(AppError::Conflict("this entry was corrected already".into()));
    }
    let base = |buyer: String, kind: LedgerKind, sign: i64| {
        ledger::NewEntry::like(
            &entry,
            buyer,
            kind,
            entry.amount_fen * sign,
            entry.quantity_milli * sign,
        )
    };
    let txn = db.begin().await?;
    let written = ledger::append_many(
        &txn,
        vec![
            base(entry.buyer_org_id.clone(), LedgerKind::Reversal, -1),
            base(body.to_org_id.to_string(), LedgerKind::Credit, 1),
        ],
    )
    .await?;
    let (Some(rev), Some(cr)) = (written.first(), written.get(1)) else {
        return Err(AppError::internal("the correction's entries were not written"));
    };
    let id = new_id();
    attribution_corrections::ActiveModel {
        id: Set(id.clone()),
        entry_id: Set(entry.id.clone()),
        from_org_id: Set(entry.buyer_org_id.clone()),
        to_org_id: Set(body.to_org_id.to_string()),
        amount_fen: Set(entry.amount_fen),
        reversal_entry_id: Set(rev.id.clone()),
        credit_entry_id: Set(cr.id.clone()),
        reason: Set(reason.clone()),
        by_user_id: Set(caller.user_id.to_string()),
        at: Set(now()),
    }
    .insert(&txn)
    .await
    .map_err(|_| AppError::Conflict("this entry was corrected already".into()))?;
    let out = Correction {
        id,
        entry_id: entry.id.clone(),
        from_org_id: entry.buyer_org_id.clone(),
        to_org_id: body.to_org_id,
        reversal_entry_id: rev.id.clone(),
        credit_entry_id: cr.id.clone(),
        reason,
    };
    txn.commit().await?;
    Ok(out)
}
