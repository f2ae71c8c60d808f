//! Standing agreements (长期定向采购): a buyer proposes lines and a period, the supplier
//! approves, and the generator places each due period's order through `orders::place_order`
//! with the key `agreement:{id}:{period}`, so a period yields one order however many
//! generators run. The period's run row and its order commit together. Short stock
//! records a shortfall on the period's run and emails the buyer.
mod create;
mod manage;
mod queries;
mod run;

pub use create::create;
pub use manage::{approve, cancel, get, list, may_list};
pub use run::{due_periods, run_due, run_now};

use crate::domain::{
    AgreementId, AgreementPeriod, AgreementRunStatus, AgreementStatus, CreditCategory, OrderId, OrgId, PairingId,
    ProductId, Quantity,
};
use crate::error::{AppError, AppResult};
use crate::services::stored;
use entity::{agreement_runs, agreements};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgreementLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreement {
    pub supplier_org_id: OrgId,
    pub lines: Vec<AgreementLine>,
    pub every: AgreementPeriod,
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub starts_on: chrono::NaiveDate,
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub ends_on: chrono::NaiveDate,
    /// Defaults to purchase.
    pub credit_category: Option<CreditCategory>,
    pub pairing_id: Option<PairingId>,
    /// Defaults to the buyer organisation's name.
    pub deliver_to: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AgreementRun {
    /// The period's first day.
    pub period: String,
    pub status: AgreementRunStatus,
    pub order_id: Option<OrderId>,
    /// Why the period's order could not be placed (stock short, product no longer orderable).
    pub shortfall: Option<Vec<Shortfall>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One reason a period's order could not be placed (the field of the order it concerns).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Shortfall {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agreement {
    pub id: AgreementId,
    pub buyer_org_id: OrgId,
    pub supplier_org_id: OrgId,
    pub lines: Vec<AgreementLine>,
    pub every: AgreementPeriod,
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
    pub credit_category: CreditCategory,
    pub pairing_id: Option<PairingId>,
    pub deliver_to: String,
    pub status: AgreementStatus,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub runs: Vec<AgreementRun>,
}

crate::page_type!(AgreementPage, Agreement);

#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct RunSummary {
    /// Orders placed by this run.
    pub placed: u32,
    /// Periods recorded as short by this run.
    pub shortfalls: u32,
    /// Periods another run had already handled.
    pub skipped: u32,
}

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct AgreementFilter {
    pub status: Option<AgreementStatus>,
}

fn to_run(m: agreement_runs::Model) -> AppResult<AgreementRun> {
    Ok(AgreementRun {
        status: stored(&m.status)?,
        order_id: m.order_id.as_deref().map(stored).transpose()?,
        shortfall: m.shortfall.and_then(|s| serde_json::from_str(&s).ok()),
        period: m.period,
        created_at: m.created_at,
    })
}

/// The lines stored with an agreement.
fn lines_of(m: &agreements::Model) -> AppResult<Vec<AgreementLine>> {
    serde_json::from_str(&m.lines).map_err(AppError::internal)
}

fn to_agreement(m: agreements::Model, runs: Vec<agreement_runs::Model>) -> AppResult<Agreement> {
    Ok(Agreement {
        lines: lines_of(&m)?,
        id: stored(&m.id)?,
        buyer_org_id: stored(&m.buyer_org_id)?,
        supplier_org_id: stored(&m.supplier_org_id)?,
        every: stored(&m.every)?,
        starts_on: m.starts_on,
        ends_on: m.ends_on,
        credit_category: stored(&m.credit_category)?,
        pairing_id: m.pairing_id.as_deref().map(stored).transpose()?,
        deliver_to: m.deliver_to,
        status: stored(&m.status)?,
        approved_at: m.approved_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        runs: runs.into_iter().map(to_run).collect::<AppResult<_>>()?,
    })
}
