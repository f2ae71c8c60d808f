use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Ratings and returns of supplier orders, and standing agreements (长期定向采购)
// with one run row per agreement and period (the unique key makes each period
// place its order, or record its shortfall, exactly once).
const UP: &str = r#"
CREATE TABLE supplier_ratings (
    supplier_order_id TEXT PRIMARY KEY REFERENCES supplier_orders (id),
    supplier_org_id TEXT NOT NULL REFERENCES organizations (id),
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    score INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_by TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_supplier_ratings_supplier ON supplier_ratings (supplier_org_id);

CREATE TABLE order_returns (
    id TEXT PRIMARY KEY,
    supplier_order_id TEXT NOT NULL REFERENCES supplier_orders (id),
    order_line_id TEXT NOT NULL REFERENCES order_lines (id),
    quantity_milli BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    reason TEXT NOT NULL,
    ledger_seq BIGINT NULL,
    created_by TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_order_returns_supplier_order ON order_returns (supplier_order_id);

CREATE TABLE agreements (
    id TEXT PRIMARY KEY,
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    supplier_org_id TEXT NOT NULL REFERENCES organizations (id),
    lines TEXT NOT NULL,
    every TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    credit_category TEXT NOT NULL,
    pairing_id TEXT NULL REFERENCES pairings (id),
    deliver_to TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NULL,
    approved_by TEXT NULL,
    approved_at TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_agreements_buyer ON agreements (buyer_org_id, id);
CREATE INDEX idx_agreements_supplier ON agreements (supplier_org_id, id);
CREATE INDEX idx_agreements_status ON agreements (status, starts_on);

CREATE TABLE agreement_runs (
    id TEXT PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    order_id TEXT NULL REFERENCES orders (id),
    shortfall TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (agreement_id, period)
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
            "DROP TABLE agreement_runs; DROP TABLE agreements; DROP TABLE order_returns; DROP TABLE supplier_ratings",
        )
        .await
    }
}
