//! Report benchmark: seeds 1,000,000 ledger entries in bulk (one `INSERT ... SELECT`
//! over a recursive series per 250,000 rows; leaf hashes are synthetic and the roll-up is
//! rebuilt once and marked folded, as the sequencer would leave it), then times
//! `GET /api/v1/reports/summary` for each grouping over HTTP and the same aggregate as one
//! raw SQL query, and prints both and their ratio.
//!
//! Buyer ids are UUID-shaped (`00000000-0000-4000-8000-<n>`), as the API types them.
//!
//! Run: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432 cargo bench --bench reports`
//! (PostgreSQL), or without `TEST_DATABASE_URL` on SQLite. `BENCH_ENTRIES` overrides the volume.
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

use assist_market::domain::ReportGroup;
use assist_market::services::reports::{summary_sql, summary_values};
use chrono::Datelike;
use common::ms;
use helpers::*;
use sea_orm::{ConnectionTrait, DbBackend};
use std::time::{Duration, Instant};

const BUYERS: i64 = 2000;
const SUPPLIERS: i64 = 500;
const RUNS: usize = 5;

fn median(v: Vec<Duration>) -> Duration {
    common::percentile(&v, 50)
}

/// A row source `s(g)` of the integers `from..=to`, on either backend.
fn series(from: i64, to: i64) -> String {
    format!(
        "(WITH RECURSIVE r(g) AS (SELECT CAST({from} AS BIGINT) UNION ALL SELECT g + 1 FROM r WHERE g < {to}) \
         SELECT g FROM r) s"
    )
}

#[tokio::main]
async fn main() {
    let n = common::env_num("BENCH_ENTRIES", 1_000_000);
    // No jobs: the bulk-loaded entries are marked folded below and must not be sequenced.
    // The admin's token outlives a slow seeding.
    let app = spawn_app_with(|s| {
        s.jobs_enabled = false;
        s.access_token_ttl_secs = 24 * 3600;
    })
    .await;
    let db = app.db();
    let pg = db.get_database_backend() == DbBackend::Postgres;
    println!("report benchmark on {}", if pg { "PostgreSQL" } else { "SQLite" });
    // `expr` as text, zero-padded to `width`; `expr` as 64 hex digits.
    let pad = |expr: &str, width: usize| {
        if pg {
            format!("lpad(CAST({expr} AS TEXT), {width}, '0')")
        } else {
            format!("printf('%0{width}d', {expr})")
        }
    };
    let hex64 = |expr: &str| {
        if pg {
            format!("lpad(to_hex({expr}), 64, '0')")
        } else {
            format!("printf('%064x', {expr})")
        }
    };
    let now = format!("'{}'", chrono::Utc::now().to_rfc3339());
    let y = chrono::Utc::now().year();
    let exec = |s: String| async move {
        db.execute_unprepared(&s).await.unwrap_or_else(|e| panic!("{e}: {s}"));
    };

    let t = Instant::now();
    // Buyers (every 10th is a child of the one before), suppliers, an evaluator.
    let buyer_id = |expr: &str| format!("'00000000-0000-4000-8000-' || {}", pad(expr, 12));
    exec(format!(
        "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, parent_org_id, status, created_at, updated_at) \
         SELECT {}, '采购单位 ' || g, 'canteen', '130102', 'b' || g || '@bench.test', 'CCB' || g, NULL, 'active', {now}, {now} \
         FROM {}",
        buyer_id("g"),
        series(0, BUYERS - 1)
    ))
    .await;
    exec(format!(
        "UPDATE organizations SET parent_org_id = {} WHERE kind = 'canteen' AND id LIKE '00000000-0000-4000-8000-%' \
         AND CAST(substr(id, 25) AS INTEGER) % 10 = 1",
        buyer_id("CAST(substr(id, 25) AS INTEGER) - 1")
    ))
    .await;
    exec(format!(
        "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, parent_org_id, status, created_at, updated_at) \
         SELECT 's-' || g, '合作社 ' || g, 'cooperative', '130727', 's' || g || '@bench.test', 'CCS' || g, NULL, 'active', {now}, {now} \
         FROM {}",
        series(0, SUPPLIERS - 1)
    ))
    .await;
    // 100 pairings of buyers with the four demo counties.
    let county = "CASE g % 4 WHEN 0 THEN '130727' WHEN 1 THEN '130881' WHEN 2 THEN '130636' ELSE '130102' END";
    exec(format!(
        "INSERT INTO pairings (id, kind, helper_org_id, helped_region_code, year, purchase_target_fen, helped_sale_target_fen, created_at) \
         SELECT 'p-' || g, 'east_west', {}, {county}, {y}, 100000000, 50000000, {now} FROM {}",
        buyer_id("g * 20"),
        series(0, 99)
    ))
    .await;
    exec(format!(
        "INSERT INTO quotas (buyer_org_id, year, food_budget_fen, reserved_share_ppm, target_fen, version, updated_at) \
         SELECT {}, {y}, 1000000000, 300000, 300000000, 1, {now} FROM {} WHERE g % 10 = 0",
        buyer_id("g"),
        series(0, BUYERS - 1)
    ))
    .await;
    // The ledger, in batches of 250,000 rows; 1 in 10 entries is a reversal, 1 in 5 counts
    // under one of the pairings.
    let pairing = "CASE WHEN g % 5 = 0 THEN 'p-' || ((g / 5) % 100) ELSE NULL END";
    let status = "CASE g % 4 WHEN 0 THEN 'deep_poverty' WHEN 3 THEN 'none' ELSE 'poverty' END";
    let batch = 250_000i64;
    let mut from = 1i64;
    while from <= n {
        let to = (from + batch - 1).min(n);
        exec(format!(
            "INSERT INTO ledger_entries (id, occurred_at, year, month, buyer_org_id, supplier_org_id, product_id, category, \
             supplier_order_id, order_line_id, origin_region_code, origin_county_code, origin_poverty_status, quantity_milli, \
             amount_fen, kind, credit_category, pairing_id, credited_pairing_id, leaf_version, leaf_hash) \
             SELECT 'e-' || g, {now}, {y}, 1 + (g % 12), {}, 's-' || ((g * 13) % {SUPPLIERS}), 'prod-' || (g % 5000), 'grain', \
             'so-' || (g / 3), 'ol-' || g, {county}, {county}, {status}, 1000, \
             CASE WHEN g % 10 = 0 THEN -((g * 7919) % 50000 + 1) ELSE (g * 7919) % 100000 + 1 END, \
             CASE WHEN g % 10 = 0 THEN 'reversal' ELSE 'credit' END, \
             CASE WHEN g % 3 = 0 THEN 'helped_sale' ELSE 'purchase' END, {pairing}, {pairing}, 1, {} \
             FROM {}",
            buyer_id(&format!("(g * 7) % {BUYERS}")),
            hex64("g"),
            series(from, to)
        ))
        .await;
        from = to + 1;
    }
    let t2 = Instant::now();
    // The roll-up the sequencer would have folded, and the tail marked folded.
    common::fold_rollup(db).await;
    println!("roll-up rebuilt in {:.1} s", t2.elapsed().as_secs_f64());
    for table in ["ledger_rollup", "ledger_entries", "organizations", "pairings"] {
        exec(format!("ANALYZE {table}")).await;
    }
    println!(
        "seeded {n} ledger entries, {BUYERS} buyers, {SUPPLIERS} suppliers, 100 pairings in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let ev = app.create_org("evaluation_office", CHANGAN).await;
    println!(
        "{:<10} {:>12} {:>12} {:>8} {:>8}",
        "group_by", "http ms", "raw sql ms", "ratio", "rows"
    );
    for group in ReportGroup::ALL.iter().copied() {
        let url = format!("/reports/summary?year={y}&group_by={group}");
        // Warm-up.
        let first = app.get(&url, ev.t()).await.expect(200);
        let rows = first.json["rows"].as_array().map(|a| a.len()).unwrap_or(0);
        let mut http = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            app.get(&url, ev.t()).await.expect(200);
            http.push(t.elapsed());
        }
        let text = summary_sql(group, "");
        let mut raw = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = db
                .query_all_raw(assist_market::services::sql(db, &text, summary_values(y)))
                .await
                .unwrap();
            raw.push(t.elapsed());
            assert_eq!(r.len(), rows);
        }
        let (h, r) = (median(http), median(raw));
        println!(
            "{:<10} {:>12.1} {:>12.1} {:>8.2} {:>8}",
            group,
            ms(h),
            ms(r),
            ms(h) / ms(r),
            rows
        );
    }
    // One scoped slice for reference: a buyer with children, a county office.
    let parent_token = {
        let email = "bench-buyer@user.test";
        app.post(
            "/organizations/00000000-0000-4000-8000-000000000000/users",
            Some(&app.admin_token),
            serde_json::json!({"email": email, "name": "bench", "role": "buyer", "password": PASSWORD}),
        )
        .await
        .expect(201);
        app.login(email, PASSWORD).await
    };
    for group in ["supplier", "month"] {
        let url = format!("/reports/summary?year={y}&group_by={group}");
        app.get(&url, Some(&parent_token)).await.expect(200);
        let mut http = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            app.get(&url, Some(&parent_token)).await.expect(200);
            http.push(t.elapsed());
        }
        println!("buyer-scoped {group:<10} http {:.1} ms", ms(median(http)));
    }
}
