use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Since the ledger became a verifiable log (migration 120), an entry has its id when it is
// written and its `seq` only once the sequencer places it, so a returned line records the id
// of its reversal entry. Rows written before keep their `ledger_seq`.
const UP: &str = "ALTER TABLE order_returns ADD COLUMN ledger_entry_id TEXT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "ALTER TABLE order_returns DROP COLUMN ledger_entry_id").await
    }
}
