//! Test harness: each test starts the whole application on a random port
//! against a fresh database and talks to it over HTTP.
//!
//! Backends come from the environment (set by `tests/run`):
//! - `TEST_DATABASE_URL` (`postgres://user@host:port`): a fresh database per test; else a fresh SQLite file.
//! - `TEST_REDIS_URL`: Redis with a key prefix per test; else the in-process cache.
//! - `TEST_SMTP_URL` + `TEST_SMTP_DIR`: the SMTP sink and the folder where it writes what it received;
//!   else `.eml` files in the test's own mail folder.
#![allow(dead_code)]

use assist_market::config::Settings;
use assist_market::services::organizations::make_credit_code;
use assist_market::startup::{self, Application};
use assist_market::state::AppState;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const ADMIN_EMAIL: &str = "admin@test.local";
pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestApp {
    pub addr: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub admin_token: String,
    pub mail_dir: std::path::PathBuf,
    pub smtp_dir: Option<std::path::PathBuf>,
    pub database_url: String,
    pub tmp: tempfile::TempDir,
    server: Option<actix_web::dev::ServerHandle>,
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for j in &self.jobs {
            j.abort();
        }
        if let Some(h) = self.server.take() {
            drop(h.stop(false));
        }
    }
}

/// A response: status, headers and the body parsed as JSON (Null when it is not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts a problem+json error with this status; returns the problem.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/problem+json"),
            "not problem+json: {ct}; body: {}",
            self.text
        );
        assert_eq!(self.json["status"], json!(status));
        self.json
    }

    /// The `field` names listed in a validation problem.
    pub fn fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The `credited` amount of unit `org_id` in a `/supervision/{year}/units` answer.
    #[track_caller]
    pub fn unit_credited(&self, org_id: &str) -> String {
        let units = self.json["units"].as_array().expect("a units list");
        let unit = units.iter().find(|u| u["org_id"] == org_id);
        let unit = unit.unwrap_or_else(|| panic!("{org_id} is not listed: {}", self.text));
        unit["credited"].as_str().unwrap_or_default().to_string()
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A number unique within this test process (for names, emails, credit codes).
pub fn unique() -> u64 {
    let pid = std::process::id() as u64;
    (pid % 10_000) * 1_000_000
        + COUNTER.fetch_add(1, Ordering::SeqCst)
        + (chrono::Utc::now().timestamp_subsec_micros() as u64 % 1000) * 1000
}

pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok()
}

pub fn on_redis() -> bool {
    std::env::var("TEST_REDIS_URL").is_ok()
}

/// The ledger signing key of test instances on PostgreSQL (base64 of a 32-byte seed).
pub const TEST_LEDGER_KEY: &str = "dGVzdC1sZWRnZXIta2V5LXRlc3QtbGVkZ2VyLWtleS0=";

/// Settings of a fresh test instance (fresh database, own Redis prefix, own mail folder).
#[allow(clippy::field_reassign_with_default)]
pub async fn test_settings(tmp: &tempfile::TempDir) -> Settings {
    let mut s = Settings::default();
    s.bind = "127.0.0.1:0".into();
    s.data_dir = tmp.path().join("data").to_string_lossy().into_owned();
    s.mail_dir = Some(tmp.path().join("mail").to_string_lossy().into_owned());
    s.jwt_secret = Some("test-secret-test-secret-test-secret-0123456789".into());
    s.admin_email = Some(ADMIN_EMAIL.into());
    s.admin_password = Some(PASSWORD.into());
    s.demo = Some(false);
    // The tests date their requests in UTC; `business_day` tests the business calendar.
    s.business_utc_offset = "+00:00".to_string().try_into().expect("offset");
    s.outbox_poll_ms = 50;
    // A loaded test machine can be slow to answer; the breaker tests set their own timeouts.
    s.redis_timeout_ms = 2000;
    // Concurrency tests queue many requests on a small pool on a loaded machine: they wait
    // for a connection as long as before; the fault tests set the short timeout themselves.
    s.db_acquire_timeout_ms = 30_000;
    s.db_max_connections = 5;
    // Scheduled scans are triggered by hand in tests unless a test says otherwise.
    s.alert_scan_interval_secs = 24 * 3600;
    s.agreement_interval_secs = 24 * 3600;
    s.payment_scan_interval_secs = 24 * 3600;
    if on_postgres() {
        // A shared database takes its signing key from configuration (SQLite generates one).
        s.ledger_signing_key = Some(TEST_LEDGER_KEY.into());
    }
    s.database_url = Some(match std::env::var("TEST_DATABASE_URL") {
        Ok(base) => {
            let base = base.trim_end_matches('/').to_string();
            // The name carries this test process's id, so that later tests can drop it.
            let name = format!("t_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
            let admin = Database::connect(format!("{base}/postgres"))
                .await
                .expect("connect to the test PostgreSQL");
            drop_databases_of_ended_tests(&admin).await;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the test database");
            admin.close().await.ok();
            format!("{base}/{name}").into()
        }
        Err(_) => format!("sqlite://{}/test.db?mode=rwc", tmp.path().display()).into(),
    });
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        s.redis_url = Some(url.into());
        s.redis_prefix = format!("t:{}:", uuid::Uuid::new_v4().simple());
    }
    if let Ok(url) = std::env::var("TEST_SMTP_URL") {
        s.smtp_url = Some(url.into());
    }
    s
}

/// Drops the databases of test processes that have ended. Each test creates its own
/// database; without this a run leaves hundreds behind (several GB on the CI disk). The test
/// database server is a loopback one on this machine, so a process id that is not under
/// /proc is a test that has ended. A failure here only leaves a database for the next test.
async fn drop_databases_of_ended_tests(admin: &DatabaseConnection) {
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%\\_%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let Some(pid) = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts an instance whose settings `tweak` may adjust first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&tmp).await;
    tweak(&mut settings);
    spawn_with_settings(settings, tmp).await
}

pub async fn spawn_with_settings(settings: Settings, tmp: tempfile::TempDir) -> TestApp {
    assist_market::telemetry::init_metrics_only();
    let database_url = settings.database_url();
    let mail_dir = settings.mail_dir();
    let state = startup::build_state(settings).await.expect("build state");
    startup::bootstrap(&state).await.expect("bootstrap");
    assist_market::services::demo::ensure_regions(&state)
        .await
        .expect("regions");
    let app = Application::from_state(state).expect("start");
    let port = app.port();
    let (server, state, jobs) = app.into_parts();
    let handle = server.handle();
    tokio::spawn(server);
    // An idle pooled connection is dropped well before the server's 5 s keep-alive ends it:
    // reusing one the server is closing fails the request with IncompleteMessage (seen once in
    // CI, in a test that waits between requests).
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    let mut t = TestApp {
        addr: format!("http://127.0.0.1:{port}"),
        client,
        state,
        admin_token: String::new(),
        mail_dir,
        smtp_dir: std::env::var("TEST_SMTP_DIR").ok().map(Into::into),
        database_url,
        tmp,
        server: Some(handle),
        jobs,
    };
    t.admin_token = t.login(ADMIN_EMAIL, PASSWORD).await;
    t
}

impl TestApp {
    /// Runs the ledger's sequencer now (tests run without the jobs): every committed entry
    /// gets its seq and a checkpoint covers it.
    pub async fn sequence(&self) -> u64 {
        assist_market::services::ledger::sequence(&self.state)
            .await
            .expect("sequence the ledger")
    }

    /// Lifts the append-only triggers of a ledger table (tamper tests).
    pub async fn lift_append_only(&self, table: &str) {
        let db = self.db();
        if on_postgres() {
            db.execute_unprepared(&format!("ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
                .await
                .unwrap();
        } else {
            for op in ["UPDATE", "DELETE"] {
                db.execute_unprepared(&format!("DROP TRIGGER {table}_log_no_{op}"))
                    .await
                    .unwrap();
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/')
            && !path.starts_with("/api")
            && !path.starts_with("/healthz")
            && !path.starts_with("/readyz")
            && !path.starts_with("/metrics")
            && !path.starts_with("/docs")
            && !path.starts_with("/api-docs")
        {
            format!("{}/api/v1{}", self.addr, path)
        } else {
            format!("{}{}", self.addr, path)
        }
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let r = rb.send().await.expect("request failed");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            json,
            text,
        }
    }

    fn auth(&self, rb: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// GET `path` (paths without `/api/v1` get it prepended, except root endpoints).
    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.auth(self.client.get(self.url(path)), token)).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(self.auth(self.client.post(self.url(path)).json(&body), token))
            .await
    }

    pub async fn post_with(&self, path: &str, token: Option<&str>, body: Value, headers: &[(&str, &str)]) -> Resp {
        let mut rb = self.auth(self.client.post(self.url(path)).json(&body), token);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        self.send(rb).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.send(self.auth(self.client.put(self.url(path)).json(&body), token))
            .await
    }

    /// A PUT that replaces what exists, naming the version it replaces.
    pub async fn put_if(&self, path: &str, token: Option<&str>, body: Value, if_match: &str) -> Resp {
        let rb = self.auth(self.client.put(self.url(path)).json(&body), token);
        self.send(rb.header("If-Match", if_match)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value, if_match: Option<&str>) -> Resp {
        let mut rb = self.auth(self.client.patch(self.url(path)).json(&body), token);
        if let Some(tag) = if_match {
            rb = rb.header("If-Match", tag);
        }
        self.send(rb).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .post("/auth/login", None, json!({"email": email, "password": password}))
            .await;
        assert_eq!(r.status, 200, "login of {email} failed: {}", r.text);
        r.json["access_token"].as_str().expect("access_token").to_string()
    }

    /// Creates an organisation of `kind` in `region` with one user of the fitting role and logs in.
    pub async fn create_org(&self, kind: &str, region: &str) -> OrgUser {
        self.create_org_with(kind, region, None).await
    }

    pub async fn create_org_with(&self, kind: &str, region: &str, parent: Option<&str>) -> OrgUser {
        let n = unique();
        let role = match kind {
            "platform" => "admin",
            "county_office" => "certifier",
            "evaluation_office" => "evaluator",
            "finance_office" => "supervisor",
            "cooperative" | "enterprise" | "family_farm" => "supplier",
            _ => "buyer",
        };
        let org = self
            .post(
                "/organizations",
                Some(&self.admin_token),
                json!({
                    "name": format!("{kind} {n}"),
                    "kind": kind,
                    "region_code": region,
                    "contact_email": format!("{kind}-{n}@org.test"),
                    "credit_code": make_credit_code(&region[..6], n),
                    "parent_org_id": parent,
                }),
            )
            .await
            .expect(201);
        let org_id = org.json["id"].as_str().expect("id").to_string();
        let email = format!("{role}-{n}@user.test");
        self.post(
            &format!("/organizations/{org_id}/users"),
            Some(&self.admin_token),
            json!({"email": email, "name": format!("{role} {n}"), "role": role, "password": PASSWORD}),
        )
        .await
        .expect(201);
        let token = self.login(&email, PASSWORD).await;
        OrgUser {
            org_id,
            email,
            token,
            contact_email: format!("{kind}-{n}@org.test"),
        }
    }

    /// The raw messages received for `to` so far (SMTP sink or mail folder).
    pub fn emails_to(&self, to: &str) -> Vec<String> {
        let dir = self.smtp_dir.clone().unwrap_or_else(|| self.mail_dir.clone());
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                if let Ok(text) = std::fs::read_to_string(e.path()) {
                    let to_line = text
                        .lines()
                        .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(to));
                    let envelope = e.path().extension().map(|x| x == "json").unwrap_or(false) && text.contains(to);
                    if to_line || envelope {
                        out.push(text);
                    }
                }
            }
        }
        out
    }

    /// Waits until at least `n` messages for `to` arrived (up to `secs`), returns them.
    pub async fn wait_for_emails(&self, to: &str, n: usize, secs: u64) -> Vec<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.emails_to(to);
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Direct database access, for fixtures and tamper tests only.
    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.state.db
    }
}

#[derive(Clone)]
pub struct OrgUser {
    pub org_id: String,
    pub email: String,
    pub token: String,
    pub contact_email: String,
}

impl OrgUser {
    pub fn t(&self) -> Option<&str> {
        Some(&self.token)
    }
}

/// Demo-region codes the tests use.
pub const YANGYUAN: &str = "130727"; // deep poverty
pub const PINGQUAN: &str = "130881"; // poverty
pub const SHUNPING: &str = "130636"; // poverty
pub const CHANGAN: &str = "130102"; // not a poverty county
pub const YANGYUAN_VILLAGE: &str = "130727100201";

/// A product row written straight into the database, for tests of features that
/// need one without going through listing and certification.
pub struct ProductRow<'a> {
    pub id: String,
    pub supplier: &'a str,
    pub name: String,
    pub category: &'a str,
    pub price_fen: i64,
    pub min_milli: i64,
    pub status: &'a str,
    /// Days from today until the certification expires; `None`: no validity date.
    pub valid_days: Option<i64>,
    /// When it was certified (and created); `None`: not certified, created now.
    pub certified_days_ago: Option<i64>,
    pub poor_households_linked: i32,
}

impl<'a> ProductRow<'a> {
    /// A certified grain product from Yangyuan, valid for a year, 10.00 per kg, minimum 1 kg.
    pub fn certified(supplier: &'a str) -> ProductRow<'a> {
        ProductRow {
            id: uuid::Uuid::now_v7().to_string(),
            supplier,
            name: format!("Millet {}", unique()),
            category: "grain",
            price_fen: 1000,
            min_milli: 1000,
            status: "certified",
            valid_days: Some(365),
            certified_days_ago: Some(0),
            poor_households_linked: 0,
        }
    }

    pub async fn insert(self, app: &TestApp) -> String {
        use sea_orm::{ActiveModelTrait, Set};
        let now = chrono::Utc::now();
        let t = now - chrono::Duration::days(self.certified_days_ago.unwrap_or(0));
        let today = now.date_naive();
        entity::products::ActiveModel {
            id: Set(self.id.clone()),
            supplier_org_id: Set(self.supplier.to_string()),
            name: Set(self.name),
            category: Set(self.category.to_string()),
            unit: Set("kg".into()),
            price_fen: Set(self.price_fen),
            min_order_qty_milli: Set(self.min_milli),
            origin_region_code: Set(YANGYUAN_VILLAGE.into()),
            origin_county_code: Set(YANGYUAN.into()),
            description: Set(String::new()),
            shelf_life_days: Set(None),
            supply_capacity_per_month_milli: Set(None),
            certificates: Set("[]".into()),
            poor_households_linked: Set(self.poor_households_linked),
            benefit_mechanism: Set(String::new()),
            search_text: Set(String::new()),
            status: Set(self.status.to_string()),
            certificate_number: Set(self.certified_days_ago.map(|_| format!("CERT-{}", unique()))),
            certified_by: Set(None),
            certified_at: Set(self.certified_days_ago.map(|_| t)),
            valid_until: Set(self.valid_days.map(|d| today + chrono::Duration::days(d))),
            reserved_milli: Set(0),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            sale_mode: Set("per_unit".into()),
            nominal_weight_milli: Set(None),
            weight_tolerance_pct: Set(None),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("product row");
        self.id
    }
}
