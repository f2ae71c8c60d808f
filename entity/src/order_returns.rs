//! The `order_returns` table: returned quantities after acceptance.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "order_returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub supplier_order_id: String,
    /// The return (one request, one or more lines) this line belongs to.
    pub return_id: Option<String>,
    pub order_line_id: String,
    pub quantity_milli: i64,
    pub amount_fen: i64,
    pub reason: String,
    pub ledger_seq: Option<i64>,
    /// The id of the reversal's ledger entry (rows written before migration 141 have none).
    pub ledger_entry_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
