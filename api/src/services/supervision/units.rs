//! `GET /supervision/{year}/units`: every budget unit in the caller's region with its plan
//! state, target, credited amount, progress, expected-by-today on the pace curve and its
//! laggard reasons; rankings of the units and of the sub-regions by progress.
use super::{queries, region_of, units_queries};
use crate::auth::{Caller, Role};
use crate::domain::{LaggardReason, Money, OrgId, OrgKind, PlanStatus, SignedMoney};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::credit::{check_year, net, Ratio};
use crate::services::{now, plans, regions, stored, today};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitsQuery {
    /// Only units located in this region (within the caller's).
    pub region: Option<String>,
    /// Only units of this kind.
    pub kind: Option<OrgKind>,
    /// json (default), csv or xlsx.
    pub format: Option<crate::domain::ReportFormat>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitProgress {
    /// 1 for the unit furthest ahead of its target.
    pub rank: usize,
    pub org_id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub region_code: String,
    pub plan_status: Option<PlanStatus>,
    pub late: bool,
    /// The approved plan's target (null before approval).
    pub target: Option<Money>,
    pub credited: SignedMoney,
    /// Credited over target; null without a target or with a target of zero.
    pub progress: Option<Ratio>,
    pub expected_by_today: Option<Money>,
    pub laggard_reasons: Vec<LaggardReason>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionProgress {
    pub rank: usize,
    pub region_code: String,
    pub name: String,
    pub units: usize,
    pub target: Money,
    pub credited: SignedMoney,
    pub progress: Ratio,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnitsReport {
    pub year: i32,
    /// The region covered (null: every region, for admin and evaluators).
    pub region_code: Option<String>,
    /// The fraction of the year's target expected by today on the pace curve.
    pub expected_fraction: Ratio,
    pub filing_deadline: chrono::NaiveDate,
    pub units: Vec<UnitProgress>,
    /// The sub-regions one level below the covered region, by progress.
    pub regions: Vec<RegionProgress>,
}

/// The region the caller covers and the one asked for (422 naming `region` outside it).
pub(super) async fn covered(state: &AppState, caller: &Caller, region: Option<String>) -> AppResult<Option<String>> {
    caller.require(&[Role::Supervisor, Role::Admin, Role::Evaluator])?;
    let db = &state.db;
    let own = if caller.role == Role::Supervisor {
        Some(region_of(db, caller).await?.region_code)
    } else {
        None
    };
    let Some(r) = region else { return Ok(own) };
    if regions::find(db, &r).await?.is_none() {
        return Err(AppError::field("region", "no such region"));
    }
    if let Some(o) = &own {
        if !queries::region_within(db, &r, o).await? {
            return Err(AppError::field("region", "lies outside the caller's region"));
        }
    }
    Ok(Some(r))
}

pub async fn units(state: &AppState, caller: &Caller, year: i32, q: UnitsQuery) -> AppResult<UnitsReport> {
    let mut errors: Vec<FieldError> = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check(errors)?;
    let region = covered(state, caller, q.region).await?;
    units_in(&state.db, year, region, q.kind, now()).await
}

/// The units report of `region` (every budget unit without one), whoever asks, with the pace
/// curve read at `pace_at` (now for the list; the month's start for the monthly notices).
pub async fn units_in(
    db: &impl sea_orm::ConnectionTrait,
    year: i32,
    region: Option<String>,
    kind_filter: Option<OrgKind>,
    pace_at: chrono::DateTime<chrono::Utc>,
) -> AppResult<UnitsReport> {
    let settings = plans::settings_of(db, year).await?;
    let fraction = plans::pace_fraction_ppm(&settings, pace_at);
    // While the pace curve expects nothing yet (a year not begun, the start of January, months
    // weighted zero), having no credit or no approved target is no lag: the reasons measured
    // against the pace are not raised (the filing deadline is a date and still counts).
    let pace_due = fraction > 0;
    let past_deadline = today() > settings.filing_deadline;
    let (from, to) = year_bounds(year)?;
    // One statement joins each unit with its plan, its ledger figures and its orders; a shared
    // canteen's credit is split among its members in the ledger itself (`plans::split_shared_in`),
    // so the ledger's figures are read as they are.
    let rows = units_queries::unit_rows(db, year, region.as_deref(), kind_filter, from, to).await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut tops = Vec::with_capacity(rows.len());
    for o in rows {
        let kind: OrgKind = stored(&o.kind)?;
        let has_plan = o.plan_status.is_some();
        let status = o.plan_status.as_deref().map(stored::<PlanStatus>).transpose()?;
        let target = o
            .approved_target_fen
            .map(|t| Money::from_minor(t).map_err(AppError::internal))
            .transpose()?;
        let credited = net(o.credited_fen, "credited amount")?;
        let expected = target
            .map(|t| {
                let v = i128::from(t.minor()) * i128::from(fraction) / 1_000_000;
                Money::from_minor(i64::try_from(v).unwrap_or(0)).map_err(AppError::internal)
            })
            .transpose()?;
        let mut reasons = Vec::new();
        if past_deadline && !o.filed {
            reasons.push(LaggardReason::NoPlanByDeadline);
        }
        if pace_due && target.is_none() && has_plan {
            reasons.push(LaggardReason::PlanNotApproved);
        }
        let wants = target.is_none_or(|t| !t.is_zero());
        if pace_due && wants && o.entries == 0 {
            if o.orders > 0 {
                reasons.push(LaggardReason::OrderedNeverAccepted);
            } else {
                reasons.push(LaggardReason::NoOrderYet);
            }
        }
        if let Some(e) = expected {
            if i128::from(credited.minor()) < i128::from(e.minor()) {
                reasons.push(LaggardReason::BehindPace);
            }
        }
        tops.push(o.top);
        out.push(UnitProgress {
            rank: 0,
            org_id: stored(&o.id)?,
            name: o.name,
            kind,
            region_code: o.region_code,
            plan_status: status,
            late: has_plan && o.late,
            // A zero target (no canteen) has no progress to show: not 100 %, ranked with the
            // units without a target.
            progress: target
                .filter(|t| t.minor() > 0)
                .map(|t| Ratio::of(credited.minor(), t.minor())),
            target,
            credited,
            expected_by_today: expected,
            laggard_reasons: reasons,
        });
    }
    // The sub-regions are summed before the units are ranked (a unit's sub-region rides along).
    let regions = super::rankings::sub_regions(db, region.as_deref(), &out, &tops).await?;
    // Units with a target by progress, then the rest; ties by name.
    out.sort_by(|a, b| b.progress.cmp(&a.progress).then_with(|| a.name.cmp(&b.name)));
    for (i, u) in out.iter_mut().enumerate() {
        u.rank = i + 1;
    }
    Ok(UnitsReport {
        year,
        region_code: region,
        expected_fraction: Ratio::of_ppm(fraction),
        filing_deadline: settings.filing_deadline,
        units: out,
        regions,
    })
}

/// The first instant of `year` and of the year after (orders are counted between them).
fn year_bounds(year: i32) -> AppResult<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let at = crate::services::clock::start_of_year;
    match (at(year), year.checked_add(1).and_then(at)) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(AppError::field("year", "is out of range")),
    }
}
