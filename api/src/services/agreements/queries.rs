//! Every statement of the agreements capability. States are bound from their enums.
use crate::domain::{AgreementRunStatus, AgreementStatus};
use crate::error::AppResult;
use crate::services::sql;
use entity::{agreement_runs, agreements, pairings, products};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub(super) async fn runs_of(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<Vec<agreement_runs::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(agreement_runs::Entity::find()
        .filter(agreement_runs::Column::AgreementId.is_in(ids))
        .order_by_asc(agreement_runs::Column::Period)
        .all(conn)
        .await?)
}

pub(super) async fn find(conn: &impl ConnectionTrait, id: String) -> AppResult<Option<agreements::Model>> {
    Ok(agreements::Entity::find_by_id(id).one(conn).await?)
}

pub(super) async fn find_pairing(conn: &impl ConnectionTrait, id: String) -> AppResult<Option<pairings::Model>> {
    Ok(pairings::Entity::find_by_id(id).one(conn).await?)
}

pub(super) async fn find_product(conn: &impl ConnectionTrait, id: String) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id).one(conn).await?)
}

pub(super) async fn insert(conn: &impl ConnectionTrait, m: agreements::Model) -> AppResult<()> {
    agreements::ActiveModel::from(m).insert(conn).await?;
    Ok(())
}

/// Which agreements a page lists.
pub(super) enum Side {
    All,
    Buyers(Vec<String>),
    Supplier(String),
}

pub(super) async fn page(
    conn: &impl ConnectionTrait,
    side: Side,
    status: Option<AgreementStatus>,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<agreements::Model>> {
    let mut q = agreements::Entity::find();
    match side {
        Side::All => {}
        Side::Buyers(ids) => q = q.filter(agreements::Column::BuyerOrgId.is_in(ids)),
        Side::Supplier(id) => q = q.filter(agreements::Column::SupplierOrgId.eq(id)),
    }
    if let Some(s) = status {
        q = q.filter(agreements::Column::Status.eq(s.as_str()));
    }
    if let Some(c) = cursor {
        q = q.filter(agreements::Column::Id.lt(c));
    }
    Ok(q.order_by_desc(agreements::Column::Id).limit(limit).all(conn).await?)
}

/// Moves an agreement to `to` if it is in a state that can become it; returns the rows changed.
pub(super) async fn set_status(
    conn: &impl ConnectionTrait,
    id: &str,
    to: AgreementStatus,
    approved_by: Option<String>,
    t: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let from: Vec<&str> = AgreementStatus::ALL
        .iter()
        .filter(|s| s.can_become(to))
        .map(|s| s.as_str())
        .collect();
    let mut q = agreements::Entity::update_many()
        .col_expr(agreements::Column::Status, Expr::value(to.as_str()))
        .col_expr(agreements::Column::UpdatedAt, Expr::value(t));
    if approved_by.is_some() {
        q = q
            .col_expr(agreements::Column::ApprovedBy, Expr::value(approved_by))
            .col_expr(agreements::Column::ApprovedAt, Expr::value(Some(t)));
    }
    let res = q
        .filter(agreements::Column::Id.eq(id))
        .filter(agreements::Column::Status.is_in(from))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Locks agreement `id` if it is still active (a touch of its row, which a cancellation also
/// updates); false when it is not.
pub(super) async fn lock_active(conn: &impl ConnectionTrait, id: &str) -> AppResult<bool> {
    let res = agreements::Entity::update_many()
        .col_expr(agreements::Column::UpdatedAt, Expr::col(agreements::Column::UpdatedAt))
        .filter(agreements::Column::Id.eq(id))
        .filter(agreements::Column::Status.eq(AgreementStatus::Active.as_str()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub(super) async fn active_started(
    conn: &impl ConnectionTrait,
    today: chrono::NaiveDate,
) -> AppResult<Vec<agreements::Model>> {
    Ok(agreements::Entity::find()
        .filter(agreements::Column::Status.eq(AgreementStatus::Active.as_str()))
        .filter(agreements::Column::StartsOn.lte(today))
        .all(conn)
        .await?)
}

/// Records a period's run unless one is recorded; returns the rows written.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_run(
    conn: &impl ConnectionTrait,
    id: String,
    agreement_id: &str,
    period: &str,
    status: AgreementRunStatus,
    order_id: Option<String>,
    shortfall: Option<String>,
    t: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let res = conn
        .execute_raw(sql(
            conn,
            "INSERT INTO agreement_runs (id, agreement_id, period, status, order_id, shortfall, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agreement_id, period) DO NOTHING",
            vec![
                id.into(),
                agreement_id.into(),
                period.into(),
                status.into(),
                order_id.into(),
                shortfall.into(),
                t.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}
