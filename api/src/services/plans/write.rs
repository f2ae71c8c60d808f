//! Writing, filing, approving and returning a plan. Each is a conditional update on the
//! plan's version and state, recorded in the history in the same transaction.
use super::input::{PutPlan, ReturnPlan};
use super::view::{view, Plan};
use super::{queries, settings_of};
use crate::auth::Caller;
use crate::domain::{OrgId, PlanAction, PlanDeclaration, PlanStatus, Share};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{new_id, now, stored, today};
use crate::state::AppState;
use entity::{plan_events, plans};
use sea_orm::{ActiveValue::NotSet, ConnectionTrait, Set, TransactionTrait};

/// What a plan write did.
pub enum PlanSaved {
    Created(Plan),
    Replaced(Plan),
}

fn check_tag(if_match: &Option<String>, version: i32) -> AppResult<()> {
    match if_match {
        Some(t) if t != "*" && t != &version.to_string() => Err(AppError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// The history row of an event, with the plan as it now is.
pub(super) async fn record(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    org: OrgId,
    year: i32,
    action: PlanAction,
    reason: Option<String>,
) -> AppResult<Plan> {
    let p = queries::plan(conn, org, year)
        .await?
        .ok_or_else(|| AppError::internal("plan vanished"))?;
    let v = view(conn, p).await?;
    queries::add_event(
        conn,
        plan_events::ActiveModel {
            id: Set(new_id()),
            buyer_org_id: Set(org.to_string()),
            year: Set(year),
            version: Set(v.version),
            action: Set(action.as_str().to_string()),
            status: Set(v.status.as_str().to_string()),
            by_user_id: Set(caller.user_id.to_string()),
            by_org_id: Set(caller.org_id.to_string()),
            reason: Set(reason),
            snapshot: Set(serde_json::to_string(&v).map_err(AppError::internal)?),
            at: Set(now()),
        },
    )
    .await?;
    Ok(v)
}

pub(super) fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub async fn put_plan(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    year: i32,
    body: PutPlan,
    if_match: Option<String>,
) -> AppResult<PlanSaved> {
    let unit = super::may_write(&state.db, caller, org_id).await?;
    let mut errors = Vec::new();
    crate::services::credit::check_year(&mut errors, "year", year);
    let content = super::input::validate(&state.db, &unit, year, body, &mut errors).await?;
    AppError::check(errors)?;
    let Some(c) = content else {
        return Err(AppError::internal("validated plan missing"));
    };
    if let Some(contractor) = c.contractor {
        super::approval::contractor_free(&state.db, contractor, org_id, year).await?;
    }
    let txn = state.db.begin().await?;
    let existing = queries::plan(&txn, org_id, year).await?;
    let t = now();
    let mut am = plans::ActiveModel {
        buyer_org_id: Set(org_id.to_string()),
        year: Set(year),
        declaration: Set(c.declaration.map(|d| d.as_str().to_string())),
        food_budget_fen: Set(c.budget.map(|b| b.minor())),
        reserved_share_ppm: Set(c.share.map(|s| s.minor())),
        explanation: Set(c.explanation),
        lead_org_id: Set(c.lead.map(|o| o.to_string())),
        contractor_org_id: Set(c.contractor.map(|o| o.to_string())),
        members: Set(serde_json::to_string(&c.members).map_err(AppError::internal)?),
        below_floor: Set(c.below_floor),
        updated_at: Set(t),
        ..Default::default()
    };
    let (saved, action, reason) = match existing {
        None => {
            if if_match.is_some() {
                return Err(AppError::PreconditionFailed);
            }
            if c.amendment_reason.is_some() {
                return Err(AppError::field(
                    "amendment_reason",
                    "there is no approved plan to amend",
                ));
            }
            am.status = Set(PlanStatus::Draft.as_str().to_string());
            am.late = Set(false);
            am.version = Set(1);
            am.created_at = Set(t);
            am.amendment_reason = Set(None);
            am.return_reason = Set(None);
            am.filed_at = Set(None);
            am.approved_at = Set(None);
            am.approved_target_fen = Set(None);
            am.approved_budget_fen = Set(None);
            am.approved_share_ppm = Set(None);
            am.approved_lead_org_id = Set(None);
            if !queries::insert(&txn, am).await? {
                return Err(AppError::PreconditionFailed);
            }
            (false, PlanAction::Saved, None)
        }
        Some(e) => {
            let Some(tag) = &if_match else {
                return Err(AppError::PreconditionRequired);
            };
            check_tag(&Some(tag.clone()), e.version)?;
            let status: PlanStatus = stored(&e.status)?;
            let (next, action, reason) =
                match status {
                    PlanStatus::Filed => return Err(AppError::Conflict(
                        "the plan is filed and under review; it can be changed once approved (by amending) or returned"
                            .into(),
                    )),
                    PlanStatus::Approved => match c.amendment_reason.clone() {
                        Some(r) => (PlanStatus::Draft, PlanAction::Amended, Some(r)),
                        None => {
                            return Err(AppError::field(
                                "amendment_reason",
                                "an approved plan is amended only through a new filing with a reason",
                            ))
                        }
                    },
                    s => (s, PlanAction::Saved, None),
                };
            am.status = Set(next.as_str().to_string());
            am.version = Set(e.version + 1);
            if action == PlanAction::Amended {
                am.amendment_reason = Set(reason.clone());
            }
            if !queries::update_if(&txn, am, org_id, year, e.version, status).await? {
                return Err(AppError::PreconditionFailed);
            }
            (true, action, reason)
        }
    };
    let v = record(&txn, caller, org_id, year, action, reason).await?;
    txn.commit().await?;
    Ok(if saved {
        PlanSaved::Replaced(v)
    } else {
        PlanSaved::Created(v)
    })
}

/// Moves the plan from `from` (checked) to `to` with `am`'s other changes, and records it.
#[allow(clippy::too_many_arguments)]
async fn transition(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    year: i32,
    to: PlanStatus,
    action: PlanAction,
    reason: Option<String>,
    if_match: Option<String>,
    change: impl FnOnce(&plans::Model, &mut plans::ActiveModel),
) -> AppResult<Plan> {
    let txn = state.db.begin().await?;
    let p = queries::plan(&txn, org_id, year)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    let v = transition_in(&txn, caller, p, to, action, reason, if_match, change).await?;
    txn.commit().await?;
    Ok(v)
}

/// As [`transition`], of `p` as read in the caller's transaction `conn` (not committed here).
#[allow(clippy::too_many_arguments)]
pub(super) async fn transition_in(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    p: plans::Model,
    to: PlanStatus,
    action: PlanAction,
    reason: Option<String>,
    if_match: Option<String>,
    change: impl FnOnce(&plans::Model, &mut plans::ActiveModel),
) -> AppResult<Plan> {
    let (org_id, year): (OrgId, i32) = (stored(&p.buyer_org_id)?, p.year);
    check_tag(&if_match, p.version)?;
    let from: PlanStatus = stored(&p.status)?;
    if !from.can_become(to) {
        return Err(AppError::Conflict(format!("a {from} plan cannot become {to}")));
    }
    let mut am = plans::ActiveModel {
        status: Set(to.as_str().to_string()),
        version: Set(p.version + 1),
        updated_at: Set(now()),
        buyer_org_id: NotSet,
        year: NotSet,
        ..Default::default()
    };
    change(&p, &mut am);
    if !queries::update_if(conn, am, org_id, year, p.version, from).await? {
        return Err(AppError::Conflict("the plan changed meanwhile; read it again".into()));
    }
    record(conn, caller, org_id, year, action, reason).await
}

/// Whether the plan's share is below the year's floor as the admin's settings now stand (the
/// floor may have moved since the draft was written), and that floor.
pub(super) async fn below_floor_now(conn: &impl ConnectionTrait, p: &plans::Model) -> AppResult<(bool, Share)> {
    let (floor, _) = crate::services::credit::floor_of(conn, p.year).await?;
    let share = p
        .reserved_share_ppm
        .map(Share::from_minor)
        .transpose()
        .map_err(AppError::internal)?;
    Ok((super::input::below(share, floor), floor))
}

/// Files the plan (the unit or its parent): late when this filing is past the year's deadline,
/// until the plan is first approved; from then on the approved filing's mark stays (refiling an
/// amendment after the deadline does not make a plan approved on time late). Below the
/// year's floor as it now stands, the draft must carry an explanation.
pub async fn file(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    year: i32,
    if_match: Option<String>,
) -> AppResult<Plan> {
    super::may_write(&state.db, caller, org_id).await?;
    let p = queries::plan(&state.db, org_id, year)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    if p.declaration.is_none() && (p.food_budget_fen.is_none() || p.reserved_share_ppm.is_none()) {
        return Err(AppError::field(
            "food_budget",
            "a plan without a declaration needs a budget and a share",
        ));
    }
    let (below, floor) = below_floor_now(&state.db, &p).await?;
    if below && text(p.explanation.clone()).is_none() {
        AppError::check(vec![super::input::explanation_required(floor, year)])?;
    }
    let late = today() > settings_of(&state.db, year).await?.filing_deadline;
    let t = now();
    transition(
        state,
        caller,
        org_id,
        year,
        PlanStatus::Filed,
        PlanAction::Filed,
        None,
        if_match,
        |p, am| {
            // Lateness is that of the filing that led to approval: a plan never approved (a
            // first filing, or one returned and filed again) is judged by this filing; an
            // amendment of an approved plan keeps the approved plan's mark.
            if p.approved_at.is_none() {
                am.late = Set(late);
            }
            am.filed_at = Set(Some(t));
            am.below_floor = Set(below);
            am.return_reason = Set(None);
        },
    )
    .await
}

/// Returns a filed plan to the unit with a reason (the supervisor of the unit's region).
pub async fn return_plan(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    year: i32,
    body: ReturnPlan,
    if_match: Option<String>,
) -> AppResult<Plan> {
    super::may_review(&state.db, caller, org_id).await?;
    let Some(reason) = text(Some(body.reason)) else {
        return Err(AppError::Validation {
            detail: "reason: must not be empty".into(),
            errors: vec![FieldError::new("reason", "must not be empty")],
        });
    };
    let r = reason.clone();
    transition(
        state,
        caller,
        org_id,
        year,
        PlanStatus::Returned,
        PlanAction::Returned,
        Some(reason),
        if_match,
        |_, am| {
            am.return_reason = Set(Some(r));
        },
    )
    .await
}

/// Whether `d` is a declaration that carries no budget.
pub(super) fn without_budget(d: Option<PlanDeclaration>) -> bool {
    matches!(d, Some(PlanDeclaration::NoCanteen | PlanDeclaration::SharedCanteen))
}
