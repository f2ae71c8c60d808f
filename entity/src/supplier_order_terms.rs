//! The `supplier_order_terms` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "supplier_order_terms")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_order_id: String,
    pub payment_terms: String,
    pub payment_days: i32,
    pub regulated: bool,
    pub deliver_by: Option<Date>,
    pub delivered_on: Option<Date>,
    pub due_on: Option<Date>,
    pub invoiced_fen: i64,
    pub paid_fen: i64,
    pub late_at: Option<DateTimeUtc>,
    /// What the buyer owes in all: the order's amount, then once accepted what it accepted
    /// and kept (returns deducted). NULL only on an accepted order the service has not
    /// priced yet (migration `000270`).
    pub payable_fen: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
