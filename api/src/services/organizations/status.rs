//! Suspending and reinstating an organisation.
use super::{queries, Organization};
use crate::auth::{Caller, Role};
use crate::domain::{AuditKind, OrgId, OrgKind, OrgStatus};
use crate::error::{AppError, AppResult};
use crate::services::accounts::audit::{self, Event};
use crate::services::now;
use crate::state::AppState;
use sea_orm::TransactionTrait;

pub async fn set_status(state: &AppState, caller: &Caller, id: OrgId, status: OrgStatus) -> AppResult<Organization> {
    caller.require(&[Role::Admin])?;
    let org = super::find(&state.db, id).await?;
    if super::kind_of(&org)? == OrgKind::Platform && status == OrgStatus::Suspended {
        return Err(AppError::Conflict(
            "the platform organisation cannot be suspended".into(),
        ));
    }
    let from = super::status_of(&org)?;
    if from == status {
        return Err(AppError::Conflict(format!("the organisation is already {status}")));
    }
    // No supplier is active with an expired licence: recording the renewal reinstates it.
    if status == OrgStatus::Active {
        if let Some(why) = crate::services::documents::expired_licence(&state.db, &org.id).await? {
            return Err(AppError::Conflict(format!(
                "the organisation cannot be reinstated: {why}; record its renewal \
                 (POST /suppliers/{id}/documents) first"
            )));
        }
    }
    // A conditional change (the documents pass may have suspended it since it was read), and
    // the status is the admin's from then on: a licence renewal lifts only the documents
    // pass's own suspensions, never the admin's (services::documents::admin_decided).
    let txn = state.db.begin().await?;
    if queries::set_status_if(&txn, &org.id, from, status, now()).await? != 1 {
        return Err(AppError::Conflict(
            "the organisation's status changed meanwhile; read it again".into(),
        ));
    }
    crate::services::documents::admin_decided(&txn, &org.id).await?;
    let model = super::find(&txn, id).await?;
    let kind = match status {
        OrgStatus::Suspended => AuditKind::OrganizationSuspended,
        OrgStatus::Active => AuditKind::OrganizationReinstated,
    };
    let event = Event {
        org: Some(id),
        detail: format!("now {status}"),
        ..Event::by(caller)
    };
    audit::record(&txn, kind, event).await?;
    txn.commit().await?;
    // Suspension hides a supplier's products from the catalogue at once.
    state.cache.bump_generation("catalog").await;
    model.try_into()
}
