//! Order-path benchmark: `cargo bench --bench orders`.
//!
//! In one run: the database's ceiling on the same server (PostgreSQL: `pgbench` TPC-B-like at
//! scale 10 with the same client count, and pgbench replaying the statements of one order
//! placement and one acceptance, `orders/place.sql` and `orders/accept.sql`; SQLite: the
//! TPC-B transaction in a loop over one connection), then concurrent buyers and suppliers
//! through 1, 2 and 4 `assist-market serve` processes (the binary this bench was built with)
//! sharing the database (and Redis): bulk orders placed (3 lines, 2 suppliers) for
//! `BENCH_SECS`, then confirmed, shipped, delivered and accepted. Prints orders placed/s and
//! acceptances and lines accepted/s with p50/p99, each as a ratio to the ceiling, with the
//! CPU the database server used (from /proc) and the load average. Each process count starts
//! from the same state: the emails queued before it are sent first (`procs::settle`). Then checks that stock, reservations and the ledger agree and
//! that `GET /ledger/verify` is ok.
//!
//! Backends as in the tests: `TEST_DATABASE_URL` (PostgreSQL, with `pgbench` on PATH) and
//! `TEST_REDIS_URL` when set; SQLite and the in-process cache otherwise. Knobs:
//! `BENCH_SECS` (10), `BENCH_CONCURRENCY` (8), `BENCH_PROCS` (1,2,4), `BENCH_ACCEPTS`
//! (supplier orders taken through acceptance per step, 1500), `BENCH_BUYERS` (40),
//! `BENCH_SUPPLIERS` (20), `BENCH_PRODUCTS_PER` (10); `BENCH_KEEP_REPLAY` (set: the replay's
//! database is kept, its URL printed, for profiling the statements alone). Never asserts on time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::field_reassign_with_default)]

#[path = "orders/ceiling.rs"]
mod ceiling;
#[path = "orders/load.rs"]
mod load;
#[path = "orders/procs.rs"]
mod procs;
#[path = "orders/seed.rs"]
mod seed;

use assist_market::config::Settings;
use base64::Engine;
use procs::{CpuProbe, CpuUse};
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use std::sync::Arc;
use std::time::Duration;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    run().await;
}

/// One measured figure of a step, beside the ceiling.
struct Row {
    procs: usize,
    name: &'static str,
    stats: load::Stats,
    rate: f64,
    cpu: CpuUse,
    load: String,
}

async fn run() {
    let secs = env_num("BENCH_SECS", 10);
    let clients = env_num("BENCH_CONCURRENCY", 8) as usize;
    let accepts = env_num("BENCH_ACCEPTS", 1500) as usize;
    let procs_list: Vec<usize> = std::env::var("BENCH_PROCS")
        .unwrap_or_else(|_| "1,2,4".into())
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let world = seed::World {
        buyers: env_num("BENCH_BUYERS", 40) as usize,
        suppliers: env_num("BENCH_SUPPLIERS", 20).max(2) as usize,
        per: env_num("BENCH_PRODUCTS_PER", 10).max(2) as usize,
    };
    let tmp = tempfile::tempdir().unwrap();
    let pg_base = std::env::var("TEST_DATABASE_URL")
        .ok()
        .map(|b| b.trim_end_matches('/').to_string());
    let db_name = format!("bench_orders_{}", uuid::Uuid::new_v4().simple());
    let database_url = match &pg_base {
        Some(base) => {
            let admin = Database::connect(format!("{base}/postgres")).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {db_name}"))
                .await
                .unwrap();
            admin.close().await.ok();
            format!("{base}/{db_name}")
        }
        None => format!("sqlite://{}/orders.db?mode=rwc", tmp.path().display()),
    };
    let redis_url = std::env::var("TEST_REDIS_URL").ok();
    let shared = procs::Shared {
        database_url: database_url.clone(),
        redis_url: redis_url.clone(),
        redis_prefix: format!("bench:{}:", uuid::Uuid::new_v4().simple()),
        jwt_secret: "bench-secret-bench-secret-bench-secret-0123".into(),
        ledger_key: base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>()),
        db_max_connections: 10,
    };
    // Migrations, regions and the world, from this process; then it lets go of the database.
    let mut s = Settings::default();
    s.database_url = Some(database_url.clone().into());
    s.data_dir = tmp.path().join("seed").display().to_string();
    s.mail_dir = Some(tmp.path().join("seed-mail").display().to_string());
    s.jwt_secret = Some(shared.jwt_secret.clone().into());
    s.ledger_signing_key = Some(shared.ledger_key.clone().into());
    s.demo = Some(false);
    s.jobs_enabled = false;
    let state = assist_market::startup::build_state(s).await.unwrap();
    assist_market::services::demo::ensure_regions(&state).await.unwrap();
    seed::seed(&state.db, world).await;
    state.db.clone().close().await.ok();
    drop(state);

    let backend = if pg_base.is_some() { "PostgreSQL" } else { "SQLite" };
    let cache = if redis_url.is_some() {
        "Redis"
    } else {
        "in-process cache"
    };
    println!(
        "order-path benchmark: {backend}, {cache}; {clients} clients; {} buyers, {} suppliers, {} products; {} cores; load average {}",
        world.buyers,
        world.suppliers,
        world.suppliers * world.per,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        procs::load_average()
    );
    // The ceiling.
    let (tpcb, replay) = match &pg_base {
        Some(base) => {
            let tpcb = ceiling::pg_tpcb(base, clients, secs).await;
            let replay = ceiling::pg_replay(base, &db_name, world, clients, secs, tmp.path()).await;
            (tpcb, Some(replay))
        }
        None => (ceiling::sqlite_tpcb(tmp.path(), clients, secs).await, None),
    };
    let ceiling_name = if pg_base.is_some() {
        "pgbench TPC-B-like, scale 10"
    } else {
        "SQLite TPC-B transaction loop, 1,000,000 accounts, one connection"
    };
    println!(
        "ceiling: {ceiling_name}, {clients} clients, {secs} s: {:.0} tx/s (mean {:.2} ms); load average {}",
        tpcb.tps,
        tpcb.latency_ms,
        procs::load_average()
    );
    if let Some((p, a)) = replay {
        println!(
            "replayed statements (pgbench -M prepared, {clients} clients, {secs} s each): placement {:.0} tx/s (mean {:.2} ms), acceptance of a 2-line supplier order {:.0} tx/s (mean {:.2} ms)",
            p.tps, p.latency_ms, a.tps, a.latency_ms
        );
    }

    // One connection of our own: the consistency check, and a backend that leads /proc to the server.
    let mut opts = ConnectOptions::new(database_url.clone());
    opts.max_connections(1).min_connections(1).sqlx_logging(false);
    let db = Database::connect(opts).await.unwrap();
    let pg_backend = if pg_base.is_some() {
        let r = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT pg_backend_pid() AS pid",
            ))
            .await
            .unwrap()
            .unwrap();
        Some(r.try_get::<i32>("", "pid").unwrap() as u32)
    } else {
        None
    };
    let probe = CpuProbe {
        pg_backend,
        tck: procs::clock_ticks_per_sec(),
    };
    let bin = env!("CARGO_BIN_EXE_assist-market");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        // Under the server's keep-alive (5 s), so that no request goes out on a connection it is closing.
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let mut rows = Vec::new();
    let mut tokens = None;
    for &k in &procs_list {
        let mut apis = Vec::new();
        for i in 0..k {
            apis.push(procs::start(bin, tmp.path(), i, &shared).await);
        }
        if tokens.is_none() {
            tokens = Some(load::login_all(&client, &apis[0].base, world).await);
        }
        let (buyers, suppliers, _) = tokens.clone().unwrap();
        let bases = apis.iter().map(|a| a.base.clone()).collect();
        let ctx = Arc::new(load::Ctx::new(client.clone(), bases, buyers, suppliers, world));
        let (settled, queued) = procs::settle(&db, Duration::from_secs(300)).await;
        println!("{k} process(es): the emails queued before sent in {settled:.1} s ({queued} still queued)");
        let c0 = probe.read(&apis);
        let placed = load::place(ctx.clone(), clients, secs).await;
        let c1 = probe.read(&apis);
        let sos: Vec<load::So> = placed.placed.iter().take(accepts).cloned().collect();
        let sos = Arc::new(sos);
        rows.push(Row {
            procs: k,
            name: "place order",
            rate: placed.per_sec(),
            cpu: CpuUse::between(c0, c1),
            load: procs::load_average(),
            stats: placed,
        });
        let lc = load::lifecycle(ctx.clone(), clients, sos.clone()).await;
        let c2 = probe.read(&apis);
        rows.push(Row {
            procs: k,
            name: "confirm/ship/deliver",
            rate: lc.per_sec(),
            cpu: CpuUse::between(c1, c2),
            load: procs::load_average(),
            stats: lc,
        });
        let acc = load::accept(ctx, clients, sos).await;
        let c3 = probe.read(&apis);
        rows.push(Row {
            procs: k,
            name: "accept",
            rate: acc.per_sec(),
            cpu: CpuUse::between(c2, c3),
            load: procs::load_average(),
            stats: acc,
        });
        drop(apis);
    }
    report(&rows, tpcb.tps, replay, clients);

    // Afterwards: one process verifies the ledger (sequencing whatever is left first).
    let api = procs::start(bin, tmp.path(), 99, &shared).await;
    let evaluator = tokens.map(|t| t.2).unwrap_or_default();
    let verify = load::json_of(
        client
            .get(format!("{}/api/v1/ledger/verify", api.base))
            .bearer_auth(&evaluator),
    )
    .await;
    drop(api);
    let checked = seed::check(&db).await;
    println!(
        "\nafterwards: {} accepted lines, {} ledger entries; stock, reservations and ledger {}; GET /ledger/verify: ok={} entries={} tree_size={}",
        checked.accepted_lines,
        checked.ledger_entries,
        if checked.problems.is_empty() { "agree".to_string() } else { format!("DISAGREE in {} places", checked.problems.len()) },
        verify["ok"],
        verify["entries"],
        verify["tree_size"]
    );
    for p in checked.problems.iter().take(10) {
        println!("  {p}");
    }
    db.close().await.ok();
    if let Some(base) = &pg_base {
        let admin = Database::connect(format!("{base}/postgres")).await.unwrap();
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE {db_name} WITH (FORCE)"))
            .await;
    }
}

fn report(rows: &[Row], tpcb: f64, replay: Option<(ceiling::Rate, ceiling::Rate)>, clients: usize) {
    println!("\nthrough the API ({clients} clients; latency in ms over HTTP on 127.0.0.1; db cpu = cores the database server used, share = of db + API + client CPU)");
    println!(
        "{:>5} {:<21} {:>6} {:>6} {:>8} {:>8} {:>7} {:>7} {:>8} {:>9} {:>7} {:>6} {:>7}  load average",
        "procs",
        "step",
        "ok",
        "failed",
        "per s",
        "lines/s",
        "p50",
        "p99",
        "vs tpcb",
        "vs replay",
        "db cpu",
        "share",
        "api cpu",
    );
    for r in rows {
        let vs_replay = match (replay, r.name) {
            (Some((p, _)), "place order") if p.tps > 0.0 => format!("{:.3}", r.rate / p.tps),
            (Some((_, a)), "accept") if a.tps > 0.0 => format!("{:.3}", r.rate / a.tps),
            _ => "-".into(),
        };
        println!(
            "{:>5} {:<21} {:>6} {:>6} {:>8.1} {:>8.1} {:>7.1} {:>7.1} {:>8.3} {:>9} {:>7.2} {:>5.0}% {:>7.2}  {}",
            r.procs,
            r.name,
            r.stats.ok,
            r.stats.failed,
            r.rate,
            r.stats.lines_per_sec(),
            r.stats.pct(0.50),
            r.stats.pct(0.99),
            r.rate / tpcb.max(1e-9),
            vs_replay,
            r.cpu.db,
            r.cpu.db_share() * 100.0,
            r.cpu.api,
            r.load
        );
        if let Some(e) = &r.stats.first_error {
            println!("      first failure: {}", e.chars().take(300).collect::<String>());
        }
    }
    let rate = |k: usize, name: &str| rows.iter().find(|r| r.procs == k && r.name == name).map(|r| r.rate);
    let word = |met: bool| if met { "met" } else { "NOT met" };
    println!("\ntargets (figures, never asserted):");
    for (name, what) in [("place order", "order placement"), ("accept", "acceptance")] {
        if let Some(best) = rows.iter().filter(|r| r.name == name).map(|r| r.rate).reduce(f64::max) {
            println!(
                "  {what} >= 50 % of the ceiling's {tpcb:.0} tx/s: best {best:.1}/s = {:.1} % -> {}",
                best / tpcb.max(1e-9) * 100.0,
                word(best >= 0.5 * tpcb)
            );
        }
        if let (Some(one), Some(two)) = (rate(1, name), rate(2, name)) {
            println!(
                "  {what} rises from 1 to 2 processes: {one:.1}/s -> {two:.1}/s (x{:.2}) -> {}",
                two / one.max(1e-9),
                word(two > one)
            );
        }
    }
}
