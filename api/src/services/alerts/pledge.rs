//! A matched buyer pledges to buy part of the alerted product: a real order
//! through `place_order`, and a pledge row keyed by that order.
use super::listing::{pledges_on, visible, Pledge};
use super::queries::{self, NewEvent};
use super::stored;
use crate::auth::{Caller, Role};
use crate::domain::{AlertEventKind, AlertId, AlertStatus, CreditCategory, PairingId, PledgeId, Quantity};
use crate::error::{AppError, AppResult};
use crate::services::orders::{self, NewOrder, NewOrderLine, Order, OrderSource};
use crate::services::{now, today};
use crate::state::AppState;
use chrono::NaiveDate;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    /// How much of the product the buyer takes.
    pub quantity: Quantity,
    /// Delivery address (default: the buyer organisation's name).
    pub deliver_to: Option<String>,
    /// Default: three days from today.
    pub requested_date: Option<NaiveDate>,
    /// Default `purchase`.
    pub credit_category: Option<CreditCategory>,
    pub pairing_id: Option<PairingId>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeResult {
    pub pledge: Pledge,
    pub order: Order,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeList {
    pub items: Vec<Pledge>,
}

/// A buyer matched to the alert pledges a quantity: a real order through `place_order`.
pub async fn pledge(
    state: &AppState,
    caller: &Caller,
    alert_id: AlertId,
    body: NewPledge,
    key: &str,
) -> AppResult<(u16, PledgeResult)> {
    caller.require(&[Role::Buyer])?;
    let alert = visible(state, caller, alert_id).await?;
    if body.quantity.is_zero() {
        return Err(AppError::field("quantity", "must be greater than zero"));
    }
    let status: AlertStatus = stored(&alert.status, "alert status")?;
    if !status.is_unresolved() {
        return Err(AppError::Conflict(
            "the alert is resolved; order through POST /orders".into(),
        ));
    }
    let deliver_to = match body.deliver_to {
        Some(d) => d,
        None => {
            crate::services::organizations::find(&state.db, &caller.org_id.to_string())
                .await?
                .name
        }
    };
    let req = NewOrder {
        lines: vec![NewOrderLine {
            product_id: alert.product_id.clone(),
            quantity: body.quantity.to_decimal(),
        }],
        credit_category: body
            .credit_category
            .unwrap_or(CreditCategory::Purchase)
            .as_str()
            .to_string(),
        pairing_id: body.pairing_id.map(|p| p.to_string()),
        deliver_to,
        requested_date: body
            .requested_date
            .unwrap_or_else(|| today() + chrono::Duration::days(3)),
    };
    let placed = orders::place_order(
        state,
        caller,
        req,
        key,
        OrderSource::Pledge {
            alert_id: alert.id.clone(),
        },
    )
    .await?;
    let at = now();
    // The pledge row is keyed by its order: a replay or a retry after a crash adds nothing twice.
    let txn = state.db.begin().await?;
    let row = entity::pledges::Model {
        id: PledgeId::new().to_string(),
        alert_id: alert.id.clone(),
        buyer_org_id: caller.org_id.to_string(),
        buyer_user_id: Some(caller.user_id.to_string()),
        quantity_milli: body.quantity.minor(),
        order_id: placed.order.id.to_string(),
        created_at: at,
    };
    if queries::insert_pledge(&txn, row).await? {
        let event = NewEvent {
            alert_id,
            kind: AlertEventKind::Pledged,
            from: None,
            to: None,
            actor: Some(super::changes::actor(caller)),
            note: Some(format!("pledged {} (order {})", body.quantity, placed.order.id)),
        };
        queries::insert_events(&txn, vec![event], at).await?;
    }
    txn.commit().await?;
    let p = queries::pledge_of_order(&state.db, &placed.order.id.to_string())
        .await?
        .ok_or_else(|| AppError::internal("pledge missing after insert"))?;
    Ok((
        placed.status,
        PledgeResult {
            pledge: p.try_into()?,
            order: placed.order,
        },
    ))
}

pub async fn list_pledges(state: &AppState, caller: &Caller, alert_id: AlertId) -> AppResult<Vec<Pledge>> {
    let m = visible(state, caller, alert_id).await?;
    pledges_on(&state.db, &m.id).await
}
