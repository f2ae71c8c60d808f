//! Database pool. SQLite runs with a single connection so that writers never
//! race for the file lock; PostgreSQL gets a pool.
use crate::config::Settings;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use std::time::Duration;

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") && settings.database_url.is_none() {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", settings.data_dir)))?;
    }
    let mut opts = ConnectOptions::new(url.clone());
    opts.connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        opts.max_connections(1).min_connections(1);
    } else {
        opts.max_connections(settings.db_max_connections).min_connections(1);
    }
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

pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
