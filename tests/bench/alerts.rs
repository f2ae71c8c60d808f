//! Benchmark of the unsold-produce scan: `cargo bench --bench alerts`.
//!
//! Bulk-inserts N certified products (default 100,000; `BENCH_PRODUCTS` to change)
//! with a lot each and a year of sales (24 ledger credits per product, one every
//! 15 days: 2.4 million rows at the default size), then times the scan twice:
//! the first opens alerts for about a tenth of the products (with matching,
//! events and notifications), the second is the steady state (nothing changes).
//!
//! SQLite in a temporary folder by default; `TEST_DATABASE_URL` (or `BENCH_DATABASE_URL`)=postgres://user@host:port
//! runs it on a fresh PostgreSQL database on that server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::field_reassign_with_default)]

use assist_market::config::Settings;
use assist_market::services::{alerts, sql};
use chrono::{Datelike, Duration, Utc};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use std::time::Instant;

const CATEGORY: &str = "CASE n.i % 13 WHEN 0 THEN 'vegetables' WHEN 1 THEN 'fruit' WHEN 2 THEN 'edible_fungi' \
    WHEN 3 THEN 'meat' WHEN 4 THEN 'eggs' WHEN 5 THEN 'dairy' WHEN 6 THEN 'aquatic' WHEN 7 THEN 'grain' \
    WHEN 8 THEN 'oils' WHEN 9 THEN 'tea' WHEN 10 THEN 'herbs' WHEN 11 THEN 'processed_food' ELSE 'handicrafts' END";

fn numbers(n: i64) -> String {
    format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) ")
}

async fn exec(db: &DatabaseConnection, text: &str, values: Vec<sea_orm::Value>) {
    db.execute_raw(sql(db, text, values)).await.expect(text);
}

#[tokio::main]
async fn main() {
    let n: i64 = std::env::var("BENCH_PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.data_dir = tmp.path().join("data").to_string_lossy().into_owned();
    settings.mail_dir = Some(tmp.path().join("mail").to_string_lossy().into_owned());
    settings.jwt_secret = Some("bench-secret-bench-secret-bench-secret-0123".into());
    settings.demo = Some(false);
    settings.ledger_signing_key = Some("YmVuY2gtbGVkZ2VyLWtleS1iZW5jaC1sZWRnZXIta2U=".into());
    settings.database_url = Some(
        match std::env::var("BENCH_DATABASE_URL").or_else(|_| std::env::var("TEST_DATABASE_URL")) {
            Ok(base) => {
                let base = base.trim_end_matches('/').to_string();
                let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(format!("{base}/postgres")).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                format!("{base}/{name}").into()
            }
            Err(_) => format!("sqlite://{}/bench.db?mode=rwc", tmp.path().display()).into(),
        },
    );
    let state = assist_market::startup::build_state(settings).await.unwrap();
    assist_market::startup::bootstrap(&state).await.unwrap();
    assist_market::services::demo::ensure_regions(&state).await.unwrap();
    let db = &state.db;
    let now = Utc::now();
    let today = now.date_naive();

    let t0 = Instant::now();
    // Organisations: one supplier, the county office, three buyers (one paired, one with a quota).
    for (i, (id, kind, region)) in [
        ("sup", "cooperative", "130727"),
        ("office", "county_office", "130727"),
        ("b1", "government", "130102"),
        ("b2", "school", "130102"),
        ("b3", "canteen", "130102"),
    ]
    .into_iter()
    .enumerate()
    {
        exec(
            db,
            "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7)",
            vec![
                id.into(),
                format!("{kind} {id}").into(),
                kind.into(),
                region.into(),
                format!("{id}@bench.test").into(),
                format!("BENCH{i:013}").into(),
                now.into(),
            ],
        )
        .await;
    }
    exec(
        db,
        "INSERT INTO pairings (id, kind, helper_org_id, helped_region_code, year, purchase_target_fen, helped_sale_target_fen, created_at) \
         VALUES ('pair1', 'east_west', 'b1', '130727', $1, 100000000, 0, $2)",
        vec![now.year().into(), now.into()],
    )
    .await;
    exec(
        db,
        "INSERT INTO quotas (buyer_org_id, year, food_budget_fen, reserved_share_ppm, target_fen, updated_at) \
         VALUES ('b2', $1, 100000000000, 300000, 30000000000, $2)",
        vec![now.year().into(), now.into()],
    )
    .await;
    // Products: certified, valid for a year.
    exec(
        db,
        &format!(
            "{}INSERT INTO products (id, supplier_org_id, name, category, unit, price_fen, min_order_qty_milli, origin_region_code, \
             origin_county_code, status, valid_until, certified_at, created_at, updated_at) \
             SELECT 'p' || n.i, 'sup', 'product ' || n.i, {CATEGORY}, 'kg', 1000, 1000, '130727100201', '130727', 'certified', $1, $2, $2, $2 FROM n",
            numbers(n)
        ),
        vec![(today + Duration::days(365)).into(), (now - Duration::days(400)).into()],
    )
    .await;
    // Lots: a tenth of the products hold 20x their pace (about 280 days of cover), half of
    // those expire in 2 days; the rest hold about 4 days of cover.
    exec(
        db,
        &format!(
            "{}INSERT INTO lots (id, product_id, quantity_milli, remaining_milli, best_before, created_at) \
             SELECT 'l' || n.i, 'p' || n.i, CASE WHEN n.i % 10 = 0 THEN 120000 ELSE 1800 END, \
             CASE WHEN n.i % 10 = 0 THEN 120000 ELSE 1800 END, CASE WHEN n.i % 20 = 0 THEN $1 ELSE $2 END, $3 FROM n",
            numbers(n)
        ),
        vec![
            (today + Duration::days(2)).into(),
            (today + Duration::days(400)).into(),
            now.into(),
        ],
    )
    .await;
    // A year of sales: 6 units every 15 days (offsets 1, 16, 31, ... 346 days ago).
    exec(db, "CREATE TABLE bench_offsets (k INTEGER NOT NULL, ts TIMESTAMPTZ NOT NULL, y INTEGER NOT NULL, m INTEGER NOT NULL)", vec![]).await;
    for k in 0..24i64 {
        let ts = now - Duration::days(1 + 15 * k);
        exec(
            db,
            "INSERT INTO bench_offsets (k, ts, y, m) VALUES ($1, $2, $3, $4)",
            vec![k.into(), ts.into(), ts.year().into(), (ts.month() as i32).into()],
        )
        .await;
    }
    exec(
        db,
        &format!(
            "{}INSERT INTO ledger_entries (seq, occurred_at, year, month, buyer_org_id, supplier_org_id, product_id, category, \
             supplier_order_id, order_line_id, origin_region_code, origin_county_code, origin_poverty_status, quantity_milli, \
             amount_fen, kind, credit_category, prev_hash, hash) \
             SELECT n.i * 100 + o.k, o.ts, o.y, o.m, CASE (n.i + o.k) % 3 WHEN 0 THEN 'b1' WHEN 1 THEN 'b2' ELSE 'b3' END, 'sup', \
             'p' || n.i, {CATEGORY}, 'so', 'ol', '130727100201', '130727', 'deep_poverty', 6000, 6000, 'credit', 'purchase', 'x', 'x' \
             FROM n CROSS JOIN bench_offsets o",
            numbers(n)
        ),
        vec![],
    )
    .await;
    exec(db, "ANALYZE", vec![]).await;
    println!(
        "fixtures: {n} products, {n} lots, {} ledger rows on {:?} in {:.1?}",
        n * 24,
        db.get_database_backend(),
        t0.elapsed()
    );

    let t = Instant::now();
    let first = alerts::scan_at(db, Utc::now()).await.unwrap();
    let first_time = t.elapsed();
    println!("scan 1 (opens alerts): {first:?} in {first_time:.2?}");
    let t = Instant::now();
    let second = alerts::scan_at(db, Utc::now()).await.unwrap();
    let second_time = t.elapsed();
    println!("scan 2 (steady state): {second:?} in {second_time:.2?}");
    let t = Instant::now();
    let signals = alerts::load_signals(db, Utc::now()).await.unwrap();
    println!("signals alone: {} products in {:.2?}", signals.len(), t.elapsed());
}
