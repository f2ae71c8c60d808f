//! A product whose certificate expired goes back to review: it leaves the catalogue until
//! the supplier records a new certificate and the county office certifies it again (the
//! expiring-documents job calls this; `documents` refuses a certification while a
//! certificate it has seen expire is still on the product).
use super::events::record_event;
use crate::domain::ProductStatus;
use crate::error::AppResult;
use crate::services::now;
use entity::products;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// Moves a stored-`certified` product to `pending_review` (clearing its certification, as an
/// edit of its certificates does) with `reason` in its history. False when it was no longer
/// certified (the conditional UPDATE changed nothing).
pub async fn lapse(conn: &impl ConnectionTrait, product_id: &str, reason: &str) -> AppResult<bool> {
    let t = now();
    let changed = products::Entity::update_many()
        .col_expr(
            products::Column::Status,
            Expr::value(ProductStatus::PendingReview.as_str()),
        )
        .col_expr(products::Column::CertificateNumber, Expr::value(Option::<String>::None))
        .col_expr(products::Column::CertifiedBy, Expr::value(Option::<String>::None))
        .col_expr(
            products::Column::CertifiedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            products::Column::ValidUntil,
            Expr::value(Option::<chrono::NaiveDate>::None),
        )
        .col_expr(products::Column::UpdatedAt, Expr::value(t))
        .col_expr(products::Column::Version, Expr::col(products::Column::Version).add(1))
        .filter(products::Column::Id.eq(product_id))
        .filter(products::Column::Status.eq(ProductStatus::Certified))
        .exec(conn)
        .await?
        .rows_affected;
    if changed != 1 {
        return Ok(false);
    }
    record_event(
        conn,
        product_id,
        Some(ProductStatus::Certified),
        ProductStatus::PendingReview,
        None,
        Some(reason),
    )
    .await?;
    Ok(true)
}
