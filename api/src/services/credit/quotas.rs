//! Yearly buyer quotas (预留份额: food_budget × reserved_share) with their progress,
//! and the yearly floor of the reserved share.
use super::queries::{self, QuotaRow};
use super::{check_year, net, stored_id, too_large, Field, Ratio, SplitFilter};
use crate::auth::{Caller, Role};
use crate::domain::{Money, OrgId, OrgKind, Share, SignedMoney};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::now;
use crate::state::AppState;
use entity::{organizations, quotas};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The reserved-share floor when the admin has not set one for the year: 10%.
pub const DEFAULT_FLOOR_PPM: i64 = 100_000;

pub fn default_floor() -> Share {
    Share::from_minor(DEFAULT_FLOOR_PPM).unwrap_or(Share::ONE)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutQuota {
    /// The year's food budget ("1200000.00").
    #[schema(value_type = Money)]
    pub food_budget: Field<Money>,
    /// The reserved share as a fraction ("0.3" = 30%); at least the year's floor.
    #[schema(value_type = Share)]
    pub reserved_share: Field<Share>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Quota {
    pub buyer_org_id: OrgId,
    pub year: i32,
    pub food_budget: Money,
    pub reserved_share: Share,
    /// food_budget × reserved_share, rounded to the fen.
    pub target: Money,
    /// Net ledger amount of the year (credits minus reversals) of the buyer and its children.
    pub credited: SignedMoney,
    /// credited ÷ target, four places.
    pub progress: Ratio,
    /// What remains to reach the target (0 once reached).
    pub shortfall: Money,
    /// The fraction of the year elapsed (1 for past years, 0 for future years).
    pub elapsed_fraction: Ratio,
    /// Where the pace curve puts the buyer today: target × the share of the year's target the
    /// admin's monthly weights (`PUT /plan-settings/{year}`) expect by now, or without weights
    /// target × elapsed_fraction (a straight line). The supervision list uses the same curve.
    pub expected_by_today: Money,
    /// progress is below the straight-line fraction of the year elapsed.
    pub behind_pace: bool,
    /// The year's floor for the reserved share.
    pub min_share: Share,
    pub version: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// What a quota write did.
#[derive(Debug)]
pub enum QuotaSaved {
    /// There was no quota for the buyer and year.
    Created(Quota),
    /// The quota of the version given was replaced.
    Replaced(Quota),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutFloor {
    /// The lowest reserved share buyers may set for the year, as a fraction ("0.05").
    pub min_share: Share,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Floor {
    pub year: i32,
    pub min_share: Share,
    /// True when no floor was set for the year and the default (10%) applies.
    pub is_default: bool,
}

/// The fraction of `year` elapsed at `at`, in millionths (0 before, 1_000_000 after).
pub fn elapsed_ppm(year: i32, at: chrono::DateTime<chrono::Utc>) -> i64 {
    // The budget year of the business calendar: from its local midnight of 1 January.
    let start = crate::services::clock::start_of_year(year);
    let end = year.checked_add(1).and_then(crate::services::clock::start_of_year);
    let (Some(s), Some(e)) = (start, end) else { return 0 };
    if at <= s {
        return 0;
    }
    if at >= e {
        return 1_000_000;
    }
    let num = i128::from((at - s).num_seconds());
    let den = i128::from((e - s).num_seconds());
    i64::try_from(num * 1_000_000 / den).unwrap_or(1_000_000)
}

/// The year's floor and whether it is the default.
pub async fn floor_of(conn: &impl ConnectionTrait, year: i32) -> AppResult<(Share, bool)> {
    Ok(match queries::floor(conn, year).await? {
        Some(s) => (s, false),
        None => (default_floor(), true),
    })
}

/// Credited net amount of a buyer (and its children) for a year.
pub async fn credited(conn: &impl ConnectionTrait, buyer: OrgId, year: i32) -> AppResult<SignedMoney> {
    let ids = queries::with_children(conn, &buyer.to_string()).await?;
    let split = queries::split_sums(conn, year, &ids, SplitFilter::default()).await?;
    net(split.total()?, "credited amount")
}

fn stored_money(fen: i64) -> AppResult<Money> {
    Money::from_minor(fen).map_err(AppError::internal)
}

async fn quota_view(conn: &impl ConnectionTrait, q: quotas::Model) -> AppResult<Quota> {
    let buyer: OrgId = stored_id(&q.buyer_org_id)?;
    let credited = credited(conn, buyer, q.year).await?;
    let (floor, _) = floor_of(conn, q.year).await?;
    // The same pace curve as the supervision list (the admin's monthly weights, else a
    // straight line), so that a unit is not behind on one page and on pace on the other.
    let settings = crate::services::plans::settings_of(conn, q.year).await?;
    let at = now();
    let elapsed = elapsed_ppm(q.year, at);
    let pace = crate::services::plans::pace_fraction_ppm(&settings, at);
    let target = stored_money(q.target_fen)?;
    let (t, c) = (i128::from(target.minor()), i128::from(credited.minor()));
    // target × pace, truncated: never above the target.
    let expected = i64::try_from(t * i128::from(pace) / 1_000_000).map_err(AppError::internal)?;
    // progress < pace fraction, compared exactly: credited/target < pace/1e6.
    let behind = c * 1_000_000 < t * i128::from(pace);
    let shortfall =
        i64::try_from((t - c).max(0)).map_err(|_| AppError::Conflict("the shortfall is out of range".into()))?;
    Ok(Quota {
        buyer_org_id: buyer,
        year: q.year,
        food_budget: stored_money(q.food_budget_fen)?,
        reserved_share: Share::from_minor(i64::from(q.reserved_share_ppm)).map_err(AppError::internal)?,
        target,
        credited,
        progress: Ratio::of(credited.minor(), target.minor()),
        shortfall: Money::from_minor(shortfall).map_err(|e| too_large("shortfall", e))?,
        elapsed_fraction: Ratio::of_ppm(elapsed),
        expected_by_today: stored_money(expected)?,
        behind_pace: behind,
        min_share: floor,
        version: q.version,
        updated_at: q.updated_at,
    })
}

/// The buyer organisation `org_id` if the caller may read (or, with `write`, set) its quota.
async fn quota_target(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    write: bool,
) -> AppResult<organizations::Model> {
    if write {
        caller.require(&[Role::Admin, Role::Buyer])?;
    } else {
        caller.require(&[Role::Admin, Role::Evaluator, Role::Buyer])?;
    }
    let org = queries::org(&state.db, &org_id.to_string())
        .await?
        .filter(|o| OrgKind::parse(&o.kind).is_some_and(OrgKind::is_buyer))
        .ok_or(AppError::NotFound("buyer"))?;
    let me = caller.org_id.to_string();
    let allowed = match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Buyer => org.id == me || (!write && org.parent_org_id.as_deref() == Some(me.as_str())),
        _ => false,
    };
    if !allowed {
        return Err(AppError::NotFound("buyer"));
    }
    Ok(org)
}

pub async fn get_quota(state: &AppState, caller: &Caller, org_id: OrgId, year: i32) -> AppResult<Quota> {
    quota_target(state, caller, org_id, false).await?;
    // The approved plan is the unit's quota target for the year.
    if let Some(q) = from_plan(&state.db, org_id, year).await? {
        return quota_view(&state.db, q).await;
    }
    let q = queries::quota(&state.db, org_id, year)
        .await?
        .ok_or(AppError::NotFound("quota"))?;
    quota_view(&state.db, q).await
}

/// The quota an approved plan sets (its last approved content), if the unit has one.
async fn from_plan(conn: &impl ConnectionTrait, org_id: OrgId, year: i32) -> AppResult<Option<quotas::Model>> {
    let Some(p) = crate::services::plans::queries::plan(conn, org_id, year).await? else {
        return Ok(None);
    };
    let Some(target) = p.approved_target_fen else {
        return Ok(None);
    };
    Ok(Some(quotas::Model {
        buyer_org_id: p.buyer_org_id,
        year,
        food_budget_fen: p.approved_budget_fen.unwrap_or(0),
        reserved_share_ppm: i32::try_from(p.approved_share_ppm.unwrap_or(0)).map_err(AppError::internal)?,
        target_fen: target,
        version: p.version,
        updated_at: p.updated_at,
    }))
}

/// Whether the caller may set the buyer's quota (403 for other roles, 404 for another
/// organisation), checked before the body is read: authorise, then validate.
pub async fn may_set_quota(state: &AppState, caller: &Caller, org_id: OrgId) -> AppResult<()> {
    quota_target(state, caller, org_id, true).await.map(drop)
}

/// Creates or replaces the quota. Replacing requires `if_match` (the version it replaces):
/// `PreconditionRequired` without it, `PreconditionFailed` when it is not the stored one.
pub async fn put_quota(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    year: i32,
    body: PutQuota,
    if_match: Option<String>,
) -> AppResult<QuotaSaved> {
    quota_target(state, caller, org_id, true).await?;
    let db = &state.db;
    if crate::services::plans::queries::plan(db, org_id, year).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "the unit has a plan for {year}: its target is set through /api/v1/buyers/{org_id}/plans/{year}"
        )));
    }
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    let budget = body.food_budget.take(&mut errors, "food_budget");
    if budget.is_some_and(Money::is_zero) {
        errors.push(FieldError::new("food_budget", "must be greater than zero"));
    }
    let share = body.reserved_share.take(&mut errors, "reserved_share");
    let (floor, _) = floor_of(db, year).await?;
    if let Some(s) = share {
        if s.is_zero() {
            errors.push(FieldError::new("reserved_share", "must be greater than zero"));
        } else if s < floor {
            errors.push(FieldError::new(
                "reserved_share",
                format!("must be at least {floor} (the floor for {year})"),
            ));
        }
    }
    AppError::check(errors)?;
    let (Some(budget), Some(share)) = (budget, share) else {
        return Err(AppError::internal("validated values missing"));
    };
    // Exact, rounded half up to the fen; never above the budget.
    let target = budget.times_share(share);
    let existing = queries::quota(db, org_id, year).await?;
    let version = match (&existing, &if_match) {
        (None, Some(_)) => return Err(AppError::PreconditionFailed),
        (Some(e), Some(tag)) if tag != "*" && tag != &e.version.to_string() => {
            return Err(AppError::PreconditionFailed)
        }
        (Some(e), Some(_)) => Some(e.version),
        // Replacing what exists needs its ETag, so that two editors never overwrite each other blindly.
        (Some(_), None) => return Err(AppError::PreconditionRequired),
        (None, None) => None,
    };
    let row = QuotaRow {
        buyer: org_id,
        year,
        food_budget_fen: budget.minor(),
        share_ppm: share.minor(),
        target_fen: target.minor(),
    };
    if !queries::upsert_quota(db, row, version).await? {
        // Without a version another first write got there first: replacing it needs its ETag.
        return Err(match version {
            None => AppError::PreconditionRequired,
            Some(_) => AppError::PreconditionFailed,
        });
    }
    let q = queries::quota(db, org_id, year)
        .await?
        .ok_or_else(|| AppError::internal("quota vanished"))?;
    let view = quota_view(db, q).await?;
    Ok(if existing.is_none() {
        QuotaSaved::Created(view)
    } else {
        QuotaSaved::Replaced(view)
    })
}

pub async fn put_floor(state: &AppState, caller: &Caller, year: i32, body: PutFloor) -> AppResult<Floor> {
    caller.require(&[Role::Admin])?;
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check(errors)?;
    queries::set_floor(&state.db, year, body.min_share).await?;
    Ok(Floor {
        year,
        min_share: body.min_share,
        is_default: false,
    })
}

pub async fn get_floor(state: &AppState, _caller: &Caller, year: i32) -> AppResult<Floor> {
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check(errors)?;
    let (min_share, is_default) = floor_of(&state.db, year).await?;
    Ok(Floor {
        year,
        min_share,
        is_default,
    })
}
