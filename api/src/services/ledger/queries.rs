//! Every statement of the ledger capability.
use crate::error::AppResult;
use crate::services::sql;
use entity::ledger_entries;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

/// Moves the head by `n`: this statement takes the lock that orders the chain.
pub(super) async fn advance_head(conn: &impl ConnectionTrait, n: i64) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        "UPDATE ledger_head SET seq = seq + $1 WHERE id = 1",
        vec![n.into()],
    ))
    .await?;
    Ok(())
}

/// The head's `(seq, hash)`.
pub(super) async fn head(conn: &impl ConnectionTrait) -> AppResult<Option<(i64, String)>> {
    let Some(row) = conn
        .query_one_raw(sql(conn, "SELECT seq, hash FROM ledger_head WHERE id = 1", vec![]))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((row.try_get("", "seq")?, row.try_get("", "hash")?)))
}

pub(super) async fn set_head_hash(conn: &impl ConnectionTrait, hash: &str) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        "UPDATE ledger_head SET hash = $1 WHERE id = 1",
        vec![hash.into()],
    ))
    .await?;
    Ok(())
}

/// Writes entries in one multi-row INSERT (their `seq` is set by the caller).
pub(super) async fn insert_entries(conn: &impl ConnectionTrait, rows: Vec<ledger_entries::Model>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    ledger_entries::Entity::insert_many(rows.into_iter().map(ledger_entries::ActiveModel::from))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Up to `limit` entries from `from_seq` on (to `upto` when given), in `seq` order.
pub(super) async fn batch_from(
    conn: &impl ConnectionTrait,
    from_seq: i64,
    upto: Option<i64>,
    limit: u64,
) -> AppResult<Vec<ledger_entries::Model>> {
    let mut q = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::Seq.gte(from_seq))
        .order_by_asc(ledger_entries::Column::Seq)
        .limit(limit);
    if let Some(u) = upto {
        q = q.filter(ledger_entries::Column::Seq.lte(u));
    }
    Ok(q.all(conn).await?)
}

/// One page of entries after `after_seq` with the view's filters already applied.
pub(super) async fn page(
    conn: &impl ConnectionTrait,
    q: Select<ledger_entries::Entity>,
    after_seq: Option<i64>,
    limit: u64,
) -> AppResult<Vec<ledger_entries::Model>> {
    let mut q = q;
    if let Some(s) = after_seq {
        q = q.filter(ledger_entries::Column::Seq.gt(s));
    }
    Ok(q.order_by_asc(ledger_entries::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?)
}
