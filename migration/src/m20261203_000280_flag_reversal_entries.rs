use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The alert scan leaves a confirmed flag's reversal entries out of a product's sales: it
// looks each ledger entry up by `reversal_entry_id`.
const UP: &str = "CREATE INDEX IF NOT EXISTS idx_flag_reversals_entry ON flag_reversals (reversal_entry_id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP INDEX idx_flag_reversals_entry").await
    }
}
