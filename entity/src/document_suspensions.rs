//! The `document_suspensions` table: suppliers suspended because a licence expired.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "document_suspensions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_org_id: String,
    pub document_key: String,
    pub suspended_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
