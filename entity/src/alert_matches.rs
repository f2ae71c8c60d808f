//! The `alert_matches` table: the buyers an alert was matched to (the relation
//! behind a buyer's view of alerts; the alert's `matched_buyers` JSON keeps the
//! names and reasons shown in the response).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "alert_matches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub alert_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub buyer_org_id: String,
    /// 1 is approached first.
    pub match_rank: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
