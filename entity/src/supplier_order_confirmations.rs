//! The `supplier_order_confirmations` table: when each supplier order was confirmed.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "supplier_order_confirmations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_order_id: String,
    pub confirmed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
