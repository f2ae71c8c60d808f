//! The `supplier_ratings` table: one rating per accepted supplier order.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "supplier_ratings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_order_id: String,
    pub supplier_org_id: String,
    pub buyer_org_id: String,
    pub score: i32,
    pub comment: String,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
