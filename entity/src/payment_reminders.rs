//! The `payment_reminders` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "payment_reminders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_order_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub stage: String,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
