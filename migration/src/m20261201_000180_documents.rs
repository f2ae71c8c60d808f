use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Expiring documents and what supplier scorecards need.
// - supplier_documents: a supplier's licences (business licence, food production or trade
//   licence), each with its number and validity; a renewal is a new row, the current one
//   of a kind is the one valid longest.
// - document_reminders: one row per reminder stage sent (90, 30, 7 days before, and the
//   expiry itself) per document version, so each is sent and acted on once.
// - document_suspensions: a supplier suspended because a licence expired, reinstated (and
//   the row deleted) once a new licence is recorded.
// - supplier_order_confirmations: when a supplier order was confirmed (for the scorecard's
//   "confirmed within 48 h").
const UP: &str = r#"
CREATE TABLE supplier_documents (
    id TEXT PRIMARY KEY,
    supplier_org_id TEXT NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    issued_on DATE NOT NULL,
    valid_until DATE NOT NULL,
    created_by TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_supplier_documents_org ON supplier_documents (supplier_org_id, kind, valid_until);
CREATE INDEX idx_supplier_documents_valid ON supplier_documents (valid_until);
CREATE TABLE document_reminders (
    document_key TEXT NOT NULL,
    stage TEXT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (document_key, stage)
);
CREATE TABLE document_suspensions (
    supplier_org_id TEXT PRIMARY KEY REFERENCES organizations (id),
    document_key TEXT NOT NULL,
    suspended_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE supplier_order_confirmations (
    supplier_order_id TEXT PRIMARY KEY REFERENCES supplier_orders (id),
    confirmed_at TIMESTAMPTZ NOT NULL
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
            "DROP TABLE supplier_order_confirmations; DROP TABLE document_suspensions; \
             DROP TABLE document_reminders; DROP TABLE supplier_documents",
        )
        .await
    }
}
