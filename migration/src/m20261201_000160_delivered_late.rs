use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Lateness kept for the supplier's scorecard, as a view over what the payments capability
// records at each step (`supplier_order_terms`): one row per supplier order, with
// `delivered_late` true when it was delivered after its `deliver_by`. A view, so that it
// can never disagree with the recorded dates.
const UP: &str = r#"
CREATE VIEW supplier_order_lateness AS
SELECT t.supplier_order_id, so.supplier_org_id, so.buyer_org_id, t.deliver_by, t.delivered_on, t.late_at,
       CASE WHEN t.deliver_by IS NOT NULL AND t.delivered_on IS NOT NULL AND t.delivered_on > t.deliver_by
            THEN TRUE ELSE FALSE END AS delivered_late
FROM supplier_order_terms t JOIN supplier_orders so ON so.id = t.supplier_order_id
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP VIEW supplier_order_lateness").await
    }
}
