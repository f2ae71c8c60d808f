use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT NULL,
    poverty_status TEXT NOT NULL DEFAULT 'none',
    exited_year INTEGER NULL,
    registered_poor BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_regions_parent ON regions (parent_code);
CREATE INDEX idx_regions_level ON regions (level);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES regions (code),
    contact_email TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    parent_org_id TEXT NULL REFERENCES organizations (id),
    status TEXT NOT NULL DEFAULT 'active',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_organizations_kind ON organizations (kind);
CREATE INDEX idx_organizations_parent ON organizations (parent_org_id);
CREATE INDEX idx_organizations_region ON organizations (region_code);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_users_org ON users (org_id);

CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until TIMESTAMPTZ NULL,
    last_error TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE job_locks (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    locked_until TIMESTAMPTZ NOT NULL
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP TABLE job_locks; DROP TABLE outbox; DROP TABLE refresh_tokens; DROP TABLE users; DROP TABLE organizations; DROP TABLE regions",
        )
        .await
    }
}
