//! The `order_lines` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub order_id: String,
    pub supplier_order_id: String,
    pub product_id: String,
    pub quantity_milli: i64,
    pub unit_price_fen: i64,
    pub amount_fen: i64,
    pub accepted_quantity_milli: Option<i64>,
    pub returned_quantity_milli: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
