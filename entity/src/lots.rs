//! The `lots` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub product_id: String,
    pub quantity_milli: i64,
    pub remaining_milli: i64,
    pub harvested_on: Option<Date>,
    pub best_before: Date,
    pub created_at: DateTimeUtc,
    /// The 合格证 of the batch (number, issuer, date, optional trace code and URL).
    pub cc_number: Option<String>,
    pub cc_issuer: Option<String>,
    pub cc_issued_on: Option<Date>,
    pub cc_trace_code: Option<String>,
    pub cc_url: Option<String>,
    pub cc_recorded_at: Option<DateTimeUtc>,
    /// The product requires a certificate and the lot has none: not available stock.
    pub uncertified_batch: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
