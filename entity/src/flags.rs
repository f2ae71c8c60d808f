//! The `flags` table: fraud signals, one per (kind, evidence key); never deleted.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "flags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub kind: String,
    pub evidence_key: String,
    /// JSON: the ids and figures behind the flag.
    pub evidence: String,
    pub buyer_org_id: Option<String>,
    pub supplier_org_id: Option<String>,
    pub year: i32,
    pub state: String,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    pub raised_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
