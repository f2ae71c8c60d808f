//! Structured logs. Request spans come from tracing-actix-web (with a request id);
//! nothing here logs bodies, passwords or tokens.
use tracing_subscriber::{fmt, EnvFilter};

pub fn init(json: bool) {
    let filter =
        EnvFilter::try_from_env("ASSIST_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
