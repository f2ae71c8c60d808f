use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The lead whose approved plan sets a shared canteen member's approved target: the lead its
// approved plan names. `lead_org_id` is the current content's, which an amendment under way
// may have changed (another lead, or none), so a lead's approval retargets the members whose
// approved plan names it, by this column. Filled from the plans as they stand: an approved
// plan's own lead, else (an amendment under way) the lead of its last approval's snapshot.
const UP: &str = r#"
ALTER TABLE plans ADD COLUMN approved_lead_org_id TEXT;
UPDATE plans SET approved_lead_org_id = lead_org_id
 WHERE status = 'approved' AND declaration = 'shared_canteen';
CREATE INDEX idx_plans_approved_lead ON plans (approved_lead_org_id, year)
"#;

const FROM_HISTORY: &str = "UPDATE plans SET approved_lead_org_id = (SELECT {lead} FROM plan_events e \
     WHERE e.buyer_org_id = plans.buyer_org_id AND e.year = plans.year AND e.action = 'approved' \
     ORDER BY e.at DESC, e.id DESC LIMIT 1) \
     WHERE status <> 'approved' AND approved_at IS NOT NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await?;
        let lead = if is_postgres(manager) {
            "(e.snapshot::jsonb ->> 'lead_org_id')"
        } else {
            "json_extract(e.snapshot, '$.lead_org_id')"
        };
        run_sql(manager, &FROM_HISTORY.replace("{lead}", lead)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP INDEX idx_plans_approved_lead; ALTER TABLE plans DROP COLUMN approved_lead_org_id",
        )
        .await
    }
}
