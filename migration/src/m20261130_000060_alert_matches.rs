use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The buyers each alert was matched to, as a relation: a buyer sees the alerts
// it was matched to through `idx_alert_matches_buyer` instead of a `LIKE` over
// the `matched_buyers` JSON (which stays, for the names and reasons shown).
// Rows are replaced whenever the scan rewrites `matched_buyers`.
const UP: &str = r#"
CREATE TABLE alert_matches (
    alert_id TEXT NOT NULL REFERENCES alerts (id),
    buyer_org_id TEXT NOT NULL,
    match_rank INTEGER NOT NULL,
    PRIMARY KEY (alert_id, buyer_org_id)
);
CREATE INDEX idx_alert_matches_buyer ON alert_matches (buyer_org_id, alert_id)
"#;

// Backfill from the JSON of the alerts that exist (each dialect's JSON functions).
const BACKFILL_SQLITE: &str = "INSERT INTO alert_matches (alert_id, buyer_org_id, match_rank) \
     SELECT a.id, json_extract(j.value, '$.org_id'), COALESCE(json_extract(j.value, '$.rank'), 0) \
     FROM alerts a, json_each(a.matched_buyers) j \
     WHERE json_valid(a.matched_buyers) AND json_extract(j.value, '$.org_id') IS NOT NULL \
     ON CONFLICT DO NOTHING";
const BACKFILL_POSTGRES: &str = "INSERT INTO alert_matches (alert_id, buyer_org_id, match_rank) \
     SELECT a.id, j.value ->> 'org_id', COALESCE((j.value ->> 'rank')::INTEGER, 0) \
     FROM alerts a CROSS JOIN LATERAL jsonb_array_elements(a.matched_buyers::jsonb) AS j(value) \
     WHERE j.value ->> 'org_id' IS NOT NULL \
     ON CONFLICT DO NOTHING";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await?;
        let backfill = if is_postgres(manager) {
            BACKFILL_POSTGRES
        } else {
            BACKFILL_SQLITE
        };
        manager.get_connection().execute_unprepared(backfill).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP TABLE alert_matches").await
    }
}
