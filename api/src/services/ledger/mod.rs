//! The consumption-assistance ledger as a verifiable log (RFC 9162, in the manner
//! of Certificate Transparency). The format is in `docs/ledger-format.md`.
//!
//! - `append` writes entries in the caller's transaction with their leaf hash
//!   (`leaf.rs`) and touches no shared row: concurrent acceptances never wait on
//!   each other here.
//! - `sequencer.rs` (one leader, `jobs::sequencer`) gives committed entries their
//!   dense 1-based `seq` in batches (`ledger_positions`), stores the tree's
//!   complete subtrees, folds the batch into the report roll-up and signs a
//!   checkpoint (`checkpoint.rs`), all in one transaction.
//! - `verify.rs` recomputes leaves and roots against the signed checkpoints;
//!   `proofs.rs` serves inclusion and consistency proofs (`merkle.rs`: the math).
//! - `legacy.rs` moves the old hash chain into the tree once, after verifying it.
pub mod checkpoint;
pub mod export;
pub mod holding;
pub mod leaf;
pub mod legacy;
pub mod merkle;
pub mod offline;
mod pairing;
pub mod proofs;
mod queries;
pub mod sequencer;
pub mod verify;
pub mod view;

pub use queries::{checkpoints_from, last_verified, latest_checkpoint, record_verified};
pub use sequencer::sequence;
pub use verify::{verify, VerifyResult};

use super::now;
use super::writes::Writes;
use crate::error::AppResult;
use entity::ledger_entries;
use sea_orm::ConnectionTrait;

/// What a caller supplies to append; the id, time and leaf hash are filled in here.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    pub product_id: String,
    pub category: String,
    pub supplier_order_id: String,
    pub order_line_id: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    /// The county's poverty status at this moment (copied, never looked up later).
    pub origin_poverty_status: String,
    /// Signed: negative for a reversal.
    pub quantity_milli: i64,
    /// Signed: negative for a reversal.
    pub amount_fen: i64,
    /// credit | reversal
    pub kind: String,
    /// purchase | helped_sale
    pub credit_category: String,
    pub pairing_id: Option<String>,
}

/// What leaf format version 2 adds to an entry: the batch it came from.
#[derive(Debug, Clone, Default)]
pub struct EntryTrace {
    /// The lot the accepted line was shipped from.
    pub lot_id: Option<String>,
    /// That lot's 合格证 number.
    pub compliance_certificate_number: Option<String>,
    /// The delivered weight in thousandths of a kg (products sold by weight).
    pub weight_kg_milli: Option<i64>,
}

impl NewEntry {
    /// An entry like `e` (same parties, product, line and origin) for `buyer`, of `kind`, with
    /// the signed `amount_fen` and `quantity_milli`: how reversals and re-attributions are written.
    pub fn like(
        e: &ledger_entries::Model,
        buyer: String,
        kind: crate::domain::LedgerKind,
        amount_fen: i64,
        quantity_milli: i64,
    ) -> NewEntry {
        NewEntry {
            buyer_org_id: buyer,
            supplier_org_id: e.supplier_org_id.clone(),
            product_id: e.product_id.clone(),
            category: e.category.clone(),
            supplier_order_id: e.supplier_order_id.clone(),
            order_line_id: e.order_line_id.clone(),
            origin_region_code: e.origin_region_code.clone(),
            origin_county_code: e.origin_county_code.clone(),
            origin_poverty_status: e.origin_poverty_status.clone(),
            quantity_milli,
            amount_fen,
            kind: kind.as_str().to_string(),
            credit_category: e.credit_category.clone(),
            pairing_id: e.pairing_id.clone(),
        }
    }
}

/// Appends one entry. Must run inside the transaction of the change that causes it.
pub async fn append(conn: &impl ConnectionTrait, e: NewEntry) -> AppResult<ledger_entries::Model> {
    append_many(conn, vec![e])
        .await?
        .pop()
        .ok_or_else(|| crate::error::AppError::internal("ledger entry missing after append"))
}

/// Appends entries in one INSERT, each with its id and leaf hash and no position
/// (the sequencer gives it one after commit). Takes no shared lock. Must run inside
/// the transaction of the change that causes them.
pub async fn append_many(conn: &impl ConnectionTrait, entries: Vec<NewEntry>) -> AppResult<Vec<ledger_entries::Model>> {
    append_traced(conn, entries.into_iter().map(|e| (e, EntryTrace::default())).collect()).await
}

/// As [`append_many`], each entry with its lot, certificate and weight.
pub async fn append_traced(
    conn: &impl ConnectionTrait,
    items: Vec<(NewEntry, EntryTrace)>,
) -> AppResult<Vec<ledger_entries::Model>> {
    let mut writes = Writes::new(conn);
    let out = append_traced_knowing(conn, &mut writes, items, &std::collections::HashMap::new(), now()).await?;
    writes.run(conn).await?;
    Ok(out)
}

/// As [`append_traced`], with the parent organisation of some buyers already known
/// (`buyer id -> parent_org_id`, as the caller read them): those are not read again. The
/// INSERT goes into `writes`, which the caller runs in its transaction (the acceptance
/// sends it with its emails). The entries occur `at` (the acceptance's one instant), and
/// count in the budget year and month of `at`.
pub async fn append_traced_knowing(
    conn: &impl ConnectionTrait,
    writes: &mut Writes,
    items: Vec<(NewEntry, EntryTrace)>,
    parents: &std::collections::HashMap<String, Option<String>>,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<ledger_entries::Model>> {
    let (entries, traces): (Vec<NewEntry>, Vec<EntryTrace>) = items.into_iter().unzip();
    // The budget year and month of the business calendar (China time), not of UTC.
    let (year, month) = crate::services::clock::year_month(at);
    let credited = pairing::resolve(conn, &entries, year, parents).await?;
    let mut out = Vec::with_capacity(entries.len());
    for ((e, credited_pairing_id), trace) in entries.into_iter().zip(credited).zip(traces) {
        let mut m = ledger_entries::Model {
            ins: 0,
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: at,
            year,
            month: month as i32,
            buyer_org_id: e.buyer_org_id,
            supplier_org_id: e.supplier_org_id,
            product_id: e.product_id,
            category: e.category,
            supplier_order_id: e.supplier_order_id,
            order_line_id: e.order_line_id,
            origin_region_code: e.origin_region_code,
            origin_county_code: e.origin_county_code,
            origin_poverty_status: e.origin_poverty_status,
            quantity_milli: e.quantity_milli,
            amount_fen: e.amount_fen,
            kind: e.kind,
            credit_category: e.credit_category,
            pairing_id: e.pairing_id,
            legacy_seq: None,
            legacy_hash: None,
            leaf_version: leaf::LEAF_VERSION,
            leaf_hash: String::new(),
            credited_pairing_id,
            lot_id: trace.lot_id,
            compliance_certificate_number: trace.compliance_certificate_number,
            weight_kg_milli: trace.weight_kg_milli,
        };
        m.leaf_hash = hex::encode(leaf::leaf_hash(&m)?);
        out.push(m);
    }
    queries::insert_entries(writes, out.clone());
    Ok(out)
}

/// The lot and certificate the credit entries of these order lines carry (for the
/// reversals of returns, which name the batch they take back).
pub async fn credit_traces(
    conn: &impl ConnectionTrait,
    line_ids: Vec<String>,
) -> AppResult<std::collections::HashMap<String, EntryTrace>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let rows = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::OrderLineId.is_in(line_ids))
        .filter(ledger_entries::Column::Kind.eq(crate::domain::LedgerKind::Credit.as_str()))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let t = EntryTrace {
                lot_id: m.lot_id,
                compliance_certificate_number: m.compliance_certificate_number,
                weight_kg_milli: None,
            };
            (m.order_line_id, t)
        })
        .collect())
}
