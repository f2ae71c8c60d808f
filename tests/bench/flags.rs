//! Fraud-signal scan benchmark on PostgreSQL: seeds a 1,000,000-entry ledger in bulk
//! (`INSERT ... SELECT generate_series`, with its positions), then times a full scan, a re-run
//! of it (raises nothing new), and an incremental scan after 10,000 more entries, and prints
//! each with what it found and the process's peak memory (VmHWM).
//!
//! The data: 2,000 buyers, 500 suppliers, 5,000 certified grain products at 8.00 to 11.99 per kg
//! (median about 10.00); about 1 entry in 1,000 is priced at 3x (above 200 %) and about 1 in
//! 1,000 at 0.3x (below 50 %); buyers 1, 101, 201, ... have a small target (a year-end spike); one trading
//! pair shares a legal representative.
//!
//! Run: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432 cargo bench --bench flags`
//! (`BENCH_ENTRIES` overrides the volume). Targets: full < 10 s, incremental < 1 s.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default,
    dead_code
)]

#[path = "../api/helpers.rs"]
mod helpers;

use assist_market::services::flags::{scan, Thresholds};
use chrono::Datelike;
use helpers::*;
use sea_orm::ConnectionTrait;
use std::time::Instant;

const BUYERS: i64 = 2000;
const SUPPLIERS: i64 = 500;
const PRODUCTS: i64 = 5000;
const MORE: i64 = 10_000;

fn status_kb(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l.trim_start_matches(field).trim().to_string())
        })
        .unwrap_or_else(|| "n/a".into())
}

/// Ledger entries `from..=to` of `span` in all, in time order over the year (as a ledger is written).
fn entries_sql(from: i64, to: i64, span: i64, y: i32) -> String {
    format!(
        "INSERT INTO ledger_entries (id, occurred_at, year, month, buyer_org_id, supplier_org_id, product_id, category, \
           supplier_order_id, order_line_id, origin_region_code, origin_county_code, origin_poverty_status, quantity_milli, \
           amount_fen, kind, credit_category, leaf_version, leaf_hash) \
         SELECT '00000000-0000-7000-8000-' || lpad(g::text, 12, '0'), \
           make_timestamptz({y}, 1 + ((g - 1) * 12 / {span})::int, 1 + (((g - 1) * 336 / {span}) % 28)::int, 12, 0, 0, 'UTC'), {y}, \
           1 + ((g - 1) * 12 / {span})::int, \
           '00000000-0000-4000-8000-' || lpad(((g * 7) % {BUYERS})::text, 12, '0'), \
           '00000000-0000-4000-9000-' || lpad((g % {SUPPLIERS})::text, 12, '0'), \
           '00000000-0000-4000-a000-' || lpad((g % {PRODUCTS})::text, 12, '0'), 'grain', \
           'so-' || (g / 3), 'ol-' || g, '130727100201', '130727', 'deep_poverty', \
           s * (1000 + (g * 13) % 9000), \
           s * (CASE WHEN g % 997 = 0 THEN 3 * p ELSE p END) * (1000 + (g * 13) % 9000) / (CASE WHEN g % 991 = 0 THEN 10000 / 3 ELSE 1000 END), \
           CASE WHEN s < 0 THEN 'reversal' ELSE 'credit' END, 'purchase', 1, md5(g::text) \
         FROM (SELECT g, CASE WHEN g % 20 = 0 THEN -1 ELSE 1 END AS s, 800 + ((g % {PRODUCTS}) * 37) % 400 AS p \
               FROM generate_series({from}::bigint, {to}::bigint) g) x"
    )
}

#[tokio::main]
async fn main() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("set TEST_DATABASE_URL (PostgreSQL) to run the fraud-signal benchmark");
        return;
    }
    let n: i64 = std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let app = spawn_app_with(|s| s.jobs_enabled = false).await;
    let db = app.db();
    let y = chrono::Utc::now().year();
    let exec = |s: String| async move {
        db.execute_unprepared(&s).await.unwrap_or_else(|e| panic!("{e}: {s}"));
    };

    let t = Instant::now();
    for (prefix, kind, region, count) in [
        ("8000", "canteen", "130102", BUYERS),
        ("9000", "cooperative", "130727", SUPPLIERS),
    ] {
        exec(format!(
            "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, status, created_at, updated_at) \
             SELECT '00000000-0000-4000-{prefix}-' || lpad(g::text, 12, '0'), '{kind} ' || g, '{kind}', '{region}', \
               '{kind}' || g || '@bench.test', 'CC{prefix}' || g, 'active', now(), now() \
             FROM generate_series(0, {}) g",
            count - 1
        ))
        .await;
    }
    // Buyer 5 and supplier 215 (who trade: (g * 7) % 2000 = 5 and g % 500 = 215 for g = 1715) share a representative.
    exec(
        "UPDATE organizations SET legal_representative = '王芳' WHERE id IN \
          ('00000000-0000-4000-8000-000000000005', '00000000-0000-4000-9000-000000000215')"
            .into(),
    )
    .await;
    exec(format!(
        "INSERT INTO products (id, supplier_org_id, name, category, unit, price_fen, min_order_qty_milli, origin_region_code, \
           origin_county_code, status, valid_until, certified_at, created_at, updated_at) \
         SELECT '00000000-0000-4000-a000-' || lpad(g::text, 12, '0'), '00000000-0000-4000-9000-' || lpad((g % {SUPPLIERS})::text, 12, '0'), \
           'millet ' || g, 'grain', 'kg', 800 + (g * 37) % 400, 1000, '130727100201', '130727', 'certified', \
           current_date + 365, now(), now(), now() \
         FROM generate_series(0, {}) g",
        PRODUCTS - 1
    ))
    .await;
    exec(format!(
        "INSERT INTO quotas (buyer_org_id, year, food_budget_fen, reserved_share_ppm, target_fen, version, updated_at) \
         SELECT '00000000-0000-4000-8000-' || lpad(g::text, 12, '0'), {y}, 1000000000, 300000, \
           CASE WHEN g % 100 = 1 THEN 10000 ELSE 300000000 END, 1, now() FROM generate_series(0, {}) g",
        BUYERS - 1
    ))
    .await;
    let batch = 250_000i64;
    let mut from = 1i64;
    while from <= n {
        let to = (from + batch - 1).min(n);
        exec(entries_sql(from, to, n + MORE, y)).await;
        from = to + 1;
    }
    exec(
        "INSERT INTO ledger_positions (seq, entry_id, leaf_hash) SELECT ins, id, leaf_hash FROM ledger_entries".into(),
    )
    .await;
    for table in [
        "ledger_entries",
        "ledger_positions",
        "organizations",
        "products",
        "quotas",
    ] {
        exec(format!("VACUUM ANALYZE {table}")).await;
    }
    println!(
        "seeded {n} ledger entries (with positions), {BUYERS} buyers, {SUPPLIERS} suppliers, {PRODUCTS} products in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!("VmHWM after seeding: {}", status_kb("VmHWM:"));

    let th = Thresholds::default();
    let t = Instant::now();
    let full = scan(db, &th, true).await.expect("full scan");
    let full_s = t.elapsed().as_secs_f64();
    println!(
        "full scan:        {full_s:>7.3} s  found {:>6}  raised {:>6}  VmHWM {}",
        full.found,
        full.raised,
        status_kb("VmHWM:")
    );

    let t = Instant::now();
    let again = scan(db, &th, true).await.expect("full re-scan");
    println!(
        "full re-scan:     {:>7.3} s  found {:>6}  raised {:>6}  (idempotent: nothing new)",
        t.elapsed().as_secs_f64(),
        again.found,
        again.raised
    );

    exec(entries_sql(n + 1, n + MORE, n + MORE, y)).await;
    exec(format!(
        "INSERT INTO ledger_positions (seq, entry_id, leaf_hash) SELECT ins, id, leaf_hash FROM ledger_entries WHERE ins > {n}"
    ))
    .await;
    exec("ANALYZE ledger_entries".into()).await;
    exec("ANALYZE ledger_positions".into()).await;
    let t = Instant::now();
    let inc = scan(db, &th, false).await.expect("incremental scan");
    let inc_s = t.elapsed().as_secs_f64();
    for (name, r) in [("full", &full), ("incremental", &inc)] {
        let parts: Vec<String> = r
            .signals
            .iter()
            .map(|s| format!("{} {} ms ({})", s.kind, s.ms, s.found))
            .collect();
        println!("  {name}: {}", parts.join(", "));
    }
    println!(
        "incremental scan: {inc_s:>7.3} s  found {:>6}  raised {:>6}  positions {}..{}  (+{MORE} entries)",
        inc.found, inc.raised, inc.from_seq, inc.to_seq
    );
    println!(
        "peak memory (VmHWM): {}, VmRSS now: {}",
        status_kb("VmHWM:"),
        status_kb("VmRSS:")
    );
    println!(
        "targets: full < 10 s: {}; incremental < 1 s: {}",
        if full_s < 10.0 { "met" } else { "MISSED" },
        if inc_s < 1.0 { "met" } else { "MISSED" }
    );
}
