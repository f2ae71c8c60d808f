use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Yearly reconciliation statements of pairings (每年对账). The figures are
// written once when the statement is made and never updated afterwards; only the
// confirmations and the status move. `adjustment_*` carries reversals appended
// after the previous locked statement of the same pairing and year.
//
// The covering indexes on ledger_entries let report aggregates (GROUP BY over a
// year, optionally scoped to a buyer, supplier or county) run as index-only scans.
const UP: &str = r#"
CREATE TABLE reconciliations (
    id TEXT PRIMARY KEY,
    pairing_id TEXT NOT NULL REFERENCES pairings (id),
    year INTEGER NOT NULL,
    status TEXT NOT NULL,
    purchase_fen BIGINT NOT NULL,
    helped_sale_fen BIGINT NOT NULL,
    purchase_count BIGINT NOT NULL,
    helped_sale_count BIGINT NOT NULL,
    seq_from BIGINT NOT NULL,
    seq_to BIGINT NOT NULL,
    head_hash TEXT NOT NULL,
    previous_locked_id TEXT NULL,
    adjustment_from_seq BIGINT NULL,
    adjustment_purchase_fen BIGINT NOT NULL DEFAULT 0,
    adjustment_helped_sale_fen BIGINT NOT NULL DEFAULT 0,
    adjustment_count BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    helper_confirmed_by TEXT NULL,
    helper_confirmed_at TIMESTAMPTZ NULL,
    county_confirmed_by TEXT NULL,
    county_confirmed_at TIMESTAMPTZ NULL,
    locked_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_reconciliations_pairing ON reconciliations (pairing_id, year, created_at);

CREATE INDEX idx_ledger_rep_buyer ON ledger_entries (year, buyer_org_id, origin_county_code, credit_category, origin_poverty_status, amount_fen);
CREATE INDEX idx_ledger_rep_supplier ON ledger_entries (year, supplier_org_id, credit_category, origin_poverty_status, amount_fen);
CREATE INDEX idx_ledger_rep_county ON ledger_entries (year, origin_county_code, credit_category, origin_poverty_status, amount_fen);
CREATE INDEX idx_ledger_rep_month ON ledger_entries (year, month, credit_category, origin_poverty_status, amount_fen);
CREATE INDEX idx_ledger_order_line ON ledger_entries (order_line_id);
CREATE INDEX idx_supplier_orders_accepted ON supplier_orders (status, accepted_at)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP INDEX idx_supplier_orders_accepted; DROP INDEX idx_ledger_order_line; DROP INDEX idx_ledger_rep_month; DROP INDEX idx_ledger_rep_county; DROP INDEX idx_ledger_rep_supplier; DROP INDEX idx_ledger_rep_buyer; DROP TABLE reconciliations",
        )
        .await
    }
}
