//! The `plans` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub buyer_org_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub status: String,
    pub declaration: Option<String>,
    pub food_budget_fen: Option<i64>,
    pub reserved_share_ppm: Option<i64>,
    pub explanation: Option<String>,
    pub lead_org_id: Option<String>,
    pub contractor_org_id: Option<String>,
    pub members: String,
    pub late: bool,
    pub below_floor: bool,
    pub amendment_reason: Option<String>,
    pub return_reason: Option<String>,
    pub filed_at: Option<DateTimeUtc>,
    pub approved_at: Option<DateTimeUtc>,
    pub approved_target_fen: Option<i64>,
    pub approved_budget_fen: Option<i64>,
    pub approved_share_ppm: Option<i64>,
    /// The lead named by the last approved content of a shared canteen's member: the lead
    /// whose approved plan sets its approved target (`lead_org_id` is the current content's).
    pub approved_lead_org_id: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
