use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Unsold-produce alerts (滞销预警). Days-of-cover thresholds rise from yellow to
// red: a product whose stock would last longer than `red_days` at the current
// pace of sales is red. Quantities are thousandths (`_milli`).
//
// One open alert per product: the partial unique index `ux_alerts_open_product`
// (both SQLite and PostgreSQL support partial indexes) refuses a second alert
// whose status is not `resolved`, so concurrent scans cannot open two.
const UP: &str = r#"
CREATE TABLE alert_rules (
    category TEXT PRIMARY KEY,
    yellow_days INTEGER NOT NULL,
    orange_days INTEGER NOT NULL,
    red_days INTEGER NOT NULL,
    no_sales_days INTEGER NOT NULL,
    expiry_window_days INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMPTZ NOT NULL
);
INSERT INTO alert_rules (category, yellow_days, orange_days, red_days, no_sales_days, expiry_window_days, updated_at) VALUES
    ('vegetables', 7, 14, 21, 7, 5, '2026-11-22T00:00:00+00:00'),
    ('fruit', 10, 20, 30, 10, 7, '2026-11-22T00:00:00+00:00'),
    ('edible_fungi', 10, 20, 30, 10, 7, '2026-11-22T00:00:00+00:00'),
    ('meat', 10, 20, 30, 10, 7, '2026-11-22T00:00:00+00:00'),
    ('eggs', 7, 14, 21, 7, 5, '2026-11-22T00:00:00+00:00'),
    ('dairy', 7, 14, 21, 7, 5, '2026-11-22T00:00:00+00:00'),
    ('aquatic', 7, 14, 21, 7, 5, '2026-11-22T00:00:00+00:00'),
    ('grain', 90, 180, 270, 45, 30, '2026-11-22T00:00:00+00:00'),
    ('oils', 90, 180, 270, 45, 30, '2026-11-22T00:00:00+00:00'),
    ('tea', 90, 180, 270, 45, 30, '2026-11-22T00:00:00+00:00'),
    ('herbs', 90, 180, 270, 45, 30, '2026-11-22T00:00:00+00:00'),
    ('processed_food', 60, 120, 180, 30, 21, '2026-11-22T00:00:00+00:00'),
    ('handicrafts', 120, 240, 365, 60, 30, '2026-11-22T00:00:00+00:00');

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    supplier_org_id TEXT NOT NULL REFERENCES organizations (id),
    origin_region_code TEXT NOT NULL,
    origin_county_code TEXT NOT NULL,
    category TEXT NOT NULL,
    level TEXT NOT NULL,
    level_rank INTEGER NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    available_milli BIGINT NOT NULL,
    avg_daily_sales_milli BIGINT NOT NULL,
    days_of_cover INTEGER NULL,
    days_to_expiry INTEGER NULL,
    days_since_last_sale INTEGER NULL,
    matched_buyers TEXT NOT NULL DEFAULT '[]',
    opened_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ NULL,
    acknowledged_by TEXT NULL,
    resolved_at TIMESTAMPTZ NULL,
    resolved_by TEXT NULL,
    resolution_note TEXT NULL
);
CREATE UNIQUE INDEX ux_alerts_open_product ON alerts (product_id) WHERE status <> 'resolved';
CREATE INDEX idx_alerts_county ON alerts (origin_county_code, status);
CREATE INDEX idx_alerts_supplier ON alerts (supplier_org_id, status);
CREATE INDEX idx_alerts_status ON alerts (status, level_rank);

CREATE TABLE alert_events (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    kind TEXT NOT NULL,
    from_level TEXT NULL,
    to_level TEXT NULL,
    actor_user_id TEXT NULL,
    actor_org_id TEXT NULL,
    note TEXT NULL,
    occurred_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_alert_events_alert ON alert_events (alert_id, id);

CREATE TABLE unsold_reports (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id),
    supplier_org_id TEXT NOT NULL REFERENCES organizations (id),
    quantity_milli BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open',
    alert_id TEXT NULL,
    reported_by TEXT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    closed_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_unsold_reports_open ON unsold_reports (status, product_id);

CREATE TABLE alert_notifications (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    level TEXT NOT NULL,
    recipient_org_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (alert_id, level, recipient_org_id)
);

CREATE TABLE pledges (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    buyer_user_id TEXT NULL,
    quantity_milli BIGINT NOT NULL,
    order_id TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_pledges_alert ON pledges (alert_id, id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP TABLE pledges; DROP TABLE alert_notifications; DROP TABLE unsold_reports; DROP TABLE alert_events; DROP TABLE alerts; DROP TABLE alert_rules",
        )
        .await
    }
}
