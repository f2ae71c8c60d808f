//! The consumption-assistance ledger: append-only and hash-chained.
//!
//! `hash = SHA-256(prev_hash || "\n" || canonical fields)`. Appends take the
//! single `ledger_head` row first (row lock on PostgreSQL, the one writer on
//! SQLite), so the chain has one order even with concurrent acceptances.
//! `append_many` appends a batch in a fixed number of statements.
mod pairing;
mod queries;
pub mod view;

use super::now;
use crate::error::{AppError, AppResult};
use entity::ledger_entries;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a caller supplies to append; `seq`, time, hashes are filled in here.
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

/// The canonical text of an entry's fields, in a fixed order.
pub fn canonical(m: &ledger_entries::Model) -> String {
    [
        m.seq.to_string(),
        m.occurred_at.timestamp_micros().to_string(),
        m.buyer_org_id.clone(),
        m.supplier_org_id.clone(),
        m.product_id.clone(),
        m.category.clone(),
        m.supplier_order_id.clone(),
        m.order_line_id.clone(),
        m.origin_region_code.clone(),
        m.origin_county_code.clone(),
        m.origin_poverty_status.clone(),
        m.quantity_milli.to_string(),
        m.amount_fen.to_string(),
        m.kind.clone(),
        m.credit_category.clone(),
        m.pairing_id.clone().unwrap_or_default(),
        m.year.to_string(),
        m.month.to_string(),
    ]
    .join("|")
}

pub fn compute_hash(prev_hash: &str, m: &ledger_entries::Model) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical(m).as_bytes());
    hex::encode(h.finalize())
}

/// Appends one entry. Must run inside the transaction of the change that causes it.
pub async fn append(conn: &impl ConnectionTrait, e: NewEntry) -> AppResult<ledger_entries::Model> {
    append_many(conn, vec![e])
        .await?
        .pop()
        .ok_or_else(|| AppError::internal("ledger entry missing after append"))
}

/// Appends entries in order, in a fixed number of statements whatever their number:
/// the head moves by `n` first (the lock that orders the chain), the hashes are chained
/// here, then the head's hash and the entries are written. Must run inside the
/// transaction of the change that causes them.
pub async fn append_many(conn: &impl ConnectionTrait, entries: Vec<NewEntry>) -> AppResult<Vec<ledger_entries::Model>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let n = entries.len() as i64;
    queries::advance_head(conn, n).await?;
    let (last_seq, mut prev_hash) = queries::head(conn)
        .await?
        .ok_or_else(|| AppError::internal("ledger head missing"))?;
    let at = now();
    use chrono::Datelike;
    let credited = pairing::resolve(conn, &entries, at.year()).await?;
    let mut out = Vec::with_capacity(entries.len());
    for ((i, e), credited_pairing_id) in entries.into_iter().enumerate().zip(credited) {
        let mut m = ledger_entries::Model {
            seq: last_seq - n + 1 + i as i64,
            occurred_at: at,
            year: at.year(),
            month: at.month() as i32,
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
            prev_hash: prev_hash.clone(),
            hash: String::new(),
            credited_pairing_id,
        };
        m.hash = compute_hash(&prev_hash, &m);
        prev_hash = m.hash.clone();
        out.push(m);
    }
    queries::set_head_hash(conn, &prev_hash).await?;
    queries::insert_entries(conn, out.clone()).await?;
    Ok(out)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResult {
    /// How many entries were checked.
    pub entries: i64,
    /// The hash of the last entry (the genesis hash when the ledger is empty).
    pub head_hash: String,
    pub ok: bool,
    /// The first entry whose hash or link does not match, if any.
    pub first_bad_seq: Option<i64>,
}

/// Walks the whole chain in `seq` order, in batches, recomputing each hash.
pub async fn verify(conn: &impl ConnectionTrait) -> AppResult<VerifyResult> {
    verify_upto(conn, None).await
}

/// Verifies the chain up to and including `upto` (all of it when `None`).
pub async fn verify_upto(conn: &impl ConnectionTrait, upto: Option<i64>) -> AppResult<VerifyResult> {
    let mut prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1i64;
    let mut count = 0i64;
    let mut first_bad = None;
    loop {
        let batch = queries::batch_from(conn, expected_seq, upto, 5000).await?;
        if batch.is_empty() {
            break;
        }
        for m in batch {
            count += 1;
            if first_bad.is_none()
                && (m.seq != expected_seq || m.prev_hash != prev || compute_hash(&prev, &m) != m.hash)
            {
                first_bad = Some(m.seq);
            }
            prev = m.hash.clone();
            expected_seq = m.seq + 1;
        }
    }
    // The head row must agree with the last entry (catches truncation of the tail).
    if upto.is_none() && first_bad.is_none() {
        if let Some((hs, hh)) = queries::head(conn).await? {
            if hs != count || hh != prev {
                first_bad = Some(count + 1);
            }
        }
    }
    Ok(VerifyResult {
        entries: count,
        head_hash: prev,
        ok: first_bad.is_none(),
        first_bad_seq: first_bad,
    })
}
