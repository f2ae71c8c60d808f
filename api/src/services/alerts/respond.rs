//! The response of the county office (or the admin): acknowledge, resolve.
use super::changes::{actor, resolve_alert};
use super::listing::{get, visible, Alert};
use super::queries::{self, NewEvent};
use super::stored;
use crate::auth::{Caller, Role};
use crate::domain::{AlertEventKind, AlertId, AlertStatus};
use crate::error::{AppError, AppResult};
use crate::services::{now, required_text};
use crate::state::AppState;
use sea_orm::TransactionTrait;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAction {
    /// What was done or decided (required, up to 2000 characters).
    pub note: String,
}

/// Whether the caller may acknowledge or resolve the alert (403 for other roles, 404 when it
/// cannot see it), checked before the body is read: authorise, then validate.
pub async fn may_act(state: &AppState, caller: &Caller, id: AlertId) -> AppResult<()> {
    caller.require(&[Role::Admin, Role::Certifier])?;
    visible(state, caller, id).await.map(drop)
}

/// Moves the alert to `to` (`acknowledged` or `resolved`) by the county office of
/// the origin county, or the admin.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    id: AlertId,
    to: AlertStatus,
    body: AlertAction,
) -> AppResult<Alert> {
    caller.require(&[Role::Admin, Role::Certifier])?;
    let m = visible(state, caller, id).await?;
    let mut errors = Vec::new();
    required_text(&mut errors, "note", &body.note, 2000);
    AppError::check(errors)?;
    let note = body.note.trim().to_string();
    let current: AlertStatus = stored(&m.status, "alert status")?;
    let at = now();
    let txn = state.db.begin().await?;
    match to {
        AlertStatus::Acknowledged => {
            if !queries::acknowledge(&txn, id, caller.user_id.to_string(), at).await? {
                return Err(AppError::Conflict(format!(
                    "only an open alert can be acknowledged; this one is {current}"
                )));
            }
            let event = NewEvent {
                alert_id: id,
                kind: AlertEventKind::Acknowledged,
                from: None,
                to: None,
                actor: Some(actor(caller)),
                note: Some(note),
            };
            queries::insert_events(&txn, vec![event], at).await?;
        }
        AlertStatus::Resolved => {
            if !resolve_alert(&txn, id, Some(caller), &note, queries::Weighed::MadeBy(at), at).await? {
                return Err(AppError::Conflict("the alert is already resolved".into()));
            }
        }
        AlertStatus::Open => {
            return Err(AppError::Conflict("an alert is reopened only by the scan".into()));
        }
    }
    txn.commit().await?;
    get(state, caller, id).await
}
