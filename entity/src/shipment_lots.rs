//! The `shipment_lots` table: which lots each line of a supplier order shipped.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "shipment_lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub supplier_order_id: String,
    pub order_line_id: String,
    pub lot_id: String,
    pub quantity_milli: i64,
    /// What the buyer accepted of it (set at acceptance).
    pub accepted_milli: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
