//! Every statement of the variable-weight capability.
use crate::error::AppResult;
use crate::services::writes::Writes;
use entity::order_line_weights as olw;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait};

/// The weights of lines `line_ids`, a thousand ids per query: a year's lines (the OCDS
/// release) may pass the bound values a statement takes (32,766 on SQLite, 65,535 on PostgreSQL).
pub(super) async fn by_lines(conn: &impl ConnectionTrait, line_ids: Vec<String>) -> AppResult<Vec<olw::Model>> {
    let mut out = Vec::new();
    for chunk in line_ids.chunks(1000) {
        out.extend(
            olw::Entity::find()
                .filter(olw::Column::OrderLineId.is_in(chunk.to_vec()))
                .order_by_asc(olw::Column::OrderLineId)
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

pub(super) async fn by_supplier_orders(conn: &impl ConnectionTrait, so_ids: Vec<String>) -> AppResult<Vec<olw::Model>> {
    if so_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(olw::Entity::find()
        .filter(olw::Column::SupplierOrderId.is_in(so_ids))
        .order_by_asc(olw::Column::OrderLineId)
        .all(conn)
        .await?)
}

/// The rows, deferred to the statement that follows (the placement's reservation).
pub(super) fn insert_many(writes: &mut Writes, rows: Vec<olw::Model>) {
    if rows.is_empty() {
        return;
    }
    let ams: Vec<olw::ActiveModel> = rows.into_iter().map(Into::into).collect();
    writes.insert(olw::Entity::insert_many(ams).as_query());
}

/// Replaces the rows of these lines (two statements whatever their number).
pub(super) async fn replace(conn: &impl ConnectionTrait, rows: Vec<olw::Model>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.order_line_id.clone()).collect();
    olw::Entity::delete_many()
        .filter(olw::Column::OrderLineId.is_in(ids))
        .exec(conn)
        .await?;
    let mut writes = Writes::new(conn);
    insert_many(&mut writes, rows);
    writes.run(conn).await?;
    Ok(())
}

/// The actual amounts recorded on the weighed lines of order `order_id`'s supplier orders
/// other than `except` (one query).
pub(super) async fn actual_amounts_of_order(
    conn: &impl ConnectionTrait,
    order_id: &str,
    except: &str,
) -> AppResult<Vec<i64>> {
    let st = crate::services::sql(
        conn,
        "SELECT w.actual_amount_fen AS fen FROM order_line_weights w \
         JOIN supplier_orders s ON s.id = w.supplier_order_id \
         WHERE s.order_id = $1 AND s.id <> $2 AND w.actual_amount_fen IS NOT NULL",
        vec![order_id.into(), except.into()],
    );
    let rows = conn.query_all_raw(st).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<i64>("", "fen"))
        .collect::<Result<_, _>>()?)
}
