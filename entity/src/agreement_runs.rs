//! The `agreement_runs` table: one row per agreement and period.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "agreement_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub agreement_id: String,
    pub period: String,
    /// placed | shortfall
    pub status: String,
    pub order_id: Option<String>,
    /// JSON array of `{product_id, requested, available}` when stock was short.
    pub shortfall: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
