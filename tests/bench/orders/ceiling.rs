//! The database's own ceiling on the same server. PostgreSQL: `pgbench` TPC-B-like (built-in
//! scale 10) in a scratch database, and custom scripts replaying the statements of one order
//! placement and one acceptance (`place.sql`, `accept.sql`) on a copy of the seeded database.
//! SQLite: the same TPC-B transaction in a loop over one connection, as the service runs it.
use super::seed::{World, BENCH_ID_FN};
use rand::Rng;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PLACE_SQL: &str = include_str!("place.sql");
const ACCEPT_SQL: &str = include_str!("accept.sql");

/// Transactions a second, and the mean latency in ms, as pgbench printed them.
#[derive(Clone, Copy, Default)]
pub struct Rate {
    pub tps: f64,
    pub latency_ms: f64,
}

fn parse(out: &str) -> Rate {
    let num = |prefix: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Rate {
        tps: num("tps = "),
        latency_ms: num("latency average = "),
    }
}

fn pgbench(args: &[String]) -> String {
    let out = Command::new("pgbench")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("pgbench is needed for the PostgreSQL ceiling (Debian: postgresql-client): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

async fn admin(base: &str, text: &str) {
    let db = Database::connect(format!("{base}/postgres")).await.unwrap();
    db.execute_unprepared(text)
        .await
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    db.close().await.ok();
}

/// `pgbench -b tpcb-like` at scale 10 with `clients` clients, in a scratch database dropped after.
pub async fn pg_tpcb(base: &str, clients: usize, secs: u64) -> Rate {
    let name = format!("bench_tpcb_{}", uuid::Uuid::new_v4().simple());
    admin(base, &format!("CREATE DATABASE {name}")).await;
    let url = format!("{base}/{name}");
    pgbench(&["-i".into(), "-q".into(), "-s".into(), "10".into(), url.clone()]);
    let out = pgbench(&[
        "-b".into(),
        "tpcb-like".into(),
        "-c".into(),
        clients.to_string(),
        "-j".into(),
        clients.min(4).to_string(),
        "-T".into(),
        secs.to_string(),
        url,
    ]);
    admin(base, &format!("DROP DATABASE {name}")).await;
    parse(&out)
}

/// The replay of one placement and one acceptance, on a copy of the seeded database (so that
/// its rows never reach the measured one): placements first, then acceptances of the
/// two-line supplier orders the placements wrote.
pub async fn pg_replay(base: &str, seeded: &str, w: World, clients: usize, secs: u64, dir: &Path) -> (Rate, Rate) {
    let name = format!("bench_replay_{}", uuid::Uuid::new_v4().simple());
    admin(base, &format!("CREATE DATABASE {name} TEMPLATE {seeded}")).await;
    let url = format!("{base}/{name}");
    let db = Database::connect(url.clone()).await.unwrap();
    db.execute_unprepared(BENCH_ID_FN).await.unwrap();
    let (place, accept) = (dir.join("place.sql"), dir.join("accept.sql"));
    std::fs::write(&place, PLACE_SQL).unwrap();
    std::fs::write(&accept, ACCEPT_SQL).unwrap();
    let run = |file: &Path, vars: Vec<String>| {
        let mut args: Vec<String> = vec![
            "-n".into(),
            "-M".into(),
            "prepared".into(),
            "-c".into(),
            clients.to_string(),
        ];
        args.extend(["-j".into(), clients.min(4).to_string(), "-T".into(), secs.to_string()]);
        for v in vars {
            args.extend(["-D".into(), v]);
        }
        args.extend(["-f".into(), file.display().to_string(), url.clone()]);
        parse(&pgbench(&args))
    };
    let vars = vec![
        format!("buyers={}", w.buyers),
        format!("suppliers={}", w.suppliers),
        format!("per={}", w.per),
    ];
    let placed = run(&place, vars);
    db.execute_unprepared(
        "CREATE TABLE bench_targets AS SELECT row_number() OVER (ORDER BY so.id) AS k, so.id AS so_id, \
         so.order_id, so.buyer_org_id AS buyer_id, so.supplier_org_id AS supplier_id, \
         min(l.id) AS l1, max(l.id) AS l2, min(l.product_id) AS p1, max(l.product_id) AS p2, \
         (SELECT id FROM lots WHERE product_id = min(l.product_id)) AS lot1, \
         (SELECT id FROM lots WHERE product_id = max(l.product_id)) AS lot2 \
         FROM supplier_orders so JOIN order_lines l ON l.supplier_order_id = so.id \
         GROUP BY so.id HAVING count(*) = 2; ALTER TABLE bench_targets ADD PRIMARY KEY (k); ANALYZE",
    )
    .await
    .unwrap();
    let targets = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT count(*) AS n FROM bench_targets",
        ))
        .await
        .unwrap()
        .and_then(|r| r.try_get::<i64>("", "n").ok())
        .unwrap_or(0);
    let accepted = if targets > 0 {
        run(&accept, vec![format!("targets={targets}")])
    } else {
        Rate::default()
    };
    db.close().await.ok();
    if std::env::var_os("BENCH_KEEP_REPLAY").is_some() {
        println!("replay database kept for profiling: {url}");
    } else {
        admin(base, &format!("DROP DATABASE {name}")).await;
    }
    (placed, accepted)
}

/// TPC-B's transaction on SQLite (scale 10: 1,000,000 accounts), in a scratch file with the
/// service's settings (WAL, synchronous=NORMAL, one connection), from `clients` tasks.
pub async fn sqlite_tpcb(dir: &Path, clients: usize, secs: u64) -> Rate {
    let mut opts = ConnectOptions::new(format!("sqlite://{}/tpcb.db?mode=rwc", dir.display()));
    opts.max_connections(1).min_connections(1).sqlx_logging(false);
    let db = Database::connect(opts).await.unwrap();
    for s in [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA busy_timeout=5000",
        "CREATE TABLE branches (bid INTEGER PRIMARY KEY, bbalance INTEGER, filler TEXT)",
        "CREATE TABLE tellers (tid INTEGER PRIMARY KEY, bid INTEGER, tbalance INTEGER, filler TEXT)",
        "CREATE TABLE accounts (aid INTEGER PRIMARY KEY, bid INTEGER, abalance INTEGER, filler TEXT)",
        "CREATE TABLE history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TEXT, filler TEXT)",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) INSERT INTO branches SELECT x, 0, '' FROM c",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) INSERT INTO tellers SELECT x, (x - 1) / 10 + 1, 0, '' FROM c",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) \
         INSERT INTO accounts SELECT x, (x - 1) / 100000 + 1, 0, printf('%84s', '') FROM c",
    ] {
        db.execute_unprepared(s).await.unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (done, lat_us) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    let start = Instant::now();
    for _ in 0..clients {
        let (db, stop, done, lat_us) = (db.clone(), stop.clone(), done.clone(), lat_us.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                tpcb_once(&db).await;
                lat_us.fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let n = done.load(Ordering::Relaxed).max(1);
    let r = Rate {
        tps: n as f64 / start.elapsed().as_secs_f64(),
        latency_ms: lat_us.load(Ordering::Relaxed) as f64 / n as f64 / 1000.0,
    };
    db.close().await.ok();
    r
}

async fn tpcb_once(db: &DatabaseConnection) {
    let (aid, tid, delta) = {
        let mut rng = rand::thread_rng();
        (
            rng.gen_range(1..=1_000_000i64),
            rng.gen_range(1..=100i64),
            rng.gen_range(-5000..=5000i64),
        )
    };
    let bid = (tid - 1) / 10 + 1;
    let txn = db.begin().await.unwrap();
    let exec = |text: String| sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, text);
    txn.execute_raw(exec(format!(
        "UPDATE accounts SET abalance = abalance + {delta} WHERE aid = {aid}"
    )))
    .await
    .unwrap();
    txn.query_one_raw(exec(format!("SELECT abalance FROM accounts WHERE aid = {aid}")))
        .await
        .unwrap();
    txn.execute_raw(exec(format!(
        "UPDATE tellers SET tbalance = tbalance + {delta} WHERE tid = {tid}"
    )))
    .await
    .unwrap();
    txn.execute_raw(exec(format!(
        "UPDATE branches SET bbalance = bbalance + {delta} WHERE bid = {bid}"
    )))
    .await
    .unwrap();
    txn.execute_raw(exec(format!(
        "INSERT INTO history (tid, bid, aid, delta, mtime) VALUES ({tid}, {bid}, {aid}, {delta}, datetime('now'))"
    )))
    .await
    .unwrap();
    txn.commit().await.unwrap();
}
