//! The `products` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub supplier_org_id: String,
    pub name: String,
    pub category: String,
    pub unit: String,
    pub price_fen: i64,
    pub min_order_qty_milli: i64,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub description: String,
    pub shelf_life_days: Option<i32>,
    pub supply_capacity_per_month_milli: Option<i64>,
    pub certificates: String,
    pub poor_households_linked: i32,
    pub benefit_mechanism: String,
    pub search_text: String,
    pub status: String,
    pub certificate_number: Option<String>,
    pub certified_by: Option<String>,
    pub certified_at: Option<DateTimeUtc>,
    pub valid_until: Option<Date>,
    pub reserved_milli: i64,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The certifier's setting for this product (NULL: its category's).
    pub requires_compliance_certificate: Option<bool>,
    /// The effective requirement of a 合格证 per lot (kept in step by the compliance service).
    pub compliance_certificate_required: bool,
    pub sale_mode: String,
    pub nominal_weight_milli: Option<i64>,
    pub weight_tolerance_pct: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
