use crate::run_sql;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// Variable weight (issue 14). A product sold `pieces_by_weight` counts pieces (its unit is
// `piece`) and is priced per kg; it states the nominal weight of one piece (in grams, i.e.
// thousandths of a kg) and a tolerance in percent. Every other product keeps `per_unit`.
//
// `order_line_weights` is the weighed side of an order line: the nominal weight and tolerance
// copied from the product when the order is placed (a later edit of the product does not move
// them), and, once the buyer accepts, the actual weight of the accepted pieces, its amount
// (actual kg x price per kg, half-up to the fen) and whether the buyer accepted a weight
// outside the tolerance.
const UP: &str = "
ALTER TABLE products ADD COLUMN sale_mode TEXT NOT NULL DEFAULT 'per_unit';
ALTER TABLE products ADD COLUMN nominal_weight_milli BIGINT NULL;
ALTER TABLE products ADD COLUMN weight_tolerance_pct INTEGER NULL;
CREATE TABLE order_line_weights (
    order_line_id TEXT PRIMARY KEY REFERENCES order_lines (id),
    supplier_order_id TEXT NOT NULL REFERENCES supplier_orders (id),
    nominal_weight_milli BIGINT NOT NULL,
    weight_tolerance_pct INTEGER NOT NULL,
    actual_weight_milli BIGINT NULL,
    actual_amount_fen BIGINT NULL,
    deviation_accepted BOOLEAN NOT NULL DEFAULT FALSE,
    weighed_at TIMESTAMPTZ NULL
);
CREATE INDEX idx_order_line_weights_supplier_order ON order_line_weights (supplier_order_id)
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run_sql(
            manager,
            "DROP TABLE order_line_weights;
             ALTER TABLE products DROP COLUMN weight_tolerance_pct;
             ALTER TABLE products DROP COLUMN nominal_weight_milli;
             ALTER TABLE products DROP COLUMN sale_mode",
        )
        .await
    }
}
