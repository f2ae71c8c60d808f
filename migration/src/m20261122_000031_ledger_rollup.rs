use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

// A roll-up of the ledger per year and report dimension (buyer, supplier, county,
// month), maintained by a trigger in the same transaction as each append, so the
// unscoped yearly reports read a few thousand rows instead of every entry and are
// never stale. Scoped reports (one buyer, supplier or county) read the ledger
// through its indexes.
const UP: &str = r#"
CREATE TABLE ledger_rollup (
    year INTEGER NOT NULL,
    dim TEXT NOT NULL,
    key TEXT NOT NULL,
    credit_category TEXT NOT NULL,
    origin_poverty_status TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    entry_count BIGINT NOT NULL,
    PRIMARY KEY (year, dim, key, credit_category, origin_poverty_status)
)
"#;

/// Rebuilds the roll-up from the ledger (also used after bulk loads).
pub const BACKFILL: &str = r#"
INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count)
SELECT year, 'buyer', buyer_org_id, credit_category, origin_poverty_status, SUM(amount_fen), COUNT(*) FROM ledger_entries GROUP BY year, buyer_org_id, credit_category, origin_poverty_status;
INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count)
SELECT year, 'supplier', supplier_org_id, credit_category, origin_poverty_status, SUM(amount_fen), COUNT(*) FROM ledger_entries GROUP BY year, supplier_org_id, credit_category, origin_poverty_status;
INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count)
SELECT year, 'county', origin_county_code, credit_category, origin_poverty_status, SUM(amount_fen), COUNT(*) FROM ledger_entries GROUP BY year, origin_county_code, credit_category, origin_poverty_status;
INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count)
SELECT year, 'month', CAST(month AS TEXT), credit_category, origin_poverty_status, SUM(amount_fen), COUNT(*) FROM ledger_entries GROUP BY year, month, credit_category, origin_poverty_status
"#;

const PG_FUNCTION: &str = r#"
CREATE FUNCTION ledger_rollup_add() RETURNS trigger AS $$
BEGIN
    INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count)
    VALUES (NEW.year, 'buyer', NEW.buyer_org_id, NEW.credit_category, NEW.origin_poverty_status, NEW.amount_fen, 1),
           (NEW.year, 'supplier', NEW.supplier_org_id, NEW.credit_category, NEW.origin_poverty_status, NEW.amount_fen, 1),
           (NEW.year, 'county', NEW.origin_county_code, NEW.credit_category, NEW.origin_poverty_status, NEW.amount_fen, 1),
           (NEW.year, 'month', CAST(NEW.month AS TEXT), NEW.credit_category, NEW.origin_poverty_status, NEW.amount_fen, 1)
    ON CONFLICT (year, dim, key, credit_category, origin_poverty_status) DO UPDATE
        SET amount_fen = ledger_rollup.amount_fen + EXCLUDED.amount_fen,
            entry_count = ledger_rollup.entry_count + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"#;
const PG_TRIGGER: &str =
    "CREATE TRIGGER ledger_rollup_add AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_rollup_add()";

fn sqlite_trigger() -> String {
    let one = |dim: &str, key: &str| {
        format!(
            "INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count) \
             VALUES (NEW.year, '{dim}', {key}, NEW.credit_category, NEW.origin_poverty_status, NEW.amount_fen, 1) \
             ON CONFLICT (year, dim, key, credit_category, origin_poverty_status) DO UPDATE \
             SET amount_fen = amount_fen + excluded.amount_fen, entry_count = entry_count + 1;"
        )
    };
    format!(
        "CREATE TRIGGER ledger_rollup_add AFTER INSERT ON ledger_entries BEGIN {} {} {} {} END",
        one("buyer", "NEW.buyer_org_id"),
        one("supplier", "NEW.supplier_org_id"),
        one("county", "NEW.origin_county_code"),
        one("month", "CAST(NEW.month AS TEXT)"),
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await?;
        run_sql(manager, BACKFILL).await?;
        let conn = manager.get_connection();
        if is_postgres(manager) {
            conn.execute_unprepared(PG_FUNCTION).await?;
            conn.execute_unprepared(PG_TRIGGER).await?;
        } else {
            conn.execute_unprepared(&sqlite_trigger()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if is_postgres(manager) {
            conn.execute_unprepared("DROP TRIGGER ledger_rollup_add ON ledger_entries")
                .await?;
            conn.execute_unprepared("DROP FUNCTION ledger_rollup_add()").await?;
        } else {
            conn.execute_unprepared("DROP TRIGGER ledger_rollup_add").await?;
        }
        run_sql(manager, "DROP TABLE ledger_rollup").await
    }
}
