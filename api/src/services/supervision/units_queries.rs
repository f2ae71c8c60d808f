//! The units list's one statement: every budget unit of a scope with its plan of the year, its
//! net credit and entries in the ledger, its orders of the year, and the region directly under
//! the scope it lies in (for the sub-region ranking), joined and aggregated in the database so
//! that Rust only maps rows.
use crate::domain::OrgKind;
use crate::error::{AppError, AppResult};
use crate::services::sql;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Value};

/// One budget unit's row, as stored.
pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub region_code: String,
    /// The region directly under the scope holding the unit (None: the unit sits at the
    /// scope's own region, or its region is outside the tree).
    pub top: Option<String>,
    /// The plan's status (None: no plan for the year).
    pub plan_status: Option<String>,
    pub late: bool,
    pub filed: bool,
    pub approved_target_fen: Option<i64>,
    pub credited_fen: i64,
    pub entries: i64,
    pub orders: i64,
}

/// The regions of the scope, each with the region directly under the scope that holds it: under
/// `code` (`code` itself with none), or under each root region without a code.
fn scope_cte(code_mark: Option<usize>) -> String {
    let anchor = match code_mark {
        Some(n) => format!("SELECT code, CAST(NULL AS TEXT) AS top FROM regions WHERE code = ${n}"),
        None => "SELECT code, code AS top FROM regions WHERE parent_code IS NULL".to_string(),
    };
    format!(
        "WITH RECURSIVE scope(code, top) AS ({anchor} \
         UNION SELECT r.code, COALESCE(s.top, r.code) FROM regions r JOIN scope s ON r.parent_code = s.code) "
    )
}

/// The budget units located in `code` or under it (every budget unit without one), of `kind`
/// when given, in the order of their ids.
pub async fn unit_rows(
    conn: &impl ConnectionTrait,
    year: i32,
    code: Option<&str>,
    kind: Option<OrgKind>,
    orders_from: chrono::DateTime<chrono::Utc>,
    orders_to: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<UnitRow>> {
    let mut values: Vec<Value> = vec![year.into(), orders_from.into(), orders_to.into(), true.into()];
    let mut text = scope_cte(code.map(|_| values.len() + 1));
    if let Some(c) = code {
        values.push(c.into());
    }
    // Inside a region the scope is a filter; without one, every budget unit is listed.
    let join = if code.is_some() { "JOIN" } else { "LEFT JOIN" };
    text.push_str(&format!(
        "SELECT o.id, o.name, o.kind, o.region_code, s.top, p.status AS plan_status, \
         CAST(CASE WHEN p.late THEN 1 ELSE 0 END AS BIGINT) AS late, \
         CAST(CASE WHEN p.filed_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_filed, \
         p.approved_target_fen, COALESCE(l.amt, 0) AS amt, COALESCE(l.n, 0) AS n, COALESCE(b.n, 0) AS orders \
         FROM organizations o {join} scope s ON s.code = o.region_code \
         LEFT JOIN plans p ON p.buyer_org_id = o.id AND p.year = $1 \
         LEFT JOIN (SELECT buyer_org_id, SUM(amount_fen) AS amt, COUNT(*) AS n FROM ledger_entries \
           WHERE year = $1 GROUP BY buyer_org_id) l ON l.buyer_org_id = o.id \
         LEFT JOIN (SELECT buyer_org_id, COUNT(*) AS n FROM orders WHERE created_at >= $2 AND created_at < $3 \
           GROUP BY buyer_org_id) b ON b.buyer_org_id = o.id \
         WHERE o.budget_unit = $4"
    ));
    if let Some(k) = kind {
        values.push(k.into());
        text.push_str(&format!(" AND o.kind = ${}", values.len()));
    }
    text.push_str(" ORDER BY o.id");
    let pg = conn.get_database_backend() == DbBackend::Postgres;
    let rows = conn.query_all_raw(sql(conn, &text, values)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(UnitRow {
            id: r.try_get("", "id")?,
            name: r.try_get("", "name")?,
            kind: r.try_get("", "kind")?,
            region_code: r.try_get("", "region_code")?,
            top: r.try_get("", "top")?,
            plan_status: r.try_get("", "plan_status")?,
            late: int(&r, "late")? != 0,
            filed: int(&r, "was_filed")? != 0,
            approved_target_fen: r.try_get("", "approved_target_fen")?,
            credited_fen: fen_sum(&r, "amt", pg)?,
            entries: int(&r, "n")?,
            orders: int(&r, "orders")?,
        });
    }
    Ok(out)
}

/// A BIGINT column.
fn int(r: &QueryResult, col: &str) -> AppResult<i64> {
    Ok(r.try_get::<i64>("", col)?)
}

/// A `SUM` of fen: NUMERIC on PostgreSQL (out of range is a conflict, never a wrap), INTEGER on
/// SQLite.
fn fen_sum(r: &QueryResult, col: &str, pg: bool) -> AppResult<i64> {
    if !pg {
        return Ok(r.try_get::<i64>("", col)?);
    }
    use rust_decimal::prelude::ToPrimitive;
    let d: rust_decimal::Decimal = r.try_get("", col)?;
    d.to_i64()
        .ok_or_else(|| AppError::Conflict("a ledger sum is out of range".into()))
}
