//! Layered configuration: defaults < optional file < `ASSIST_*` environment variables.
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod values;
pub use values::{BusinessOffset, PublicUrl, Secret, YearEndDays};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// host:port to listen on.
    pub bind: String,
    /// sea-orm URL; empty means SQLite under `data_dir`. May hold a password.
    pub database_url: Option<Secret<String>>,
    /// Redis URL; unset means in-process cache, limits and locks. May hold a password.
    pub redis_url: Option<Secret<String>>,
    /// Prefix of every Redis key (lets several deployments or tests share one Redis).
    pub redis_prefix: String,
    /// SMTP URL (`smtp://user:password@host:port`); unset means `.eml` files in `mail_dir`.
    pub smtp_url: Option<Secret<String>>,
    /// Sender address of outgoing mail.
    pub mail_from: String,
    /// Folder of `.eml` files when no SMTP server is configured.
    pub mail_dir: Option<String>,
    /// HS256 secret; generated and kept under `data_dir` when unset.
    pub jwt_secret: Option<Secret<String>>,
    /// The ledger's Ed25519 signing key: 32 bytes in base64; generated and kept under
    /// `data_dir` (`ledger-signing-key`) when unset.
    pub ledger_signing_key: Option<Secret<String>>,
    /// The ledger's origin: the first line of its checkpoints and the name of its key.
    pub ledger_origin: String,
    /// How often the ledger's sequencer runs, in milliseconds.
    pub ledger_sequence_ms: u64,
    /// Entries per sequencing batch (one transaction and one checkpoint each).
    pub ledger_sequence_batch: u64,
    /// How often the sequencer also looks at the last hour's entries (seconds), for an entry
    /// whose transaction committed after the low-water mark had passed it.
    pub ledger_wide_scan_secs: u64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret<String>>,
    /// Load demo data on first start; default: true for the embedded SQLite default only.
    pub demo: Option<bool>,
    pub data_dir: String,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Failed logins allowed per account, and per address, within `login_window_secs`.
    pub login_max_failures_per_account: u64,
    pub login_max_failures_per_ip: u64,
    pub login_window_secs: u64,
    /// Run the scheduled jobs (outbox worker, alert scan, standing orders) in this process.
    pub jobs_enabled: bool,
    pub outbox_poll_ms: u64,
    pub alert_scan_interval_secs: u64,
    pub agreement_interval_secs: u64,
    /// Payment reminders and late-delivery flags.
    pub payment_scan_interval_secs: u64,
    /// Fraud signals (README "Fraud signals"): how often the incremental scan runs, and its thresholds.
    pub flag_scan_interval_secs: u64,
    pub flag_price_low_pct: i64,
    pub flag_price_high_pct: i64,
    pub flag_round_trip_days: i64,
    pub flag_round_trip_min: i64,
    pub flag_year_end_days: YearEndDays,
    /// In fen (500000: 5,000.00).
    pub flag_review_threshold_fen: i64,
    pub flag_split_min_orders: i64,
    /// Catalogue and report cache lifetime.
    pub cache_ttl_secs: u64,
    /// Database pool size (PostgreSQL; SQLite always uses one writer connection).
    pub db_max_connections: u32,
    /// Longest wait for a database connection (also bounds connecting); past it a request
    /// answers 503 with `Retry-After` instead of hanging.
    pub db_acquire_timeout_ms: u64,
    /// Longest wait for one Redis command; a slower or failed command opens the breaker.
    pub redis_timeout_ms: u64,
    /// How long Redis is skipped (in-process equivalents are used) after a failure,
    /// before one probe tries it again.
    pub redis_cooloff_ms: u64,
    /// Bounds of the in-process cache (catalogue pages, generations, and everything
    /// the cache keeps while Redis is absent or down): least recently used entries go first.
    pub cache_max_entries: usize,
    pub cache_max_bytes: usize,
    /// Attempts before an email is marked `failed` (a permanent SMTP refusal fails it at once),
    /// once it has also been trying for `outbox_give_up_after_secs`: an SMTP outage of hours
    /// fails no email.
    pub outbox_max_attempts: u32,
    /// How long an email keeps being retried after transient failures before it may be
    /// given up (default 3 days).
    pub outbox_give_up_after_secs: u64,
    /// First retry delay of an email; it doubles per attempt (with jitter) up to `outbox_backoff_max_ms`.
    pub outbox_backoff_base_ms: u64,
    pub outbox_backoff_max_ms: u64,
    pub log_json: bool,
    /// Origins allowed to call the API from a browser (CORS), comma-separated
    /// (`https://app.example.org,https://admin.example.org`); none by default.
    pub cors_origins: String,
    /// Addresses of the reverse proxies in front of the service, comma-separated
    /// (`10.0.0.5,10.0.0.6`); none by default. A request from one of them is counted against
    /// the per-address login limit by the client address its `X-Forwarded-For` names, not by
    /// the proxy's own (which every client would share). The header is ignored from anyone else.
    pub trusted_proxies: String,
    /// The public base URL (`ASSIST_PUBLIC_URL`) of published links; unset means
    /// `http://<bound address>` (`http://127.0.0.1:8080` with the default bind), filled
    /// in once the listener is bound.
    pub public_url: Option<PublicUrl>,
    /// The business calendar's UTC offset (`+08:00`, China time): which day, month and budget
    /// year an instant falls in. Instants are stored and shown in UTC.
    pub business_utc_offset: BusinessOffset,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".into(),
            database_url: None,
            redis_url: None,
            redis_prefix: "assist:".into(),
            smtp_url: None,
            mail_from: "Assist Market <noreply@assist-market.local>".into(),
            mail_dir: None,
            jwt_secret: None,
            ledger_signing_key: None,
            ledger_origin: "assist-market.local/ledger".into(),
            ledger_sequence_ms: 250,
            ledger_sequence_batch: crate::services::ledger::sequencer::BATCH,
            ledger_wide_scan_secs: 60,
            access_token_ttl_secs: 900,
            refresh_token_ttl_secs: 7 * 24 * 3600,
            admin_email: None,
            admin_password: None,
            demo: None,
            data_dir: "./data".into(),
            body_limit: 256 * 1024,
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 30,
            login_window_secs: 900,
            jobs_enabled: true,
            outbox_poll_ms: 1000,
            alert_scan_interval_secs: 3600,
            agreement_interval_secs: 300,
            payment_scan_interval_secs: 3600,
            flag_scan_interval_secs: 3600,
            flag_price_low_pct: 50,
            flag_price_high_pct: 200,
            flag_round_trip_days: 30,
            flag_round_trip_min: 2,
            flag_year_end_days: YearEndDays::default(),
            flag_review_threshold_fen: 500_000,
            flag_split_min_orders: 5,
            cache_ttl_secs: 60,
            db_max_connections: 10,
            db_acquire_timeout_ms: 3000,
            redis_timeout_ms: 200,
            redis_cooloff_ms: 5000,
            cache_max_entries: 10_000,
            cache_max_bytes: 64 * 1024 * 1024,
            outbox_max_attempts: 12,
            outbox_give_up_after_secs: 3 * 24 * 3600,
            outbox_backoff_base_ms: 1000,
            outbox_backoff_max_ms: 15 * 60 * 1000,
            log_json: false,
            cors_origins: String::new(),
            trusted_proxies: String::new(),
            public_url: None,
            business_utc_offset: BusinessOffset::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Reads defaults, then the optional file (`ASSIST_CONFIG`, else `assist.toml` when present),
    /// then `ASSIST_*` environment variables.
    pub fn load() -> Result<Settings, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        let file = std::env::var("ASSIST_CONFIG").ok();
        match &file {
            Some(path) => {
                if !std::path::Path::new(path).exists() {
                    return Err(ConfigError::Invalid(format!(
                        "ASSIST_CONFIG names {path}, which does not exist"
                    )));
                }
                fig = fig.merge(Toml::file(path));
            }
            None => fig = fig.merge(Toml::file("assist.toml")),
        }
        fig = fig.merge(Env::prefixed("ASSIST_").ignore(&["CONFIG"]));
        let settings: Settings = fig.extract().map_err(|e| {
            let names: Vec<String> = e.clone().into_iter().flat_map(|one| one.path).collect();
            let hint = names
                .iter()
                .map(|n| format!("ASSIST_{}", n.to_uppercase()))
                .collect::<Vec<_>>()
                .join(", ");
            ConfigError::Invalid(format!(
                "{e} (setting: {hint}, from the environment or the config file)"
            ))
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// The trusted reverse proxies' addresses (`trusted_proxies`); entries that are not IP
    /// addresses are refused when the settings are validated.
    pub fn trusted_proxies(&self) -> Vec<std::net::IpAddr> {
        self.trusted_proxies
            .split(',')
            .filter_map(|a| a.trim().parse().ok())
            .collect()
    }

    /// The CORS origins, each `scheme://host[:port]`.
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_origins
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        for origin in self.cors_origins() {
            let uri = origin.parse::<actix_web::http::Uri>().ok();
            let ok = uri.as_ref().is_some_and(|u| {
                matches!(u.scheme_str(), Some("http" | "https"))
                    && u.host().is_some()
                    && u.path_and_query().is_none_or(|p| p.as_str() == "/")
            });
            if !ok {
                return Err(ConfigError::Invalid(format!(
                    "ASSIST_CORS_ORIGINS must list origins such as https://app.example.org, got {origin:?}"
                )));
            }
        }
        for a in self.trusted_proxies.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            if a.parse::<std::net::IpAddr>().is_err() {
                return Err(ConfigError::Invalid(format!(
                    "ASSIST_TRUSTED_PROXIES must list IP addresses such as 10.0.0.5, got {a:?}"
                )));
            }
        }
        if self.bind.parse::<std::net::SocketAddr>().is_err() && !self.bind.contains(':') {
            return Err(ConfigError::Invalid(format!(
                "ASSIST_BIND must be host:port, got {:?}",
                self.bind
            )));
        }
        if let Some(url) = self.database_url.as_ref().map(Secret::expose) {
            if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError::Invalid(
                    "ASSIST_DATABASE_URL must start with sqlite:, postgres:// or postgresql://".into(),
                ));
            }
        }
        if let Some(url) = self.redis_url.as_ref().map(Secret::expose) {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::Invalid("ASSIST_REDIS_URL must start with redis://".into()));
            }
        }
        if let Some(url) = self.smtp_url.as_ref().map(Secret::expose) {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(ConfigError::Invalid(
                    "ASSIST_SMTP_URL must start with smtp:// or smtps://".into(),
                ));
            }
        }
        if let Some(secret) = self.jwt_secret.as_ref().map(Secret::expose) {
            if secret.len() < 32 {
                return Err(ConfigError::Invalid(
                    "ASSIST_JWT_SECRET must be at least 32 characters".into(),
                ));
            }
        }
        // Every process on a shared database signs checkpoints; with a key each of its own (the
        // file under its data folder), checkpoints would verify with one key or another and
        // the ledger would read as tampered. The file is for the embedded default only.
        let shared = self
            .database_url
            .as_ref()
            .is_some_and(|u| u.expose().starts_with("postgres"));
        if shared && self.ledger_signing_key.is_none() {
            return Err(ConfigError::Invalid(
                "ASSIST_LEDGER_SIGNING_KEY must be set with a PostgreSQL ASSIST_DATABASE_URL: every \
                 process sharing the database signs the ledger's checkpoints with it (make one with \
                 `openssl rand -base64 32`)"
                    .into(),
            ));
        }
        if self.ledger_origin.is_empty() || self.ledger_origin.contains(['+', ' ', '\n']) {
            return Err(ConfigError::Invalid(
                "ASSIST_LEDGER_ORIGIN must be a name without spaces or '+', such as example.org/ledger".into(),
            ));
        }
        if self.admin_email.is_some() != self.admin_password.is_some() {
            return Err(ConfigError::Invalid(
                "ASSIST_ADMIN_EMAIL and ASSIST_ADMIN_PASSWORD must be set together".into(),
            ));
        }
        if let Some(p) = self.admin_password.as_ref().map(Secret::expose) {
            if p.len() < 8 {
                return Err(ConfigError::Invalid(
                    "ASSIST_ADMIN_PASSWORD must be at least 8 characters".into(),
                ));
            }
        }
        if self.db_acquire_timeout_ms == 0 || self.redis_timeout_ms == 0 {
            return Err(ConfigError::Invalid(
                "ASSIST_DB_ACQUIRE_TIMEOUT_MS and ASSIST_REDIS_TIMEOUT_MS must be positive".into(),
            ));
        }
        if self.cache_max_entries == 0 || self.cache_max_bytes == 0 {
            return Err(ConfigError::Invalid(
                "ASSIST_CACHE_MAX_ENTRIES and ASSIST_CACHE_MAX_BYTES must be positive".into(),
            ));
        }
        if self.outbox_max_attempts == 0 || self.outbox_backoff_base_ms == 0 {
            return Err(ConfigError::Invalid(
                "ASSIST_OUTBOX_MAX_ATTEMPTS and ASSIST_OUTBOX_BACKOFF_BASE_MS must be positive".into(),
            ));
        }
        if self.access_token_ttl_secs <= 0 || self.refresh_token_ttl_secs <= 0 {
            return Err(ConfigError::Invalid("token lifetimes must be positive".into()));
        }
        Ok(())
    }

    /// True when running on the embedded default (SQLite under `data_dir`).
    pub fn is_embedded_default(&self) -> bool {
        self.database_url.is_none()
    }

    /// The connection URL in clear, for the driver only: never log it.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.expose().clone(),
            None => format!("sqlite://{}/assist-market.db?mode=rwc", self.data_dir),
        }
    }

    /// The public base URL: `ASSIST_PUBLIC_URL`, else `http://` and the bind address.
    pub fn public_url(&self) -> PublicUrl {
        match (&self.public_url, self.bind.parse::<std::net::SocketAddr>()) {
            (Some(u), _) => u.clone(),
            (None, Ok(addr)) => PublicUrl::of_listener(addr),
            (None, Err(_)) => PublicUrl(format!("http://{}", self.bind)),
        }
    }

    pub fn demo_enabled(&self) -> bool {
        self.demo.unwrap_or(self.is_embedded_default())
    }

    pub fn mail_dir(&self) -> PathBuf {
        match &self.mail_dir {
            Some(d) => PathBuf::from(d),
            None => PathBuf::from(&self.data_dir).join("mail"),
        }
    }
}

#[cfg(test)]
mod tests;
