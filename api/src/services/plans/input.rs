//! Request bodies of the plan routes.
use crate::domain::{Money, OrgId, OrgKind, PlanDeclaration, Share};
use crate::error::{AppResult, FieldError};
use crate::services::credit::Field;
use crate::services::{organizations, regions, supervision};
use entity::organizations as orgs;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member unit of a shared canteen with its share of the canteen's budget.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub org_id: OrgId,
    /// Its share of the canteen's budget, a fraction ("0.25").
    pub share: Share,
}

/// The draft of a plan: a budget and reserved share, or a declaration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutPlan {
    /// The year's canteen food budget ("1200000.00"); required unless the declaration is
    /// `no_canteen` or `shared_canteen`.
    #[schema(value_type = Option<Money>)]
    pub food_budget: Option<Field<Money>>,
    /// The reserved share as a fraction between 0 and 1 ("0.3").
    #[schema(value_type = Option<Share>)]
    pub reserved_share: Option<Field<Share>>,
    /// Why the share is below the year's floor (required then).
    pub explanation: Option<String>,
    #[schema(value_type = Option<PlanDeclaration>)]
    pub declaration: Option<Field<PlanDeclaration>>,
    /// The unit whose canteen this unit shares (`shared_canteen`).
    pub lead_org_id: Option<OrgId>,
    /// The `canteen_contractor` running the unit's canteen (`contracted_canteen`).
    pub contractor_org_id: Option<OrgId>,
    /// A lead unit's members with their shares of its canteen's budget (sum at most 1).
    #[serde(default)]
    pub members: Vec<Member>,
    /// Required to amend an approved plan: why it changes.
    pub amendment_reason: Option<String>,
}

/// An approval; a plan below the floor needs a `note` (never approved silently).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovePlan {
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnPlan {
    /// Why the plan goes back to the unit.
    pub reason: String,
}

/// A plan's content once validated.
pub(super) struct Content {
    pub declaration: Option<PlanDeclaration>,
    pub budget: Option<Money>,
    pub share: Option<Share>,
    pub explanation: Option<String>,
    pub lead: Option<OrgId>,
    pub contractor: Option<OrgId>,
    pub members: Vec<Member>,
    pub below_floor: bool,
    pub amendment_reason: Option<String>,
}

/// Whether `share` lies below the year's `floor` (no share, or a share of zero, does not: it
/// is absent or refused). The floor is the admin's setting as it stands when asked: a draft
/// written under one floor is checked again when filed and when approved.
pub(super) fn below(share: Option<Share>, floor: Share) -> bool {
    share.is_some_and(|s| !s.is_zero() && s < floor)
}

/// The refusal of a share below the floor without an explanation.
pub(super) fn explanation_required(floor: Share, year: i32) -> FieldError {
    FieldError::new(
        "explanation",
        format!("is required: the share is below the floor of {floor} for {year}"),
    )
}

fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The region a declaration's named units must lie in: the county of the unit (its own
/// region when it lies above any county), which every supervisor of the unit covers.
async fn home_region(conn: &impl ConnectionTrait, unit: &orgs::Model) -> AppResult<String> {
    Ok(regions::county_of(conn, &unit.region_code)
        .await?
        .map(|c| c.code)
        .unwrap_or_else(|| unit.region_code.clone()))
}

/// Checks a named organisation: not the unit itself, in the unit's region, and of the right
/// sort (`want_contractor`: a `canteen_contractor`, else a budget unit).
async fn check_named(
    conn: &impl ConnectionTrait,
    unit: &orgs::Model,
    home: &str,
    id: OrgId,
    field: &str,
    want_contractor: bool,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    if id == unit.id {
        errors.push(FieldError::new(
            field,
            "must name another organisation than the unit itself",
        ));
        return Ok(());
    }
    let Some(o) = organizations::queries::find(conn, id.to_string()).await? else {
        errors.push(FieldError::new(field, "no such organisation"));
        return Ok(());
    };
    if !supervision::queries::region_within(conn, &o.region_code, home).await? {
        errors.push(FieldError::new(
            field,
            "lies outside the region of the unit's supervisor",
        ));
    } else if want_contractor && organizations::kind_of(&o)? != OrgKind::CanteenContractor {
        errors.push(FieldError::new(field, "must be a canteen_contractor organisation"));
    } else if !want_contractor && !o.budget_unit {
        errors.push(FieldError::new(field, "must be a budget unit"));
    }
    Ok(())
}

/// Validates a plan body for `unit`, adding every refusal to `errors`.
pub(super) async fn validate(
    conn: &impl ConnectionTrait,
    unit: &orgs::Model,
    year: i32,
    body: PutPlan,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<Content>> {
    let (budget_sent, share_sent) = (body.food_budget.is_some(), body.reserved_share.is_some());
    let declaration = body.declaration.and_then(|d| d.take(errors, "declaration"));
    let budget = body.food_budget.and_then(|f| f.take(errors, "food_budget"));
    let share = body.reserved_share.and_then(|f| f.take(errors, "reserved_share"));
    let explanation = text(body.explanation);
    let home = home_region(conn, unit).await?;
    let no_budget = super::write::without_budget(declaration);
    if no_budget {
        for (given, field) in [(budget.is_some(), "food_budget"), (share.is_some(), "reserved_share")] {
            if given {
                errors.push(FieldError::new(field, "must not be given with this declaration"));
            }
        }
    } else {
        match budget {
            None if !budget_sent => errors.push(FieldError::new("food_budget", "is required")),
            Some(b) if b.is_zero() => errors.push(FieldError::new("food_budget", "must be greater than zero")),
            _ => {}
        }
        match share {
            None if !share_sent => errors.push(FieldError::new("reserved_share", "is required")),
            Some(s) if s.is_zero() => errors.push(FieldError::new("reserved_share", "must be greater than zero")),
            _ => {}
        }
    }
    let (floor, _) = crate::services::credit::floor_of(conn, year).await?;
    let below_floor = below(share, floor);
    if below_floor && explanation.is_none() {
        errors.push(explanation_required(floor, year));
    }
    let need = |d: PlanDeclaration| declaration == Some(d);
    match (need(PlanDeclaration::SharedCanteen), body.lead_org_id) {
        (true, Some(l)) => check_named(conn, unit, &home, l, "lead_org_id", false, errors).await?,
        (true, None) => errors.push(FieldError::new("lead_org_id", "is required with shared_canteen")),
        (false, Some(_)) => errors.push(FieldError::new("lead_org_id", "is only for shared_canteen")),
        (false, None) => {}
    }
    match (need(PlanDeclaration::ContractedCanteen), body.contractor_org_id) {
        (true, Some(c)) => check_named(conn, unit, &home, c, "contractor_org_id", true, errors).await?,
        (true, None) => errors.push(FieldError::new(
            "contractor_org_id",
            "is required with contracted_canteen",
        )),
        (false, Some(_)) => errors.push(FieldError::new("contractor_org_id", "is only for contracted_canteen")),
        (false, None) => {}
    }
    if !body.members.is_empty() && no_budget {
        errors.push(FieldError::new(
            "members",
            "only a unit with its own canteen lists members",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, m) in body.members.iter().enumerate() {
        let field = format!("members[{i}].org_id");
        if !seen.insert(m.org_id) {
            errors.push(FieldError::new(field.clone(), "is listed twice"));
        }
        if m.share.is_zero() {
            errors.push(FieldError::new(
                format!("members[{i}].share"),
                "must be greater than zero",
            ));
        }
        check_named(conn, unit, &home, m.org_id, &field, false, errors).await?;
    }
    if Share::checked_sum(body.members.iter().map(|m| m.share)).is_err() {
        errors.push(FieldError::new(
            "members",
            "the members' shares must add up to at most 1",
        ));
    }
    Ok(Some(Content {
        declaration,
        budget,
        share,
        explanation,
        lead: body.lead_org_id,
        contractor: body.contractor_org_id,
        members: body.members,
        below_floor,
        amendment_reason: text(body.amendment_reason),
    }))
}
