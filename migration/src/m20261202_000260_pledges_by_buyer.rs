use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// A buyer sees the alerts it is matched to or pledged on: its pledges by buyer.
const UP: &str = "CREATE INDEX IF NOT EXISTS idx_pledges_buyer ON pledges (buyer_org_id, alert_id)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP INDEX idx_pledges_buyer").await
    }
}
