//! Ledger verification benchmark: `cargo bench --bench ledger`.
//!
//! In one run: seeds a valid ledger of N entries in bulk (`ledger/seed.rs`: real leaf bytes
//! and hashes, positions, tree nodes and a signed checkpoint per sequencer batch), records it
//! as verified (as `assist-market verify-ledger` does), appends `BENCH_LEDGER_NEW` entries
//! through `ledger::append_traced` (the acceptance's path, 10 per transaction), lets the
//! sequencer cover them, then times:
//! - incremental verification (`verify_recorded(full = false)`, what `verify-ledger` runs) and
//!   the same over HTTP (`GET /ledger/verify?since=N`), printing the entries each read;
//! - full verification (`verify-ledger --full`);
//! - `BENCH_LEDGER_REQUESTS` inclusion proofs (`GET /ledger/entries/{seq}/proof`) and
//!   consistency proofs (`GET /ledger/consistency?from=&to=`) at that size, p50/p99 (each
//!   proof is checked against the latest checkpoint's root, outside the timing).
//!
//! Backends as in the tests: PostgreSQL from `TEST_DATABASE_URL`, SQLite otherwise. Knobs:
//! `BENCH_LEDGER_ENTRIES` (1,000,000 on PostgreSQL, 100,000 on SQLite), `BENCH_LEDGER_NEW`
//! (10,000), `BENCH_LEDGER_REQUESTS` (200). Prints a table; never asserts on time (it asserts
//! that every verification is ok and that the incremental one read only the new entries).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default,
    dead_code
)]

#[path = "common/mod.rs"]
mod common;
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "ledger/seed.rs"]
mod seed;

use assist_market::services::ledger::{self, merkle, verify::verify_recorded, EntryTrace, NewEntry};
use base64::Engine;
use common::{env_num, load_average, ms, percentile};
use helpers::*;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use std::time::{Duration, Instant};

/// Entries per appending transaction (an acceptance of a 10-line supplier order).
const PER_TXN: i64 = 10;

fn b64(s: &serde_json::Value) -> merkle::Hash {
    let v = base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("base64 string"))
        .expect("base64");
    v.try_into().expect("32 bytes")
}

fn hashes(v: &serde_json::Value) -> Vec<merkle::Hash> {
    v.as_array().expect("hashes").iter().map(b64).collect()
}

/// One line of the table.
fn row(step: &str, entries: i64, d: Duration) {
    let rate = if d.as_secs_f64() > 0.0 && entries > 0 {
        format!("{:.0}/s", entries as f64 / d.as_secs_f64())
    } else {
        String::new()
    };
    println!("{step:<50} {entries:>10} {:>12.1} {rate:>12}", ms(d));
}

/// A GET that must answer 200, and how long it took.
async fn timed_get(app: &TestApp, url: &str, token: Option<&str>) -> (Duration, Resp) {
    let t = Instant::now();
    let r = app.get(url, token).await.expect(200);
    (t.elapsed(), r)
}

fn new_entry(i: i64, p: &seed::Parties) -> (NewEntry, EntryTrace) {
    let e = NewEntry {
        buyer_org_id: p.buyers[i as usize % p.buyers.len()].clone(),
        supplier_org_id: p.suppliers[i as usize % p.suppliers.len()].clone(),
        product_id: format!("00000000-0000-7000-e000-{:012}", i % 100),
        category: "grain".into(),
        supplier_order_id: format!("00000000-0000-7000-f000-{:012}", i / PER_TXN),
        order_line_id: uuid::Uuid::now_v7().to_string(),
        origin_region_code: YANGYUAN_VILLAGE.into(),
        origin_county_code: YANGYUAN.into(),
        origin_poverty_status: "deep_poverty".into(),
        quantity_milli: 2000,
        amount_fen: 1800 + i % 100,
        kind: "credit".into(),
        credit_category: "purchase".into(),
        pairing_id: None,
    };
    let t = EntryTrace {
        lot_id: Some(format!("00000000-0000-7000-d100-{:012}", i / 50)),
        compliance_certificate_number: Some(format!("HB130727-N{:07}", i / 50)),
        weight_kg_milli: None,
    };
    (e, t)
}

#[tokio::main]
async fn main() {
    let app = spawn_app_with(|s| {
        // The sequencer runs when the benchmark says so; the token outlives a slow seeding.
        s.jobs_enabled = false;
        s.access_token_ttl_secs = 24 * 3600;
    })
    .await;
    let db = app.db();
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let n = env_num("BENCH_LEDGER_ENTRIES", if pg { 1_000_000 } else { 100_000 });
    let more = env_num("BENCH_LEDGER_NEW", 10_000);
    let requests = env_num("BENCH_LEDGER_REQUESTS", 200) as usize;
    let profile = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release (bench)"
    };
    println!(
        "ledger benchmark on {}, {n} seeded + {more} new entries, profile {profile}, load average {}",
        if pg { "PostgreSQL" } else { "SQLite" },
        load_average()
    );
    let mut parties = seed::Parties {
        buyers: Vec::new(),
        suppliers: Vec::new(),
    };
    for _ in 0..4 {
        parties.buyers.push(app.create_org("canteen", CHANGAN).await.org_id);
    }
    for _ in 0..2 {
        parties
            .suppliers
            .push(app.create_org("cooperative", YANGYUAN).await.org_id);
    }
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    println!("{:<50} {:>10} {:>12} {:>12}", "step", "entries", "ms", "rate");

    // 1. A valid ledger of n entries.
    let t = Instant::now();
    let s = seed::seed(db, &app.state.ledger_key, n, &parties).await;
    common::fold_rollup(db).await;
    if pg {
        for table in [
            "ledger_entries",
            "ledger_positions",
            "ledger_tree_nodes",
            "ledger_checkpoints",
        ] {
            db.execute_unprepared(&format!("VACUUM ANALYZE {table}")).await.unwrap();
        }
    }
    row(
        &format!("seed ({} checkpoints, {} tree nodes)", s.checkpoints, s.nodes),
        n,
        t.elapsed(),
    );
    // What `verify-ledger` records after it verified size n (the full run below checks it).
    ledger::record_verified(db, s.size, &hex::encode(s.root)).await.unwrap();

    // 2. New entries through the acceptance's append path, then the sequencer.
    let t = Instant::now();
    let mut i = 0;
    while i < more {
        let batch: Vec<_> = (i..(i + PER_TXN).min(more)).map(|k| new_entry(k, &parties)).collect();
        let txn = db.begin().await.unwrap();
        ledger::append_traced(&txn, batch).await.unwrap();
        txn.commit().await.unwrap();
        i += PER_TXN;
    }
    row(&format!("append ({PER_TXN} per transaction)"), more, t.elapsed());
    let t = Instant::now();
    let sequenced = app.sequence().await as i64;
    row("sequence (batches of 2000, signed checkpoints)", sequenced, t.elapsed());
    assert_eq!(sequenced, more);
    let size = n + more;

    // 3. Verification: incremental (library and HTTP), then full.
    let t = Instant::now();
    let r = verify_recorded(&app.state, false).await.unwrap();
    row(
        "verify-ledger (incremental, since the recorded)",
        r.entries,
        t.elapsed(),
    );
    assert!(r.ok && r.tree_size == size, "{r:?}");
    assert_eq!(r.entries, more, "incremental verification reads only the new entries");
    let url = format!("/ledger/verify?since={n}");
    let (d, h) = timed_get(&app, &url, ev.t()).await;
    row(&format!("GET {url}"), h.json["entries"].as_i64().unwrap(), d);
    assert!(h.json["ok"] == true && h.json["entries"] == more, "{}", h.text);
    let t = Instant::now();
    let r = verify_recorded(&app.state, true).await.unwrap();
    row("verify-ledger --full", r.entries, t.elapsed());
    assert!(r.ok && r.entries == size, "{r:?}");
    let root = base64::engine::general_purpose::STANDARD.decode(&r.root_hash).unwrap();
    let root: merkle::Hash = root.try_into().unwrap();

    // 4. Proofs over HTTP at that size, each checked against the root.
    let mut rng = rand::rngs::StdRng::seed_from_u64(15);
    let (mut incl, mut cons) = (Vec::new(), Vec::new());
    for _ in 0..requests {
        let seq = rng.gen_range(1..=size);
        let (d, p) = timed_get(&app, &format!("/ledger/entries/{seq}/proof?tree_size={size}"), ev.t()).await;
        incl.push(d);
        let leaf = b64(&p.json["leaf_hash"]);
        let path = hashes(&p.json["hashes"]);
        assert!(merkle::verify_inclusion(
            seq as u64 - 1,
            size as u64,
            &leaf,
            &path,
            &root
        ));

        let from = rng.gen_range(1..size);
        let (d, c) = timed_get(&app, &format!("/ledger/consistency?from={from}&to={size}"), ev.t()).await;
        cons.push(d);
        // The old root from the stored tree (what a client holds from an earlier checkpoint).
        let old = ledger::proofs::root_at(db, from).await.unwrap();
        let path = hashes(&c.json["hashes"]);
        assert!(merkle::verify_consistency(from as u64, size as u64, &old, &root, &path));
    }
    for (name, v) in [("inclusion proof", &incl), ("consistency proof", &cons)] {
        println!(
            "GET {name:<20} at size {size}: {requests} requests, p50 {:.1} ms, p99 {:.1} ms",
            ms(percentile(v, 50)),
            ms(percentile(v, 99))
        );
    }
    println!("load average at the end: {}", load_average());
}
