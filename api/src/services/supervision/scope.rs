//! The region a supervisor covers and the organisations in it.
use super::queries;
use super::OrgSet;
use crate::auth::{Caller, Role};
use crate::error::AppResult;
use crate::services::organizations;
use entity::organizations as orgs;
use sea_orm::ConnectionTrait;

/// A supervisor's region: its finance office's region code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionScope {
    pub region_code: String,
}

/// The region of the caller's finance office (403 unless the caller is a supervisor).
pub async fn region_of(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<RegionScope> {
    caller.require(&[Role::Supervisor])?;
    let org = organizations::find(conn, &caller.org_id.to_string()).await?;
    Ok(RegionScope {
        region_code: org.region_code,
    })
}

/// Whether the region `code` is the scope's region or lies under it.
pub async fn in_scope(conn: &impl ConnectionTrait, scope: &RegionScope, code: &str) -> AppResult<bool> {
    queries::region_within(conn, code, &scope.region_code).await
}

/// Whether the organisation lies in the scope's region.
pub async fn org_in_scope(conn: &impl ConnectionTrait, scope: &RegionScope, org: &orgs::Model) -> AppResult<bool> {
    in_scope(conn, scope, &org.region_code).await
}

/// Whether the caller is a supervisor whose region holds the organisation (false for every
/// other role). Use it for "the supervisor of the unit's region may …".
pub async fn may_supervise(conn: &impl ConnectionTrait, caller: &Caller, org: &orgs::Model) -> AppResult<bool> {
    if caller.role != Role::Supervisor {
        return Ok(false);
    }
    let scope = region_of(conn, caller).await?;
    org_in_scope(conn, &scope, org).await
}

/// The organisations in the scope's region (only budget units with `budget_units`), as SQL.
pub fn scope_orgs(scope: &RegionScope, budget_units: bool) -> OrgSet {
    OrgSet::Region {
        code: scope.region_code.clone(),
        budget_units,
    }
}
