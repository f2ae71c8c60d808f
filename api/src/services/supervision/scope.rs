//! The region a supervisor covers and the organisations in it.
use super::queries;
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult};
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

/// Ids of the organisations in the scope's region (only budget units with `budget_units`).
pub async fn scope_orgs(
    conn: &impl ConnectionTrait,
    scope: &RegionScope,
    budget_units: bool,
) -> AppResult<Vec<String>> {
    queries::orgs_under(conn, &scope.region_code, budget_units).await
}

/// Codes of the scope's region and every region under it.
pub async fn scope_regions(conn: &impl ConnectionTrait, scope: &RegionScope) -> AppResult<Vec<String>> {
    let codes = queries::regions_under(conn, &scope.region_code).await?;
    if codes.is_empty() {
        return Err(AppError::internal("a supervisor's region is missing"));
    }
    Ok(codes)
}
