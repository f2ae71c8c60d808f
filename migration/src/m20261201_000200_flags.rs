use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Fraud signals (issue 14).
// - organizations: the legal representative (法定代表人) and a contact phone, compared
//   between buyer and supplier by the `related_parties` signal.
// - lots: the origin county a lot states (optional), compared with its product's
//   certified origin by `origin_mismatch`.
// - flags: one row per (kind, evidence key), so a re-run raises nothing new; never deleted.
//   `open -> dismissed | confirmed`; each transition is a row of `flag_events`.
// - flag_reversals: the reversal entries a confirmed flag appended, with its reason.
// - flag_scan: where the last scan stopped (ledger position and time).
const UP: &str = r#"
ALTER TABLE organizations ADD COLUMN legal_representative TEXT NULL;
ALTER TABLE organizations ADD COLUMN contact_phone TEXT NULL;
ALTER TABLE lots ADD COLUMN origin_county_code TEXT NULL;
CREATE TABLE flags (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    evidence_key TEXT NOT NULL,
    evidence TEXT NOT NULL,
    buyer_org_id TEXT NULL,
    supplier_org_id TEXT NULL,
    year INTEGER NOT NULL,
    state TEXT NOT NULL,
    note TEXT NULL,
    decided_by TEXT NULL,
    decided_at TIMESTAMPTZ NULL,
    raised_at TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, evidence_key)
);
CREATE INDEX idx_flags_buyer ON flags (buyer_org_id, id);
CREATE INDEX idx_flags_state ON flags (state, kind, year);
CREATE TABLE flag_events (
    id TEXT PRIMARY KEY,
    flag_id TEXT NOT NULL REFERENCES flags (id),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL,
    by_user_id TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_flag_events_flag ON flag_events (flag_id);
CREATE TABLE flag_reversals (
    flag_id TEXT NOT NULL REFERENCES flags (id),
    entry_id TEXT NOT NULL,
    reversal_entry_id TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (flag_id, entry_id)
);
CREATE TABLE flag_scan (
    id INTEGER PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    last_at TIMESTAMPTZ NULL
);
INSERT INTO flag_scan (id, last_seq, last_at) VALUES (1, 0, NULL);
CREATE INDEX idx_supplier_orders_pair_day ON supplier_orders (buyer_org_id, supplier_org_id, created_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP INDEX idx_supplier_orders_pair_day; DROP TABLE flag_scan; DROP TABLE flag_reversals; \
             DROP TABLE flag_events; DROP TABLE flags; ALTER TABLE lots DROP COLUMN origin_county_code; \
             ALTER TABLE organizations DROP COLUMN contact_phone; \
             ALTER TABLE organizations DROP COLUMN legal_representative",
        )
        .await
    }
}
