//! Supervision benchmark on PostgreSQL: 20,000 budget units (spread over 180 synthetic
//! counties of Hebei, half of them poverty counties) with approved plans, 5,000 certified
//! products and a 1,000,000-entry ledger, all inserted with bulk SQL; then the province-wide
//! `GET /supervision/{year}/units` and the first page of `GET /supervision/{year}/counties`
//! over HTTP, p50 and p99, each beside one raw SQL aggregate over the same rows in the same
//! run, and their ratio (the target is within 2x).
//!
//! Run: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432 cargo bench --bench supervision`
//! (`BENCH_ENTRIES`, `BENCH_UNITS`, `BENCH_RUNS` override the volume and the samples).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default,
    dead_code
)]

#[path = "../api/helpers.rs"]
mod helpers;

use chrono::Datelike;
use helpers::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::future::Future;
use std::time::{Duration, Instant};

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p99 of `runs` timings of `f`, after one warm-up.
async fn time<F, Fut>(runs: usize, mut f: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    f().await;
    let mut v = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed());
    }
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}

#[tokio::main]
async fn main() {
    if std::env::var("TEST_DATABASE_URL").is_err() {
        eprintln!("set TEST_DATABASE_URL (PostgreSQL) to run the supervision benchmark");
        return;
    }
    let n = env("BENCH_ENTRIES", 1_000_000);
    let units = env("BENCH_UNITS", 20_000);
    let runs = env("BENCH_RUNS", 10) as usize;
    // The sequencer would spend the run positioning the bulk-loaded entries: it waits a day.
    let app = spawn_app_with(|s| s.ledger_sequence_ms = 86_400_000).await;
    let db = app.db();
    let y = chrono::Utc::now().year();
    let exec = |s: String| async move {
        db.execute_unprepared(&s).await.unwrap_or_else(|e| panic!("{e}: {s}"));
    };

    let province = app.create_org("finance_office", "130000").await;
    let t = Instant::now();
    // 9 synthetic cities of Hebei with 20 counties each; odd counties are poverty counties.
    exec("INSERT INTO regions (code, name, level, parent_code, poverty_status, exited_year, registered_poor, updated_at) \
          SELECT '13' || c || '00', '市 ' || c, 'city', '130000', 'none', NULL, FALSE, now() FROM generate_series(91, 99) c"
        .into())
    .await;
    exec("INSERT INTO regions (code, name, level, parent_code, poverty_status, exited_year, registered_poor, updated_at) \
          SELECT '13' || c || lpad(k::text, 2, '0'), '县 ' || c || '-' || k, 'county', '13' || c || '00', \
          CASE WHEN k % 2 = 1 THEN 'poverty' ELSE 'none' END, NULL, k % 2 = 1, now() \
          FROM generate_series(91, 99) c, generate_series(1, 20) k"
        .into())
    .await;
    exec(
        "CREATE TABLE bench_counties AS SELECT row_number() OVER (ORDER BY code) - 1 AS i, code, poverty_status \
          FROM regions WHERE code LIKE '139%' AND level = 'county'"
            .into(),
    )
    .await;
    // Budget units, round-robin over the counties, each with an approved plan.
    exec(format!(
        "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, parent_org_id, status, \
         supplier_size, budget_unit, created_at, updated_at) \
         SELECT '00000000-0000-4000-8000-' || lpad(g::text, 12, '0'), '预算单位 ' || g, 'school', c.code, \
         'u' || g || '@bench.test', 'BU' || g, NULL, 'active', 'sme', TRUE, now(), now() \
         FROM generate_series(0, {}) g JOIN bench_counties c ON c.i = g % 180",
        units - 1
    ))
    .await;
    exec(format!(
        "INSERT INTO plans (buyer_org_id, year, status, declaration, food_budget_fen, reserved_share_ppm, members, late, \
         below_floor, filed_at, approved_at, approved_target_fen, approved_budget_fen, approved_share_ppm, version, \
         created_at, updated_at) \
         SELECT id, {y}, 'approved', NULL, 100000000, 300000, '[]', FALSE, FALSE, now(), now(), 30000000, 100000000, \
         300000, 3, now(), now() FROM organizations WHERE budget_unit AND id LIKE '00000000-0000-4000-8000-%'"
    ))
    .await;
    // 500 suppliers and 5,000 certified products in the poverty counties.
    exec(
        "INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, parent_org_id, status, \
          supplier_size, budget_unit, created_at, updated_at) \
          SELECT '00000000-0000-4000-9000-' || lpad(g::text, 12, '0'), '合作社 ' || g, 'cooperative', c.code, \
          's' || g || '@bench.test', 'SU' || g, NULL, 'active', 'sme', FALSE, now(), now() \
          FROM generate_series(0, 499) g JOIN bench_counties c ON c.i = (g * 2 + 1) % 180"
            .into(),
    )
    .await;
    exec("INSERT INTO products (id, supplier_org_id, name, category, unit, price_fen, min_order_qty_milli, \
          origin_region_code, origin_county_code, description, certificates, poor_households_linked, benefit_mechanism, \
          search_text, status, certificate_number, valid_until, reserved_milli, version, created_at, updated_at) \
          SELECT '00000000-0000-4000-a000-' || lpad(g::text, 12, '0'), '00000000-0000-4000-9000-' || lpad((g % 500)::text, 12, '0'), \
          '小米 ' || g, 'grain', 'kg', 1000, 1000, c.code, c.code, '', '[]', 0, '', '', 'certified', 'C' || g, \
          current_date + 365, 0, 1, now(), now() \
          FROM generate_series(0, 4999) g JOIN bench_counties c ON c.i = ((g % 500) * 2 + 1) % 180"
        .into())
    .await;
    // The ledger, in batches of 250,000 rows; 1 in 10 entries is a reversal.
    let batch = 250_000i64;
    let mut from = 1i64;
    while from <= n {
        let to = (from + batch - 1).min(n);
        exec(format!(
            "INSERT INTO ledger_entries (id, occurred_at, year, month, buyer_org_id, supplier_org_id, product_id, category, \
             supplier_order_id, order_line_id, origin_region_code, origin_county_code, origin_poverty_status, quantity_milli, \
             amount_fen, kind, credit_category, pairing_id, leaf_version, leaf_hash) \
             SELECT 'e-' || g, now(), {y}, 1 + (g % 12), '00000000-0000-4000-8000-' || lpad(((g * 7) % {units})::text, 12, '0'), \
             '00000000-0000-4000-9000-' || lpad((g % 500)::text, 12, '0'), 'prod-' || (g % 5000), 'grain', \
             'so-' || (g / 3), 'ol-' || g, c.code, c.code, c.poverty_status, 1000, \
             CASE WHEN g % 10 = 0 THEN -((g * 7919) % 50000 + 1) ELSE (g * 7919) % 100000 + 1 END, \
             CASE WHEN g % 10 = 0 THEN 'reversal' ELSE 'credit' END, \
             CASE WHEN g % 3 = 0 THEN 'helped_sale' ELSE 'purchase' END, NULL, 1, md5(g::text) \
             FROM generate_series({from}::bigint, {to}::bigint) g JOIN bench_counties c ON c.i = g % 180"
        ))
        .await;
        from = to + 1;
    }
    for table in ["ledger_entries", "organizations", "plans", "products", "regions"] {
        exec(format!("VACUUM ANALYZE {table}")).await;
    }
    println!(
        "seeded {units} budget units with plans, 500 suppliers, 5000 products, {n} ledger entries in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // The client's pooled connection may have idled out during the load: one throwaway request.
    let _ = app.client.get(app.url("/health")).send().await;
    let raw = |text: String| async move {
        let rows = db
            .query_all_raw(Statement::from_string(DbBackend::Postgres, text))
            .await
            .unwrap();
        assert!(!rows.is_empty());
    };
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "", "p50 ms", "p99 ms", "sql p50", "sql p99", "ratio50", "ratio99"
    );
    let report = |name: &str, (a50, a99): (Duration, Duration), (s50, s99): (Duration, Duration)| {
        println!(
            "{name:<22} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7.2} {:>7.2}",
            ms(a50),
            ms(a99),
            ms(s50),
            ms(s99),
            ms(a50) / ms(s50),
            ms(a99) / ms(s99)
        );
    };

    // The province-wide units list (every unit: it is not paged) beside the aggregate it rests on:
    // the year's net credit and entries per budget unit, with its plan, over the same rows.
    let units_url = format!("/supervision/{y}/units");
    let first = app.get(&units_url, province.t()).await.expect(200);
    let listed = first.json["units"].as_array().map(Vec::len).unwrap_or(0);
    assert!(listed as i64 >= units, "{listed} units listed");
    let http = time(runs, || async {
        app.get(&units_url, province.t()).await.expect(200);
    })
    .await;
    let sql = time(runs, || {
        raw(format!(
            "SELECT o.id, o.name, o.region_code, p.status, p.approved_target_fen, l.amt, l.n \
             FROM organizations o LEFT JOIN plans p ON p.buyer_org_id = o.id AND p.year = {y} \
             LEFT JOIN (SELECT buyer_org_id, SUM(amount_fen) AS amt, COUNT(*) AS n FROM ledger_entries \
             WHERE year = {y} GROUP BY buyer_org_id) l ON l.buyer_org_id = o.id WHERE o.budget_unit"
        ))
    })
    .await;
    report(&format!("units ({listed})"), http, sql);
    // The same list through the service function (no HTTP, no JSON).
    let caller = assist_market::auth::Caller {
        user_id: assist_market::domain::UserId::new(),
        org_id: province.org_id.parse().unwrap(),
        role: assist_market::auth::Role::Supervisor,
        jti: String::new(),
        exp: i64::MAX,
        sid: String::new(),
        addr: String::new(),
    };
    let service = time(runs, || async {
        let q = assist_market::services::supervision::UnitsQuery {
            region: None,
            kind: None,
            format: None,
        };
        assist_market::services::supervision::units(&app.state, &caller, y, q)
            .await
            .unwrap();
    })
    .await;
    report("units (service fn)", service, sql);

    // The first page of the counties list beside the same figures for the same 50 counties.
    let counties_url = format!("/supervision/{y}/counties");
    let first = app.get(&counties_url, province.t()).await.expect(200);
    let page = first.json["items"].as_array().map(Vec::len).unwrap_or(0);
    let http = time(runs, || async {
        app.get(&counties_url, province.t()).await.expect(200);
    })
    .await;
    // The same page's counties, named in the statement as the service names them.
    let codes: Vec<String> = first.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("'{}'", c["region_code"].as_str().unwrap()))
        .collect();
    let codes = codes.join(", ");
    let sql = time(runs, || {
        raw(format!(
            "SELECT g.code, g.name, g.poverty_status, p.n, p.s, l.amt, l.n FROM regions g \
             LEFT JOIN (SELECT origin_county_code AS code, COUNT(*) AS n, COUNT(DISTINCT supplier_org_id) AS s \
               FROM products WHERE status = 'certified' AND valid_until >= current_date \
               AND origin_county_code IN ({codes}) GROUP BY 1) p ON p.code = g.code \
             LEFT JOIN (SELECT origin_county_code AS code, SUM(amount_fen) AS amt, COUNT(*) AS n FROM ledger_entries \
               WHERE year = {y} AND origin_county_code IN ({codes}) GROUP BY 1) l ON l.code = g.code \
             WHERE g.code IN ({codes}) ORDER BY g.code"
        ))
    })
    .await;
    report(&format!("counties page ({page})"), http, sql);
}
