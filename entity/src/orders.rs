//! The `orders` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub buyer_org_id: String,
    pub buyer_user_id: Option<String>,
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub deliver_to: String,
    pub requested_date: Date,
    pub total_fen: i64,
    pub source: String,
    pub source_ref: Option<String>,
    pub payment_terms: String,
    pub deliver_by: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
