use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The credits of a lot: a confirmed origin-mismatch flag keeps reversing them as they come
// (the flag scan reads them every run), and the lot's trace reads them. `IF NOT EXISTS`: on a
// large PostgreSQL ledger an operator may build it beforehand with
// `CREATE INDEX CONCURRENTLY idx_ledger_entries_lot ON ledger_entries (lot_id)`, which does not
// hold up acceptances as a build inside this migration's transaction would.
const UP: &str = "CREATE INDEX IF NOT EXISTS idx_ledger_entries_lot ON ledger_entries (lot_id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP INDEX idx_ledger_entries_lot").await
    }
}
