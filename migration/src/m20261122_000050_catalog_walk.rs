use crate::{is_postgres, run_sql};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// The catalogue's page query walks certified products in id order (its cursor order) and
// stops after one page of matches. On SQLite this index carries every filtered column, so
// the walk never leaves the index (no table lookup per product, even for a text search
// that has to look at every product). PostgreSQL cannot index the unbounded search text in
// a B-tree; there the filter columns ride along as INCLUDE columns.
const SQLITE_UP: &str = "CREATE INDEX idx_products_catalog ON products \
    (status, id, valid_until, supplier_org_id, category, origin_county_code, price_fen, search_text)";
const PG_UP: &str = "CREATE INDEX idx_products_catalog ON products (status, id) \
    INCLUDE (valid_until, supplier_org_id, category, origin_county_code, price_fen)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let up = if is_postgres(manager) { PG_UP } else { SQLITE_UP };
        run_sql(manager, up).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "DROP INDEX idx_products_catalog").await
    }
}
