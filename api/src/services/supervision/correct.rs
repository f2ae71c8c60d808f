//! A supervisor's correction of a wrongly attributed ledger credit: a reversal for the buyer
//! credited and a new credit for the right one, each linked to the correction and its reason.
//! The ledger is never edited.
//!
//! The new credit is attributed as acceptance attributes a credit: when the right buyer leads
//! a shared canteen (its plan of the entry's year lists members), it is split among the
//! members by their shares and the lead keeps the rest (`plans::split_shared_in`, the largest
//! remainder rule), each part carrying the entry's lot and certificate and its share of the
//! weighed kg (`plans::traced_parts`). Correcting one part of such a split reverses that part
//! only. A canteen contractor is never the right buyer: its orders are credited to the unit
//! it serves, so the correction names that unit (422 on `to_org_id` otherwise).
use super::{may_supervise, region_of};
use crate::auth::{Caller, Role};
use crate::domain::{LedgerEntryId, LedgerKind, OrgId, OrgKind};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::ledger::EntryTrace;
use crate::services::{ledger, new_id, now, organizations, plans};
use crate::state::AppState;
use entity::{attribution_correction_credits, attribution_corrections, ledger_entries};
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
    /// The new credit written for the right budget unit (the first of `credit_entry_ids`).
    pub credit_entry_id: String,
    /// Every credit written: one for the right unit, or, when it leads a shared canteen, one
    /// per member with its share and one for the lead with the rest (parts of zero are not
    /// written), in that order; they sum to the corrected amount exactly.
    pub credit_entry_ids: Vec<String>,
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
        Some(to) if organizations::kind_of(&to)? == OrgKind::CanteenContractor => {
            errors.push(contractor_refused(db, caller, &to.id, entry.year).await?)
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
    let txn = db.begin().await?;
    // What the credited buyer still holds of the entry's line, read under the line's lock (a
    // return or a confirmed fraud signal may have taken part or all of it back): the
    // correction moves at most that, never credit for goods sent back or found fraudulent.
    ledger::holding::lock_lines(&txn, vec![entry.order_line_id.clone()]).await?;
    let (net_fen, net_milli) = ledger::holding::net_of(&txn, &entry.buyer_org_id, &entry.order_line_id).await?;
    let (fen, milli) = (
        net_fen.clamp(0, entry.amount_fen.max(0)),
        net_milli.clamp(0, entry.quantity_milli.max(0)),
    );
    if fen <= 0 && milli <= 0 {
        return Err(AppError::Conflict(
            "nothing of this credit is left to move: it was returned or reversed".into(),
        ));
    }
    // The kg traced with the entry, in proportion to the quantity moved.
    let kg = entry.weight_kg_milli.map(|kg| {
        if milli == entry.quantity_milli || entry.quantity_milli == 0 {
            kg
        } else {
            i64::try_from(i128::from(kg) * i128::from(milli) / i128::from(entry.quantity_milli)).unwrap_or(kg)
        }
    });
    let base = |buyer: String, kind: LedgerKind, sign: i64| {
        ledger::NewEntry::like(&entry, buyer, kind, fen * sign, milli * sign)
    };
    let trace = |sign: i64| EntryTrace {
        lot_id: entry.lot_id.clone(),
        compliance_certificate_number: entry.compliance_certificate_number.clone(),
        weight_kg_milli: kg.map(|kg| kg * sign),
    };
    // The reversal takes back what is left of this entry (one part of a split stays one part).
    let mut items = vec![(base(entry.buyer_org_id.clone(), LedgerKind::Reversal, -1), trace(-1))];
    let credit = base(body.to_org_id.to_string(), LedgerKind::Credit, 1);
    let parts = plans::split_shared_in(&txn, vec![credit], entry.year).await?;
    let traces = std::collections::HashMap::from([(entry.order_line_id.clone(), trace(1))]);
    items.extend(plans::traced_parts(parts, &traces));
    let written = ledger::append_traced(&txn, items).await?;
    let (Some(rev), [cr, ..]) = (written.first(), written.get(1..).unwrap_or_default()) else {
        return Err(AppError::internal("the correction's entries were not written"));
    };
    let credits = written.get(1..).unwrap_or_default();
    let id = new_id();
    attribution_corrections::ActiveModel {
        id: Set(id.clone()),
        entry_id: Set(entry.id.clone()),
        from_org_id: Set(entry.buyer_org_id.clone()),
        to_org_id: Set(body.to_org_id.to_string()),
        amount_fen: Set(fen),
        reversal_entry_id: Set(rev.id.clone()),
        credit_entry_id: Set(cr.id.clone()),
        reason: Set(reason.clone()),
        by_user_id: Set(caller.user_id.to_string()),
        at: Set(now()),
    }
    .insert(&txn)
    .await
    .map_err(|_| AppError::Conflict("this entry was corrected already".into()))?;
    let rows = credits
        .iter()
        .enumerate()
        .map(|(i, m)| attribution_correction_credits::ActiveModel {
            correction_id: Set(id.clone()),
            position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            entry_id: Set(m.id.clone()),
            buyer_org_id: Set(m.buyer_org_id.clone()),
            amount_fen: Set(m.amount_fen),
        });
    attribution_correction_credits::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    let out = Correction {
        id,
        entry_id: entry.id.clone(),
        from_org_id: entry.buyer_org_id.clone(),
        to_org_id: body.to_org_id,
        reversal_entry_id: rev.id.clone(),
        credit_entry_id: cr.id.clone(),
        credit_entry_ids: credits.iter().map(|m| m.id.clone()).collect(),
        reason,
    };
    txn.commit().await?;
    Ok(out)
}

/// The refusal of a canteen contractor as the right buyer, naming the unit it serves in the
/// entry's year when there is exactly one (whose credit the contractor's orders become) and
/// that unit lies in the supervisor's region: a unit outside it is not named (nothing about it
/// is the supervisor's to learn).
async fn contractor_refused(
    db: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    contractor: &str,
    year: i32,
) -> AppResult<FieldError> {
    let served = plans::queries::served_by_contractor(db, contractor, year).await?;
    let visible = match served.as_slice() {
        [unit] => match organizations::queries::find(db, unit.clone()).await? {
            Some(org) if may_supervise(db, caller, &org).await? => Some(unit),
            _ => None,
        },
        _ => None,
    };
    let msg = match visible {
        Some(unit) => format!(
            "is a canteen contractor, whose orders are credited to the budget unit it serves: name that unit ({unit})"
        ),
        None => "is a canteen contractor, not a budget unit: name the budget unit whose canteen it runs".to_string(),
    };
    Ok(FieldError::new("to_org_id", msg))
}
