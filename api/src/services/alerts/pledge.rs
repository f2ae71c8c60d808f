//! A matched buyer pledges to buy part of the alerted product: a real order
//! through `place_order`, and a pledge row keyed by that order.
use super::listing::{own_pledges, pledges_on, visible, visible_in, Pledge};
use super::queries::{self, NewEvent};
use super::stored;
use crate::auth::{Caller, Role};
use crate::domain::{AlertEventKind, AlertId, AlertStatus, CreditCategory, PairingId, PledgeId, Quantity};
use crate::error::{AppError, AppResult};
use crate::services::orders::{self, IdempotencyKey, NewOrder, NewOrderLine, Order, OrderSource, Placed};
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
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
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
/// The order, the pledge row and its event commit in one transaction, or none of them.
/// A replay (same key and body) answers the first pledge and writes nothing.
/// Whether the caller may pledge on the alert (403 for other roles, 404 when it was not
/// matched to it), checked before the body is read: authorise, then validate.
pub async fn may_pledge(state: &AppState, caller: &Caller, id: AlertId) -> AppResult<()> {
    caller.require(&[Role::Buyer])?;
    visible(state, caller, id).await.map(drop)
}

pub async fn pledge(
    state: &AppState,
    caller: &Caller,
    alert_id: AlertId,
    body: NewPledge,
    key: &IdempotencyKey,
) -> AppResult<PledgeResult> {
    caller.require(&[Role::Buyer])?;
    let alert = visible(state, caller, alert_id).await?;
    if body.quantity.is_zero() {
        return Err(AppError::field("quantity", "must be greater than zero"));
    }
    // The key covers the pledge as sent, not the order with its defaults filled in.
    let sent = serde_json::to_string(&body).map_err(AppError::internal)?;
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
            product_id: stored(&alert.product_id, "alert product")?,
            quantity: body.quantity,
        }],
        credit_category: body.credit_category.unwrap_or(CreditCategory::Purchase),
        pairing_id: body.pairing_id,
        deliver_to,
        requested_date: body
            .requested_date
            .unwrap_or_else(|| today() + chrono::Duration::days(3)),
        payment_terms: None,
        deliver_by: None,
    };
    let purchaser = orders::Purchaser::of(caller)?;
    let source = OrderSource::Pledge { alert_id };
    let txn = state.db.begin().await?;
    let placed = async {
        let placed = orders::place_order_keyed(&txn, &purchaser, req, key, source, &sent)
            .await
            .map_err(pledge_fields)?;
        // A retry replays the first answer, even after the alert is resolved or the day has
        // passed; only a new pledge is refused for those.
        if !placed.is_replay() {
            // A buyer who pledged keeps seeing the alert after a raise re-ranks the matches;
            // a new pledge needs a match as it stands.
            if !queries::is_matched(&txn, &alert.id, &caller.org_id.to_string()).await? {
                return Err(AppError::Conflict(
                    "the buyer is no longer among those matched to the alert; order through POST /orders".into(),
                ));
            }
            // Read again in this transaction, held: the alert may have been resolved since.
            let status: AlertStatus = match queries::status_held(&txn, &alert.id).await? {
                Some(s) => stored(&s, "alert status")?,
                None => return Err(AppError::NotFound("alert")),
            };
            if !status.is_unresolved() {
                return Err(AppError::Conflict(
                    "the alert is resolved; order through POST /orders".into(),
                ));
            }
            if body.requested_date.is_some_and(|d| d < today()) {
                return Err(AppError::field("requested_date", "must not be in the past"));
            }
        }
        if let Placed::Created(order) = &placed {
            let at = now();
            let row = entity::pledges::Model {
                id: PledgeId::new().to_string(),
                alert_id: alert.id.clone(),
                buyer_org_id: caller.org_id.to_string(),
                buyer_user_id: Some(caller.user_id.to_string()),
                quantity_milli: body.quantity.minor(),
                order_id: order.id.to_string(),
                created_at: at,
            };
            if queries::insert_pledge(&txn, row).await? {
                let event = NewEvent {
                    alert_id,
                    kind: AlertEventKind::Pledged,
                    from: None,
                    to: None,
                    actor: Some(super::changes::actor(caller)),
                    note: Some(format!("pledged {} (order {})", body.quantity, order.id)),
                };
                queries::insert_events(&txn, vec![event], at).await?;
            }
        }
        Ok::<_, AppError>(placed)
    }
    .await;
    let placed = match placed {
        Ok(p) => p,
        Err(e) => {
            txn.rollback().await?;
            return Err(e);
        }
    };
    txn.commit().await?;
    if !placed.is_replay() {
        orders::stock_changed(state).await;
    }
    let order = placed.into_order();
    let p = queries::pledge_of_order(&state.db, &order.id.to_string())
        .await?
        .ok_or_else(|| AppError::internal("pledge missing after its order"))?;
    Ok(PledgeResult {
        pledge: p.try_into()?,
        order,
    })
}

pub async fn list_pledges(state: &AppState, caller: &Caller, alert_id: AlertId) -> AppResult<Vec<Pledge>> {
    let (m, scope) = visible_in(state, caller, alert_id).await?;
    Ok(own_pledges(pledges_on(&state.db, &m.id).await?, &scope))
}

/// The order's refusals named as the pledge's fields: its one line's quantity is the pledge's
/// `quantity` (fractional pieces, below the minimum, more than is available).
fn pledge_fields(e: AppError) -> AppError {
    let rename = |f: &str| match f {
        "lines[0].quantity" => "quantity".to_string(),
        other => other.to_string(),
    };
    match e {
        AppError::Validation { detail, errors } => AppError::Validation {
            detail: detail.replace("lines[0].quantity", "quantity"),
            errors: errors
                .into_iter()
                .map(|mut fe| {
                    fe.field = rename(&fe.field);
                    fe
                })
                .collect(),
        },
        other => other,
    }
}
