//! Approving a plan, and what an approval settles beyond the plan itself: a shared canteen's
//! member is approved only under its lead's approved plan, and a lead's approval sets its
//! members' approved targets again; a canteen contractor serves one unit at a time.
use super::input::ApprovePlan;
use super::queries;
use super::view::{content_target, member_target, members_of, Plan};
use super::write::{below_floor_now, record, text, transition_in};
use crate::auth::Caller;
use crate::domain::{Money, OrgId, PlanAction, PlanDeclaration, PlanStatus};
use crate::error::{AppError, AppResult};
use crate::services::{now, stored};
use crate::state::AppState;
use entity::plans;
use sea_orm::{ConnectionTrait, Set, TransactionTrait};

/// Approves a filed plan (the supervisor of the unit's region). Below the year's floor as it
/// now stands (not as it stood when the plan was written), a `note` is required. Everything is
/// read and written in one transaction: the lead's plan a member's target comes from, the
/// other plans naming the same contractor, and the targets of a lead's members.
pub async fn approve(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    year: i32,
    body: ApprovePlan,
    if_match: Option<String>,
) -> AppResult<Plan> {
    super::may_review(&state.db, caller, org_id).await?;
    let note = text(body.note);
    let txn = state.db.begin().await?;
    let mut p = queries::plan(&txn, org_id, year)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    let (below, _) = below_floor_now(&txn, &p).await?;
    if below && note.is_none() {
        return Err(AppError::field(
            "note",
            "the share is below the year's floor: say why it is approved (never silently)",
        ));
    }
    if is(&p, PlanDeclaration::SharedCanteen) {
        lead_approved(&txn, &p).await?;
        // Read again under the lead's lock: the lead's approval may have set this plan's
        // approved target meanwhile.
        p = queries::plan(&txn, org_id, year)
            .await?
            .ok_or(AppError::NotFound("plan"))?;
    }
    if is(&p, PlanDeclaration::ContractedCanteen) {
        if let Some(c) = p.contractor_org_id.as_deref() {
            let c: OrgId = stored(c)?;
            queries::lock_org(&txn, c).await?;
            contractor_free(&txn, c, org_id, year).await?;
        }
    }
    let target = content_target(&txn, &p).await?.map(|m| m.minor()).unwrap_or(0);
    let _ = members_of(&p)?;
    let v = transition_in(
        &txn,
        caller,
        p,
        PlanStatus::Approved,
        PlanAction::Approved,
        note,
        if_match,
        |p, am| {
            am.approved_at = Set(Some(now()));
            am.approved_target_fen = Set(Some(target));
            am.approved_budget_fen = Set(p.food_budget_fen);
            am.approved_share_ppm = Set(p.reserved_share_ppm);
            // The lead whose approved plan this target comes from (an amendment may name another).
            am.approved_lead_org_id = Set(p.lead_org_id.clone().filter(|_| is(p, PlanDeclaration::SharedCanteen)));
            am.below_floor = Set(below);
        },
    )
    .await?;
    retarget_members(&txn, caller, org_id, year).await?;
    txn.commit().await?;
    Ok(v)
}

fn is(p: &plans::Model, d: PlanDeclaration) -> bool {
    p.declaration.as_deref() == Some(d.as_str())
}

/// Refuses `contractor` when another unit's approved plan of `year` names it already: its
/// orders are credited to one unit only (with two, attribution would quietly leave them with
/// the contractor, and the first unit would stop receiving its credit).
pub(super) async fn contractor_free(
    conn: &impl ConnectionTrait,
    contractor: OrgId,
    unit: OrgId,
    year: i32,
) -> AppResult<()> {
    if queries::contractor_named_by_other(conn, contractor, unit, year).await? {
        return Err(AppError::Conflict(format!(
            "contractor_org_id: this canteen_contractor already runs the canteen of another unit \
             whose approved plan for {year} names it; its orders are credited to one unit only"
        )));
    }
    Ok(())
}

/// A shared canteen's member takes its target from its lead's plan, which names its share:
/// it is approved only once that plan is (a draft's share could change, and a missing plan
/// gave a target of zero that never lags). The lead's plan stays locked until the member's
/// approval commits, so a concurrent approval of the lead sees this member's new target.
async fn lead_approved(conn: &impl ConnectionTrait, p: &plans::Model) -> AppResult<()> {
    let lead = match p.lead_org_id.as_deref() {
        Some(l) => queries::plan_shared_lock(conn, stored(l)?, p.year).await?,
        None => None,
    };
    let Some(lead) = lead.filter(|l| l.status == PlanStatus::Approved.as_str()) else {
        return Err(AppError::Conflict(
            "the lead canteen's plan, which sets this member's share, is not approved yet: approve it first".into(),
        ));
    };
    if members_of(&lead)?.iter().any(|m| m.org_id == p.buyer_org_id) {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "the lead canteen's approved plan does not list this member: it has no share to approve".into(),
        ))
    }
}

/// Sets the approved target of every member whose approved plan names `lead` (the lead its
/// target comes from, whatever an amendment under way names now) from the lead's plan as just
/// approved: its share of the new budget, or zero for a member the plan no longer lists. Quotas, supervision, rankings, alerts and flags read that target, and
/// the split of the lead's credit follows the same approved list. Each change is a new version
/// of the member's plan, recorded in its history (`retargeted`, by the lead's approver).
async fn retarget_members(conn: &impl ConnectionTrait, caller: &Caller, lead: OrgId, year: i32) -> AppResult<()> {
    let lead_plan = queries::plan(conn, lead, year)
        .await?
        .ok_or_else(|| AppError::internal("the approved lead's plan vanished"))?;
    for m in queries::approved_members_of(conn, lead, year).await? {
        let target = member_target(&lead_plan, &m.buyer_org_id)?.minor();
        if m.approved_target_fen == Some(target) {
            continue;
        }
        if !queries::set_approved_target(conn, &m.buyer_org_id, year, lead, target).await? {
            continue;
        }
        let fen = |f: i64| Money::from_minor(f).map_err(AppError::internal);
        let before = m.approved_target_fen.map(fen).transpose()?.unwrap_or(Money::ZERO);
        let reason = format!(
            "the lead canteen's plan for {year} (unit {lead}) was approved: this member's approved \
             target goes from {before} to {}",
            fen(target)?
        );
        record(
            conn,
            caller,
            stored(&m.buyer_org_id)?,
            year,
            PlanAction::Retargeted,
            Some(reason),
        )
        .await?;
    }
    Ok(())
}
