use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// What the buyer owes on a supplier order in all: the order's amount until it is accepted,
// then what the buyer accepted and kept (returns deducted). Invoices may have been written
// for more (before a return, or before a partial acceptance): what is owed is the smaller
// of the two. Accepted orders are left NULL here and filled in by the service at start
// (`payments::fill_payable`), which prices weighed lines as acceptance does.
const UP: [&str; 2] = [
    "ALTER TABLE supplier_order_terms ADD COLUMN payable_fen BIGINT NULL",
    "UPDATE supplier_order_terms SET payable_fen = (SELECT so.total_fen FROM supplier_orders so \
     WHERE so.id = supplier_order_terms.supplier_order_id AND so.status <> 'accepted')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for s in UP {
            run_sql(manager, s).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, "ALTER TABLE supplier_order_terms DROP COLUMN payable_fen").await
    }
}
