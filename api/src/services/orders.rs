//! Bulk orders. (Contract stub: the orders work fills in `place_order` and the rest.)
//!
//! `place_order` is the one path that creates orders: `POST /orders`, standing
//! agreements and alert pledges all call it, so validation, stock reservation
//! and idempotency are the same everywhere.
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    pub product_id: String,
    /// Decimal string, up to three places.
    #[schema(value_type = String, example = "100.5")]
    pub quantity: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub lines: Vec<NewOrderLine>,
    /// purchase | helped_sale
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub deliver_to: String,
    pub requested_date: chrono::NaiveDate,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct OrderLine {
    pub id: String,
    pub product_id: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[schema(value_type = Option<String>)]
    pub accepted_quantity: Option<Decimal>,
    #[schema(value_type = String)]
    pub returned_quantity: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct SupplierOrder {
    pub id: String,
    pub order_id: String,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    /// placed | confirmed | shipped | delivered | accepted | rejected | cancelled
    pub status: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub lines: Vec<OrderLine>,
    pub shipment_note: Option<String>,
    pub invoice_number: Option<String>,
    pub acceptance_note: Option<String>,
    pub status_note: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Order {
    pub id: String,
    pub buyer_org_id: String,
    /// placed | in_progress | completed | cancelled (derived from the supplier orders)
    pub status: String,
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub deliver_to: String,
    pub requested_date: chrono::NaiveDate,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub supplier_orders: Vec<SupplierOrder>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Where an order came from (stored in `orders.source` / `orders.source_ref`).
#[derive(Debug, Clone)]
pub enum OrderSource {
    Direct,
    /// A standing agreement's period, e.g. ("agreement id", "2026-11").
    Agreement {
        agreement_id: String,
        period: String,
    },
    /// A pledge on an unsold-produce alert.
    Pledge {
        alert_id: String,
    },
}

/// The outcome of `place_order`: the HTTP status to answer with (201 first time,
/// the stored status on a replay) and the order.
#[derive(Debug, Clone)]
pub struct Placed {
    pub status: u16,
    pub order: Order,
    /// True when this is a replay of an earlier request with the same key.
    pub replayed: bool,
}

/// Validates, reserves stock and writes the order with its idempotency key in one transaction.
pub async fn place_order(
    _state: &AppState,
    _caller: &Caller,
    _req: NewOrder,
    _idempotency_key: &str,
    _source: OrderSource,
) -> AppResult<Placed> {
    Err(AppError::Unavailable("ordering is not available yet".into()))
}
