//! Reading agreements (scoped to the parties) and the supplier's approval or either
//! party's cancellation.
use super::queries::{self, Side};
use super::{to_agreement, Agreement, AgreementFilter};
use crate::auth::{Caller, Role};
use crate::domain::{AgreementId, AgreementStatus};
use crate::error::{AppError, AppResult};
use crate::services::{now, organizations, outbox, paginate, PageParams};
use crate::state::AppState;
use entity::{agreement_runs, agreements};
use sea_orm::{ConnectionTrait, TransactionTrait};
use std::collections::HashMap;

async fn visible(conn: &impl ConnectionTrait, caller: &Caller, id: AgreementId) -> AppResult<agreements::Model> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    let a = queries::find(conn, id.to_string())
        .await?
        .ok_or(AppError::NotFound("agreement"))?;
    let ok = match caller.role {
        Role::Buyer => organizations::with_children(conn, &caller.org_id)
            .await?
            .contains(&a.buyer_org_id),
        Role::Supplier => a.supplier_org_id == caller.org_id,
        _ => true,
    };
    if !ok {
        return Err(AppError::NotFound("agreement"));
    }
    Ok(a)
}

/// Agreements with their runs (one query for the runs of all).
async fn with_runs(conn: &impl ConnectionTrait, rows: Vec<agreements::Model>) -> AppResult<Vec<Agreement>> {
    let mut runs: HashMap<String, Vec<agreement_runs::Model>> = HashMap::new();
    for r in queries::runs_of(conn, rows.iter().map(|a| a.id.clone()).collect()).await? {
        runs.entry(r.agreement_id.clone()).or_default().push(r);
    }
    rows.into_iter()
        .map(|a| {
            let r = runs.remove(&a.id).unwrap_or_default();
            to_agreement(a, r)
        })
        .collect()
}

pub async fn get(state: &AppState, caller: &Caller, id: AgreementId) -> AppResult<Agreement> {
    let a = visible(&state.db, caller, id).await?;
    with_runs(&state.db, vec![a])
        .await?
        .pop()
        .ok_or(AppError::NotFound("agreement"))
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &AgreementFilter,
    page: &PageParams,
) -> AppResult<(Vec<Agreement>, Option<String>)> {
    may_list(caller)?;
    let limit = page.limit()?;
    let db = &state.db;
    let side = match caller.role {
        Role::Buyer => Side::Buyers(organizations::with_children(db, &caller.org_id).await?),
        Role::Supplier => Side::Supplier(caller.org_id.to_string()),
        _ => Side::All,
    };
    let rows = queries::page(db, side, f.status, page.cursor()?, limit + 1).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((with_runs(db, rows).await?, next))
}

/// Who may list agreements, checked before the query is read: authorise, then validate.
pub fn may_list(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])
}

/// The supplier approves a proposed agreement: from now on the generator places its orders.
pub async fn approve(state: &AppState, caller: &Caller, id: AgreementId) -> AppResult<Agreement> {
    let a = visible(&state.db, caller, id).await?;
    if !(caller.is(Role::Supplier) && a.supplier_org_id == caller.org_id) {
        return Err(AppError::Forbidden(
            "only the agreement's supplier may approve it".into(),
        ));
    }
    if a.ends_on < crate::services::today() {
        return Err(AppError::Conflict(format!(
            "the agreement ended on {}: it can no longer be approved",
            a.ends_on
        )));
    }
    let txn = state.db.begin().await?;
    let changed = queries::set_status(
        &txn,
        &a.id,
        AgreementStatus::Active,
        Some(caller.user_id.to_string()),
        now(),
    )
    .await?;
    if changed != 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict(format!(
            "cannot approve an agreement that is {}",
            a.status
        )));
    }
    outbox::enqueue_to_org(
        &txn,
        &a.buyer_org_id,
        &format!("Standing agreement {} approved", a.id),
        &format!(
            "The supplier approved standing agreement {}; orders start on {}.\n",
            a.id, a.starts_on
        ),
    )
    .await?;
    txn.commit().await?;
    get(state, caller, id).await
}

/// Either party cancels a proposed or active agreement; no further periods are placed.
pub async fn cancel(state: &AppState, caller: &Caller, id: AgreementId) -> AppResult<Agreement> {
    let a = visible(&state.db, caller, id).await?;
    let party = (caller.is(Role::Supplier) && a.supplier_org_id == caller.org_id)
        || (caller.is(Role::Buyer) && a.buyer_org_id == caller.org_id);
    if !party {
        return Err(AppError::Forbidden(
            "only the agreement's buyer or supplier may cancel it".into(),
        ));
    }
    if queries::set_status(&state.db, &a.id, AgreementStatus::Cancelled, None, now()).await? != 1 {
        return Err(AppError::Conflict(format!(
            "cannot cancel an agreement that is {}",
            a.status
        )));
    }
    get(state, caller, id).await
}
