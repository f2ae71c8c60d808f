//! Every statement of the variable-weight capability.
use crate::error::AppResult;
use entity::order_line_weights as olw;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

pub(super) async fn by_lines(conn: &impl ConnectionTrait, line_ids: Vec<String>) -> AppResult<Vec<olw::Model>> {
    if line_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(olw::Entity::find()
        .filter(olw::Column::OrderLineId.is_in(line_ids))
        .order_by_asc(olw::Column::OrderLineId)
        .all(conn)
        .await?)
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

pub(super) async fn insert_many(conn: &impl ConnectionTrait, rows: Vec<olw::Model>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ams: Vec<olw::ActiveModel> = rows.into_iter().map(Into::into).collect();
    olw::Entity::insert_many(ams).exec_without_returning(conn).await?;
    Ok(())
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
    insert_many(conn, rows).await
}
