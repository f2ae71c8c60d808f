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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
