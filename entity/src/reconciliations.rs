//! The `reconciliations` table: yearly statements of a pairing, locked once both sides confirm.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "reconciliations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub pairing_id: String,
    pub year: i32,
    pub status: String,
    pub purchase_fen: i64,
    pub helped_sale_fen: i64,
    pub purchase_count: i64,
    pub helped_sale_count: i64,
    pub seq_from: i64,
    pub seq_to: i64,
    pub head_hash: String,
    pub previous_locked_id: Option<String>,
    pub adjustment_from_seq: Option<i64>,
    pub adjustment_purchase_fen: i64,
    pub adjustment_helped_sale_fen: i64,
    pub adjustment_count: i64,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub helper_confirmed_by: Option<String>,
    pub helper_confirmed_at: Option<DateTimeUtc>,
    pub county_confirmed_by: Option<String>,
    pub county_confirmed_at: Option<DateTimeUtc>,
    pub locked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
