use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The pairing each ledger entry counts under, recorded when the entry is written
// (`services::ledger::pairing`), so that a report grouped by pairing counts each
// entry once and the entries of no pairing on a row of their own.
//
// It is a column of its own, not the existing `pairing_id`: `pairing_id` is the
// pairing the order named and is part of each entry's hashed canonical text, so
// filling it in for old entries would break the chain. `credited_pairing_id` is
// outside that text.
//
// The rule (the same as at append): a pairing of the entry's year whose helper is
// the buyer or the buyer's parent and whose helped county is the entry's origin
// county. Of several, the one the order named first, then the buyer's own pairing
// before its parent's, then the oldest, then the smallest id. None: NULL.
// A reversal carries the pairing of the credit it reverses (same order line).
const ADD: &str = r#"
ALTER TABLE ledger_entries ADD COLUMN credited_pairing_id TEXT NULL;
CREATE INDEX idx_ledger_credited_pairing ON ledger_entries (year, credited_pairing_id)
"#;

// The ledger is append-only (a trigger refuses UPDATE); the backfill lifts it
// for its own statements only and puts it back in the same migration.
// SQLite refuses outer columns in a subquery's ORDER BY, so the preferences are
// COALESCE'd scalar subqueries, each ordered by its own columns only.
const BACKFILL: &str = r#"
UPDATE ledger_entries SET credited_pairing_id = COALESCE(
    (SELECT p.id FROM pairings p
     WHERE p.id = ledger_entries.pairing_id
       AND p.year = ledger_entries.year
       AND p.helped_region_code = ledger_entries.origin_county_code
       AND (p.helper_org_id = ledger_entries.buyer_org_id
            OR p.helper_org_id = (SELECT b.parent_org_id FROM organizations b WHERE b.id = ledger_entries.buyer_org_id))),
    (SELECT p.id FROM pairings p
     WHERE p.helper_org_id = ledger_entries.buyer_org_id
       AND p.year = ledger_entries.year
       AND p.helped_region_code = ledger_entries.origin_county_code
     ORDER BY p.created_at, p.id LIMIT 1),
    (SELECT p.id FROM pairings p JOIN organizations b ON b.parent_org_id = p.helper_org_id
     WHERE b.id = ledger_entries.buyer_org_id
       AND p.year = ledger_entries.year
       AND p.helped_region_code = ledger_entries.origin_county_code
     ORDER BY p.created_at, p.id LIMIT 1)
) WHERE kind <> 'reversal';
UPDATE ledger_entries SET credited_pairing_id = (
    SELECT c.credited_pairing_id FROM ledger_entries c
    WHERE c.order_line_id = ledger_entries.order_line_id AND c.kind <> 'reversal'
    ORDER BY c.seq LIMIT 1
) WHERE kind = 'reversal'
"#;

const SQLITE_NO_UPDATE: &str = "CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, ADD).await?;
        let conn = manager.get_connection();
        if is_postgres(manager) {
            conn.execute_unprepared("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_change")
                .await?;
            run_sql(manager, BACKFILL).await?;
            conn.execute_unprepared("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_change")
                .await?;
        } else {
            conn.execute_unprepared("DROP TRIGGER ledger_entries_no_update").await?;
            run_sql(manager, BACKFILL).await?;
            conn.execute_unprepared(SQLITE_NO_UPDATE).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP INDEX idx_ledger_credited_pairing; ALTER TABLE ledger_entries DROP COLUMN credited_pairing_id",
        )
        .await
    }
}
