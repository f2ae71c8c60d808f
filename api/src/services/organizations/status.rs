//! Suspending and reinstating an organisation.
use super::{queries, Organization};
use crate::auth::{Caller, Role};
use crate::domain::{AuditKind, OrgId, OrgKind, OrgStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::audit::{self, Event};
use crate::services::now;
use crate::state::AppState;
use entity::organizations;
use sea_orm::Set;

pub async fn set_status(state: &AppState, caller: &Caller, id: OrgId, status: OrgStatus) -> AppResult<Organization> {
    caller.require(&[Role::Admin])?;
    let org = super::find(&state.db, id).await?;
    if super::kind_of(&org)? == OrgKind::Platform && status == OrgStatus::Suspended {
        return Err(AppError::Conflict(
            "the platform organisation cannot be suspended".into(),
        ));
    }
    if super::status_of(&org)? == status {
        return Err(AppError::Conflict(format!("the organisation is already {status}")));
    }
    let mut am: organizations::ActiveModel = org.into();
    am.status = Set(status.as_str().to_string());
    am.updated_at = Set(now());
    let model = queries::update(&state.db, am).await?;
    let kind = match status {
        OrgStatus::Suspended => AuditKind::OrganizationSuspended,
        OrgStatus::Active => AuditKind::OrganizationReinstated,
    };
    let event = Event {
        org: Some(id),
        detail: format!("now {status}"),
        ..Event::by(caller)
    };
    audit::record(&state.db, kind, event).await?;
    // Suspension hides a supplier's products from the catalogue at once.
    state.cache.bump_generation("catalog").await;
    model.try_into()
}
