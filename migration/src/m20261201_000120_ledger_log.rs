use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The ledger as a verifiable log (RFC 9162 Merkle tree) without a global lock.
// - The hash-chained entries move to `ledger_chain` (kept, read once by the
//   service to verify the old chain and copy it into the tree, see
//   `services::ledger::legacy`).
// - `ledger_entries` gets an `id` and its leaf hash, and no position: appends
//   touch no shared row. `ins` only orders the sequencer's scan.
// - `ledger_positions` (append-only) gives each committed entry its dense
//   1-based `seq`; `ledger_tree_nodes` the complete subtrees above the
//   leaves; `ledger_checkpoints` each signed tree head.
// - The per-append roll-up trigger goes: the sequencer folds each batch into
//   `ledger_rollup` in the transaction that positions it, and reports add the
//   entries not yet positioned (`ledger_tail.low_ins` bounds that scan).
const COMMON: &str = r#"
CREATE TABLE ledger_positions (
    seq BIGINT PRIMARY KEY,
    entry_id TEXT NOT NULL UNIQUE,
    leaf_hash TEXT NOT NULL
);
CREATE TABLE ledger_tree_nodes (
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE ledger_checkpoints (
    tree_size BIGINT PRIMARY KEY,
    root_hash TEXT NOT NULL,
    note TEXT NOT NULL,
    max_ins BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE ledger_tail (
    id INTEGER PRIMARY KEY,
    low_ins BIGINT NOT NULL
);
INSERT INTO ledger_tail (id, low_ins) VALUES (1, 0);
CREATE TABLE ledger_verifications (
    tree_size BIGINT PRIMARY KEY,
    root_hash TEXT NOT NULL,
    verified_at TIMESTAMPTZ NOT NULL
);
DELETE FROM ledger_rollup;
CREATE INDEX idx_ledger2_buyer ON ledger_entries (buyer_org_id, year);
CREATE INDEX idx_ledger2_supplier ON ledger_entries (supplier_org_id, year);
CREATE INDEX idx_ledger2_county ON ledger_entries (origin_county_code, year);
CREATE INDEX idx_ledger2_year ON ledger_entries (year, month);
CREATE INDEX idx_ledger2_product ON ledger_entries (product_id, occurred_at);
CREATE INDEX idx_ledger2_pairing ON ledger_entries (pairing_id);
CREATE INDEX idx_ledger2_order ON ledger_entries (supplier_order_id);
CREATE INDEX idx_ledger2_credited_pairing ON ledger_entries (year, credited_pairing_id);
CREATE INDEX idx_ledger2_line ON ledger_entries (order_line_id)
"#;

fn entries_table(ins: &str) -> String {
    format!(
        "CREATE TABLE ledger_entries (
    ins {ins},
    id TEXT NOT NULL UNIQUE,
    occurred_at TIMESTAMPTZ NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    buyer_org_id TEXT NOT NULL,
    supplier_org_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    category TEXT NOT NULL,
    supplier_order_id TEXT NOT NULL,
    order_line_id TEXT NOT NULL,
    origin_region_code TEXT NOT NULL,
    origin_county_code TEXT NOT NULL,
    origin_poverty_status TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    kind TEXT NOT NULL,
    credit_category TEXT NOT NULL,
    pairing_id TEXT NULL,
    credited_pairing_id TEXT NULL,
    legacy_seq BIGINT NULL UNIQUE,
    legacy_hash TEXT NULL,
    leaf_version INTEGER NOT NULL,
    leaf_hash TEXT NOT NULL
)"
    )
}

const APPEND_ONLY: [&str; 4] = [
    "ledger_entries",
    "ledger_positions",
    "ledger_tree_nodes",
    "ledger_checkpoints",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let pg = is_postgres(manager);
        if pg {
            conn.execute_unprepared("DROP TRIGGER ledger_rollup_add ON ledger_entries")
                .await?;
            conn.execute_unprepared("DROP FUNCTION ledger_rollup_add()").await?;
            conn.execute_unprepared("ALTER TABLE ledger_entries RENAME TO ledger_chain")
                .await?;
            conn.execute_unprepared(&entries_table("BIGSERIAL PRIMARY KEY")).await?;
        } else {
            conn.execute_unprepared("DROP TRIGGER ledger_rollup_add").await?;
            conn.execute_unprepared("ALTER TABLE ledger_entries RENAME TO ledger_chain")
                .await?;
            conn.execute_unprepared(&entries_table("INTEGER PRIMARY KEY AUTOINCREMENT"))
                .await?;
        }
        run_sql(manager, COMMON).await?;
        for t in APPEND_ONLY {
            if pg {
                conn.execute_unprepared(&format!(
                    "CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()"
                ))
                .await?;
            } else {
                for op in ["UPDATE", "DELETE"] {
                    conn.execute_unprepared(&format!(
                        "CREATE TRIGGER {t}_log_no_{op} BEFORE {op} ON {t} BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Back to the hash chain as it was when the tree was built (entries appended since
    /// are dropped with the tree): for tests of earlier migrations only.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for t in [
            "ledger_entries",
            "ledger_positions",
            "ledger_tree_nodes",
            "ledger_checkpoints",
            "ledger_tail",
            "ledger_verifications",
        ] {
            conn.execute_unprepared(&format!("DROP TABLE {t}")).await?;
        }
        conn.execute_unprepared("ALTER TABLE ledger_chain RENAME TO ledger_entries")
            .await?;
        run_sql(manager, "DELETE FROM ledger_rollup").await?;
        run_sql(manager, crate::m20261122_000031_ledger_rollup::BACKFILL).await?;
        let one = |dim: &str, key: &str, old: &str| {
            format!(
                "INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count) \
                 VALUES (NEW.year, '{dim}', {key}, NEW.credit_category, NEW.origin_poverty_status, NEW.amount_fen, 1) \
                 ON CONFLICT (year, dim, key, credit_category, origin_poverty_status) DO UPDATE \
                 SET amount_fen = {old}amount_fen + excluded.amount_fen, entry_count = {old}entry_count + 1;"
            )
        };
        let body = |old: &str| {
            format!(
                "{} {} {} {}",
                one("buyer", "NEW.buyer_org_id", old),
                one("supplier", "NEW.supplier_org_id", old),
                one("county", "NEW.origin_county_code", old),
                one("month", "CAST(NEW.month AS TEXT)", old)
            )
        };
        if is_postgres(manager) {
            conn.execute_unprepared(&format!(
                "CREATE FUNCTION ledger_rollup_add() RETURNS trigger AS $$ BEGIN {} RETURN NEW; END; $$ LANGUAGE plpgsql",
                body("ledger_rollup.")
            ))
            .await?;
            conn.execute_unprepared(
                "CREATE TRIGGER ledger_rollup_add AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_rollup_add()",
            )
            .await?;
        } else {
            conn.execute_unprepared(&format!(
                "CREATE TRIGGER ledger_rollup_add AFTER INSERT ON ledger_entries BEGIN {} END",
                body("")
            ))
            .await?;
        }
        Ok(())
    }
}
