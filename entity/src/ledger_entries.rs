//! The `ledger_entries` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub occurred_at: DateTimeUtc,
    pub year: i32,
    pub month: i32,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    pub product_id: String,
    pub category: String,
    pub supplier_order_id: String,
    pub order_line_id: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub origin_poverty_status: String,
    pub quantity_milli: i64,
    pub amount_fen: i64,
    pub kind: String,
    pub credit_category: String,
    /// The pairing the order named (part of the hashed canonical text).
    pub pairing_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
    /// The pairing the entry counts under, resolved when it was written (not hashed
    /// by the chain: see migration 070).
    pub credited_pairing_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
