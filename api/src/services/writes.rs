//! Writes whose results nobody reads, sent together with the statement that follows them.
//!
//! A placement inserts into five tables and then reserves stock; only the reservation's answer
//! is read. On PostgreSQL each deferred write becomes a data-modifying `WITH` clause in front of
//! that last statement, so the whole lot is one round trip instead of six (the database runs
//! every part of it, and checks the foreign keys at the end of the statement, in the same
//! transaction). On SQLite, which runs in the process, they are executed one after another.
//! PostgreSQL runs `WITH` parts that the statement does not read after the statement itself,
//! all on its snapshot: nothing may rely on them running first. Only these go here: inserts
//! (their foreign-key checks take `KEY SHARE` on the parents, which nothing locks more
//! strongly than `NO KEY UPDATE` while a placement or acceptance runs: organisations and
//! pairings are never deleted, products and lots are locked by an earlier statement of the
//! same transaction), and
//! updates of rows that the transaction owns through a parent row it changed already
//! ([`Writes::update_owned`]).
use sea_orm::sea_query::{InsertStatement, UpdateStatement};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryResult, Statement, Value};

/// Above this many bound values the writes go one by one: PostgreSQL takes at most 65,535
/// parameters in one statement.
const MAX_VALUES: usize = 30_000;

/// Deferred writes, in the order they were added. Dropping one unsent loses its writes: every
/// path ends in [`Writes::run`] or [`Writes::then_query`].
#[must_use = "deferred writes are lost unless run"]
pub struct Writes {
    backend: DbBackend,
    stmts: Vec<Statement>,
}

impl Writes {
    pub fn new(conn: &impl ConnectionTrait) -> Self {
        Self {
            backend: conn.get_database_backend(),
            stmts: Vec::new(),
        }
    }

    /// Adds an insert (of one row or many; an insert of no rows must not be added).
    pub fn insert(&mut self, insert: &InsertStatement) {
        self.stmts.push(self.backend.build(insert));
    }

    /// Adds an UPDATE of rows that nobody else can be changing: rows this transaction has
    /// written already (a placement's idempotency key, claimed by its first statement), or rows
    /// belonging to a parent whose row it has already changed (an acceptance's lines and
    /// shipped lots, under its supplier order's new status). Never an update of rows that other
    /// transactions lock too, such as products or lots: the parts of one statement take
    /// their locks in no set order.
    pub fn update_owned(&mut self, update: Statement) {
        self.stmts.push(update);
    }

    /// [`Writes::update_owned`], from a query built with sea-query.
    pub fn update_owned_query(&mut self, update: &UpdateStatement) {
        self.stmts.push(self.backend.build(update));
    }

    /// Runs the writes.
    pub async fn run(mut self, conn: &impl ConnectionTrait) -> Result<(), DbErr> {
        match self.stmts.len() {
            0 => {}
            1 => {
                if let Some(s) = self.stmts.pop() {
                    conn.execute_raw(s).await?;
                }
            }
            _ => {
                let last = Statement::from_string(self.backend, "SELECT 1");
                self.then_query(conn, last).await?;
            }
        }
        Ok(())
    }

    /// Runs the writes, and then `last`, returning the rows `last` returns.
    pub async fn then_query(self, conn: &impl ConnectionTrait, last: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let values = self.stmts.iter().chain([&last]).map(value_count).sum::<usize>();
        if self.backend != DbBackend::Postgres || self.stmts.is_empty() || values > MAX_VALUES {
            for s in self.stmts {
                conn.execute_raw(s).await?;
            }
            return conn.query_all_raw(last).await;
        }
        conn.query_all_raw(combine(self.stmts, last)).await
    }
}

/// Runs `write` (a statement with a `RETURNING` clause, its placeholders `$1…`) and then reads
/// the rows of `table` whose `id` is one of `ids`; returns how many rows `write` returned and
/// the rows read. On PostgreSQL this is one statement: `write` is a `WITH` clause, which always
/// runs, and the rows are joined to a single row, so its count comes back when none is found.
/// The read sees the database as it stood when the statement began: if `write` waited for
/// another transaction's row, what that transaction changed is not in the rows read. On SQLite
/// the two run one after the other.
pub async fn write_then_read<M: FromQueryResult>(
    conn: &impl ConnectionTrait,
    write: Statement,
    table: &str,
    ids: Vec<String>,
) -> Result<(usize, Vec<M>), DbErr> {
    let backend = conn.get_database_backend();
    if backend != DbBackend::Postgres {
        let written = conn.query_all_raw(write).await?.len();
        if ids.is_empty() {
            return Ok((written, Vec::new()));
        }
        let list = vec!["?"; ids.len()].join(", ");
        let read = Statement::from_sql_and_values(
            backend,
            format!("SELECT * FROM {table} WHERE id IN ({list})"),
            ids.into_iter().map(Value::from),
        );
        let rows = conn.query_all_raw(read).await?;
        let found = rows
            .iter()
            .map(|r| M::from_query_result(r, ""))
            .collect::<Result<_, _>>()?;
        return Ok((written, found));
    }
    let mut values = write.values.map(|v| v.0).unwrap_or_default();
    let list = if ids.is_empty() {
        "NULL".to_string()
    } else {
        super::placeholders(&mut values, &ids)
    };
    let text = format!(
        "WITH w AS ({}) SELECT (SELECT COUNT(*) FROM w) AS written_rows, t.* FROM (SELECT 1) AS one \
         LEFT JOIN {table} t ON t.id IN ({list})",
        write.sql
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, text, values))
        .await?;
    let written = match rows.first() {
        Some(row) => usize::try_from(row.try_get::<i64>("", "written_rows")?).unwrap_or(0),
        None => 0,
    };
    Ok((written, joined_rows(&rows)?))
}

/// The rows of a table LEFT JOINed to one row (a count, a lock): those whose `id` is not
/// NULL, since the one row comes back even when the table has none to join.
pub fn joined_rows<M: FromQueryResult>(rows: &[sea_orm::QueryResult]) -> Result<Vec<M>, DbErr> {
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        if row.try_get::<Option<String>>("", "id")?.is_some() {
            found.push(M::from_query_result(row, "")?);
        }
    }
    Ok(found)
}

fn value_count(s: &Statement) -> usize {
    s.values.as_ref().map(|v| v.0.len()).unwrap_or(0)
}

/// `WITH w0 AS (s0), w1 AS (s1), … last`, every statement's `$n` renumbered after the values of
/// those before it.
fn combine(stmts: Vec<Statement>, last: Statement) -> Statement {
    let mut text = String::from("WITH ");
    let mut values: Vec<Value> = Vec::new();
    for (i, s) in stmts.into_iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("w{i} AS ("));
        text.push_str(&renumber(&s.sql, values.len()));
        text.push(')');
        values.extend(s.values.map(|v| v.0).unwrap_or_default());
    }
    text.push(' ');
    text.push_str(&renumber(&last.sql, values.len()));
    values.extend(last.values.map(|v| v.0).unwrap_or_default());
    Statement::from_sql_and_values(DbBackend::Postgres, text, values)
}

/// Adds `offset` to every `$n` placeholder outside quoted text (`'…'` literals, `"…"`
/// identifiers; a doubled quote inside either stays inside).
fn renumber(sql: &str, offset: usize) -> String {
    // Comments, dollar quoting and escape strings are never generated here; renumbering does
    // not understand them.
    debug_assert!(
        !["--", "/*", "$$", "E'"].iter().any(|t| sql.contains(t)),
        "renumber cannot read {sql}"
    );
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    n.push(d);
                }
                match n.parse::<usize>() {
                    Ok(k) => out.push_str(&format!("${}", k + offset)),
                    Err(_) => {
                        out.push('$');
                        out.push_str(&n);
                    }
                }
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::renumber;
    use proptest::prelude::*;

    #[test]
    fn placeholders_move_and_quoted_text_does_not() {
        assert_eq!(
            renumber(r#"INSERT INTO "a$1" (x, y) VALUES ($1, $12, '$3')"#, 10),
            r#"INSERT INTO "a$1" (x, y) VALUES ($11, $22, '$3')"#
        );
        assert_eq!(renumber("SELECT 'it''s $1', $2", 5), "SELECT 'it''s $1', $7");
        assert_eq!(renumber("SELECT $ + $x", 5), "SELECT $ + $x");
    }

    proptest! {
        /// Renumbering by 0 changes nothing, and by k moves every placeholder outside quotes by k.
        #[test]
        fn renumbering_is_a_shift(parts in prop::collection::vec((0usize..200, "[a-z ,()'\"]{0,8}"), 0..12), k in 0usize..1000) {
            let sql: String = parts.iter().map(|(n, t)| format!("${n}{t}")).collect();
            prop_assert_eq!(renumber(&sql, 0), sql.clone());
            if !sql.contains(['\'', '"']) {
                let want: String = parts.iter().map(|(n, t)| format!("${}{t}", n + k)).collect();
                prop_assert_eq!(renumber(&sql, k), want);
            }
        }
    }
}
