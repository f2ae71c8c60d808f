//! The `organizations` table.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
    pub contact_email: String,
    pub credit_code: String,
    pub parent_org_id: Option<String>,
    pub status: String,
    /// A supplier's size: `sme` or `large`.
    pub supplier_size: String,
    /// A buyer's payment days (NULL: the default).
    pub payment_days: Option<i32>,
    /// A budget unit (预算单位) files a yearly reserved-share plan.
    pub budget_unit: bool,
    /// The legal representative (法定代表人), compared by the `related_parties` fraud signal.
    pub legal_representative: Option<String>,
    /// A contact phone, also compared by `related_parties`.
    pub contact_phone: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
