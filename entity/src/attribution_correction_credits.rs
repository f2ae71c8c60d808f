//! The `attribution_correction_credits` table: every credit an attribution correction wrote
//! (one, or one per member and the lead of a shared canteen), in the order written.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "attribution_correction_credits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub correction_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub entry_id: String,
    pub buyer_org_id: String,
    pub amount_fen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
