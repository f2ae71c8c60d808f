//! Database pool. SQLite runs with a single connection so that writers never
//! race for the file lock; PostgreSQL gets a pool.
use crate::config::Settings;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use std::time::Duration;

/// The pool's options: the acquire timeout, the pool size.
pub fn connect_options(settings: &Settings) -> ConnectOptions {
    let url = settings.database_url();
    let mut opts = ConnectOptions::new(url.clone());
    // One bound for connecting and for waiting on a busy pool: a database that cannot be
    // reached answers 503 (see `error.rs`) within it, and the pool reconnects by itself later.
    let acquire = Duration::from_millis(settings.db_acquire_timeout_ms.max(1));
    opts.connect_timeout(acquire)
        .acquire_timeout(acquire)
        .sqlx_logging(false);
    // Every acquire reports its wait as a TRACE event, which only the pool-wait layer reads.
    opts.map_sqlx_postgres_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Trace))
        .map_sqlx_sqlite_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Trace));
    if url.starts_with("sqlite:") {
        opts.max_connections(1).min_connections(1);
    } else {
        opts.max_connections(settings.db_max_connections).min_connections(1);
    }
    opts
}

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") && settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", settings.data_dir)))?;
    }
    let opts = connect_options(settings);
    let mut db = Database::connect(opts).await?;
    db.set_metric_callback(|_| crate::infra::metrics::count_statement());
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        db.execute_unprepared("PRAGMA foreign_keys=ON").await?;
        db.execute_unprepared("PRAGMA busy_timeout=5000").await?;
        db.execute_unprepared("PRAGMA synchronous=NORMAL").await?;
    }
    Ok(db)
}

/// True when the database answers `SELECT 1` within `within`.
pub async fn ping(db: &DatabaseConnection, within: Duration) -> bool {
    matches!(
        tokio::time::timeout(within, db.execute_unprepared("SELECT 1")).await,
        Ok(Ok(_))
    )
}

/// True when `e` is an acquire that found no pooled connection within the timeout.
pub fn is_acquire_timeout(e: &DbErr) -> bool {
    use sea_orm::{sqlx::Error as S, ConnAcquireErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            matches!(s.as_ref(), S::PoolTimedOut)
        }
        _ => false,
    }
}

/// True when `e` says the database could not be reached (no connection within the
/// acquire timeout, a connection lost or refused, the server shutting down), rather than
/// a fault of the statement: the request may succeed when retried later.
pub fn is_unavailable(e: &DbErr) -> bool {
    use sea_orm::{sqlx::Error as S, ConnAcquireErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => true,
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => match s.as_ref() {
            S::Io(_) | S::Tls(_) | S::PoolTimedOut | S::PoolClosed | S::WorkerCrashed => true,
            // 08: connection exception; 57P01-57P03: administrator shutdown, crash shutdown,
            // cannot connect now (PostgreSQL starting or stopping).
            S::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")),
            _ => false,
        },
        _ => false,
    }
}
