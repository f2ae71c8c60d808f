//! Shared SQL of the flags: a statement builder, the scan's bookmark, raising flags.
use super::Raised;
use crate::error::AppResult;
use crate::services::{new_id, now, sql};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

/// A raw statement built piece by piece: `bind` returns the next `$n`.
#[derive(Debug, Default)]
pub(super) struct Q {
    pub values: Vec<Value>,
}

impl Q {
    pub fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }

    pub fn build(self, conn: &impl ConnectionTrait, text: &str) -> Statement {
        sql(conn, text, self.values)
    }
}

/// Which ledger entries a scan looks at: all, or those positioned in `(after, upto]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Full,
    Positions { after: i64, upto: i64 },
}

impl Window {
    /// A condition on the entries aliased `alias` that keeps those of the window.
    pub(super) fn filter(&self, q: &mut Q, alias: &str) -> String {
        match *self {
            Window::Full => "1 = 1".into(),
            Window::Positions { after, upto } => format!(
                "{alias}.id IN (SELECT entry_id FROM ledger_positions WHERE seq > {} AND seq <= {})",
                q.bind(after),
                q.bind(upto)
            ),
        }
    }
}

/// The calendar day (UTC) of a timestamp column as `YYYY-MM-DD` text, in the backend's dialect.
pub(super) fn day_of(conn: &impl ConnectionTrait, col: &str) -> String {
    match conn.get_database_backend() {
        DbBackend::Postgres => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        _ => format!("substr({col}, 1, 10)"),
    }
}

#[derive(Debug, FromQueryResult)]
pub(super) struct Bookmark {
    pub last_seq: i64,
    pub last_at: Option<chrono::DateTime<chrono::Utc>>,
}

pub(super) async fn bookmark(conn: &impl ConnectionTrait) -> AppResult<Bookmark> {
    let st = sql(conn, "SELECT last_seq, last_at FROM flag_scan WHERE id = 1", vec![]);
    Ok(Bookmark::find_by_statement(st).one(conn).await?.unwrap_or(Bookmark {
        last_seq: 0,
        last_at: None,
    }))
}

pub(super) async fn save_bookmark(
    conn: &impl ConnectionTrait,
    seq: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let st = sql(
        conn,
        "UPDATE flag_scan SET last_seq = $1, last_at = $2 WHERE id = 1 AND last_seq <= $1",
        vec![seq.into(), at.into()],
    );
    conn.execute_raw(st).await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct Top {
    top: Option<i64>,
}

/// The highest ledger position so far (0 for an empty log).
pub(super) async fn top_position(conn: &impl ConnectionTrait) -> AppResult<i64> {
    let st = sql(conn, "SELECT MAX(seq) AS top FROM ledger_positions", vec![]);
    Ok(Top::find_by_statement(st)
        .one(conn)
        .await?
        .and_then(|t| t.top)
        .unwrap_or(0))
}

/// Inserts the flags not raised before (one per kind and evidence key); returns how many are new.
pub(super) async fn raise(conn: &impl ConnectionTrait, found: &[Raised]) -> AppResult<u64> {
    let mut raised = 0;
    let at = now();
    for chunk in found.chunks(200) {
        let mut q = Q::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|r| {
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {})",
                    q.bind(new_id()),
                    q.bind(r.kind),
                    q.bind(r.key.clone()),
                    q.bind(r.evidence.to_string()),
                    q.bind(r.buyer.clone()),
                    q.bind(r.supplier.clone()),
                    q.bind(r.year),
                    q.bind(crate::domain::FlagState::Open),
                    q.bind(at),
                )
            })
            .collect();
        let text = format!(
            "INSERT INTO flags (id, kind, evidence_key, evidence, buyer_org_id, supplier_org_id, year, state, raised_at) \
             VALUES {} ON CONFLICT (kind, evidence_key) DO NOTHING",
            rows.join(", ")
        );
        raised += conn.execute_raw(q.build(conn, &text)).await?.rows_affected();
    }
    Ok(raised)
}

#[derive(Debug, FromQueryResult)]
pub(super) struct IdRow {
    pub id: String,
}

/// Ids from a one-column query, in order.
pub(super) async fn ids(conn: &impl ConnectionTrait, st: Statement) -> AppResult<Vec<String>> {
    Ok(IdRow::find_by_statement(st)
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}
