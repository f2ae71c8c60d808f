//! Reading the ledger: scoped lists and the chain check over HTTP.
use super::{ledger, organizations, PageParams};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::money::{from_fen, from_milli};
use crate::state::AppState;
use entity::ledger_entries;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    pub seq: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub year: i32,
    pub month: i32,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    pub product_id: String,
    pub category: String,
    pub supplier_order_id: String,
    pub order_line_id: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    /// none | poverty | deep_poverty, as it was when the entry was written.
    pub origin_poverty_status: String,
    /// Signed decimal string (negative for a reversal).
    #[schema(value_type = String)]
    pub quantity: Decimal,
    /// Signed decimal string with two places (negative for a reversal).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// credit | reversal
    pub kind: String,
    /// purchase | helped_sale
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<ledger_entries::Model> for LedgerEntry {
    fn from(m: ledger_entries::Model) -> Self {
        LedgerEntry {
            seq: m.seq,
            occurred_at: m.occurred_at,
            year: m.year,
            month: m.month,
            buyer_org_id: m.buyer_org_id,
            supplier_org_id: m.supplier_org_id,
            product_id: m.product_id,
            category: m.category,
            supplier_order_id: m.supplier_order_id,
            order_line_id: m.order_line_id,
            origin_region_code: m.origin_region_code,
            origin_county_code: m.origin_county_code,
            origin_poverty_status: m.origin_poverty_status,
            quantity: from_milli(m.quantity_milli),
            amount: from_fen(m.amount_fen),
            kind: m.kind,
            credit_category: m.credit_category,
            pairing_id: m.pairing_id,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

crate::page_type!(LedgerPage, LedgerEntry);

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct LedgerFilter {
    /// Buyer organisation id (its children's entries are included).
    pub buyer: Option<String>,
    pub supplier: Option<String>,
    /// Origin county code.
    pub county: Option<String>,
    /// First day (inclusive), ISO date.
    pub from: Option<chrono::NaiveDate>,
    /// Last day (inclusive), ISO date.
    pub to: Option<chrono::NaiveDate>,
}

/// Entries in `seq` order. Evaluators and admins see all; a buyer its own and its
/// children's; a supplier its own; a certifier its county's.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &LedgerFilter,
    page: &PageParams,
) -> AppResult<(Vec<LedgerEntry>, Option<String>)> {
    let limit = page.limit()?;
    let db = &state.db;
    let mut q = ledger_entries::Entity::find();
    match caller.role {
        Role::Admin | Role::Evaluator => {}
        Role::Buyer => {
            q = q.filter(
                ledger_entries::Column::BuyerOrgId.is_in(organizations::with_children(db, &caller.org_id).await?),
            )
        }
        Role::Supplier => q = q.filter(ledger_entries::Column::SupplierOrgId.eq(caller.org_id.clone())),
        Role::Certifier => {
            let org = organizations::find(db, &caller.org_id).await?;
            q = q.filter(ledger_entries::Column::OriginCountyCode.eq(org.region_code));
        }
    }
    if let Some(b) = &f.buyer {
        q = q.filter(ledger_entries::Column::BuyerOrgId.is_in(organizations::with_children(db, b).await?));
    }
    if let Some(s) = &f.supplier {
        q = q.filter(ledger_entries::Column::SupplierOrgId.eq(s.clone()));
    }
    if let Some(c) = &f.county {
        q = q.filter(ledger_entries::Column::OriginCountyCode.eq(c.clone()));
    }
    if let (Some(a), Some(b)) = (f.from, f.to) {
        if a > b {
            return Err(AppError::field("from", "must not be after to"));
        }
    }
    if let Some(a) = f.from {
        let t = a.and_hms_opt(0, 0, 0).map(|d| d.and_utc());
        if let Some(t) = t {
            q = q.filter(ledger_entries::Column::OccurredAt.gte(t));
        }
    }
    if let Some(b) = f.to {
        let t = b.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc());
        if let Some(t) = t {
            q = q.filter(ledger_entries::Column::OccurredAt.lt(t));
        }
    }
    if let Some(c) = page.cursor()? {
        let seq: i64 = c
            .parse()
            .map_err(|_| AppError::field("cursor", "is not a cursor this service issued"))?;
        q = q.filter(ledger_entries::Column::Seq.gt(seq));
    }
    let rows = q
        .order_by_asc(ledger_entries::Column::Seq)
        .limit(limit + 1)
        .all(db)
        .await?;
    let (rows, next) = super::paginate(rows, limit, |r| r.seq.to_string());
    Ok((rows.into_iter().map(LedgerEntry::from).collect(), next))
}

/// Recomputes the whole chain (admin and evaluators).
pub async fn verify(state: &AppState, caller: &Caller) -> AppResult<ledger::VerifyResult> {
    caller.require(&[Role::Admin, Role::Evaluator])?;
    ledger::verify(&state.db).await
}
