//! A product's history: one row per status change, with the computed expiry last.
use super::access::visible;
use super::{effective_status, queries, stored};
use crate::auth::Caller;
use crate::domain::{OrgId, ProductId, ProductStatus, UserId};
use crate::error::AppResult;
use crate::services::{new_id, now, paginate, PageParams};
use crate::state::AppState;
use entity::product_events;
use sea_orm::{ConnectionTrait, Set};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductEvent {
    /// Opaque: the computed expiry event has the id `{product_id}-expired`.
    pub id: String,
    pub product_id: ProductId,
    pub from_status: Option<ProductStatus>,
    pub to_status: ProductStatus,
    pub actor_user_id: Option<UserId>,
    pub actor_org_id: Option<OrgId>,
    pub reason: Option<String>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(ProductEventPage, ProductEvent);

pub(super) async fn record_event(
    conn: &impl ConnectionTrait,
    product_id: &str,
    from: Option<ProductStatus>,
    to: ProductStatus,
    caller: Option<&Caller>,
    reason: Option<&str>,
) -> AppResult<()> {
    queries::insert_event(
        conn,
        product_events::ActiveModel {
            id: Set(new_id()),
            product_id: Set(product_id.to_string()),
            from_status: Set(from.map(|s| s.as_str().to_string())),
            to_status: Set(to.as_str().to_string()),
            actor_user_id: Set(caller.map(|c| c.user_id.to_string())),
            actor_org_id: Set(caller.map(|c| c.org_id.to_string())),
            reason: Set(reason.map(str::to_string)),
            occurred_at: Set(now()),
        },
    )
    .await
}

fn from_row(e: product_events::Model) -> AppResult<ProductEvent> {
    Ok(ProductEvent {
        product_id: stored("product id", &e.product_id)?,
        from_status: e.from_status.as_deref().map(|s| stored("status", s)).transpose()?,
        to_status: stored("status", &e.to_status)?,
        actor_user_id: e.actor_user_id.as_deref().map(|s| stored("user id", s)).transpose()?,
        actor_org_id: e
            .actor_org_id
            .as_deref()
            .map(|s| stored("organisation id", s))
            .transpose()?,
        id: e.id,
        reason: e.reason,
        occurred_at: e.occurred_at,
    })
}

pub async fn events(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    page: &PageParams,
) -> AppResult<(Vec<ProductEvent>, Option<String>)> {
    let p = visible(&state.db, caller, id).await?;
    let limit = page.limit()?;
    let rows = queries::events_page(&state.db, &p.id, page.cursor()?, limit).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let mut items = rows.into_iter().map(from_row).collect::<AppResult<Vec<_>>>()?;
    // Expiry is computed, not written: show it as the last event once it happened.
    if next.is_none() && effective_status(&p)? == ProductStatus::Expired {
        if let Some(v) = p.valid_until {
            // The certificate lapses at the business day's end (local midnight).
            let at = v
                .succ_opt()
                .and_then(crate::services::clock::start_of)
                .unwrap_or(p.updated_at);
            items.push(ProductEvent {
                id: format!("{}-expired", p.id),
                product_id: id,
                from_status: Some(ProductStatus::Certified),
                to_status: ProductStatus::Expired,
                actor_user_id: None,
                actor_org_id: None,
                reason: Some(format!("certification valid until {v}")),
                occurred_at: at,
            });
        }
    }
    Ok((items, next))
}
