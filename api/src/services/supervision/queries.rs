//! Every SQL statement of the supervision capability. Kinds and states are bound, never
//! written in the SQL text.
use crate::error::AppResult;
use crate::services::sql;
use sea_orm::{ConnectionTrait, Value};

/// The code of `code` and of every region under it (parent chain), `code` first.
pub async fn regions_under(conn: &impl ConnectionTrait, code: &str) -> AppResult<Vec<String>> {
    let text = "WITH RECURSIVE sub(code) AS (SELECT code FROM regions WHERE code = $1 \
         UNION ALL SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code) \
         SELECT code FROM sub";
    let rows = conn.query_all_raw(sql(conn, text, vec![code.into()])).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(r.try_get::<String>("", "code")?);
    }
    Ok(out)
}

/// Whether `inner` is `outer` or lies under it.
pub async fn region_within(conn: &impl ConnectionTrait, inner: &str, outer: &str) -> AppResult<bool> {
    let text = "WITH RECURSIVE up(code, parent_code) AS (SELECT code, parent_code FROM regions WHERE code = $1 \
         UNION ALL SELECT r.code, r.parent_code FROM regions r JOIN up ON r.code = up.parent_code) \
         SELECT COUNT(*) AS n FROM up WHERE code = $2";
    let row = conn
        .query_one_raw(sql(conn, text, vec![inner.into(), outer.into()]))
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "n")? > 0,
        None => false,
    })
}

/// Ids of the organisations located in the region `code` or under it; with `budget_units`,
/// only budget units.
pub async fn orgs_under(conn: &impl ConnectionTrait, code: &str, budget_units: bool) -> AppResult<Vec<String>> {
    let mut text = "WITH RECURSIVE sub(code) AS (SELECT code FROM regions WHERE code = $1 \
         UNION ALL SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code) \
         SELECT o.id FROM organizations o JOIN sub ON o.region_code = sub.code"
        .to_string();
    let mut values: Vec<Value> = vec![code.into()];
    if budget_units {
        text.push_str(" WHERE o.budget_unit = $2");
        values.push(true.into());
    }
    text.push_str(" ORDER BY o.id");
    let rows = conn.query_all_raw(sql(conn, &text, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(r.try_get::<String>("", "id")?);
    }
    Ok(out)
}
