//! Who may read, write and review a unit's plan.
use crate::auth::{Caller, Role};
use crate::domain::OrgId;
use crate::error::{AppError, AppResult};
use crate::services::{organizations, supervision};
use entity::organizations as orgs;
use sea_orm::ConnectionTrait;

async fn unit(conn: &impl ConnectionTrait, org_id: OrgId) -> AppResult<orgs::Model> {
    organizations::queries::find(conn, org_id.to_string())
        .await?
        .filter(|o| organizations::kind_of(o).is_ok_and(|k| k.is_buyer()))
        .ok_or(AppError::NotFound("budget unit"))
}

fn own_or_parent(caller: &Caller, org: &orgs::Model) -> bool {
    let me = caller.org_id.to_string();
    org.id == me || org.parent_org_id.as_deref() == Some(me.as_str())
}

/// The unit if the caller may read its plan: admin, evaluators, the unit, its parent, and the
/// supervisor of its region (403 for other roles, 404 for other units).
pub async fn may_read(conn: &impl ConnectionTrait, caller: &Caller, org_id: OrgId) -> AppResult<orgs::Model> {
    caller.require(&[Role::Admin, Role::Evaluator, Role::Buyer, Role::Supervisor])?;
    let org = unit(conn, org_id).await?;
    let ok = match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Buyer => own_or_parent(caller, &org),
        Role::Supervisor => supervision::may_supervise(conn, caller, &org).await?,
        _ => false,
    };
    if ok {
        Ok(org)
    } else {
        Err(AppError::NotFound("budget unit"))
    }
}

/// The unit if the caller may write and file its plan: the unit itself or its parent
/// (主管预算单位). A unit that is not a budget unit files no plan (422 naming `org_id`).
pub async fn may_write(conn: &impl ConnectionTrait, caller: &Caller, org_id: OrgId) -> AppResult<orgs::Model> {
    caller.require(&[Role::Buyer])?;
    let org = unit(conn, org_id).await?;
    if !own_or_parent(caller, &org) {
        return Err(AppError::NotFound("budget unit"));
    }
    if !org.budget_unit {
        return Err(AppError::field(
            "org_id",
            "the organisation is not a budget unit and files no plan",
        ));
    }
    Ok(org)
}

/// The unit if the caller is the supervisor of its region (403 for other roles, 404 for a
/// supervisor of another region).
pub async fn may_review(conn: &impl ConnectionTrait, caller: &Caller, org_id: OrgId) -> AppResult<orgs::Model> {
    caller.require(&[Role::Supervisor])?;
    let org = unit(conn, org_id).await?;
    if !supervision::may_supervise(conn, caller, &org).await? {
        return Err(AppError::NotFound("budget unit"));
    }
    Ok(org)
}

/// As [`may_review`], and the plan exists (404 otherwise): checked before a body is read.
pub async fn may_review_plan(conn: &impl ConnectionTrait, caller: &Caller, org_id: OrgId, year: i32) -> AppResult<()> {
    may_review(conn, caller, org_id).await?;
    super::queries::plan(conn, org_id, year)
        .await?
        .map(drop)
        .ok_or(AppError::NotFound("plan"))
}
