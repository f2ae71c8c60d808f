//! The sequencer: gives committed entries their dense position, in batches, and
//! signs a checkpoint after each batch. One transaction per batch: positions,
//! new tree nodes, the roll-up fold and the checkpoint commit together or not at
//! all, so a crash loses nothing and repeats nothing. Two sequencers running at
//! once cannot both commit a batch (the positions' and checkpoints' primary keys),
//! and on PostgreSQL batches queue on an advisory lock; the leader lock (`jobs::sequencer`)
//! is for efficiency, not correctness.
use super::checkpoint::LogKey;
use super::merkle::{Frontier, NodeId};
use super::{leaf, queries};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use entity::{ledger_checkpoints as cps, ledger_positions as pos, ledger_tree_nodes as nodes};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};

/// The PostgreSQL advisory lock key that serialises sequencing batches.
const SEQUENCER_LOCK: i64 = 0x6C65_6467_6572; // "ledger"

/// Entries per batch.
pub const BATCH: u64 = 2000;
/// A transaction that holds an entry uncommitted longer than this is assumed not to exist:
/// the scan for unsequenced entries starts at the last entry of a checkpoint this old.
pub const STRAGGLER_SECS: i64 = 60;

/// How far back a wide scan looks: entries written after the last entry of a checkpoint
/// signed this long ago.
pub const WIDE_SECS: i64 = 3600;

/// Where a sequencing pass looks for entries that have no position yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// After the low-water mark (the last entry of a checkpoint `STRAGGLER_SECS` old): every tick.
    Recent,
    /// After the last entry of a checkpoint `WIDE_SECS` old: now and then
    /// (`ledger_wide_scan_secs`), so that an entry whose transaction committed after the
    /// low-water mark had passed it is still sequenced, without reading the whole ledger.
    Wide,
    /// Every entry: when a process becomes the leader, in case a stopped one left some behind.
    Full,
}

/// Sequences every committed entry not yet in the tree; returns how many it added.
pub async fn sequence(state: &AppState) -> AppResult<u64> {
    sequence_batched(
        &state.db,
        &state.ledger_key,
        Scan::Recent,
        state.settings.ledger_sequence_batch,
    )
    .await
}

/// Like [`sequence`]; `full_scan` looks at every entry, not only the recent ones.
pub async fn sequence_with(db: &DatabaseConnection, key: &LogKey, full_scan: bool) -> AppResult<u64> {
    let scan = if full_scan { Scan::Full } else { Scan::Recent };
    sequence_batched(db, key, scan, BATCH).await
}

/// Like [`sequence_with`], scanning as `scan` says, in batches of `size` entries
/// (`ledger_sequence_batch`).
pub async fn sequence_batched(db: &DatabaseConnection, key: &LogKey, scan: Scan, size: u64) -> AppResult<u64> {
    let size = size.clamp(1, 100_000);
    let mut total = 0u64;
    loop {
        let n = batch(db, key, scan, size).await?;
        total += n;
        if n < size {
            return Ok(total);
        }
    }
}

/// One batch in one transaction; returns the number of entries sequenced.
async fn batch(db: &DatabaseConnection, key: &LogKey, scan: Scan, limit: u64) -> AppResult<u64> {
    let txn = db.begin().await?;
    // Two sequencers (the leader's loop and an on-demand `sequence`) would otherwise read the
    // same tree head and collide on the positions' primary key: on PostgreSQL they queue on a
    // transaction-scoped advisory lock, and the second then reads the first's checkpoint.
    // (SQLite runs one writing transaction at a time already.)
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SEQUENCER_LOCK})"))
            .await?;
    }
    let latest = queries::latest_checkpoint(&txn).await?;
    let low = match scan {
        Scan::Recent => queries::low_ins(&txn).await?,
        Scan::Wide => {
            let since = crate::services::now() - chrono::Duration::seconds(WIDE_SECS);
            queries::checkpoint_before(&txn, since).await?.map_or(0, |c| c.max_ins)
        }
        Scan::Full => 0,
    };
    let entries = queries::unsequenced(&txn, low, limit).await?;
    if entries.is_empty() && latest.is_some() {
        txn.rollback().await?;
        return Ok(0);
    }
    let size = latest.as_ref().map_or(0, |c| c.tree_size);
    let prev_max_ins = latest.as_ref().map_or(0, |c| c.max_ins);
    let ids = Frontier::ids(size as u64);
    let have = queries::node_hashes(&txn, &ids).await?;
    let mut frontier = Frontier::new(size as u64, &mut |id: NodeId| have[&id]);
    let mut positions = Vec::with_capacity(entries.len());
    let mut new_nodes = Vec::new();
    let mut max_ins = prev_max_ins;
    for (i, e) in entries.iter().enumerate() {
        let h = leaf::parse_hex(&e.leaf_hash)
            .ok_or_else(|| AppError::internal(format!("entry {} has a malformed leaf hash", e.id)))?;
        frontier.push(h, &mut |id, h| {
            new_nodes.push(nodes::Model {
                level: id.level as i32,
                idx: id.index as i64,
                hash: hex::encode(h),
            })
        });
        positions.push(pos::Model {
            seq: size + 1 + i as i64,
            entry_id: e.id.clone(),
            leaf_hash: e.leaf_hash.clone(),
        });
        max_ins = max_ins.max(e.ins);
    }
    let new_size = frontier.size();
    let root = frontier.root();
    let checkpoint = cps::Model {
        tree_size: new_size as i64,
        root_hash: hex::encode(root),
        note: key.sign(new_size, &root),
        max_ins,
        created_at: crate::services::now(),
    };
    queries::fold_rollup(&txn, &entries).await?;
    queries::insert_sequenced(&txn, positions, new_nodes, checkpoint).await?;
    let settled = crate::services::now() - chrono::Duration::seconds(STRAGGLER_SECS);
    if let Some(old) = queries::checkpoint_before(&txn, settled).await? {
        queries::set_low_ins(&txn, old.max_ins).await?;
    }
    txn.commit().await?;
    Ok(entries.len() as u64)
}
