//! The audit log of security events: written by the services as they happen, never updated
//! or deleted (the database refuses it too: triggers on both backends), read by the admin.
use crate::auth::{Caller, Role};
use crate::domain::{AuditKind, OrgId, UserId};
use crate::error::{AppError, AppResult};
use crate::services::{new_id, now, paginate, stored, PageParams};
use crate::state::AppState;
use entity::audit_log;
use sea_orm::{ConnectionTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One event to record: who acted (`actor`), whom it concerned (`subject`), from which address.
#[derive(Debug, Default, Clone)]
pub struct Event {
    pub actor: Option<UserId>,
    pub subject: Option<UserId>,
    pub org: Option<OrgId>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub detail: String,
}

impl Event {
    /// An event caused by `caller`, from its address.
    pub fn by(caller: &Caller) -> Event {
        Event {
            actor: Some(caller.user()),
            address: Some(caller.addr.clone()).filter(|a| !a.is_empty()),
            ..Event::default()
        }
    }
}

/// Appends one event.
pub async fn record(db: &impl ConnectionTrait, kind: AuditKind, e: Event) -> AppResult<()> {
    let am = audit_log::ActiveModel {
        id: Set(new_id()),
        occurred_at: Set(now()),
        kind: Set(kind.as_str().to_string()),
        actor_user_id: Set(e.actor.map(|u| u.to_string())),
        subject_user_id: Set(e.subject.map(|u| u.to_string())),
        org_id: Set(e.org.map(|o| o.to_string())),
        email: Set(e.email),
        address: Set(e.address),
        detail: Set(e.detail),
    };
    Ok(super::queries::insert_audit(db, am).await?)
}

/// An entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Time-ordered: a later event has a greater id.
    pub id: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub kind: AuditKind,
    /// The user who acted (the admin who deactivated, the user who logged in).
    pub actor_user_id: Option<UserId>,
    /// The user the event concerns (the deactivated user, the account of a failed login).
    pub subject_user_id: Option<UserId>,
    pub org_id: Option<OrgId>,
    /// The email given at a login, known account or not.
    pub email: Option<String>,
    /// The client address of the request.
    pub address: Option<String>,
    pub detail: String,
}

crate::page_type!(AuditPage, AuditEntry);

/// `?kind=&user=&since=` of the audit log.
#[derive(Debug, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Only events of this kind.
    pub kind: Option<AuditKind>,
    /// Only events where this user acted or was acted upon.
    pub user: Option<UserId>,
    /// Only events at or after this time (RFC 3339, years 0001 to 9999).
    #[serde(default, deserialize_with = "crate::domain::day::de_opt_instant")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u64>,
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// 403 unless the caller is the admin.
pub fn may_read(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Admin])
}

/// The audit log, newest first.
pub async fn list(state: &AppState, caller: &Caller, f: &AuditFilter) -> AppResult<(Vec<AuditEntry>, Option<String>)> {
    may_read(caller)?;
    let page = PageParams {
        limit: f.limit,
        cursor: f.cursor.clone(),
    };
    let limit = page.limit()?;
    let rows = super::queries::audit_page(&state.db, f.kind, f.user, f.since, page.cursor()?, limit + 1).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let items = rows.into_iter().map(entry).collect::<AppResult<Vec<_>>>()?;
    Ok((items, next))
}

fn entry(m: audit_log::Model) -> AppResult<AuditEntry> {
    let id = |s: Option<String>| s.map(|v| stored(&v)).transpose();
    Ok(AuditEntry {
        kind: AuditKind::parse(&m.kind).ok_or_else(|| AppError::internal("stored audit kind is unknown"))?,
        actor_user_id: id(m.actor_user_id)?,
        subject_user_id: id(m.subject_user_id)?,
        org_id: m.org_id.map(|v| stored(&v)).transpose()?,
        id: m.id,
        occurred_at: m.occurred_at,
        email: m.email,
        address: m.address,
        detail: m.detail,
    })
}
