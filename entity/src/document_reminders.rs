//! The `document_reminders` table: each reminder stage of a document version, once.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "document_reminders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub document_key: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub stage: String,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
