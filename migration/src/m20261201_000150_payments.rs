use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Payment terms, invoices, payments, reminders and delivery deadlines.
// - organizations: a supplier's size (the SME rules apply to `sme`) and a buyer's
//   payment days (NULL: the default, 30 or 60 days).
// - orders: the terms chosen at placement and the latest delivery date.
// - supplier_order_terms: one row per supplier order with what the terms made of it
//   (days, whether the regulation applies, due date) and the running totals that
//   conditional updates guard: never more invoiced than the order, never more paid
//   than invoiced. Existing supplier orders get on-account terms of 60 days.
// - payment_reminders: one row per reminder sent, so that each is sent once.
const UP: &str = r#"
ALTER TABLE organizations ADD COLUMN supplier_size TEXT NOT NULL DEFAULT 'sme';
ALTER TABLE organizations ADD COLUMN payment_days INTEGER NULL;
ALTER TABLE orders ADD COLUMN payment_terms TEXT NOT NULL DEFAULT 'on_account';
ALTER TABLE orders ADD COLUMN deliver_by DATE NULL;
CREATE TABLE supplier_order_terms (
    supplier_order_id TEXT PRIMARY KEY REFERENCES supplier_orders (id),
    payment_terms TEXT NOT NULL,
    payment_days INTEGER NOT NULL,
    regulated BOOLEAN NOT NULL DEFAULT FALSE,
    deliver_by DATE NULL,
    delivered_on DATE NULL,
    due_on DATE NULL,
    invoiced_fen BIGINT NOT NULL DEFAULT 0,
    paid_fen BIGINT NOT NULL DEFAULT 0,
    late_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_supplier_order_terms_due ON supplier_order_terms (due_on);
CREATE INDEX idx_supplier_order_terms_deliver_by ON supplier_order_terms (deliver_by);
CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    supplier_order_id TEXT NOT NULL REFERENCES supplier_orders (id),
    number TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    issued_on DATE NOT NULL,
    created_by TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (supplier_order_id, number)
);
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    supplier_order_id TEXT NOT NULL REFERENCES supplier_orders (id),
    amount_fen BIGINT NOT NULL,
    paid_on DATE NOT NULL,
    reference TEXT NOT NULL,
    created_by TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_invoices_so ON invoices (supplier_order_id);
CREATE INDEX idx_payments_so ON payments (supplier_order_id);
CREATE TABLE payment_reminders (
    supplier_order_id TEXT NOT NULL REFERENCES supplier_orders (id),
    stage TEXT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (supplier_order_id, stage)
);
INSERT INTO supplier_order_terms (supplier_order_id, payment_terms, payment_days, regulated, invoiced_fen, paid_fen)
    SELECT id, 'on_account', 60, FALSE, 0, 0 FROM supplier_orders
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP TABLE payment_reminders; DROP TABLE payments; DROP TABLE invoices; DROP TABLE supplier_order_terms; \
             ALTER TABLE orders DROP COLUMN deliver_by; ALTER TABLE orders DROP COLUMN payment_terms; \
             ALTER TABLE organizations DROP COLUMN payment_days; ALTER TABLE organizations DROP COLUMN supplier_size",
        )
        .await
    }
}
