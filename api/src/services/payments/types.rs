//! What a supplier order's terms look like from outside.
use crate::domain::{LateUnder, Money, PaymentTerms};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A supplier order's payment terms, its delivery deadline and what is invoiced and paid.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct SupplierOrderTerms {
    pub payment_terms: PaymentTerms,
    /// Days after delivery an on-account order is due.
    pub payment_days: i32,
    /// The buyer is a budget unit and the supplier an SME: the payment rules of
    /// 保障中小企业款项支付条例 apply (due within 30 days, at most 60).
    pub regulated: bool,
    /// The latest delivery date the buyer set.
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub deliver_by: Option<NaiveDate>,
    /// Not delivered by `deliver_by` (now, or when it was delivered).
    pub late: bool,
    /// When the lateness was recorded (kept for the supplier's scorecard).
    pub late_since: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub delivered_on: Option<NaiveDate>,
    /// When payment is due: on confirmation for `prepay`, `payment_days` after delivery for
    /// `on_account` (accepting late does not move it).
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub due_on: Option<NaiveDate>,
    pub invoiced: Money,
    pub paid: Money,
    /// Invoiced and not yet paid, but never more than the buyer owes: once accepted, what it
    /// accepted and kept (returns deducted), whatever was invoiced before.
    pub outstanding: Money,
    /// Paid beyond what the buyer owes (goods returned, or accepted in part, after paying):
    /// what the supplier is to pay back.
    // Always in answers; `default` reads back answers stored before it existed (an
    // idempotent replay of an order placed before the upgrade).
    #[serde(default)]
    #[schema(required = true)]
    pub refund_due: Money,
    /// Overdue today, and under what: the regulation or the contract.
    pub overdue_under: Option<LateUnder>,
}
