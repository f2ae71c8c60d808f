use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// A return (one `POST /supplier-orders/{id}/returns`) may cover several lines, one
// `order_returns` row each: `return_id` names the return they belong to, so that it can be
// read back at `/supplier-orders/{id}/returns/{return_id}`. Rows written before this column
// existed are each a return of their own.
const UP: &str = r#"
ALTER TABLE order_returns ADD COLUMN return_id TEXT NULL;
UPDATE order_returns SET return_id = id WHERE return_id IS NULL;
CREATE INDEX idx_order_returns_return ON order_returns (supplier_order_id, return_id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP INDEX idx_order_returns_return; ALTER TABLE order_returns DROP COLUMN return_id",
        )
        .await
    }
}
