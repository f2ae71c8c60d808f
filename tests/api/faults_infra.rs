//! Issue 12, infrastructure under faults: a database that cannot be reached is a quick 503
//! with `Retry-After` and the service recovers by itself; Redis down only degrades; the
//! in-process cache holds its bounds.
use crate::helpers::*;
use assist_market::startup::Application;
use assist_market::state::AppState;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

/// A loopback port where nothing listens.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A TCP proxy in front of a server (PostgreSQL, Redis) that a test can cut and restore:
/// `stop` closes the listener and every open connection, `start` listens again on the same port.
struct Proxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn new(upstream: &str) -> Proxy {
        let p = Proxy {
            port: dead_port(),
            upstream: upstream.to_string(),
            tasks: Arc::new(Mutex::new(JoinSet::new())),
        };
        p.start().await;
        p
    }

    async fn start(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        self.tasks.lock().await.spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tasks.lock().await.spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
    }

    async fn stop(&self) {
        self.tasks.lock().await.shutdown().await;
    }
}

/// `scheme://user@host:port/rest` -> (`host:port`, the URL with `127.0.0.1:{port}` instead).
fn through(url: &str, port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth_host, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let (user, host) = auth_host.rsplit_once('@').map_or(("", auth_host), |(u, h)| (u, h));
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    let slash = if path.is_empty() { "" } else { "/" };
    (
        host.to_string(),
        format!("{scheme}://{at}127.0.0.1:{port}{slash}{path}"),
    )
}

/// Serves `state` on a random port; returns its address and the handle that stops it.
fn serve(state: AppState) -> (String, actix_web::dev::ServerHandle) {
    let app = Application::from_state(state).unwrap();
    let addr = format!("http://127.0.0.1:{}", app.port());
    let (server, _, jobs) = app.into_parts();
    for j in jobs {
        j.abort();
    }
    let handle = server.handle();
    tokio::spawn(server);
    (addr, handle)
}

async fn get(addr: &str, path: &str) -> (u16, Option<String>, Value, Duration) {
    let t = Instant::now();
    let r = reqwest::Client::new()
        .get(format!("{addr}{path}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    let json: Value = r.json().await.unwrap_or(Value::Null);
    if status == 503 && path.starts_with("/api/") {
        assert!(ct.unwrap_or_default().starts_with("application/problem+json"), "{json}");
    }
    (status, retry, json, t.elapsed())
}

/// Item 4: with the database unreachable (a loopback port where nothing listens), an API call
/// answers 503 problem+json with `Retry-After` within the acquire timeout, not 500 after 30 s;
/// `/readyz` answers within 2 s, 503, naming the database as `down`.
#[tokio::test]
async fn an_unreachable_database_is_a_quick_503_with_retry_after() {
    let app = spawn_app().await;
    let mut settings = (*app.state.settings).clone();
    settings.db_acquire_timeout_ms = 700;
    settings.database_url = Some(format!("postgres://nobody@127.0.0.1:{}/none", dead_port()).into());
    let mut opts = assist_market::infra::db::connect_options(&settings);
    opts.connect_lazy(true);
    let mut state = app.state.clone();
    state.db = sea_orm::Database::connect(opts).await.unwrap();
    state.settings = Arc::new(settings);
    let (addr, handle) = serve(state);

    let (status, retry, body, took) = get(&addr, "/api/v1/catalog").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(body["type"], "https://assist-market.local/problems/unavailable");
    assert!(took < Duration::from_millis(2500), "answered in {took:?}");

    let (status, retry, body, took) = get(&addr, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(retry.is_some());
    assert_eq!(body["database"], "down");
    assert_eq!(body["status"], "unavailable");
    assert!(took < Duration::from_secs(2), "readyz answered in {took:?}");
    assert_eq!(get(&addr, "/healthz").await.0, 200, "the process itself is up");
    // The healthy instance next to it is unaffected.
    let r = app.get("/readyz", None).await.expect(200);
    assert_eq!(r.json["database"], "ok");
    handle.stop(false).await;
}

/// Item 4 on PostgreSQL: the database goes away under a running service (its connections are
/// cut and new ones refused), calls are quick 503s, and when it returns the service serves
/// again without a restart.
#[tokio::test]
async fn the_service_recovers_by_itself_when_the_database_returns() {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("skipped: needs TEST_DATABASE_URL (PostgreSQL)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&tmp).await;
    let url = settings.database_url().clone();
    let (upstream, _) = through(&base, 0);
    let proxy = Proxy::new(&upstream).await;
    settings.database_url = Some(through(&url, proxy.port).1.into());
    settings.db_acquire_timeout_ms = 1000;
    let app = spawn_with_settings(settings, tmp).await;
    let admin = Some(app.admin_token.as_str());
    app.get("/organizations", admin).await.expect(200);

    proxy.stop().await;
    let t = Instant::now();
    for _ in 0..3 {
        let r = app.get("/organizations", admin).await;
        let p = r.problem(503);
        assert_eq!(p["type"], "https://assist-market.local/problems/unavailable");
    }
    assert!(t.elapsed() < Duration::from_secs(6), "3 calls took {:?}", t.elapsed());
    let t = Instant::now();
    let r = app.get("/readyz", None).await.expect(503);
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(r.json["database"], "down");

    proxy.start().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get("/organizations", admin).await;
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not recovered: {}", r.text);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = app.get("/readyz", None).await.expect(200);
    assert_eq!(r.json["database"], "ok");
    // Writes work again too.
    app.create_org("cooperative", YANGYUAN_VILLAGE).await;
}

/// Item 5: Redis configured but nothing listening. The service starts, `/readyz` is 200 with
/// Redis `degraded`, the breaker is open on `/metrics`, and requests do not wait on Redis.
#[tokio::test]
async fn with_redis_down_the_service_is_ready_degraded_and_fast() {
    let app = spawn_app_with(|s| {
        s.redis_url = Some(format!("redis://127.0.0.1:{}", dead_port()).into());
        s.redis_prefix = "t:down:".into();
        s.redis_timeout_ms = 200;
        s.redis_cooloff_ms = 5000;
    })
    .await;
    let r = app.get("/readyz", None).await.expect(200);
    assert_eq!(r.json["redis"], "degraded");
    assert_eq!(r.json["database"], "ok");
    assert_eq!(r.json["status"], "ok");

    let t = Instant::now();
    for i in 0..50 {
        let q = if i % 2 == 0 { "/catalog" } else { "/catalog?q=millet" };
        app.get(q, None).await.expect(200);
    }
    let took = t.elapsed();
    assert!(took < Duration::from_secs(3), "50 catalogue requests took {took:?}");
    // Logins (counters) and the token check (revocation) work from the process.
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    app.get("/me", sup.t()).await.expect(200);
    let m = app.get("/metrics", None).await.expect(200);
    assert!(m.text.contains("assist_redis_breaker_open 1"), "{}", m.text);
}

/// Item 5: Redis goes away and comes back (through a proxy in front of the test Redis):
/// degraded while it is gone, used again after the cool-off once it answers.
#[tokio::test]
async fn redis_is_used_again_when_it_returns() {
    let Ok(redis) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: needs TEST_REDIS_URL");
        return;
    };
    let (upstream, _) = through(&redis, 0);
    let proxy = Proxy::new(&upstream).await;
    let app = spawn_app_with(|s| {
        s.redis_url = Some(through(&redis, proxy.port).1.into());
        s.redis_timeout_ms = 200;
        s.redis_cooloff_ms = 300;
    })
    .await;
    assert_eq!(app.get("/readyz", None).await.expect(200).json["redis"], "ok");
    let before: u64 = app.state.cache.generation("catalog").await.parse().unwrap();

    proxy.stop().await;
    let t = Instant::now();
    for _ in 0..20 {
        app.get("/catalog", None).await.expect(200);
    }
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(app.get("/readyz", None).await.expect(200).json["redis"], "degraded");
    assert!(app.state.cache.breaker_open());
    // An invalidation while Redis is away is not lost: it reaches Redis when it returns.
    app.state.cache.bump_generation("catalog").await;

    proxy.start().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(350)).await;
        let r = app.get("/readyz", None).await.expect(200);
        if r.json["redis"] == "ok" {
            break;
        }
        assert!(Instant::now() < deadline, "redis not used again: {}", r.text);
    }
    assert!(!app.state.cache.breaker_open());
    let after: u64 = app.state.cache.generation("catalog").await.parse().unwrap();
    assert!(
        after > before,
        "the generation bumped during the outage: {before} -> {after}"
    );
    let local = app.state.cache.local_size();
    app.state.cache.set("probe", "v", Duration::from_secs(30)).await;
    assert_eq!(app.state.cache.get("probe").await.as_deref(), Some("v"));
    assert_eq!(app.state.cache.local_size(), local, "stored in Redis, not in process");
    let m = app.get("/metrics", None).await.expect(200);
    assert!(m.text.contains("assist_redis_breaker_open 0"), "{}", m.text);
}

/// Item 9: the in-process cache holds its bounds (entries and bytes) however many distinct
/// catalogue pages are asked for, and shows its size on `/metrics`.
#[tokio::test]
async fn the_in_process_cache_holds_its_bounds() {
    let app = spawn_app_with(|s| {
        s.redis_url = None;
        s.cache_max_entries = 20;
        s.cache_max_bytes = 16 * 1024;
    })
    .await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    for _ in 0..3 {
        ProductRow::certified(&sup.org_id).insert(&app).await;
    }
    for i in 0..60 {
        app.get(&format!("/catalog?limit={}", i % 200 + 1), None)
            .await
            .expect(200);
        let (entries, bytes) = app.state.cache.local_size();
        assert!(entries <= 20 && bytes <= 16 * 1024, "{entries} entries, {bytes} bytes");
    }
    let (entries, bytes) = app.state.cache.local_size();
    assert!(entries >= 5, "the cache still caches: {entries}");
    let m = app.get("/metrics", None).await.expect(200);
    let gauge = |name: &str| -> u64 {
        m.text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing"))
            .trim()
            .parse()
            .unwrap()
    };
    assert!(gauge("assist_cache_entries") <= 20);
    assert!(gauge("assist_cache_bytes") <= 16 * 1024);
    assert!(bytes > 0);
    // The cached pages are still right: one more page with the largest limit is served.
    let r = app.get("/catalog?limit=60", None).await.expect(200);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 3);
}
