//! Reading the ledger: scoped lists and the chain check over HTTP.
use super::queries;
use crate::auth::{Caller, Role};
use crate::domain::{
    CreditCategory, LedgerKind, OrderLineId, OrgId, PairingId, PovertyStatus, ProductCategory, ProductId, SignedMoney,
    SignedQuantity, SupplierOrderId,
};
use crate::error::{AppError, AppResult};
use crate::services::{organizations, stored, PageParams};
use crate::state::AppState;
use entity::ledger_entries;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    /// The entry's id, from the moment it is written.
    pub id: String,
    /// Its 1-based position in the tree; absent until the sequencer gives it one (within 2 s).
    pub seq: Option<i64>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub year: i32,
    pub month: i32,
    pub buyer_org_id: OrgId,
    pub supplier_org_id: OrgId,
    pub product_id: ProductId,
    pub category: ProductCategory,
    pub supplier_order_id: SupplierOrderId,
    pub order_line_id: OrderLineId,
    pub origin_region_code: String,
    pub origin_county_code: String,
    /// As it was when the entry was written.
    pub origin_poverty_status: PovertyStatus,
    /// Negative for a reversal.
    pub quantity: SignedQuantity,
    /// Negative for a reversal.
    pub amount: SignedMoney,
    pub kind: LedgerKind,
    pub credit_category: CreditCategory,
    /// The pairing the order named, if any.
    pub pairing_id: Option<PairingId>,
    /// The pairing this entry counts under, resolved when it was written: a pairing of
    /// its year whose helper is the buyer or its parent and whose helped county is the
    /// origin county (the order's named pairing first, then the buyer's own before its
    /// parent's, then the oldest); a reversal carries the pairing of the credit it
    /// reverses. Reports grouped by pairing use it. In the leaf (format version 1).
    pub credited_pairing_id: Option<PairingId>,
    /// Hex `SHA-256(0x00 || leaf bytes)` (docs/ledger-format.md).
    pub leaf_hash: String,
    /// The leaf format version.
    pub leaf_version: i32,
    /// The lot the accepted line was shipped from (format version 2).
    pub lot_id: Option<String>,
    /// That lot's 合格证 number (format version 2).
    pub compliance_certificate_number: Option<String>,
    /// The delivered weight in thousandths of a kg, for products sold by weight (format version 2).
    pub weight_kg_milli: Option<i64>,
}

impl LedgerEntry {
    fn from_model(m: ledger_entries::Model, seq: Option<i64>) -> AppResult<Self> {
        Ok(LedgerEntry {
            id: m.id,
            seq,
            occurred_at: m.occurred_at,
            year: m.year,
            month: m.month,
            buyer_org_id: stored(&m.buyer_org_id)?,
            supplier_org_id: stored(&m.supplier_org_id)?,
            product_id: stored(&m.product_id)?,
            category: stored(&m.category)?,
            supplier_order_id: stored(&m.supplier_order_id)?,
            order_line_id: stored(&m.order_line_id)?,
            origin_region_code: m.origin_region_code,
            origin_county_code: m.origin_county_code,
            origin_poverty_status: stored(&m.origin_poverty_status)?,
            quantity: SignedQuantity::from_minor(m.quantity_milli).map_err(AppError::internal)?,
            amount: SignedMoney::from_minor(m.amount_fen).map_err(AppError::internal)?,
            kind: stored(&m.kind)?,
            credit_category: stored(&m.credit_category)?,
            pairing_id: m.pairing_id.as_deref().map(stored).transpose()?,
            credited_pairing_id: m.credited_pairing_id.as_deref().map(stored).transpose()?,
            leaf_hash: m.leaf_hash,
            leaf_version: m.leaf_version,
            lot_id: m.lot_id,
            compliance_certificate_number: m.compliance_certificate_number,
            weight_kg_milli: m.weight_kg_milli,
        })
    }
}

crate::page_type!(LedgerPage, LedgerEntry);

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct LedgerFilter {
    /// Buyer organisation id (its children's entries are included).
    pub buyer: Option<OrgId>,
    pub supplier: Option<OrgId>,
    /// Origin county code.
    pub county: Option<String>,
    /// Product category.
    pub category: Option<ProductCategory>,
    /// First day (inclusive), ISO date.
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub from: Option<chrono::NaiveDate>,
    /// Last day (inclusive), ISO date.
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub to: Option<chrono::NaiveDate>,
    /// Budget year the entry counts in: its `year`, as the reports group it (the business
    /// calendar when it was written). `from`/`to` select by when it happened instead.
    pub year: Option<i32>,
    /// Budget month (1-12) of `year` the entry counts in: its `month`, as the reports group it.
    pub month: Option<u32>,
}

/// Entries in the order they were written. Evaluators and admins see all; a buyer its own and its
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
        Role::Supplier => q = q.filter(ledger_entries::Column::SupplierOrgId.eq(caller.org_id)),
        Role::Supervisor => {
            let scope = crate::services::supervision::region_of(db, caller).await?;
            let buyers = crate::services::supervision::scope_orgs(&scope, false);
            q = q.filter(buyers.condition(db.get_database_backend(), "ledger_entries.buyer_org_id"));
        }
        Role::Certifier => {
            let org = organizations::find(db, &caller.org_id).await?;
            q = q.filter(ledger_entries::Column::OriginCountyCode.eq(org.region_code));
        }
    }
    if let Some(b) = &f.buyer {
        q = q.filter(ledger_entries::Column::BuyerOrgId.is_in(organizations::with_children(db, &b.to_string()).await?));
    }
    if let Some(s) = &f.supplier {
        q = q.filter(ledger_entries::Column::SupplierOrgId.eq(s.to_string()));
    }
    if let Some(c) = &f.county {
        q = q.filter(ledger_entries::Column::OriginCountyCode.eq(c.clone()));
    }
    if let Some(c) = f.category {
        q = q.filter(ledger_entries::Column::Category.eq(c.as_str()));
    }
    if let (Some(a), Some(b)) = (f.from, f.to) {
        if a > b {
            return Err(AppError::field("from", "must not be after to"));
        }
    }
    if let Some(m) = f.month {
        if !(1..=12).contains(&m) {
            return Err(AppError::field("month", "must be 1 to 12"));
        }
        if f.year.is_none() {
            return Err(AppError::field("year", "is needed with month"));
        }
        q = q.filter(ledger_entries::Column::Month.eq(m as i32));
    }
    if let Some(y) = f.year {
        q = q.filter(ledger_entries::Column::Year.eq(y));
    }
    // Days of the business calendar: `from` starts at its local midnight, `to` ends at the next.
    if let Some(t) = f.from.and_then(crate::services::clock::start_of) {
        q = q.filter(ledger_entries::Column::OccurredAt.gte(t));
    }
    if let Some(t) =
        f.to.and_then(|b| b.succ_opt())
            .and_then(crate::services::clock::start_of)
    {
        q = q.filter(ledger_entries::Column::OccurredAt.lt(t));
    }
    let after = match page.cursor()? {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| AppError::field("cursor", "is not a cursor this service issued"))?,
        ),
        None => None,
    };
    let rows = queries::page(db, q, after, limit + 1).await?;
    let (rows, next) = crate::services::paginate(rows, limit, |r| r.ins.to_string());
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let seqs = queries::seqs_of(db, &ids).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let seq = seqs.get(&m.id).copied();
            LedgerEntry::from_model(m, seq)
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((items, next))
}

/// Recomputes the tree (admin and evaluators): all of it, or only what follows the
/// checkpoint of size `since`, checking each checkpoint's signature on the way.
pub async fn verify(state: &AppState, caller: &Caller, since: Option<i64>) -> AppResult<super::VerifyResult> {
    caller.require(&[Role::Admin, Role::Evaluator])?;
    let vk = super::checkpoint::parse_verifier_key(&state.ledger_key.verifier_key()).map_err(AppError::internal)?;
    let since = match since {
        None => {
            // The whole ledger: everything committed so far gets its position first.
            if let Err(e) = super::sequence(state).await {
                tracing::info!(error = %e, "sequencing before verifying (another sequencer may have run)");
            }
            0
        }
        Some(s) if s < 0 => return Err(AppError::field("since", "must not be negative")),
        Some(s) => {
            if super::queries::checkpoints_from(&state.db, s, 1)
                .await?
                .first()
                .is_none_or(|c| c.tree_size != s)
            {
                return Err(AppError::field("since", "must be the tree size of a checkpoint"));
            }
            s
        }
    };
    super::verify::verify_range(&state.db, Some(&vk), since, None).await
}
