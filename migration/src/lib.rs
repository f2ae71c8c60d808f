//! Database migrations. One file per change; a file that has landed is never edited.
//!
//! The DDL is written once in a dialect both SQLite and PostgreSQL accept
//! (TEXT ids, BIGINT money in fen and quantities in thousandths, TIMESTAMPTZ
//! and DATE columns), so the two backends share one schema.
pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

mod m20261122_000001_foundation;
mod m20261122_000002_supply_and_ledger;
mod m20261122_000003_quotas;
mod m20261122_000010_catalog_indexes;
mod m20261122_000020_orders_extras;
mod m20261122_000030_credit;
mod m20261122_000031_ledger_rollup;
mod m20261122_000040_alerts;
mod m20261122_000050_catalog_walk;
mod m20261130_000060_alert_matches;
mod m20261201_000070_ledger_credited_pairing;
mod m20261201_000080_account_security;
mod m20261201_000100_budget_units;
mod m20261201_000101_plans;
mod m20261201_000120_ledger_log;
mod m20261201_000140_return_groups;
mod m20261201_000141_return_entry_ids;
mod m20261201_000150_payments;
mod m20261201_000160_delivered_late;
mod m20261201_000170_compliance_certificates;
mod m20261201_000180_documents;
mod m20261201_000190_variable_weight;
mod m20261201_000200_flags;
mod m20261201_000240_correction_credits;
mod m20261202_000250_ledger_lot_index;
mod m20261202_000260_pledges_by_buyer;
mod m20261202_000270_terms_payable;
mod m20261203_000280_flag_reversal_entries;
mod m20261203_000290_plan_approved_lead;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_supply_and_ledger::Migration),
            Box::new(m20261122_000003_quotas::Migration),
            Box::new(m20261122_000010_catalog_indexes::Migration),
            Box::new(m20261122_000020_orders_extras::Migration),
            Box::new(m20261122_000030_credit::Migration),
            Box::new(m20261122_000031_ledger_rollup::Migration),
            Box::new(m20261122_000040_alerts::Migration),
            Box::new(m20261122_000050_catalog_walk::Migration),
            Box::new(m20261130_000060_alert_matches::Migration),
            Box::new(m20261201_000070_ledger_credited_pairing::Migration),
            Box::new(m20261201_000080_account_security::Migration),
            Box::new(m20261201_000100_budget_units::Migration),
            Box::new(m20261201_000101_plans::Migration),
            Box::new(m20261201_000120_ledger_log::Migration),
            Box::new(m20261201_000140_return_groups::Migration),
            Box::new(m20261201_000141_return_entry_ids::Migration),
            Box::new(m20261201_000150_payments::Migration),
            Box::new(m20261201_000160_delivered_late::Migration),
            Box::new(m20261201_000170_compliance_certificates::Migration),
            Box::new(m20261201_000180_documents::Migration),
            Box::new(m20261201_000190_variable_weight::Migration),
            Box::new(m20261201_000200_flags::Migration),
            Box::new(m20261201_000240_correction_credits::Migration),
            Box::new(m20261202_000250_ledger_lot_index::Migration),
            Box::new(m20261202_000260_pledges_by_buyer::Migration),
            Box::new(m20261202_000270_terms_payable::Migration),
            Box::new(m20261203_000280_flag_reversal_entries::Migration),
            Box::new(m20261203_000290_plan_approved_lead::Migration),
        ]
    }
}

/// Runs each `;`-separated statement of `sql` in turn.
pub async fn run_sql(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    for stmt in sql.split(';') {
        let stmt = stmt.trim();
        if !stmt.is_empty() {
            conn.execute_unprepared(stmt).await?;
        }
    }
    Ok(())
}

/// True when the migration runs on PostgreSQL.
pub fn is_postgres(manager: &SchemaManager<'_>) -> bool {
    manager.get_database_backend() == DbBackend::Postgres
}
