//! What the admin sees of the outbox: emails by status (the `failed` ones above all), and
//! sending a failed email back to the queue.
use super::queries;
use crate::auth::{Caller, Role};
use crate::domain::{OutboxId, OutboxStatus};
use crate::error::{AppError, AppResult};
use crate::services::{now, paginate, PageParams};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One email of the outbox (its body is not shown).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxEmail {
    pub id: OutboxId,
    /// Also its `Message-ID` (`<id@assist-market.local>`), the same on every attempt.
    #[schema(example = "buyer@example.org")]
    pub to: String,
    pub subject: String,
    pub status: OutboxStatus,
    /// Attempts so far (since the last retry by an admin).
    pub attempts: i32,
    /// The mail server's answer to the last attempt, when it failed.
    pub last_error: Option<String>,
    /// When a `pending` email is tried next.
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

crate::page_type!(OutboxPage, OutboxEmail);

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct OutboxFilter {
    /// Only emails in this state (`failed`: those given up on).
    pub status: Option<OutboxStatus>,
}

fn to_email(m: entity::outbox::Model) -> AppResult<OutboxEmail> {
    Ok(OutboxEmail {
        id: OutboxId(uuid::Uuid::parse_str(&m.id).map_err(AppError::internal)?),
        to: m.to_addr,
        subject: m.subject,
        status: OutboxStatus::parse(&m.status).ok_or_else(|| AppError::internal("stored outbox status unknown"))?,
        attempts: m.attempts,
        last_error: m.last_error,
        next_attempt_at: m.next_attempt_at,
        created_at: m.created_at,
        sent_at: m.sent_at,
    })
}

/// May `caller` read or act on the outbox? Admins only.
pub fn may_manage(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Admin])
}

/// Emails, newest first, one page.
pub async fn list(state: &AppState, caller: &Caller, f: &OutboxFilter, page: &PageParams) -> AppResult<OutboxPage> {
    may_manage(caller)?;
    let limit = page.limit()?;
    let cursor = page.cursor()?;
    let rows = queries::list(&state.db, f.status, cursor.as_deref(), limit + 1).await?;
    let (rows, next_cursor) = paginate(rows, limit, |m| m.id.clone());
    Ok(OutboxPage {
        items: rows.into_iter().map(to_email).collect::<AppResult<_>>()?,
        next_cursor,
    })
}

/// Sends a `failed` email back to `pending`, due now, its attempts from zero. 409 unless it is failed.
pub async fn retry(state: &AppState, caller: &Caller, id: OutboxId) -> AppResult<OutboxEmail> {
    may_manage(caller)?;
    let key = id.to_string();
    // The answer is the row as the retry left it: the worker may take it again at once.
    if let Some(m) = queries::retry(&state.db, &key, now()).await? {
        return to_email(m);
    }
    match queries::find(&state.db, &key).await? {
        None => Err(AppError::NotFound("email")),
        Some(m) => Err(AppError::Conflict(format!(
            "only a failed email can be retried; this one is {}",
            m.status
        ))),
    }
}
