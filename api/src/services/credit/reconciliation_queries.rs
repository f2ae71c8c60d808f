//! The SQL of reconciliation statements. States are bound from their enums, never written in
//! the SQL text.
use crate::domain::{PairingId, ReconciliationId, ReconciliationStatus, UserId};
use crate::error::AppResult;
use entity::{pairings, reconciliations};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

pub async fn reconciliation(
    conn: &impl ConnectionTrait,
    id: ReconciliationId,
) -> AppResult<Option<reconciliations::Model>> {
    Ok(reconciliations::Entity::find_by_id(id.to_string()).one(conn).await?)
}

/// Holds the pairing's row (`FOR NO KEY UPDATE` on PostgreSQL; SQLite runs one transaction at a time)
/// until the transaction ends: a new statement and a confirmation of the pairing's statements
/// take it, so that each sees what the other committed.
pub async fn hold_pairing(conn: &impl ConnectionTrait, pairing: PairingId) -> AppResult<()> {
    // Not FOR UPDATE: orders and agreements naming the pairing (their foreign keys take FOR
    // KEY SHARE) need not wait for a statement.
    pairings::Entity::find_by_id(pairing.to_string())
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .one(conn)
        .await?;
    Ok(())
}

/// The newest locked statement of a pairing's year (of two over the same ledger range, the
/// one made later: ids are time-ordered).
pub async fn last_locked(
    conn: &impl ConnectionTrait,
    pairing: PairingId,
    year: i32,
) -> AppResult<Option<reconciliations::Model>> {
    Ok(reconciliations::Entity::find()
        .filter(reconciliations::Column::PairingId.eq(pairing))
        .filter(reconciliations::Column::Year.eq(year))
        .filter(reconciliations::Column::Status.eq(ReconciliationStatus::Locked))
        .order_by_desc(reconciliations::Column::SeqTo)
        .order_by_desc(reconciliations::Column::Id)
        .one(conn)
        .await?)
}

pub async fn insert_reconciliation(
    conn: &impl ConnectionTrait,
    m: reconciliations::ActiveModel,
) -> AppResult<reconciliations::Model> {
    use sea_orm::ActiveModelTrait;
    Ok(m.insert(conn).await?)
}

/// Moves every statement of the pairing's year older than `newer` that can be
/// superseded to `superseded`.
pub async fn supersede_older(
    conn: &impl ConnectionTrait,
    pairing: PairingId,
    year: i32,
    newer: ReconciliationId,
) -> AppResult<()> {
    let to = ReconciliationStatus::Superseded;
    reconciliations::Entity::update_many()
        .col_expr(reconciliations::Column::Status, Expr::value(to))
        .filter(reconciliations::Column::PairingId.eq(pairing))
        .filter(reconciliations::Column::Year.eq(year))
        .filter(reconciliations::Column::Status.is_in(ReconciliationStatus::sources_of(to)))
        .filter(reconciliations::Column::Id.lt(newer))
        .exec(conn)
        .await?;
    Ok(())
}

/// Whether a statement of the pairing's year newer than `id` exists.
pub async fn newer_exists(
    conn: &impl ConnectionTrait,
    pairing: PairingId,
    year: i32,
    id: ReconciliationId,
) -> AppResult<bool> {
    use sea_orm::PaginatorTrait;
    let n = reconciliations::Entity::find()
        .filter(reconciliations::Column::PairingId.eq(pairing))
        .filter(reconciliations::Column::Year.eq(year))
        .filter(reconciliations::Column::Id.gt(id))
        .count(conn)
        .await?;
    Ok(n > 0)
}

/// Moves one statement to `superseded` if it can be.
pub async fn supersede(conn: &impl ConnectionTrait, id: ReconciliationId) -> AppResult<()> {
    let to = ReconciliationStatus::Superseded;
    reconciliations::Entity::update_many()
        .col_expr(reconciliations::Column::Status, Expr::value(to))
        .filter(reconciliations::Column::Id.eq(id))
        .filter(reconciliations::Column::Status.is_in(ReconciliationStatus::sources_of(to)))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn list_reconciliations(
    conn: &impl ConnectionTrait,
    pairing: PairingId,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<reconciliations::Model>> {
    let mut q = reconciliations::Entity::find().filter(reconciliations::Column::PairingId.eq(pairing));
    if let Some(c) = cursor {
        q = q.filter(reconciliations::Column::Id.lt(c));
    }
    Ok(q.order_by_desc(reconciliations::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?)
}

/// Records one side's confirmation if that side has not confirmed and the statement is still
/// pending, and in the same statement locks it when the other side has confirmed already (a
/// concurrent confirmation of the other side is seen: the row is re-read once its lock is
/// released). Returns whether it was recorded.
pub async fn confirm_side(
    conn: &impl ConnectionTrait,
    id: ReconciliationId,
    helper_side: bool,
    by: UserId,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    use reconciliations::Column as C;
    let (by_col, at_col, other_at) = if helper_side {
        (C::HelperConfirmedBy, C::HelperConfirmedAt, C::CountyConfirmedAt)
    } else {
        (C::CountyConfirmedBy, C::CountyConfirmedAt, C::HelperConfirmedAt)
    };
    let locks = |then: SimpleExpr, otherwise: SimpleExpr| -> SimpleExpr {
        Expr::case(other_at.is_not_null(), then).finally(otherwise).into()
    };
    let res = reconciliations::Entity::update_many()
        .col_expr(by_col, Expr::value(by.to_string()))
        .col_expr(at_col, Expr::value(at))
        .col_expr(
            C::Status,
            locks(Expr::value(ReconciliationStatus::Locked), Expr::col(C::Status)),
        )
        .col_expr(C::LockedAt, locks(Expr::value(at), Expr::col(C::LockedAt)))
        .filter(C::Id.eq(id))
        .filter(at_col.is_null())
        .filter(C::Status.eq(ReconciliationStatus::Pending))
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Locks the statement if both sides have confirmed and it is still pending (one left so by a
/// confirmation recorded before the two writes were one). Returns whether it was locked.
pub async fn lock_if_confirmed(
    conn: &impl ConnectionTrait,
    id: ReconciliationId,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    use reconciliations::Column as C;
    let to = ReconciliationStatus::Locked;
    let res = reconciliations::Entity::update_many()
        .col_expr(C::Status, Expr::value(to))
        .col_expr(C::LockedAt, Expr::value(at))
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in(ReconciliationStatus::sources_of(to)))
        .filter(C::HelperConfirmedAt.is_not_null())
        .filter(C::CountyConfirmedAt.is_not_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}
