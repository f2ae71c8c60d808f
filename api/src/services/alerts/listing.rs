//! Reading alerts: who sees which, the list with its filters, one alert, its history.
use super::evaluate::AlertReasonDetail;
use super::matching::MatchedBuyer;
use super::queries::{self, Scope};
use super::{stored, stored_opt, stored_qty};
use crate::auth::{Caller, Role};
use crate::domain::{
    AlertEventKind, AlertId, AlertLevel, AlertStatus, OrderId, OrgId, PledgeId, ProductCategory, ProductId, Quantity,
    UserId,
};
use crate::error::{AppError, AppResult};
use crate::services::{paginate, PageParams};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pledge {
    pub id: PledgeId,
    pub alert_id: AlertId,
    pub buyer_org_id: OrgId,
    pub quantity: Quantity,
    pub order_id: OrderId,
    pub created_at: DateTime<Utc>,
    /// Its order was cancelled or rejected: the pledge no longer counts in `pledged` (as it
    /// stands when read; a retried pledge replays the first answer, which said false).
    pub withdrawn: bool,
}

impl TryFrom<entity::pledges::Model> for Pledge {
    type Error = AppError;
    fn try_from(m: entity::pledges::Model) -> AppResult<Self> {
        Ok(Pledge {
            id: stored(&m.id, "pledge id")?,
            alert_id: stored(&m.alert_id, "alert id")?,
            buyer_org_id: stored(&m.buyer_org_id, "organisation id")?,
            quantity: stored_qty(m.quantity_milli, "pledge quantity")?,
            order_id: stored(&m.order_id, "order id")?,
            created_at: m.created_at,
            withdrawn: false,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alert {
    pub id: AlertId,
    pub product_id: ProductId,
    pub supplier_org_id: OrgId,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub category: ProductCategory,
    pub level: AlertLevel,
    pub reasons: Vec<AlertReasonDetail>,
    /// Available stock when the alert was opened or last raised.
    pub available: Quantity,
    /// Net accepted sales per day over the last 28 days.
    pub avg_daily_sales: Quantity,
    /// Null: infinite (stock and no sales in 28 days).
    pub days_of_cover: Option<i32>,
    pub days_to_expiry: Option<i32>,
    pub days_since_last_sale: Option<i32>,
    pub status: AlertStatus,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
    pub matched_buyers: Vec<MatchedBuyer>,
    pub pledges: Vec<Pledge>,
    /// Total pledged so far, leaving out pledges whose order was cancelled or rejected.
    pub pledged: Quantity,
}

crate::page_type!(AlertPage, Alert);

/// The alert as `scope` sees it. Admin and evaluators see all of it. Anyone else sees the
/// other matched buyers' reasons without their figures ([`MatchedBuyer::without_figures`]),
/// and a buyer sees its own pledges only; `pledged` stays the total of every buyer's pledges
/// that are not withdrawn.
fn to_alert(m: entity::alerts::Model, pledges: Vec<Pledge>, scope: &Scope) -> AppResult<Alert> {
    let pledged = Quantity::checked_sum(pledges.iter().filter(|p| !p.withdrawn).map(|p| p.quantity))
        .map_err(|e| AppError::Conflict(format!("the pledges on this alert add up past the bound: {e}")))?;
    let matched: Vec<MatchedBuyer> = serde_json::from_str(&m.matched_buyers).unwrap_or_default();
    let own = |org: &OrgId| match scope {
        Scope::All => true,
        Scope::Buyer(b) => *org == *b,
        Scope::Supplier(_) | Scope::County(_) => false,
    };
    let matched_buyers = matched
        .into_iter()
        .map(|b| if own(&b.org_id) { b } else { b.without_figures() })
        .collect();
    let pledges = own_pledges(pledges, scope);
    Ok(Alert {
        reasons: serde_json::from_str(&m.reasons).unwrap_or_default(),
        matched_buyers,
        id: stored(&m.id, "alert id")?,
        product_id: stored(&m.product_id, "product id")?,
        supplier_org_id: stored(&m.supplier_org_id, "organisation id")?,
        origin_region_code: m.origin_region_code,
        origin_county_code: m.origin_county_code,
        category: stored(&m.category, "category")?,
        level: stored(&m.level, "alert level")?,
        available: stored_qty(m.available_milli, "available")?,
        avg_daily_sales: stored_qty(m.avg_daily_sales_milli, "average daily sales")?,
        days_of_cover: m.days_of_cover,
        days_to_expiry: m.days_to_expiry,
        days_since_last_sale: m.days_since_last_sale,
        status: stored(&m.status, "alert status")?,
        opened_at: m.opened_at,
        updated_at: m.updated_at,
        acknowledged_at: m.acknowledged_at,
        resolved_at: m.resolved_at,
        resolution_note: m.resolution_note,
        pledges,
        pledged,
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertEvent {
    /// The event's id (a UUID).
    pub id: String,
    pub alert_id: AlertId,
    pub kind: AlertEventKind,
    pub from_level: Option<AlertLevel>,
    pub to_level: Option<AlertLevel>,
    /// Null for the scan.
    pub actor_user_id: Option<UserId>,
    pub actor_org_id: Option<OrgId>,
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

crate::page_type!(AlertEventPage, AlertEvent);

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    pub level: Option<AlertLevel>,
    /// Origin county code (6 digits).
    pub county: Option<String>,
    pub category: Option<ProductCategory>,
}

/// Which alerts the caller may see.
async fn scope(state: &AppState, caller: &Caller) -> AppResult<Scope> {
    Ok(match caller.role {
        Role::Admin | Role::Evaluator => Scope::All,
        Role::Supplier => Scope::Supplier(caller.org_id.to_string()),
        // A finance office is matched to no alert: it sees none.
        Role::Buyer | Role::Supervisor => Scope::Buyer(caller.org_id.to_string()),
        Role::Certifier => Scope::County(caller_county(state, caller).await?),
    })
}

/// The county of a county office's user (its organisation's region).
async fn caller_county(state: &AppState, caller: &Caller) -> AppResult<String> {
    let org = crate::services::organizations::find(&state.db, &caller.org_id.to_string()).await?;
    Ok(crate::services::regions::county_of(&state.db, &org.region_code)
        .await?
        .map(|r| r.code)
        .unwrap_or(org.region_code))
}

async fn pledges_of(conn: &impl ConnectionTrait, alert_ids: &[String]) -> AppResult<HashMap<String, Vec<Pledge>>> {
    let mut out: HashMap<String, Vec<Pledge>> = HashMap::new();
    let rows = queries::pledges_of(conn, alert_ids).await?;
    let orders: Vec<String> = rows.iter().map(|r| r.order_id.clone()).collect();
    let withdrawn = queries::cancelled_or_rejected(conn, &orders).await?;
    for r in rows {
        let gone = withdrawn.contains(&r.order_id);
        let mut p: Pledge = r.try_into()?;
        p.withdrawn = gone;
        out.entry(p.alert_id.to_string()).or_default().push(p);
    }
    Ok(out)
}

/// The pledges `scope` may see: a buyer its own, everyone else all of them.
pub(super) fn own_pledges(pledges: Vec<Pledge>, scope: &Scope) -> Vec<Pledge> {
    match scope {
        Scope::Buyer(b) => pledges.into_iter().filter(|p| p.buyer_org_id == *b).collect(),
        _ => pledges,
    }
}

/// The pledges on one alert.
pub(super) async fn pledges_on(conn: &impl ConnectionTrait, id: &str) -> AppResult<Vec<Pledge>> {
    let id = id.to_string();
    Ok(pledges_of(conn, std::slice::from_ref(&id))
        .await?
        .remove(&id)
        .unwrap_or_default())
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &AlertFilter,
    page: &PageParams,
) -> AppResult<(Vec<Alert>, Option<String>)> {
    let limit = page.limit()?;
    let cursor = page.cursor()?;
    if let Some(c) = &f.county {
        if c.len() != 6 || !c.chars().all(|ch| ch.is_ascii_digit()) {
            return Err(AppError::query_param("county", "must be a 6-digit county code"));
        }
    }
    let scope = scope(state, caller).await?;
    let db = &state.db;
    let rows = queries::find_alerts(db, &scope, f, cursor, limit).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut pledges = pledges_of(db, &ids).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let p = pledges.remove(&m.id).unwrap_or_default();
            to_alert(m, p, &scope)
        })
        .collect::<AppResult<_>>()?;
    Ok((items, next))
}

/// The alert if the caller may see it; 404 otherwise.
/// Whether the caller may see the alert (404 when not), checked before the query is read.
pub async fn may_see(state: &AppState, caller: &Caller, id: AlertId) -> AppResult<()> {
    visible(state, caller, id).await.map(drop)
}

pub(super) async fn visible(state: &AppState, caller: &Caller, id: AlertId) -> AppResult<entity::alerts::Model> {
    visible_in(state, caller, id).await.map(|(m, _)| m)
}

/// As [`visible`], with the scope the caller sees it in.
pub(super) async fn visible_in(
    state: &AppState,
    caller: &Caller,
    id: AlertId,
) -> AppResult<(entity::alerts::Model, Scope)> {
    let scope = scope(state, caller).await?;
    let m = queries::find_alert(&state.db, &scope, id)
        .await?
        .ok_or(AppError::NotFound("alert"))?;
    Ok((m, scope))
}

pub async fn get(state: &AppState, caller: &Caller, id: AlertId) -> AppResult<Alert> {
    let (m, scope) = visible_in(state, caller, id).await?;
    let p = pledges_on(&state.db, &m.id).await?;
    to_alert(m, p, &scope)
}

pub async fn events(state: &AppState, caller: &Caller, id: AlertId, page: &PageParams) -> AppResult<AlertEventPage> {
    let (_, scope) = visible_in(state, caller, id).await?;
    let pledges_of = match &scope {
        Scope::Buyer(org) => Some(org.as_str()),
        _ => None,
    };
    let limit = page.limit()?;
    let rows = queries::event_rows(&state.db, id, pledges_of, page.cursor()?, limit).await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(|e| {
            Ok(AlertEvent {
                alert_id: stored(&e.alert_id, "alert id")?,
                kind: stored(&e.kind, "event kind")?,
                from_level: stored_opt(e.from_level, "alert level")?,
                to_level: stored_opt(e.to_level, "alert level")?,
                actor_user_id: stored_opt(e.actor_user_id, "user id")?,
                actor_org_id: stored_opt(e.actor_org_id, "organisation id")?,
                id: e.id,
                note: e.note,
                occurred_at: e.occurred_at,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(AlertEventPage { items, next_cursor })
}
