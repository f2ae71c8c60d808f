//! The `ledger_entries` table: append-only; an entry's position (`seq`) is in `ledger_positions`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    /// Insertion order (orders the sequencer's scan only; not part of the leaf).
    #[sea_orm(primary_key)]
    pub ins: i64,
    pub id: String,
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
    /// The entry's seq in the hash chain it was migrated from, if any.
    pub legacy_seq: Option<i64>,
    /// The entry's hash in that chain.
    pub legacy_hash: Option<String>,
    pub leaf_version: i32,
    /// Hex SHA-256(0x00 || leaf bytes).
    pub leaf_hash: String,
    /// The pairing the entry counts under, resolved when it was written (in the leaf from
    /// format version 1).
    pub credited_pairing_id: Option<String>,
    /// The lot an accepted line was shipped from (leaf format version 2).
    pub lot_id: Option<String>,
    /// That lot's 合格证 number (leaf format version 2).
    pub compliance_certificate_number: Option<String>,
    /// The delivered weight in thousandths of a kg, for products sold by weight (version 2).
    pub weight_kg_milli: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
