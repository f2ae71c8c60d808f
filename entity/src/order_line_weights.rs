//! The `order_line_weights` table: the weighed side of an order line of a product sold
//! `pieces_by_weight` (nominal weight and tolerance copied at placement, the actual weight
//! and its amount recorded at acceptance).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "order_line_weights")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub order_line_id: String,
    pub supplier_order_id: String,
    pub nominal_weight_milli: i64,
    pub weight_tolerance_pct: i32,
    pub actual_weight_milli: Option<i64>,
    pub actual_amount_fen: Option<i64>,
    pub deviation_accepted: bool,
    pub weighed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
