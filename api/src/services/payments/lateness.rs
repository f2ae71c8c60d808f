//! Lateness kept for a supplier's scorecard. The view `supplier_order_lateness` (migration
//! `m20261201_000160_delivered_late`) has one row per supplier order: `supplier_order_id`,
//! `supplier_org_id`, `buyer_org_id`, `deliver_by`, `delivered_on`, `late_at` (when it was
//! flagged late, before or at delivery) and `delivered_late` (boolean: delivered after its
//! `deliver_by`; false while not delivered or without a deadline). Query it in SQL, or
//! through the two functions here.
use super::queries;
use crate::error::AppResult;
use crate::services::credit::Ratio;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A supplier's record against its buyers' latest delivery dates.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct Lateness {
    /// Supplier orders that carry a `deliver_by`.
    pub with_deadline: u64,
    /// Of those, delivered.
    pub delivered: u64,
    /// Of those delivered, after their `deliver_by`.
    pub delivered_late: u64,
    /// Flagged late (not delivered by `deliver_by`), delivered since or not.
    pub flagged_late: u64,
    /// `delivered_late / delivered` (null before any delivery).
    pub late_ratio: Option<Ratio>,
}

/// The lateness record of the supplier organisation `supplier`.
pub async fn lateness_of_supplier(conn: &impl ConnectionTrait, supplier: &str) -> AppResult<Lateness> {
    let r = queries::lateness_of(conn, supplier).await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Lateness {
        with_deadline: n(r.with_deadline),
        delivered: n(r.delivered),
        delivered_late: n(r.delivered_late),
        flagged_late: n(r.flagged_late),
        late_ratio: (r.delivered > 0).then(|| Ratio::of(r.delivered_late, r.delivered)),
    })
}

/// Whether each supplier order of `ids` was delivered after its `deliver_by`.
pub async fn delivered_late(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<HashMap<String, bool>> {
    queries::delivered_late_of(conn, ids).await
}
