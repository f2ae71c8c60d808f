//! The statements that read returns and ratings back (beside `queries.rs`, which is full).
use crate::error::AppResult;
use entity::{order_returns, supplier_ratings};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The lines of one return of a supplier order, in the order they were written.
pub(super) async fn return_rows(
    conn: &impl ConnectionTrait,
    so_id: &str,
    return_id: &str,
) -> AppResult<Vec<order_returns::Model>> {
    Ok(order_returns::Entity::find()
        .filter(order_returns::Column::SupplierOrderId.eq(so_id.to_string()))
        .filter(order_returns::Column::ReturnId.eq(return_id.to_string()))
        .order_by_asc(order_returns::Column::Id)
        .all(conn)
        .await?)
}

/// `limit + 1` return ids of a supplier order after the cursor, oldest first.
pub(super) async fn return_ids_page(
    conn: &impl ConnectionTrait,
    so_id: &str,
    after: Option<String>,
    limit: u64,
) -> AppResult<Vec<String>> {
    let mut q = order_returns::Entity::find()
        .select_only()
        .column(order_returns::Column::ReturnId)
        .distinct()
        .filter(order_returns::Column::SupplierOrderId.eq(so_id.to_string()))
        .filter(order_returns::Column::ReturnId.is_not_null());
    if let Some(c) = after {
        q = q.filter(order_returns::Column::ReturnId.gt(c));
    }
    Ok(q.order_by_asc(order_returns::Column::ReturnId)
        .limit(limit + 1)
        .into_tuple::<Option<String>>()
        .all(conn)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// The lines of the given returns of a supplier order.
pub(super) async fn rows_of_returns(
    conn: &impl ConnectionTrait,
    so_id: &str,
    return_ids: Vec<String>,
) -> AppResult<Vec<order_returns::Model>> {
    if return_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order_returns::Entity::find()
        .filter(order_returns::Column::SupplierOrderId.eq(so_id.to_string()))
        .filter(order_returns::Column::ReturnId.is_in(return_ids))
        .order_by_asc(order_returns::Column::Id)
        .all(conn)
        .await?)
}

pub(super) async fn find_rating(
    conn: &impl ConnectionTrait,
    so_id: &str,
) -> AppResult<Option<supplier_ratings::Model>> {
    Ok(supplier_ratings::Entity::find_by_id(so_id.to_string())
        .one(conn)
        .await?)
}

/// `limit + 1` ratings of a supplier after the cursor (a supplier order id), by supplier order;
/// only those of the given buyers when `buyers` is set.
pub(super) async fn ratings_page(
    conn: &impl ConnectionTrait,
    supplier_org_id: &str,
    buyers: Option<Vec<String>>,
    after: Option<String>,
    limit: u64,
) -> AppResult<Vec<supplier_ratings::Model>> {
    let mut q = supplier_ratings::Entity::find()
        .filter(supplier_ratings::Column::SupplierOrgId.eq(supplier_org_id.to_string()));
    if let Some(b) = buyers {
        q = q.filter(supplier_ratings::Column::BuyerOrgId.is_in(b));
    }
    if let Some(c) = after {
        q = q.filter(supplier_ratings::Column::SupplierOrderId.gt(c));
    }
    Ok(q.order_by_asc(supplier_ratings::Column::SupplierOrderId)
        .limit(limit + 1)
        .all(conn)
        .await?)
}
