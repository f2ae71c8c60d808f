//! The hash chain the ledger was before it became a tree (`ledger_chain`, migration
//! 120). On start, entries of the chain not yet in the tree are checked once (each
//! `hash = SHA-256(prev_hash || "\n" || canonical fields)`, the head agreeing) and,
//! if the whole chain verifies, copied into `ledger_entries` in chain order with
//! their old seq and hash in the leaf (`legacy_seq`, `legacy_hash`), then sequenced:
//! the tree's first checkpoint covers the chain as it was verified. A chain that
//! does not verify is not migrated and the service refuses to start.
use super::checkpoint::LogKey;
use super::leaf;
use crate::error::{AppError, AppResult};
use crate::services::sql;
use entity::ledger_entries;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, TransactionTrait};
use sha2::{Digest, Sha256};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const COLUMNS: &str = "seq, occurred_at, year, month, buyer_org_id, supplier_org_id, product_id, category, \
    supplier_order_id, order_line_id, origin_region_code, origin_county_code, origin_poverty_status, \
    quantity_milli, amount_fen, kind, credit_category, pairing_id, credited_pairing_id, prev_hash, hash";

/// One entry of the old chain, with the fields its hash covered.
#[derive(Debug, Clone)]
pub struct ChainEntry {
    pub seq: i64,
    pub entry: ledger_entries::Model,
    pub prev_hash: String,
    pub hash: String,
}

fn read(r: &QueryResult) -> AppResult<ChainEntry> {
    let g = |c: &str| r.try_get::<String>("", c);
    Ok(ChainEntry {
        seq: r.try_get("", "seq")?,
        prev_hash: g("prev_hash")?,
        hash: g("hash")?,
        entry: ledger_entries::Model {
            ins: 0,
            id: String::new(),
            occurred_at: r.try_get("", "occurred_at")?,
            year: r.try_get("", "year")?,
            month: r.try_get("", "month")?,
            buyer_org_id: g("buyer_org_id")?,
            supplier_org_id: g("supplier_org_id")?,
            product_id: g("product_id")?,
            category: g("category")?,
            supplier_order_id: g("supplier_order_id")?,
            order_line_id: g("order_line_id")?,
            origin_region_code: g("origin_region_code")?,
            origin_county_code: g("origin_county_code")?,
            origin_poverty_status: g("origin_poverty_status")?,
            quantity_milli: r.try_get("", "quantity_milli")?,
            amount_fen: r.try_get("", "amount_fen")?,
            kind: g("kind")?,
            credit_category: g("credit_category")?,
            pairing_id: r.try_get("", "pairing_id")?,
            credited_pairing_id: r.try_get("", "credited_pairing_id")?,
            legacy_seq: None,
            legacy_hash: None,
            leaf_version: leaf::LEAF_VERSION,
            lot_id: None,
            compliance_certificate_number: None,
            weight_kg_milli: None,
            leaf_hash: String::new(),
        },
    })
}

/// The chain's hash of an entry (the format before the tree).
pub fn chain_hash(prev_hash: &str, seq: i64, m: &ledger_entries::Model) -> String {
    let canonical = [
        seq.to_string(),
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
    .join("|");
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

async fn count(conn: &impl ConnectionTrait, text: &str) -> AppResult<i64> {
    let row = conn.query_one_raw(sql(conn, text, vec![])).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

/// Verifies and moves the old chain into the tree, once; returns how many entries it moved.
pub async fn migrate(db: &DatabaseConnection, key: &LogKey) -> AppResult<i64> {
    let chain = count(db, "SELECT COUNT(*) AS n FROM ledger_chain").await?;
    let moved = count(
        db,
        "SELECT COUNT(*) AS n FROM ledger_entries WHERE legacy_seq IS NOT NULL",
    )
    .await?;
    if chain == 0 || moved >= chain {
        return Ok(0);
    }
    let txn = db.begin().await?;
    let mut prev = GENESIS_HASH.to_string();
    let mut expected = 1i64;
    loop {
        let rows = txn
            .query_all_raw(sql(
                &txn,
                &format!("SELECT {COLUMNS} FROM ledger_chain WHERE seq >= $1 ORDER BY seq LIMIT 2000"),
                vec![expected.into()],
            ))
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut batch = Vec::with_capacity(rows.len());
        for r in &rows {
            let c = read(r)?;
            if c.seq != expected || c.prev_hash != prev || chain_hash(&prev, c.seq, &c.entry) != c.hash {
                return Err(AppError::Conflict(format!(
                    "the hash-chained ledger does not verify at seq {expected}; it was not migrated into the tree"
                )));
            }
            let mut m = c.entry;
            m.id = uuid::Uuid::now_v7().to_string();
            m.legacy_seq = Some(c.seq);
            m.legacy_hash = Some(c.hash.clone());
            m.leaf_hash = hex::encode(leaf::leaf_hash(&m)?);
            batch.push(m);
            prev = c.hash;
            expected += 1;
        }
        let mut writes = crate::services::writes::Writes::new(&txn);
        super::queries::insert_entries(&mut writes, batch);
        writes.run(&txn).await?;
    }
    let head = txn
        .query_one_raw(sql(&txn, "SELECT seq, hash FROM ledger_head WHERE id = 1", vec![]))
        .await?;
    if let Some(h) = head {
        let (s, hh): (i64, String) = (h.try_get("", "seq")?, h.try_get("", "hash")?);
        if s != expected - 1 || hh != prev {
            return Err(AppError::Conflict(format!(
                "the hash-chained ledger's head does not match its last entry (seq {}); it was not migrated",
                expected
            )));
        }
    }
    txn.commit().await?;
    super::sequencer::sequence_with(db, key, true).await?;
    Ok(expected - 1)
}
