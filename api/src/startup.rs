//! Builds the state, the HTTP server and the jobs from settings.
use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::conventions;
use crate::error::AppError;
use crate::infra::{cache::Cache, db, mailer::Mailer};
use crate::state::AppState;
use actix_web::dev::{Server, Service};
use actix_web::http::header::HeaderValue;
use actix_web::{middleware, web, App, HttpRequest, HttpResponse, HttpServer};
use migration::MigratorTrait;
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("redis: {0}")]
    Redis(String),
    #[error("mail: {0}")]
    Mail(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("jwt secret: {0}")]
    Secret(String),
    #[error("{0}")]
    App(#[from] AppError),
}

/// Reads `ASSIST_JWT_SECRET`, or the secret kept under the data folder, creating it once.
fn jwt_secret(settings: &Settings) -> Result<Vec<u8>, StartError> {
    if let Some(s) = &settings.jwt_secret {
        return Ok(s.expose().as_bytes().to_vec());
    }
    let dir = std::path::Path::new(&settings.data_dir);
    let path = dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(existing.trim().as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| StartError::Secret(format!("cannot create {}: {e}", dir.display())))?;
    let secret: String = {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        (0..64).map(|_| format!("{:x}", rng.gen_range(0..16u8))).collect()
    };
    std::fs::write(&path, &secret).map_err(|e| StartError::Secret(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(secret.into_bytes())
}

/// Writes `bytes` to a new file at `path` readable by its owner only, whole or not at all:
/// written beside it first, then linked in (a link never replaces a file). `AlreadyExists`
/// when the file is there, so that nobody reads a file still being written.
fn create_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let draft = path.with_extension(format!("new-{}-{:x}", std::process::id(), rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&draft).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&draft, path));
    let _ = std::fs::remove_file(&draft);
    linked
}

/// Reads `ASSIST_LEDGER_SIGNING_KEY` (base64 of a 32-byte Ed25519 seed), or the key kept
/// under the data folder, creating it once.
fn ledger_key(settings: &Settings) -> Result<crate::services::ledger::checkpoint::LogKey, StartError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let decode = |s: &str| -> Result<[u8; 32], StartError> {
        b64.decode(s.trim())
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| StartError::Secret("the ledger signing key must be 32 bytes in base64".into()))
    };
    let origin = &settings.ledger_origin;
    if let Some(s) = &settings.ledger_signing_key {
        return Ok(crate::services::ledger::checkpoint::LogKey::from_seed(
            origin,
            decode(s.expose())?,
        ));
    }
    let dir = std::path::Path::new(&settings.data_dir);
    let path = dir.join("ledger-signing-key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(crate::services::ledger::checkpoint::LogKey::from_seed(
            origin,
            decode(&existing)?,
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| StartError::Secret(format!("cannot create {}: {e}", dir.display())))?;
    let seed: [u8; 32] = rand::random();
    // Created only if absent: of two processes starting on one fresh folder, the second reads
    // the first's key instead of overwriting it (and signing with a key no file holds).
    match create_private(&path, b64.encode(seed).as_bytes()) {
        Ok(()) => Ok(crate::services::ledger::checkpoint::LogKey::from_seed(origin, seed)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = std::fs::read_to_string(&path)
                .map_err(|e| StartError::Secret(format!("cannot read {}: {e}", path.display())))?;
            Ok(crate::services::ledger::checkpoint::LogKey::from_seed(
                origin,
                decode(&existing)?,
            ))
        }
        Err(e) => Err(StartError::Secret(format!("cannot write {}: {e}", path.display()))),
    }
}

/// Connects everything and applies migrations.
pub async fn build_state(settings: Settings) -> Result<AppState, StartError> {
    settings.validate()?;
    crate::services::clock::set_offset(settings.business_utc_offset.0);
    let database = db::connect(&settings).await?;
    migration::Migrator::up(&database, None).await?;
    let cache = match &settings.redis_url {
        Some(url) => Cache::connect(url.expose(), &settings).map_err(|e| StartError::Redis(e.to_string()))?,
        None => Cache::local(&settings),
    };
    let mailer = Mailer::from_settings(&settings).map_err(StartError::Mail)?;
    let secret = jwt_secret(&settings)?;
    let ledger_key = ledger_key(&settings)?;
    crate::services::ledger::legacy::migrate(&database, &ledger_key).await?;
    // Sequences whatever a stopped process left committed and unsequenced (and writes the
    // empty tree's checkpoint on a new database).
    crate::services::ledger::sequencer::sequence_batched(
        &database,
        &ledger_key,
        crate::services::ledger::sequencer::Scan::Full,
        settings.ledger_sequence_batch,
    )
    .await?;
    Ok(AppState {
        db: database,
        cache,
        settings: Arc::new(settings),
        jwt: Arc::new(JwtKeys::new(&secret)),
        ledger_key: Arc::new(ledger_key),
        mailer,
        instance_id: uuid::Uuid::new_v4().to_string(),
    })
}

/// Creates the first admin and, when asked for, the demo data. Returns the demo logins it printed.
pub async fn bootstrap(state: &AppState) -> Result<(), StartError> {
    if let Some(email) = crate::services::demo::ensure_admin(state).await? {
        tracing::info!(%email, "created the first admin");
    }
    let priced = crate::services::payments::fill_payable(&state.db).await?;
    if priced > 0 {
        tracing::info!(priced, "recorded what the buyer owes on accepted supplier orders");
    }
    if state.settings.demo_enabled() {
        // Idempotent: loads what is missing, so the demo logins work on every start.
        let accounts = crate::services::demo::seed(state).await?;
        println!(
            "Demo accounts (password for all: {}):",
            crate::services::demo::DEMO_PASSWORD
        );
        for a in accounts {
            println!("  {:<10} {:<34} {}", a.role, a.email, a.org);
        }
    }
    Ok(())
}

/// Paths and methods the API serves, to tell 405 from 404.
#[derive(Clone)]
struct Routes(Arc<Vec<(Vec<String>, Vec<String>)>>);

impl Routes {
    fn from_doc(doc: &utoipa::openapi::OpenApi) -> Routes {
        let mut v = Vec::new();
        for (path, item) in doc.paths.paths.iter() {
            let segs = path.split('/').map(str::to_string).collect();
            let mut methods = Vec::new();
            if item.get.is_some() {
                methods.push("GET".to_string());
            }
            if item.post.is_some() {
                methods.push("POST".to_string());
            }
            if item.put.is_some() {
                methods.push("PUT".to_string());
            }
            if item.patch.is_some() {
                methods.push("PATCH".to_string());
            }
            if item.delete.is_some() {
                methods.push("DELETE".to_string());
            }
            v.push((segs, methods));
        }
        for path in ["/metrics", "/api-docs/openapi.json", "/docs"] {
            v.push((path.split('/').map(str::to_string).collect(), vec!["GET".to_string()]));
        }
        Routes(Arc::new(v))
    }

    /// The methods of the path the router would take for `path`: a literal segment wins over a
    /// `{param}` (`/alerts/scan` is not `/alerts/{id}`), so the list is exactly that path's.
    fn allowed(&self, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, &Vec<String>)> = None;
        for (tmpl, methods) in self.0.iter() {
            if tmpl.len() == segs.len() && tmpl.iter().zip(&segs).all(|(t, s)| t.starts_with('{') || t == s) {
                let literal = tmpl.iter().filter(|t| !t.starts_with('{')).count();
                if best.is_none_or(|(n, _)| literal > n) {
                    best = Some((literal, methods));
                }
            }
        }
        best.map(|(_, methods)| methods.join(", "))
    }
}

async fn fallback(req: HttpRequest, routes: web::Data<Routes>) -> HttpResponse {
    use actix_web::ResponseError;
    match routes.allowed(req.path()) {
        Some(allow) => {
            let mut resp = AppError::MethodNotAllowed.error_response();
            if let Ok(v) = HeaderValue::from_str(&allow) {
                resp.headers_mut().insert(actix_web::http::header::ALLOW, v);
            }
            resp
        }
        None => AppError::NotFound("route").error_response(),
    }
}

pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
    jobs: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Binds, builds the server and starts the jobs (they run until the application is dropped).
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let state = build_state(settings).await?;
        bootstrap(&state).await?;
        Self::from_state(state)
    }

    pub fn from_state(mut state: AppState) -> Result<Application, StartError> {
        let bind = state.settings.bind.clone();
        let listener = TcpListener::bind(&bind).map_err(|e| StartError::Bind(bind.clone(), e))?;
        let local = listener.local_addr().map_err(|e| StartError::Bind(bind.clone(), e))?;
        let port = local.port();
        if state.settings.public_url.is_none() {
            // Published links name the address actually bound (a port 0 is known only now).
            let mut s = (*state.settings).clone();
            s.public_url = Some(crate::config::PublicUrl::of_listener(local));
            state.settings = std::sync::Arc::new(s);
        }
        let doc = crate::openapi::document();
        let routes = Routes::from_doc(&doc);
        let registry = web::Data::new(crate::infra::metrics::registry());
        let data = web::Data::new(state.clone());
        let limit = state.settings.body_limit;
        let settings = state.settings.clone();
        let cors_enabled = !settings.cors_origins().is_empty();
        let server = HttpServer::new(move || {
            App::new()
                .wrap_fn(|req, srv| {
                    // A NUL byte can be stored by no database: refuse it in the path or query up front.
                    let uri = req.uri().to_string().to_ascii_lowercase();
                    let nul = uri.contains("%00");
                    let fut = if nul { None } else { Some(srv.call(req)) };
                    async move {
                        match fut {
                            Some(f) => f.await,
                            None => Err(AppError::BadRequest("the URL must not contain NUL characters".into()).into()),
                        }
                    }
                })
                .wrap_fn(|req, srv| {
                    // Requests, durations and database statements by route pattern (see infra::metrics).
                    let started = std::time::Instant::now();
                    let fut = srv.call(req);
                    async move {
                        let (res, n) = crate::infra::metrics::counting(fut).await;
                        if let Ok(r) = &res {
                            let (route, method) =
                                crate::infra::metrics::route_labels(r.request().match_pattern(), r.request().method());
                            crate::infra::metrics::record(&route, method, r.status().as_u16(), started, n);
                        }
                        res
                    }
                })
                .wrap(middleware::from_fn(conventions::representation::representation))
                .wrap(TracingLogger::<conventions::RequestSpan>::new())
                .wrap(middleware::Condition::new(cors_enabled, conventions::cors(&settings)))
                .wrap(middleware::from_fn(conventions::request_id))
                .wrap(middleware::Compress::default())
                .app_data(data.clone())
                .app_data(registry.clone())
                .app_data(web::Data::new(routes.clone()))
                .app_data(web::PayloadConfig::new(limit))
                .app_data(
                    web::JsonConfig::default()
                        .limit(limit)
                        .error_handler(crate::error::json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(crate::error::query_error))
                .app_data(web::PathConfig::default().error_handler(crate::error::path_error))
                .into_utoipa_app()
                .configure(crate::routes::health::configure)
                .service(utoipa_actix_web::scope("/api/v1").configure(crate::routes::api_v1))
                .into_app()
                .service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", doc.clone()))
                .route("/metrics", web::get().to(crate::infra::metrics::serve))
                .configure(crate::routes::console::configure)
                .route(
                    "/docs",
                    web::get().to(|| async { HttpResponse::Found().insert_header(("Location", "/docs/")).finish() }),
                )
                .default_service(web::to(fallback))
        })
        .listen(listener)
        .map_err(|e| StartError::Bind(bind, e))?
        .run();
        let jobs = crate::jobs::spawn_all(&state);
        Ok(Application {
            port,
            server,
            state,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server stops (Ctrl-C), then stops the jobs.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let res = self.server.await;
        for j in self.jobs {
            j.abort();
        }
        res
    }

    /// Hands the server and jobs to the caller (tests spawn the server themselves).
    pub fn into_parts(self) -> (Server, AppState, Vec<tokio::task::JoinHandle<()>>) {
        (self.server, self.state, self.jobs)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// Processes starting together on one fresh data folder all sign with the key the folder
    /// keeps: none overwrites another's, none keeps a key no file holds.
    #[test]
    fn processes_starting_on_one_fresh_folder_share_one_ledger_key() {
        for _ in 0..20 {
            let tmp = tempfile::tempdir().expect("tmp");
            let settings = Settings {
                data_dir: tmp.path().join("data").to_string_lossy().into_owned(),
                ..Settings::default()
            };
            let keys: Vec<String> = std::thread::scope(|s| {
                let started: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| ledger_key(&settings).map(|k| k.verifier_key())))
                    .collect();
                started
                    .into_iter()
                    .map(|h| h.join().expect("joined").expect("key"))
                    .collect()
            });
            let again = ledger_key(&settings).expect("key").verifier_key();
            assert!(keys.iter().all(|k| *k == again), "{keys:?} / {again}");
        }
    }
}
