//! Structured logs. Request spans come from tracing-actix-web (with a request id);
//! nothing here logs bodies, passwords or tokens. sqlx's connection-acquire events feed
//! the pool-wait histogram ([`crate::infra::pool_wait`]) whatever the log filter says.
use crate::infra::pool_wait::{PoolWaitLayer, ACQUIRE_TARGET};
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::{fmt, prelude::*, EnvFilter, Layer};

/// Installs the subscriber once per process (later calls do nothing).
pub fn init(json: bool) {
    let filter =
        EnvFilter::try_from_env("ASSIST_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let logs = if json {
        fmt::layer().json().with_target(false).boxed()
    } else {
        fmt::layer().with_target(false).boxed()
    };
    let _ = tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(PoolWaitLayer.with_filter(Targets::new().with_target(ACQUIRE_TARGET, Level::TRACE)))
        .try_init();
}

/// Installs only the pool-wait layer, no logs (for tests that run the application
/// in-process and keep their output quiet). Does nothing if a subscriber is installed.
pub fn init_metrics_only() {
    let _ = tracing_subscriber::registry()
        .with(PoolWaitLayer.with_filter(Targets::new().with_target(ACQUIRE_TARGET, Level::TRACE)))
        .try_init();
}
