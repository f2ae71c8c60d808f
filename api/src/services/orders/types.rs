//! What orders take and give: requests, responses, where an order came from,
//! what placing it did, who buys, and the idempotency key.
use crate::domain::{
    AgreementId, AlertId, CreditCategory, Money, OrderId, OrderLineId, OrderStatus, OrgId, PairingId, PaymentTerms,
    ProductId, Quantity, SupplierOrderId, SupplierOrderStatus, UserId,
};
use crate::error::{AppError, AppResult};
use crate::services::payments::SupplierOrderTerms;
use crate::services::weight::{LineWeight, WeighedTotal};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub lines: Vec<NewOrderLine>,
    pub credit_category: CreditCategory,
    pub pairing_id: Option<PairingId>,
    pub deliver_to: String,
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub requested_date: chrono::NaiveDate,
    /// `prepay` or `on_account` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<PaymentTerms>,
    /// The latest delivery date: on or after `requested_date`, not in the past.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::domain::day::de_opt")]
    pub deliver_by: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct OrderLine {
    pub id: OrderLineId,
    pub product_id: ProductId,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub amount: Money,
    pub accepted_quantity: Option<Quantity>,
    pub returned_quantity: Quantity,
    /// For a product sold `pieces_by_weight` (then `unit_price` is per kg and `amount` the
    /// estimate from the nominal weight): the estimate and the actual weight and amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<LineWeight>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct SupplierOrder {
    pub id: SupplierOrderId,
    pub order_id: OrderId,
    pub buyer_org_id: OrgId,
    pub supplier_org_id: OrgId,
    pub status: SupplierOrderStatus,
    pub total: Money,
    pub lines: Vec<OrderLine>,
    pub shipment_note: Option<String>,
    pub invoice_number: Option<String>,
    pub acceptance_note: Option<String>,
    pub status_note: Option<String>,
    /// Payment terms, delivery deadline, invoiced and paid amounts.
    pub payment: Option<SupplierOrderTerms>,
    /// The lots each line was shipped from, with their 合格证 (empty until shipped).
    #[serde(default)]
    pub shipped_lots: Vec<crate::services::compliance::ShippedLot>,
    /// Estimated and actual amounts of its lines sold `pieces_by_weight` (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighed: Option<WeighedTotal>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Order {
    pub id: OrderId,
    pub buyer_org_id: OrgId,
    /// Derived from the supplier orders.
    pub status: OrderStatus,
    pub credit_category: CreditCategory,
    pub pairing_id: Option<PairingId>,
    pub deliver_to: String,
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub requested_date: chrono::NaiveDate,
    pub payment_terms: PaymentTerms,
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub deliver_by: Option<chrono::NaiveDate>,
    pub total: Money,
    pub supplier_orders: Vec<SupplierOrder>,
    /// Estimated and actual amounts of its lines sold `pieces_by_weight` (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighed: Option<WeighedTotal>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Where an order came from (stored in `orders.source` / `orders.source_ref`).
#[derive(Debug, Clone)]
pub enum OrderSource {
    Direct,
    /// A standing agreement's period, e.g. ("agreement id", "2026-11-01").
    Agreement {
        agreement_id: AgreementId,
        period: String,
    },
    /// A pledge on an unsold-produce alert.
    Pledge {
        alert_id: AlertId,
    },
}

impl OrderSource {
    /// `(orders.source, orders.source_ref)`.
    pub(super) fn stored(&self) -> (&'static str, Option<String>) {
        match self {
            OrderSource::Direct => ("direct", None),
            OrderSource::Agreement { agreement_id, period } => ("agreement", Some(format!("{agreement_id}:{period}"))),
            OrderSource::Pledge { alert_id } => ("pledge", Some(alert_id.to_string())),
        }
    }
}

/// What `place_order` did: wrote a new order, or found the one this key already made.
#[derive(Debug, Clone)]
pub enum Placed {
    Created(Order),
    /// The same key and body were placed before: the first order, as it was answered.
    Replayed(Order),
}

impl Placed {
    pub fn order(&self) -> &Order {
        match self {
            Placed::Created(o) | Placed::Replayed(o) => o,
        }
    }

    pub fn into_order(self) -> Order {
        match self {
            Placed::Created(o) | Placed::Replayed(o) => o,
        }
    }

    pub fn is_replay(&self) -> bool {
        matches!(self, Placed::Replayed(_))
    }
}

/// Who an order is placed for: the buying organisation, and the user when there is one
/// (a standing agreement's order is placed by the generator on behalf of the buyer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchaser {
    pub org_id: OrgId,
    pub user_id: Option<UserId>,
}

impl Purchaser {
    /// The caller's organisation and user (the caller's role is checked by whoever asks).
    pub fn of(caller: &crate::auth::Caller) -> AppResult<Purchaser> {
        Ok(Purchaser {
            org_id: caller.org_id,
            user_id: Some(caller.user_id),
        })
    }
}

/// An `Idempotency-Key`: 1 to 255 characters once trimmed. Checked once, where it enters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> AppResult<Self> {
        let key = s.trim();
        if key.is_empty() || key.len() > 255 {
            return Err(AppError::BadRequest(
                "Idempotency-Key must be 1 to 255 characters".into(),
            ));
        }
        Ok(IdempotencyKey(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
