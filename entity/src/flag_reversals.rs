//! The `flag_reversals` table: the reversal entry a confirmed flag appended for each entry it names.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "flag_reversals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub flag_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub entry_id: String,
    pub reversal_entry_id: String,
    pub amount_fen: i64,
    pub reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
