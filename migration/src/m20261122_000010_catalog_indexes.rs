use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The catalogue walks certified products in id order (its cursor); the certifier's price
// check reads the prices of one category and unit.
const UP: &str = r#"
CREATE INDEX idx_products_status_id ON products (status, id);
CREATE INDEX idx_products_category_unit ON products (category, unit, status, price_fen)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP INDEX idx_products_category_unit; DROP INDEX idx_products_status_id",
        )
        .await
    }
}
