use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Yearly reserved-share quotas of buyers (预留份额). The share is stored in
// parts per million (300000 = 30%) so that the target is exact integer fen.
const UP: &str = r#"
CREATE TABLE quotas (
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    year INTEGER NOT NULL,
    food_budget_fen BIGINT NOT NULL,
    reserved_share_ppm INTEGER NOT NULL,
    target_fen BIGINT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (buyer_org_id, year)
);
CREATE INDEX idx_quotas_year ON quotas (year);

CREATE TABLE quota_floors (
    year INTEGER PRIMARY KEY,
    min_share_ppm INTEGER NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP TABLE quota_floors; DROP TABLE quotas").await
    }
}
