//! The `agreements` table: standing agreements (长期定向采购).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "agreements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    /// JSON array of `{product_id, quantity}`.
    pub lines: String,
    pub every: String,
    pub starts_on: Date,
    pub ends_on: Date,
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub deliver_to: String,
    pub status: String,
    pub created_by: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
