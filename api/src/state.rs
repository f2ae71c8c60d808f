//! What every request and job shares.
use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use crate::infra::cache::Cache;
use crate::infra::mailer::Mailer;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    pub mailer: Mailer,
    /// Signs the ledger's checkpoints.
    pub ledger_key: Arc<crate::services::ledger::checkpoint::LogKey>,
    /// Names this process in leader locks.
    pub instance_id: String,
}
