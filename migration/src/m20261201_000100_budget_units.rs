use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Whether a buyer organisation is a budget unit (预算单位): budget units file a yearly
// reserved-share plan and are followed by the finance office (supervisor) of their region.
// Existing agencies, schools, hospitals and canteens become budget units.
const UP: &str = r#"
ALTER TABLE organizations ADD COLUMN budget_unit BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE organizations SET budget_unit = TRUE WHERE kind IN ('canteen', 'school', 'hospital', 'government')
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "ALTER TABLE organizations DROP COLUMN budget_unit").await
    }
}
