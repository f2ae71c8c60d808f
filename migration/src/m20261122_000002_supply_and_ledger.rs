use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Money columns end in `_fen` (integer minor units); quantity columns hold
// thousandths of a unit (`_milli`), so every sum is exact on both backends.
const UP: &str = r#"
CREATE TABLE products (
    id TEXT PRIMARY KEY,
    supplier_org_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    unit TEXT NOT NULL,
    price_fen BIGINT NOT NULL,
    min_order_qty_milli BIGINT NOT NULL,
    origin_region_code TEXT NOT NULL REFERENCES regions (code),
    origin_county_code TEXT NOT NULL REFERENCES regions (code),
    description TEXT NOT NULL DEFAULT '',
    shelf_life_days INTEGER NULL,
    supply_capacity_per_month_milli BIGINT NULL,
    certificates TEXT NOT NULL DEFAULT '[]',
    poor_households_linked INTEGER NOT NULL DEFAULT 0,
    benefit_mechanism TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    certificate_number TEXT NULL UNIQUE,
    certified_by TEXT NULL,
    certified_at TIMESTAMPTZ NULL,
    valid_until DATE NULL,
    reserved_milli BIGINT NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_products_supplier ON products (supplier_org_id);
CREATE INDEX idx_products_county_status ON products (origin_county_code, status);
CREATE INDEX idx_products_status_category ON products (status, category, price_fen);

CREATE TABLE product_events (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    from_status TEXT NULL,
    to_status TEXT NOT NULL,
    actor_user_id TEXT NULL,
    actor_org_id TEXT NULL,
    reason TEXT NULL,
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_product_events_product ON product_events (product_id, occurred_at);

CREATE TABLE lots (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    quantity_milli BIGINT NOT NULL,
    remaining_milli BIGINT NOT NULL,
    harvested_on DATE NULL,
    best_before DATE NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_lots_product ON lots (product_id, best_before);

CREATE TABLE stock_movements (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    lot_id TEXT NULL REFERENCES lots (id),
    delta_milli BIGINT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NULL,
    ref_id TEXT NULL,
    actor_user_id TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_stock_movements_product ON stock_movements (product_id, created_at);

CREATE TABLE pairings (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    helper_org_id TEXT NOT NULL REFERENCES organizations (id),
    helped_region_code TEXT NOT NULL REFERENCES regions (code),
    year INTEGER NOT NULL,
    purchase_target_fen BIGINT NOT NULL,
    helped_sale_target_fen BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_pairings_helper ON pairings (helper_org_id, year);
CREATE INDEX idx_pairings_region ON pairings (helped_region_code, year);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    buyer_user_id TEXT NULL,
    credit_category TEXT NOT NULL,
    pairing_id TEXT NULL REFERENCES pairings (id),
    deliver_to TEXT NOT NULL,
    requested_date DATE NOT NULL,
    total_fen BIGINT NOT NULL,
    source TEXT NOT NULL DEFAULT 'direct',
    source_ref TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_orders_buyer ON orders (buyer_org_id, id);

CREATE TABLE supplier_orders (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    supplier_org_id TEXT NOT NULL REFERENCES organizations (id),
    status TEXT NOT NULL,
    total_fen BIGINT NOT NULL,
    shipment_note TEXT NULL,
    invoice_number TEXT NULL,
    acceptance_note TEXT NULL,
    status_note TEXT NULL,
    accepted_at TIMESTAMPTZ NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_supplier_orders_order ON supplier_orders (order_id);
CREATE INDEX idx_supplier_orders_supplier ON supplier_orders (supplier_org_id, id);
CREATE INDEX idx_supplier_orders_buyer ON supplier_orders (buyer_org_id, id);

CREATE TABLE order_lines (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    supplier_order_id TEXT NOT NULL REFERENCES supplier_orders (id),
    product_id TEXT NOT NULL REFERENCES products (id),
    quantity_milli BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    accepted_quantity_milli BIGINT NULL,
    returned_quantity_milli BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX idx_order_lines_supplier_order ON order_lines (supplier_order_id);
CREATE INDEX idx_order_lines_product ON order_lines (product_id);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    resource_id TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE ledger_entries (
    seq BIGINT PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    buyer_org_id TEXT NOT NULL,
    supplier_org_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    category TEXT NOT NULL,
    supplier_order_id TEXT NOT NULL,
    order_line_id TEXT NOT NULL,
    origin_region_code TEXT NOT NULL,
    origin_county_code TEXT NOT NULL,
    origin_poverty_status TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    kind TEXT NOT NULL,
    credit_category TEXT NOT NULL,
    pairing_id TEXT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX idx_ledger_buyer ON ledger_entries (buyer_org_id, year);
CREATE INDEX idx_ledger_supplier ON ledger_entries (supplier_org_id, year);
CREATE INDEX idx_ledger_county ON ledger_entries (origin_county_code, year);
CREATE INDEX idx_ledger_year ON ledger_entries (year, month);
CREATE INDEX idx_ledger_product ON ledger_entries (product_id, occurred_at);
CREATE INDEX idx_ledger_pairing ON ledger_entries (pairing_id);

CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000')
"#;

// PostgreSQL refuses any UPDATE or DELETE of a ledger entry, whoever asks.
const PG_APPEND_ONLY: &str = r#"
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only';
END;
$$ LANGUAGE plpgsql
"#;
const PG_TRIGGER: &str = "CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()";
const SQLITE_NO_UPDATE: &str = "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END";
const SQLITE_NO_DELETE: &str = "CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await?;
        let conn = manager.get_connection();
        if is_postgres(manager) {
            conn.execute_unprepared(PG_APPEND_ONLY).await?;
            conn.execute_unprepared(PG_TRIGGER).await?;
        } else {
            conn.execute_unprepared(SQLITE_NO_UPDATE).await?;
            conn.execute_unprepared(SQLITE_NO_DELETE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if is_postgres(manager) {
            conn.execute_unprepared("DROP TRIGGER ledger_entries_no_change ON ledger_entries")
                .await?;
            conn.execute_unprepared("DROP FUNCTION ledger_entries_append_only()")
                .await?;
        }
        run_sql(
            manager,
            "DROP TABLE ledger_head; DROP TABLE ledger_entries; DROP TABLE idempotency_keys; DROP TABLE order_lines; DROP TABLE supplier_orders; DROP TABLE orders; DROP TABLE pairings; DROP TABLE stock_movements; DROP TABLE lots; DROP TABLE product_events; DROP TABLE products",
        )
        .await
    }
}
