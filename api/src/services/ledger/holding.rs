//! What a buyer still holds of an order line's credit, and the lock that makes reading it and
//! writing against it one step. Every path that takes credit back from a line (a return, a
//! confirmed fraud signal, a supervisor's correction) locks the line's row first, in id order:
//! on PostgreSQL two of them would otherwise each read the same net and both reverse it. On
//! SQLite the one writer connection serialises them already.
use crate::error::AppResult;
use crate::services::sql;
use entity::order_lines;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

/// Locks the rows of `lines` (`FOR UPDATE`, in id order) until the transaction ends.
pub async fn lock_lines(conn: &impl ConnectionTrait, mut lines: Vec<String>) -> AppResult<()> {
    if conn.get_database_backend() != DbBackend::Postgres || lines.is_empty() {
        return Ok(());
    }
    lines.sort();
    lines.dedup();
    for chunk in lines.chunks(500) {
        let _: Vec<String> = order_lines::Entity::find()
            .select_only()
            .column(order_lines::Column::Id)
            .filter(order_lines::Column::Id.is_in(chunk.to_vec()))
            .order_by_asc(order_lines::Column::Id)
            .lock_exclusive()
            .into_tuple()
            .all(conn)
            .await?;
    }
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct Net {
    amount_fen: Option<i64>,
    quantity_milli: Option<i64>,
}

/// What `buyer` still holds of `line`'s credit: its credits less its reversals, (fen, milli).
pub async fn net_of(conn: &impl ConnectionTrait, buyer: &str, line: &str) -> AppResult<(i64, i64)> {
    let st = sql(
        conn,
        "SELECT CAST(SUM(amount_fen) AS BIGINT) AS amount_fen, CAST(SUM(quantity_milli) AS BIGINT) AS quantity_milli \
         FROM ledger_entries WHERE buyer_org_id = $1 AND order_line_id = $2",
        vec![buyer.into(), line.into()],
    );
    let n = Net::find_by_statement(st).one(conn).await?;
    Ok(n.map_or((0, 0), |n| (n.amount_fen.unwrap_or(0), n.quantity_milli.unwrap_or(0))))
}
