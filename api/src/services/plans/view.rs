//! A plan as the API shows it, its history, and the target it sets.
use super::input::Member;
use super::{queries, settings_of};
use crate::auth::Caller;
use crate::domain::{Money, OrgId, PlanAction, PlanDeclaration, PlanStatus, Share};
use crate::error::{AppError, AppResult};
use crate::services::{paginate, stored, PageParams};
use crate::state::AppState;
use entity::{plan_events, plans};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Plan {
    pub buyer_org_id: OrgId,
    pub year: i32,
    pub status: PlanStatus,
    pub declaration: Option<PlanDeclaration>,
    pub food_budget: Option<Money>,
    pub reserved_share: Option<Share>,
    /// The target of this content: budget × share (the lead's part of a shared canteen; a member's
    /// share of its lead's; 0 without a canteen). Null while a shared canteen's lead has no plan.
    pub target: Option<Money>,
    /// The target in force: that of the last approved content (null before the first approval).
    pub approved_target: Option<Money>,
    pub explanation: Option<String>,
    pub lead_org_id: Option<OrgId>,
    pub contractor_org_id: Option<OrgId>,
    pub members: Vec<Member>,
    /// Filed after the year's filing deadline: the filing that led to (or awaits) the first
    /// approval; a returned plan filed again is judged by its new filing, an amendment of an
    /// approved plan keeps the approved plan's mark.
    pub late: bool,
    /// The share is below the year's floor (approved only by a supervisor, with a note), as the
    /// floor stood at the last save, filing or approval: each checks it again.
    pub below_floor: bool,
    pub min_share: Share,
    pub filing_deadline: chrono::NaiveDate,
    pub amendment_reason: Option<String>,
    pub return_reason: Option<String>,
    pub filed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanEvent {
    pub id: String,
    pub action: PlanAction,
    /// The plan's status after the event.
    pub status: PlanStatus,
    pub version: i32,
    pub by_user_id: String,
    pub by_org_id: String,
    pub reason: Option<String>,
    /// The plan as it was after the event.
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
    pub at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(PlanEventPage, PlanEvent);

fn money(v: Option<i64>) -> AppResult<Option<Money>> {
    v.map(|f| Money::from_minor(f).map_err(AppError::internal)).transpose()
}

fn share(v: Option<i64>) -> AppResult<Option<Share>> {
    v.map(|f| Share::from_minor(f).map_err(AppError::internal)).transpose()
}

pub(super) fn members_of(p: &plans::Model) -> AppResult<Vec<Member>> {
    serde_json::from_str(&p.members).map_err(AppError::internal)
}

/// The whole canteen's target of a plan's content: budget × share.
fn full_target(p: &plans::Model) -> AppResult<Option<Money>> {
    Ok(match (money(p.food_budget_fen)?, share(p.reserved_share_ppm)?) {
        (Some(b), Some(s)) => Some(b.times_share(s)),
        _ => None,
    })
}

/// A member's target under its lead's plan `lead`: its share of the whole canteen's target, or
/// zero when the plan does not list it (or has no budget).
pub(super) fn member_target(lead: &plans::Model, member: &str) -> AppResult<Money> {
    let mine = members_of(lead)?.into_iter().find(|m| m.org_id == *member);
    Ok(match (full_target(lead)?, mine) {
        (Some(full), Some(m)) => full.times_share(m.share),
        _ => Money::ZERO,
    })
}

/// The target of a plan's current content (see [`Plan::target`]).
pub(super) async fn content_target(conn: &impl ConnectionTrait, p: &plans::Model) -> AppResult<Option<Money>> {
    match p.declaration.as_deref().map(stored::<PlanDeclaration>).transpose()? {
        Some(PlanDeclaration::NoCanteen) => Ok(Some(Money::ZERO)),
        Some(PlanDeclaration::SharedCanteen) => {
            let Some(lead) = p.lead_org_id.as_deref() else {
                return Ok(None);
            };
            let Some(lp) = queries::plan(conn, stored(lead)?, p.year).await? else {
                return Ok(None);
            };
            Ok(Some(member_target(&lp, &p.buyer_org_id)?))
        }
        _ => {
            let Some(full) = full_target(p)? else { return Ok(None) };
            let members = members_of(p)?;
            let given = Share::checked_sum(members.iter().map(|m| m.share)).map_err(AppError::internal)?;
            let own = Share::ONE.checked_sub(given).unwrap_or(Share::ZERO);
            Ok(Some(full.times_share(own)))
        }
    }
}

pub(super) async fn view(conn: &impl ConnectionTrait, p: plans::Model) -> AppResult<Plan> {
    let s = settings_of(conn, p.year).await?;
    let target = content_target(conn, &p).await?;
    Ok(Plan {
        buyer_org_id: stored(&p.buyer_org_id)?,
        year: p.year,
        status: stored(&p.status)?,
        declaration: p.declaration.as_deref().map(stored).transpose()?,
        food_budget: money(p.food_budget_fen)?,
        reserved_share: share(p.reserved_share_ppm)?,
        target,
        approved_target: money(p.approved_target_fen)?,
        explanation: p.explanation.clone(),
        lead_org_id: p.lead_org_id.as_deref().map(stored).transpose()?,
        contractor_org_id: p.contractor_org_id.as_deref().map(stored).transpose()?,
        members: members_of(&p)?,
        late: p.late,
        below_floor: p.below_floor,
        min_share: s.min_share,
        filing_deadline: s.filing_deadline,
        amendment_reason: p.amendment_reason,
        return_reason: p.return_reason,
        filed_at: p.filed_at,
        approved_at: p.approved_at,
        version: p.version,
        updated_at: p.updated_at,
    })
}

pub async fn get_plan(state: &AppState, caller: &Caller, org: OrgId, year: i32) -> AppResult<Plan> {
    super::may_read(&state.db, caller, org).await?;
    let p = queries::plan(&state.db, org, year)
        .await?
        .ok_or(AppError::NotFound("plan"))?;
    view(&state.db, p).await
}

pub async fn history(
    state: &AppState,
    caller: &Caller,
    org: OrgId,
    year: i32,
    page: &PageParams,
) -> AppResult<(Vec<PlanEvent>, Option<String>)> {
    super::may_read(&state.db, caller, org).await?;
    let limit = page.limit()?;
    let rows = queries::events(&state.db, org, year, page.cursor()?, limit).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let items = rows.into_iter().map(event_view).collect::<AppResult<_>>()?;
    Ok((items, next))
}

fn event_view(e: plan_events::Model) -> AppResult<PlanEvent> {
    Ok(PlanEvent {
        action: stored(&e.action)?,
        status: stored(&e.status)?,
        snapshot: serde_json::from_str(&e.snapshot).map_err(AppError::internal)?,
        id: e.id,
        version: e.version,
        by_user_id: e.by_user_id,
        by_org_id: e.by_org_id,
        reason: e.reason,
        at: e.at,
    })
}

/// The unit's target in force for the year (its last approved plan), if any; and whether a
/// plan exists at all.
pub async fn effective_target(conn: &impl ConnectionTrait, org: OrgId, year: i32) -> AppResult<(bool, Option<Money>)> {
    match queries::plan(conn, org, year).await? {
        None => Ok((false, None)),
        Some(p) => Ok((true, money(p.approved_target_fen)?)),
    }
}
