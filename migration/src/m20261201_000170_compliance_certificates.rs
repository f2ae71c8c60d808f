use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// 合格证 (commitment-to-standard compliance certificates) per batch.
// - category_settings: one row per product category with whether its products need a
//   certificate by default (all false here; the admin or the demo data turns them on).
// - products: the certifier's own setting for the product (NULL: the category's) and the
//   effective requirement, kept in step by the compliance service whenever either changes.
// - lots: the certificate's fields and `uncertified_batch` (the product requires one and
//   the lot has none: not available stock until it is recorded).
// - shipment_lots: which lots each line of a supplier order shipped, and how much.
// - ledger_entries: the lot and certificate of an accepted line, and (wired by variable
//   weight) the delivered weight in thousandths of a kg; all in leaf format version 2.
const UP: &str = r#"
CREATE TABLE category_settings (
    code TEXT PRIMARY KEY,
    requires_compliance_certificate BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NULL
);
INSERT INTO category_settings (code, requires_compliance_certificate) VALUES
    ('grain', FALSE), ('vegetables', FALSE), ('fruit', FALSE), ('meat', FALSE), ('eggs', FALSE),
    ('dairy', FALSE), ('aquatic', FALSE), ('edible_fungi', FALSE), ('tea', FALSE), ('oils', FALSE),
    ('herbs', FALSE), ('processed_food', FALSE), ('handicrafts', FALSE);
ALTER TABLE products ADD COLUMN requires_compliance_certificate BOOLEAN NULL;
ALTER TABLE products ADD COLUMN compliance_certificate_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE lots ADD COLUMN cc_number TEXT NULL;
ALTER TABLE lots ADD COLUMN cc_issuer TEXT NULL;
ALTER TABLE lots ADD COLUMN cc_issued_on DATE NULL;
ALTER TABLE lots ADD COLUMN cc_trace_code TEXT NULL;
ALTER TABLE lots ADD COLUMN cc_url TEXT NULL;
ALTER TABLE lots ADD COLUMN cc_recorded_at TIMESTAMPTZ NULL;
ALTER TABLE lots ADD COLUMN uncertified_batch BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE shipment_lots (
    id TEXT PRIMARY KEY,
    supplier_order_id TEXT NOT NULL REFERENCES supplier_orders (id),
    order_line_id TEXT NOT NULL REFERENCES order_lines (id),
    lot_id TEXT NOT NULL REFERENCES lots (id),
    quantity_milli BIGINT NOT NULL,
    accepted_milli BIGINT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_shipment_lots_so ON shipment_lots (supplier_order_id);
CREATE INDEX idx_shipment_lots_lot ON shipment_lots (lot_id);
ALTER TABLE ledger_entries ADD COLUMN lot_id TEXT NULL;
ALTER TABLE ledger_entries ADD COLUMN compliance_certificate_number TEXT NULL;
ALTER TABLE ledger_entries ADD COLUMN weight_kg_milli BIGINT NULL
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "ALTER TABLE ledger_entries DROP COLUMN weight_kg_milli; \
             ALTER TABLE ledger_entries DROP COLUMN compliance_certificate_number; \
             ALTER TABLE ledger_entries DROP COLUMN lot_id; DROP TABLE shipment_lots; \
             ALTER TABLE lots DROP COLUMN uncertified_batch; ALTER TABLE lots DROP COLUMN cc_recorded_at; \
             ALTER TABLE lots DROP COLUMN cc_url; ALTER TABLE lots DROP COLUMN cc_trace_code; \
             ALTER TABLE lots DROP COLUMN cc_issued_on; ALTER TABLE lots DROP COLUMN cc_issuer; \
             ALTER TABLE lots DROP COLUMN cc_number; \
             ALTER TABLE products DROP COLUMN compliance_certificate_required; \
             ALTER TABLE products DROP COLUMN requires_compliance_certificate; DROP TABLE category_settings",
        )
        .await
    }
}
