use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// A correction whose right buyer leads a shared canteen writes one credit per member and one
// for the lead (split as acceptance splits it), so a correction links every credit it wrote,
// in the order written. `attribution_corrections.credit_entry_id` stays the first of them.
const UP: &str = "CREATE TABLE attribution_correction_credits (
    correction_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    buyer_org_id TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    PRIMARY KEY (correction_id, position)
);
CREATE UNIQUE INDEX idx_attribution_correction_credits_entry ON attribution_correction_credits (entry_id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP TABLE attribution_correction_credits").await
    }
}
