//! Report benchmark on PostgreSQL: seeds 1,000,000 ledger entries in bulk (one
//! `INSERT ... SELECT generate_series`; the hash chain is synthetic), then times
//! `GET /api/v1/reports/summary` for each grouping over HTTP and the same
//! aggregate as one raw SQL query, and prints both and their ratio.
//!
//! Buyer ids are UUID-shaped (`00000000-0000-4000-8000-<n>`), as the API types them.
//!
//! Run: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432 cargo bench --bench reports`
//! (`BENCH_ENTRIES` overrides the volume.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default,
    dead_code
)]

#[path = "../api/helpers.rs"]
mod helpers;

use assist_market::domain::ReportGroup;
use assist_market::services::reports::{summary_sql, summary_values};
use chrono::Datelike;
use helpers::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::time::{Duration, Instant};

const BUYERS: i64 = 2000;
const SUPPLIERS: i64 = 500;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("set TEST_DATABASE_URL (PostgreSQL) to run the report benchmark");
        return;
    }
    let n: i64 = std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let app = spawn_app().await;
    let db = app.db();
    let y = chrono::Utc::now().year();
    let exec = |s: String| async move {
        db.execute_unprepared(&s).await.unwrap_or_else(|e| panic!("{e}: {s}"));
    };

    let t = Instant::now();
    // Buyers (every 10th is a child of the one before), suppliers, an evaluator.
    exec(format!(
        "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, parent_org_id, status, created_at, updated_at) \
         SELECT '00000000-0000-4000-8000-' || lpad(g::text, 12, '0'), '采购单位 ' || g, 'canteen', '130102', 'b' || g || '@bench.test', 'CCB' || g, NULL, 'active', now(), now() \
         FROM generate_series(0, {}) g",
        BUYERS - 1
    ))
    .await;
    exec("UPDATE organizations SET parent_org_id = '00000000-0000-4000-8000-' || lpad((substr(id, 25)::int - 1)::text, 12, '0') WHERE kind = 'canteen' AND substr(id, 25)::int % 10 = 1".into()).await;
    exec(format!(
        "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, parent_org_id, status, created_at, updated_at) \
         SELECT 's-' || g, '合作社 ' || g, 'cooperative', '130727', 's' || g || '@bench.test', 'CCS' || g, NULL, 'active', now(), now() \
         FROM generate_series(0, {}) g",
        SUPPLIERS - 1
    ))
    .await;
    // 100 pairings of buyers with the four demo counties.
    exec(format!(
        "INSERT INTO pairings (id, kind, helper_org_id, helped_region_code, year, purchase_target_fen, helped_sale_target_fen, created_at) \
         SELECT 'p-' || g, 'east_west', '00000000-0000-4000-8000-' || lpad((g * 20)::text, 12, '0'), (ARRAY['130727','130881','130636','130102'])[1 + g % 4], {y}, 100000000, 50000000, now() \
         FROM generate_series(0, 99) g"
    ))
    .await;
    exec(format!(
        "INSERT INTO quotas (buyer_org_id, year, food_budget_fen, reserved_share_ppm, target_fen, version, updated_at) \
         SELECT '00000000-0000-4000-8000-' || lpad(g::text, 12, '0'), {y}, 1000000000, 300000, 300000000, 1, now() FROM generate_series(0, {}) g WHERE g % 10 = 0",
        BUYERS - 1
    ))
    .await;
    // The ledger, in batches of 250,000 rows; 1 in 10 entries is a reversal. The roll-up trigger is
    // lifted for the bulk load and the roll-up rebuilt once afterwards (as migration 000031 does).
    exec("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_rollup_add".into()).await;
    let batch = 250_000i64;
    let mut from = 1i64;
    while from <= n {
        let to = (from + batch - 1).min(n);
        exec(format!(
            "INSERT INTO ledger_entries (seq, occurred_at, year, month, buyer_org_id, supplier_org_id, product_id, category, \
             supplier_order_id, order_line_id, origin_region_code, origin_county_code, origin_poverty_status, quantity_milli, \
             amount_fen, kind, credit_category, pairing_id, prev_hash, hash) \
             SELECT g, now(), {y}, 1 + (g % 12), '00000000-0000-4000-8000-' || lpad(((g * 7) % {BUYERS})::text, 12, '0'), 's-' || ((g * 13) % {SUPPLIERS}), 'prod-' || (g % 5000), 'grain', \
             'so-' || (g / 3), 'ol-' || g, c.code, c.code, c.status, 1000, \
             CASE WHEN g % 10 = 0 THEN -((g * 7919) % 50000 + 1) ELSE (g * 7919) % 100000 + 1 END, \
             CASE WHEN g % 10 = 0 THEN 'reversal' ELSE 'credit' END, \
             CASE WHEN g % 3 = 0 THEN 'helped_sale' ELSE 'purchase' END, NULL, md5((g - 1)::text), md5(g::text) \
             FROM generate_series({from}::bigint, {to}::bigint) g \
             JOIN (VALUES (0, '130727', 'deep_poverty'), (1, '130881', 'poverty'), (2, '130636', 'poverty'), (3, '130102', 'none')) \
               AS c(i, code, status) ON c.i = g % 4"
        ))
        .await;
        from = to + 1;
    }
    exec(format!(
        "UPDATE ledger_head SET seq = {n}, hash = md5('{n}') WHERE id = 1"
    ))
    .await;
    let t2 = Instant::now();
    exec("DELETE FROM ledger_rollup".into()).await;
    for (dim, col) in [
        ("buyer", "buyer_org_id"),
        ("supplier", "supplier_org_id"),
        ("county", "origin_county_code"),
        ("month", "CAST(month AS TEXT)"),
    ] {
        exec(format!(
            "INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count) \
             SELECT year, '{dim}', {col}, credit_category, origin_poverty_status, SUM(amount_fen), COUNT(*) \
             FROM ledger_entries GROUP BY 1, 2, 3, 4, 5"
        ))
        .await;
    }
    exec("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_rollup_add".into()).await;
    exec("ANALYZE ledger_rollup".into()).await;
    println!("roll-up rebuilt in {:.1} s", t2.elapsed().as_secs_f64());
    exec("VACUUM ANALYZE ledger_entries".into()).await;
    exec("ANALYZE organizations".into()).await;
    exec("ANALYZE pairings".into()).await;
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
                .query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    text.clone(),
                    summary_values(y),
                ))
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
