use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The yearly reserved-share plan of a budget unit (one row per unit and year, its
// current content and state), every change of it (plan_events: the history), the
// year's filing deadline and monthly pace weights (the floor stays in quota_floors),
// supervisors' attribution corrections and the monthly notices already sent.
const UP: &str = r#"
CREATE TABLE plans (
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    year INTEGER NOT NULL,
    status TEXT NOT NULL,
    declaration TEXT,
    food_budget_fen BIGINT,
    reserved_share_ppm BIGINT,
    explanation TEXT,
    lead_org_id TEXT,
    contractor_org_id TEXT,
    members TEXT NOT NULL DEFAULT '[]',
    late BOOLEAN NOT NULL DEFAULT FALSE,
    below_floor BOOLEAN NOT NULL DEFAULT FALSE,
    amendment_reason TEXT,
    return_reason TEXT,
    filed_at TIMESTAMPTZ,
    approved_at TIMESTAMPTZ,
    approved_target_fen BIGINT,
    approved_budget_fen BIGINT,
    approved_share_ppm BIGINT,
    version INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (buyer_org_id, year)
);
CREATE INDEX idx_plans_year_status ON plans (year, status);
CREATE INDEX idx_plans_contractor ON plans (contractor_org_id, year);
CREATE INDEX idx_plans_lead ON plans (lead_org_id, year);
CREATE TABLE plan_events (
    id TEXT PRIMARY KEY,
    buyer_org_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    by_user_id TEXT NOT NULL,
    by_org_id TEXT NOT NULL,
    reason TEXT,
    snapshot TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_plan_events_plan ON plan_events (buyer_org_id, year, at);
CREATE TABLE plan_settings (
    year INTEGER PRIMARY KEY,
    filing_deadline DATE NOT NULL,
    pace_weights TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE attribution_corrections (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL,
    from_org_id TEXT NOT NULL,
    to_org_id TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    reversal_entry_id TEXT NOT NULL,
    credit_entry_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    by_user_id TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_attribution_corrections_entry ON attribution_corrections (entry_id);
CREATE TABLE supervision_notices (
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (year, month, org_id)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP TABLE supervision_notices; DROP TABLE attribution_corrections; DROP TABLE plan_settings; \
             DROP TABLE plan_events; DROP TABLE plans",
        )
        .await
    }
}
