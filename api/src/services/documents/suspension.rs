//! Suspending a supplier whose licence expired, and reinstating it once a new licence is
//! recorded. The organisation's status is the existing suspension (its users cannot log in,
//! its products leave the catalogue); `document_suspensions` remembers which suspensions
//! the documents pass made, so that only those are lifted by a renewal.
use super::queries;
use super::tracked::{current, licence_key};
use crate::domain::{AuditKind, DocumentStage, OrgId, OrgStatus};
use crate::error::AppResult;
use crate::services::accounts::audit::{self, Event};
use crate::services::{now, stored, today};
use sea_orm::ConnectionTrait;

async fn audit(conn: &impl ConnectionTrait, org: &str, kind: AuditKind, detail: String) -> AppResult<()> {
    let org: OrgId = stored(org)?;
    let event = Event {
        org: Some(org),
        detail,
        ..Event::default()
    };
    audit::record(conn, kind, event).await
}

/// Suspends the active supplier `org` for the expired document `key`. False when it was
/// not active (already suspended by an admin: that suspension stays the admin's).
pub(super) async fn suspend(conn: &impl ConnectionTrait, org: &str, key: &str, what: &str) -> AppResult<bool> {
    let t = now();
    if queries::set_org_status(conn, org, OrgStatus::Active, OrgStatus::Suspended, t).await? != 1 {
        return Ok(false);
    }
    queries::insert_suspension(conn, org, key, t).await?;
    audit(conn, org, AuditKind::OrganizationSuspended, format!("{what} expired")).await?;
    Ok(true)
}

/// Reinstates `org` when the documents pass suspended it and none of its current licences
/// has expired any more (a new one of each expired kind was recorded). True when it did.
pub(super) async fn reinstate_if_renewed(conn: &impl ConnectionTrait, org: &str) -> AppResult<bool> {
    // After any expiry the documents pass is deciding for this supplier (see `run::step`).
    queries::lock_org(conn, org).await?;
    if queries::suspensions(conn, Some(org)).await?.is_empty() {
        return Ok(false);
    }
    let keys: Vec<String> = current(queries::licences(conn, Some(org)).await?)
        .iter()
        .map(|m| licence_key(&m.id))
        .collect();
    if !queries::reached(conn, &keys, DocumentStage::Expired).await?.is_empty() {
        return Ok(false);
    }
    if queries::delete_suspension(conn, org).await? != 1 {
        return Ok(false);
    }
    queries::set_org_status(conn, org, OrgStatus::Suspended, OrgStatus::Active, now()).await?;
    audit(
        conn,
        org,
        AuditKind::OrganizationReinstated,
        "a new licence was recorded".into(),
    )
    .await?;
    Ok(true)
}

/// Every supplier the documents pass suspended (for its sweep).
pub(super) async fn suspended(conn: &impl ConnectionTrait) -> AppResult<Vec<String>> {
    Ok(queries::suspensions(conn, None)
        .await?
        .into_iter()
        .map(|s| s.supplier_org_id)
        .collect())
}

/// An admin suspended or reinstated `org` by hand: the status is the admin's from now on, and
/// no later licence renewal lifts it (the documents pass's suspension, if any, is forgotten).
pub async fn admin_decided(conn: &impl ConnectionTrait, org: &str) -> AppResult<()> {
    queries::delete_suspension(conn, org).await.map(drop)
}

/// The first of `org`'s current licences past its last valid day, described ("its food trade
/// licence JY… expired on …"); `None` when every current licence is valid. An organisation with
/// an expired licence is not reinstated by hand: a renewal recorded for it does that (and
/// lifts the documents pass's suspension, if it made one), whether or not the pass has run
/// since the licence expired.
pub async fn expired_licence(conn: &impl ConnectionTrait, org: &str) -> AppResult<Option<String>> {
    let day = today();
    Ok(current(queries::licences(conn, Some(org)).await?)
        .into_iter()
        .find(|m| m.valid_until < day)
        .map(|m| {
            format!(
                "its {} {} expired on {}",
                m.kind.replace('_', " "),
                m.number,
                m.valid_until
            )
        }))
}
