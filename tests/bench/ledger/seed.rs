//! A valid ledger of `n` entries written in bulk, as the sequencer would have left it:
//! each entry with its real leaf hash (`services::ledger::leaf`, leaf format version
//! `LEAF_VERSION`), its dense 1-based position, every complete subtree of the Merkle tree
//! (`merkle::Frontier`, the sequencer's own code) and a signed checkpoint after every
//! `sequencer::BATCH` entries, signed with the instance's log key. Only the writing differs:
//! multi-row INSERTs of 10,000 entries per transaction (`ins` given explicitly, so that
//! chunks may be written two at a time on PostgreSQL while the next one is computed).
//! The report roll-up is rebuilt once afterwards (`common::fold_rollup`).
use assist_market::services::ledger::checkpoint::LogKey;
use assist_market::services::ledger::merkle::{Frontier, Hash};
use assist_market::services::ledger::{leaf, sequencer};
use chrono::{DateTime, Datelike, Duration, Utc};
use entity::{
    ledger_checkpoints as cps, ledger_entries as entries, ledger_positions as pos, ledger_tree_nodes as nodes,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, TransactionTrait};
use std::collections::VecDeque;

/// Entries per transaction (a multiple of the sequencer's batch).
const CHUNK: i64 = 10_000;

/// The organisations the entries name.
pub struct Parties {
    pub buyers: Vec<String>,
    pub suppliers: Vec<String>,
}

pub struct Seeded {
    pub size: i64,
    pub root: Hash,
    pub checkpoints: i64,
    pub nodes: u64,
}

#[derive(Default)]
struct Chunk {
    entries: Vec<entries::Model>,
    positions: Vec<pos::Model>,
    nodes: Vec<nodes::Model>,
    checkpoints: Vec<cps::Model>,
}

/// A UUID-shaped id (`kind` is its fourth group).
fn uuid_like(kind: &str, n: i64) -> String {
    format!("00000000-0000-7000-{kind}-{n:012}")
}

/// Entry `g`: a credit (1 in 20 a reversal) of a certified batch, written at `at`.
fn entry(g: i64, at: DateTime<Utc>, p: &Parties) -> entries::Model {
    let sign = if g % 20 == 0 { -1 } else { 1 };
    let qty = 1000 + (g * 13) % 9000;
    let mut m = entries::Model {
        ins: g,
        id: uuid_like("8000", g),
        occurred_at: at,
        year: at.year(),
        month: at.month() as i32,
        buyer_org_id: p.buyers[g as usize % p.buyers.len()].clone(),
        supplier_org_id: p.suppliers[(g as usize * 7) % p.suppliers.len()].clone(),
        product_id: uuid_like("a000", g % 5000),
        category: "grain".into(),
        supplier_order_id: uuid_like("b000", g / 3),
        order_line_id: uuid_like("c000", g),
        origin_region_code: "130727100201".into(),
        origin_county_code: "130727".into(),
        origin_poverty_status: "deep_poverty".into(),
        quantity_milli: sign * qty,
        amount_fen: sign * qty * (800 + (g % 400)) / 1000,
        kind: if sign < 0 { "reversal" } else { "credit" }.into(),
        credit_category: if g % 3 == 0 { "helped_sale" } else { "purchase" }.into(),
        pairing_id: None,
        legacy_seq: None,
        legacy_hash: None,
        leaf_version: leaf::LEAF_VERSION,
        leaf_hash: String::new(),
        credited_pairing_id: None,
        lot_id: Some(uuid_like("d000", g / 50)),
        compliance_certificate_number: Some(format!("HB130727-{:08}", g / 50)),
        weight_kg_milli: (g % 4 == 0).then_some(qty),
    };
    m.leaf_hash = hex::encode(leaf::leaf_hash(&m).expect("leaf hash"));
    m
}

/// Writes `n` entries with their positions, tree nodes and checkpoints; the last entry was
/// written ten minutes ago, 10 ms after the one before it.
pub async fn seed(db: &DatabaseConnection, key: &LogKey, n: i64, p: &Parties) -> Seeded {
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let step = Duration::milliseconds(10);
    let now = assist_market::services::now();
    let base = now - Duration::minutes(10) - Duration::milliseconds(10 * n);
    let batch = sequencer::BATCH as i64;
    let mut frontier = Frontier::default();
    let mut inflight: VecDeque<tokio::task::JoinHandle<()>> = VecDeque::new();
    let (mut checkpoints, mut node_count) = (0i64, 0u64);
    let mut from = 1i64;
    while from <= n {
        let to = (from + CHUNK - 1).min(n);
        let mut c = Chunk::default();
        for g in from..=to {
            let at = base + step * g as i32;
            let m = entry(g, at, p);
            let h = leaf::parse_hex(&m.leaf_hash).expect("hex");
            frontier.push(h, &mut |id, h| {
                c.nodes.push(nodes::Model {
                    level: id.level as i32,
                    idx: id.index as i64,
                    hash: hex::encode(h),
                })
            });
            c.positions.push(pos::Model {
                seq: g,
                entry_id: m.id.clone(),
                leaf_hash: m.leaf_hash.clone(),
            });
            c.entries.push(m);
            if g % batch == 0 || g == n {
                let root = frontier.root();
                c.checkpoints.push(cps::Model {
                    tree_size: g,
                    root_hash: hex::encode(root),
                    note: key.sign(g as u64, &root),
                    max_ins: g,
                    created_at: at + Duration::milliseconds(1),
                });
            }
        }
        checkpoints += c.checkpoints.len() as i64;
        node_count += c.nodes.len() as u64;
        // PostgreSQL: two chunks in flight while the next is computed; SQLite has one writer.
        if inflight.len() >= if pg { 2 } else { 0 } {
            if let Some(h) = inflight.pop_front() {
                h.await.expect("write a chunk");
            }
        }
        let db = db.clone();
        let h = tokio::spawn(async move { write(&db, c).await });
        if pg {
            inflight.push_back(h);
        } else {
            h.await.expect("write a chunk");
        }
        from = to + 1;
    }
    for h in inflight {
        h.await.expect("write a chunk");
    }
    if pg {
        // `ins` was given explicitly: the serial continues after it.
        db.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('ledger_entries', 'ins'), (SELECT MAX(ins) FROM ledger_entries))",
        )
        .await
        .expect("setval");
    }
    Seeded {
        size: n,
        root: frontier.root(),
        checkpoints,
        nodes: node_count,
    }
}

/// Inserts `rows` of an entity in multi-row INSERTs of `per` rows.
macro_rules! insert_all {
    ($txn:expr, $entity:ident, $rows:expr, $per:expr) => {
        for part in $rows.chunks($per) {
            $entity::Entity::insert_many(part.iter().cloned().map($entity::ActiveModel::from))
                .exec_without_returning($txn)
                .await
                .expect(concat!("insert ", stringify!($entity)));
        }
    };
}

/// One chunk in one transaction, as the sequencer commits a batch.
async fn write(db: &DatabaseConnection, c: Chunk) {
    let txn = db.begin().await.expect("begin");
    // 27 columns: 1,000 rows stay under both backends' limits on bound parameters.
    insert_all!(&txn, entries, c.entries, 1000);
    insert_all!(&txn, pos, c.positions, 5000);
    insert_all!(&txn, nodes, c.nodes, 5000);
    insert_all!(&txn, cps, c.checkpoints, 1000);
    txn.commit().await.expect("commit");
}
