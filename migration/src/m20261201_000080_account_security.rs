use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Account security kept in the database, so that it holds with the cache restarted or absent:
// - `login_throttle`: failed-login counters per account and per address, counted by one
//   conditional upsert before the password is checked (the window end in Unix milliseconds,
//   so that both dialects compare integers);
// - `sessions`: one row per login; every access and refresh token carries its id (`sid`) and
//   is refused once the session is revoked (logout, refresh-token reuse, deactivation);
// - `refresh_tokens.family_id` (the session) and `used_at` (spent by a rotation: presenting it
//   again is reuse);
// - `users.deactivated_at`;
// - `audit_log`: security events, append-only (triggers refuse UPDATE and DELETE).
const UP: &str = r#"
CREATE TABLE login_throttle (
    scope_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_ends_ms BIGINT NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NULL,
    revoked_reason TEXT NULL
);
CREATE INDEX idx_sessions_user ON sessions (user_id);
ALTER TABLE refresh_tokens ADD COLUMN family_id TEXT NULL;
ALTER TABLE refresh_tokens ADD COLUMN used_at TIMESTAMPTZ NULL;
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family_id);
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ NULL;
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id TEXT NULL,
    subject_user_id TEXT NULL,
    org_id TEXT NULL,
    email TEXT NULL,
    address TEXT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX idx_audit_log_kind ON audit_log (kind, id);
CREATE INDEX idx_audit_log_actor ON audit_log (actor_user_id, id);
CREATE INDEX idx_audit_log_subject ON audit_log (subject_user_id, id)
"#;

const TRIGGERS_SQLITE: [&str; 2] = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

const TRIGGERS_POSTGRES: [&str; 2] = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ \
     BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await?;
        let triggers = if is_postgres(manager) {
            TRIGGERS_POSTGRES
        } else {
            TRIGGERS_SQLITE
        };
        for t in triggers {
            manager.get_connection().execute_unprepared(t).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if is_postgres(manager) {
            run_sql(manager, "DROP TABLE audit_log; DROP FUNCTION audit_log_append_only()").await?;
        } else {
            run_sql(manager, "DROP TABLE audit_log").await?;
        }
        run_sql(
            manager,
            "DROP INDEX idx_refresh_tokens_family; ALTER TABLE refresh_tokens DROP COLUMN used_at; \
             ALTER TABLE refresh_tokens DROP COLUMN family_id; ALTER TABLE users DROP COLUMN deactivated_at; \
             DROP TABLE sessions; DROP TABLE login_throttle",
        )
        .await
    }
}
