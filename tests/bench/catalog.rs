//! Catalogue benchmark: `cargo bench --bench catalog`.
//!
//! Loads 100,000 certified products (each with a lot) in bulk, starts the whole
//! application on a random port, and measures over HTTP, with concurrent clients:
//! a filtered search and text searches (Chinese and Latin), each without the cache
//! (the catalogue generation is bumped before every request so each one misses) and
//! with it, plus `GET /healthz` as the baseline of the same run.
//!
//! Backends as in the tests: `TEST_DATABASE_URL` (PostgreSQL) and `TEST_REDIS_URL`
//! (Redis) when set; SQLite and the in-process cache otherwise.
//! Knobs: `BENCH_PRODUCTS` (100000), `BENCH_SECS` per scenario (5), `BENCH_CONCURRENCY` (4).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::field_reassign_with_default)]

use assist_market::config::Settings;
use assist_market::services::organizations::make_credit_code;
use assist_market::services::{new_id, now, sql};
use assist_market::startup::{self, Application};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, Set, TransactionTrait, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAMES: [&str; 8] = [
    "阳原小米",
    "平泉香菇",
    "饶阳番茄",
    "康保莜面",
    "围场马铃薯",
    "阜平大枣",
    "涞源核桃",
    "灵寿金针菇",
];
const WORDS: [&str; 8] = [
    "millet",
    "shiitake",
    "tomato",
    "oat noodles",
    "potato",
    "jujube",
    "walnut",
    "enoki",
];
const CATEGORIES: [&str; 8] = [
    "grain",
    "edible_fungi",
    "vegetables",
    "processed_food",
    "vegetables",
    "fruit",
    "fruit",
    "edible_fungi",
];
const COUNTIES: [&str; 4] = ["130727", "130881", "131124", "130636"];

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn settings(tmp: &tempfile::TempDir) -> Settings {
    let mut s = Settings::default();
    s.bind = "127.0.0.1:0".into();
    s.data_dir = tmp.path().join("data").to_string_lossy().into_owned();
    s.mail_dir = Some(tmp.path().join("mail").to_string_lossy().into_owned());
    s.jwt_secret = Some("bench-secret-bench-secret-bench-secret-0123".into());
    s.demo = Some(false);
    s.ledger_signing_key = Some("YmVuY2gtbGVkZ2VyLWtleS1iZW5jaC1sZWRnZXIta2U=".into());
    s.jobs_enabled = false;
    s.cache_ttl_secs = 300;
    s.db_max_connections = 16;
    s.log_json = false;
    s.database_url = Some(match std::env::var("TEST_DATABASE_URL") {
        Ok(base) => {
            let base = base.trim_end_matches('/').to_string();
            let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{base}/postgres")).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.ok();
            format!("{base}/{name}").into()
        }
        Err(_) => format!("sqlite://{}/bench.db?mode=rwc", tmp.path().display()).into(),
    });
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        s.redis_url = Some(url.into());
        s.redis_prefix = format!("bench:{}:", uuid::Uuid::new_v4().simple());
    }
    s
}

const PRODUCT_COLS: &str = "id, supplier_org_id, name, category, unit, price_fen, min_order_qty_milli, \
    origin_region_code, origin_county_code, description, certificates, search_text, status, \
    certificate_number, certified_at, valid_until, reserved_milli, version, created_at, updated_at";

async fn load(db: &sea_orm::DatabaseConnection, suppliers: &[(String, String)], n: usize) {
    let today = chrono::Utc::now().date_naive();
    let valid = today + chrono::Days::new(365);
    let best_before = today + chrono::Days::new(180);
    let certs = r#"[{"kind":"green_food","number":"LB-1","valid_until":"2030-12-31"}]"#;
    let batch = 500;
    let mut i = 0usize;
    while i < n {
        let end = (i + batch).min(n);
        let mut pvals: Vec<Value> = Vec::new();
        let mut prows = Vec::new();
        let mut lvals: Vec<Value> = Vec::new();
        let mut lrows = Vec::new();
        for k in i..end {
            let (sup, county) = &suppliers[k % suppliers.len()];
            let kind = k % NAMES.len();
            let id = new_id();
            let name = format!("{} {}号", NAMES[kind], k);
            let description = format!("{} from {} county, batch {}", WORDS[kind], county, k % 97);
            let t = now();
            let base = pvals.len();
            prows.push(format!(
                "({})",
                (1..=20)
                    .map(|c| format!("${}", base + c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            pvals.extend([
                id.clone().into(),
                sup.clone().into(),
                name.clone().into(),
                CATEGORIES[kind].into(),
                if kind.is_multiple_of(3) { "kg" } else { "box" }.into(),
                (500 + (k as i64 * 7919) % 20_000).into(),
                10_000i64.into(),
                county.clone().into(),
                county.clone().into(),
                description.clone().into(),
                certs.into(),
                assist_market::services::products::search_text(&name, &description).into(),
                "certified".into(),
                format!("FPBENCH{k:08}").into(),
                t.into(),
                valid.into(),
                0i64.into(),
                3i32.into(),
                t.into(),
                t.into(),
            ]);
            let lb = lvals.len();
            lrows.push(format!(
                "({})",
                (1..=6).map(|c| format!("${}", lb + c)).collect::<Vec<_>>().join(", ")
            ));
            lvals.extend([
                new_id().into(),
                id.into(),
                1_000_000i64.into(),
                1_000_000i64.into(),
                best_before.into(),
                t.into(),
            ]);
        }
        let txn = db.begin().await.unwrap();
        txn.execute_raw(sql(
            &txn,
            &format!("INSERT INTO products ({PRODUCT_COLS}) VALUES {}", prows.join(", ")),
            pvals,
        ))
        .await
        .unwrap();
        txn.execute_raw(sql(
            &txn,
            &format!(
                "INSERT INTO lots (id, product_id, quantity_milli, remaining_milli, best_before, created_at) VALUES {}",
                lrows.join(", ")
            ),
            lvals,
        ))
        .await
        .unwrap();
        txn.commit().await.unwrap();
        i = end;
    }
    db.execute_unprepared("ANALYZE").await.unwrap();
}

struct Stats {
    requests: usize,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    items: usize,
}

async fn measure(
    client: &reqwest::Client,
    url: &str,
    cache: Option<assist_market::infra::cache::Cache>,
    secs: u64,
    concurrency: usize,
) -> Stats {
    // Warm-up (also fills the cache for the cached runs).
    let first: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap_or_default();
    let items = first["items"].as_array().map(|a| a.len()).unwrap_or(0);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.to_string();
        let stop = stop.clone();
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some(c) = &cache {
                    c.bump_generation("catalog").await;
                }
                let t = Instant::now();
                let r = client.get(&url).send().await.unwrap();
                assert!(r.status().is_success(), "{url}: {}", r.status());
                let _ = r.bytes().await.unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Stats {
        requests: all.len(),
        secs: elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        items,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let n = env_num("BENCH_PRODUCTS", 100_000) as usize;
    let secs = env_num("BENCH_SECS", 5);
    let concurrency = env_num("BENCH_CONCURRENCY", 4) as usize;
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(&tmp).await;
    let backend = if s.database_url().starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let cache_kind = if s.redis_url.is_some() { "Redis" } else { "in-process" };
    let state = startup::build_state(s).await.unwrap();
    startup::bootstrap(&state).await.unwrap();
    assist_market::services::demo::ensure_regions(&state).await.unwrap();
    let mut suppliers = Vec::new();
    for (i, county) in COUNTIES.iter().enumerate() {
        for j in 0..5 {
            let t = now();
            let org = entity::organizations::ActiveModel {
                id: Set(new_id()),
                name: Set(format!("bench supplier {county}-{j}")),
                kind: Set("cooperative".into()),
                region_code: Set(county.to_string()),
                contact_email: Set(format!("s{i}{j}@bench.test")),
                credit_code: Set(make_credit_code(county, (i * 10 + j) as u64 + 1)),
                parent_org_id: Set(None),
                status: Set("active".into()),
                budget_unit: Set(false),
                created_at: Set(t),
                updated_at: Set(t),
                ..Default::default()
            }
            .insert(&state.db)
            .await
            .unwrap();
            suppliers.push((org.id, county.to_string()));
        }
    }
    let t = Instant::now();
    load(&state.db, &suppliers, n).await;
    println!(
        "loaded {n} certified products with lots in {:.1}s ({backend}, {cache_kind} cache)",
        t.elapsed().as_secs_f64()
    );
    let app = Application::from_state(state).unwrap();
    let port = app.port();
    let (server, state, _jobs) = app.into_parts();
    tokio::spawn(server);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let filtered =
        format!("{base}/api/v1/catalog?category=vegetables&county=131124&min_price=50&max_price=150&limit=20");
    let text_zh = format!("{base}/api/v1/catalog?q={}&limit=20", "%E5%B0%8F%E7%B1%B3"); // 小米
    let text_latin = format!("{base}/api/v1/catalog?q=SHIITAKE&limit=20");
    let text_rare = format!(
        "{base}/api/v1/catalog?q={}&limit=20",
        "%E9%87%91%E9%92%88%E8%8F%87%2099999"
    ); // 金针菇 99999

    println!(
        "{} clients, {}s per scenario; latency in ms over HTTP on 127.0.0.1",
        concurrency, secs
    );
    println!(
        "{:<34} {:>9} {:>10} {:>8} {:>8} {:>9} {:>6}",
        "scenario", "requests", "req/s", "p50", "p99", "vs healthz", "items"
    );
    let health = measure(&client, &format!("{base}/healthz"), None, secs, concurrency).await;
    let h_rps = health.requests as f64 / health.secs;
    let print = |name: &str, s: &Stats| {
        let rps = s.requests as f64 / s.secs;
        println!(
            "{:<34} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>9.3}x {:>6}",
            name,
            s.requests,
            rps,
            s.p50_ms,
            s.p99_ms,
            rps / h_rps,
            s.items
        );
    };
    print("GET /healthz", &health);
    for (name, url) in [
        ("filtered search", &filtered),
        ("text search q=小米 (1 in 8)", &text_zh),
        ("text search q=SHIITAKE (1 in 8)", &text_latin),
        ("text search q=金针菇 99999 (1 hit)", &text_rare),
    ] {
        let uncached = measure(&client, url, Some(state.cache.clone()), secs, concurrency).await;
        print(&format!("{name}, no cache"), &uncached);
        let cached = measure(&client, url, None, secs, concurrency).await;
        print(&format!("{name}, cached"), &cached);
    }
}
