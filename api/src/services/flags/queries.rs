//! Shared SQL of the flags: a statement builder, the scan's bookmark, raising flags.
use super::Raised;
use crate::domain::FlagKind;
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

/// Which ledger entries a scan looks at: all, or those positioned in `(after, upto]`, whose
/// insertion numbers lie in `ins` (so that the database reads them by its primary key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Full,
    Positions {
        after: i64,
        upto: i64,
        ins: Option<(i64, i64)>,
    },
}

impl Window {
    /// A condition on the entries aliased `alias` that keeps those of the window.
    pub(super) fn filter(&self, q: &mut Q, alias: &str) -> String {
        match *self {
            Window::Full => "1 = 1".into(),
            Window::Positions { ins: None, .. } => "1 = 0".into(),
            Window::Positions {
                after,
                upto,
                ins: Some((lo, hi)),
            } => format!(
                "{alias}.ins >= {} AND {alias}.ins <= {} AND \
                 {alias}.id IN (SELECT entry_id FROM ledger_positions WHERE seq > {} AND seq <= {})",
                q.bind(lo),
                q.bind(hi),
                q.bind(after),
                q.bind(upto)
            ),
        }
    }
}

/// The business day (China time by default, [`crate::services::clock`]) of a timestamp
/// column as `YYYY-MM-DD` text, in the backend's dialect. The offset is the configured
/// number of seconds, never request input.
pub(super) fn day_of(conn: &impl ConnectionTrait, col: &str) -> String {
    let secs = crate::services::clock::offset_secs();
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            format!("to_char(({col} AT TIME ZONE 'UTC') + INTERVAL '{secs} seconds', 'YYYY-MM-DD')")
        }
        _ => format!("date({col}, '{secs:+} seconds')"),
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

#[derive(Debug, FromQueryResult)]
struct InsRange {
    lo: Option<i64>,
    hi: Option<i64>,
}

/// The window of the positions in `(after, upto]`, with the range of their entries' insertion
/// numbers (each looked up by its id, one index probe per position).
pub(super) async fn positions(conn: &impl ConnectionTrait, after: i64, upto: i64) -> AppResult<Window> {
    let st = sql(
        conn,
        "SELECT MIN(x.ins) AS lo, MAX(x.ins) AS hi FROM ( \
           SELECT (SELECT e.ins FROM ledger_entries e WHERE e.id = lp.entry_id) AS ins \
           FROM ledger_positions lp WHERE lp.seq > $1 AND lp.seq <= $2) x",
        vec![after.into(), upto.into()],
    );
    let r = InsRange::find_by_statement(st).one(conn).await?;
    let ins = r.and_then(|r| Some((r.lo?, r.hi?)));
    Ok(Window::Positions { after, upto, ins })
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

/// The (kind, evidence key) of every flag raised so far: a scan skips them before gathering
/// their evidence.
pub(super) type Known = std::collections::HashSet<(FlagKind, String)>;

#[derive(Debug, FromQueryResult)]
struct KeyRow {
    kind: String,
    evidence_key: String,
}

pub(super) async fn known(conn: &impl ConnectionTrait) -> AppResult<Known> {
    let st = sql(conn, "SELECT kind, evidence_key FROM flags", vec![]);
    Ok(KeyRow::find_by_statement(st)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|r| Some((FlagKind::parse(&r.kind)?, r.evidence_key)))
        .collect())
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
