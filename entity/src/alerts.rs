//! The `alerts` table: unsold-produce alerts, at most one open per product.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub product_id: String,
    pub supplier_org_id: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub category: String,
    pub level: String,
    pub level_rank: i32,
    pub status: String,
    pub reasons: String,
    pub available_milli: i64,
    pub avg_daily_sales_milli: i64,
    pub days_of_cover: Option<i32>,
    pub days_to_expiry: Option<i32>,
    pub days_since_last_sale: Option<i32>,
    pub matched_buyers: String,
    pub opened_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
