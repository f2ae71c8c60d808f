//! Reading organisations: one, a page, and an organisation with its children.
use super::{queries, Organization, OrganizationFilter};
use crate::auth::{Caller, Role};
use crate::domain::OrgId;
use crate::error::{AppError, AppResult};
use crate::services::{paginate, PageParams};
use crate::state::AppState;
use entity::organizations;
use sea_orm::ConnectionTrait;
use std::fmt::Display;

/// Admin and evaluators see every organisation; anyone else only their own and its children.
fn sees_all(caller: &Caller) -> bool {
    matches!(caller.role, Role::Admin | Role::Evaluator)
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &OrganizationFilter,
    page: &PageParams,
) -> AppResult<(Vec<Organization>, Option<String>)> {
    let limit = page.limit()?;
    let scope = queries::Scope {
        within: (!sees_all(caller)).then(|| caller.org().to_string()),
        kind: f.kind,
        status: f.status,
    };
    let rows = queries::page(&state.db, scope, page.cursor()?, limit + 1).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(|r| Organization::try_from(r).map(|o| o.shown_to(caller)))
        .collect::<AppResult<_>>()?;
    Ok((items, next))
}

/// The stored organisation `id` (an `OrgId`, or its text); 404 when there is none.
pub async fn find(db: &impl ConnectionTrait, id: impl Display) -> AppResult<organizations::Model> {
    queries::find(db, id.to_string())
        .await?
        .ok_or(AppError::NotFound("organization"))
}

pub async fn get(state: &AppState, caller: &Caller, id: OrgId) -> AppResult<Organization> {
    let org = find(&state.db, id).await?;
    let mine = caller.org();
    let visible = sees_all(caller)
        || mine == org.id
        || org.parent_org_id.as_ref().is_some_and(|p| mine == *p)
        || crate::services::supervision::may_supervise(&state.db, caller, &org).await?;
    if !visible {
        return Err(AppError::NotFound("organization"));
    }
    Ok(Organization::try_from(org)?.shown_to(caller))
}

/// The organisation ids of `org_id` and its children (a parent's figures count its children's).
pub async fn with_children(db: &impl ConnectionTrait, org_id: impl Display) -> AppResult<Vec<String>> {
    let org_id = org_id.to_string();
    let mut ids = vec![org_id.clone()];
    ids.extend(queries::children(db, org_id).await?);
    Ok(ids)
}
