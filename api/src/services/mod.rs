//! Domain logic, one module per capability. No HTTP types here: services take
//! the shared state, the caller and plain data, and return plain data or `AppError`.
pub mod accounts;
pub mod agreements;
pub mod alerts;
pub mod catalog;
pub mod clock;
pub mod compliance;
pub mod credit;
pub mod demo;
pub mod documents;
pub mod flags;
pub mod ledger;
pub mod orders;
pub mod organizations;
pub mod outbox;
pub mod payments;
pub mod plans;
pub mod products;
pub mod regions;
pub mod reports;
pub mod scorecards;
pub mod stock;
pub mod supervision;
pub mod weight;
pub mod writes;

/// The ledger's read side (kept under its old path).
pub use ledger::view as ledger_view;

use crate::error::{AppError, AppResult};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde::Deserialize;
use utoipa::IntoParams;

/// A new time-ordered id (UUID v7): ids sort by creation, which keeps cursors simple.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    // Microsecond precision: what PostgreSQL stores, so values read back compare equal.
    let n = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(n.timestamp_micros()).unwrap_or(n)
}

/// Today in the business calendar ([`clock`]: China time by default).
pub fn today() -> chrono::NaiveDate {
    clock::today()
}

/// A value read back from the database into its domain type (an id, a vocabulary):
/// a stored value that does not parse is a fault of the data, not of the request.
pub fn stored<T: std::str::FromStr>(s: &str) -> AppResult<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>()
        .map_err(|e| AppError::internal(format!("stored value {s:?} does not parse: {e}")))
}

/// Builds a raw statement written with `$1, $2, ...` placeholders for either backend.
pub fn sql(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = conn.get_database_backend();
    let text = if backend == DbBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_string()
    };
    Statement::from_sql_and_values(backend, text, values)
}

/// Holds off, until `txn` ends, every other transaction that holds `key` (a PostgreSQL
/// advisory lock; SQLite's one connection runs one transaction at a time already). For
/// rare writes whose check-then-write no row lock covers (a row that does not exist yet).
pub async fn hold(txn: &impl ConnectionTrait, key: i64) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({key})"))
            .await?;
    }
    Ok(())
}

/// As [`hold`], shared: holders of the shared lock do not wait for each other, only for (and
/// hold off) a holder of the exclusive one.
pub async fn hold_shared(txn: &impl ConnectionTrait, key: i64) -> Result<(), sea_orm::DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock_shared({key})"))
            .await?;
    }
    Ok(())
}

/// Binds each value and gives its placeholders (`$n, $m, ...`), numbered after the values
/// already bound; empty for no items.
pub fn placeholders<V: Into<Value> + Clone>(values: &mut Vec<Value>, items: &[V]) -> String {
    let mut marks = Vec::with_capacity(items.len());
    for v in items {
        values.push(v.clone().into());
        marks.push(format!("${}", values.len()));
    }
    marks.join(", ")
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1 to 200 (default 50).
    #[serde(default, deserialize_with = "page_limit")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    /// Opaque cursor from a previous page's `next_cursor`.
    #[serde(default, deserialize_with = "page_cursor")]
    pub cursor: Option<String>,
}

/// `limit` as read from a query: out of 1..=200 does not parse (a 400 naming it).
fn page_limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let n = u64::deserialize(d)?;
    let p = PageParams {
        limit: Some(n),
        cursor: None,
    };
    p.limit()
        .map(Some)
        .map_err(|_| serde::de::Error::custom("must be between 1 and 200"))
}

/// `cursor` as read from a query: text no page ever issued does not parse (a 400 naming it).
fn page_cursor<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let c = String::deserialize(d)?;
    let p = PageParams {
        limit: None,
        cursor: Some(c),
    };
    p.cursor()
        .map_err(|_| serde::de::Error::custom("is not a cursor this service issued"))
}

impl PageParams {
    pub fn limit(&self) -> AppResult<u64> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=200).contains(&n) => Ok(n),
            Some(_) => Err(AppError::query_param("limit", "must be between 1 and 200")),
        }
    }

    pub fn cursor(&self) -> AppResult<Option<String>> {
        match &self.cursor {
            None => Ok(None),
            Some(c)
                if c.is_empty()
                    || c.len() > 200
                    || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_:.".contains(ch)) =>
            {
                Err(AppError::query_param("cursor", "is not a cursor this service issued"))
            }
            Some(c) => Ok(Some(c.clone())),
        }
    }
}

/// Cuts a page fetched with `limit + 1` rows into items and the next cursor.
pub fn paginate<T, F: Fn(&T) -> String>(mut rows: Vec<T>, limit: u64, key: F) -> (Vec<T>, Option<String>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = if more { rows.last().map(key) } else { None };
    (rows, next)
}

/// A list response: `{ "items": [...], "next_cursor": ... }`. One concrete type per item
/// so that the OpenAPI document has no generic references.
#[macro_export]
macro_rules! page_type {
    ($name:ident, $item:ty) => {
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub next_cursor: Option<String>,
        }
    };
}

/// Loose email check: something@something.tld, no spaces.
/// The longest e-mail address (RFC 5321's path limit less its brackets), in bytes.
pub const MAX_EMAIL_LEN: usize = 254;

pub fn valid_email(s: &str) -> bool {
    let s = s.trim();
    if s.len() > MAX_EMAIL_LEN || s.contains(char::is_whitespace) {
        return false;
    }
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        }
        None => false,
    }
}

/// `text` as a CSV cell that a spreadsheet shows as text. A leading `=`, `+`, `-`, `@`, tab or
/// carriage return would make Excel or LibreOffice read the cell as a formula (OWASP "CSV
/// injection": a note like `=HYPERLINK(...)` written by one organisation, opened by another),
/// so such text gets a leading apostrophe. For text people write (names, notes), never for
/// amounts, which may be negative.
pub fn csv_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A CSV record of `cells` with the cells at `text` (the columns people write) passed
/// through [`csv_text`].
pub fn csv_record<'a>(cells: &'a [String], text: &[usize]) -> Vec<std::borrow::Cow<'a, str>> {
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if text.contains(&i) {
                csv_text(c)
            } else {
                std::borrow::Cow::Borrowed(c.as_str())
            }
        })
        .collect()
}

/// Checks a required text field: trimmed, non-empty, at most `max` characters.
pub fn required_text(errors: &mut Vec<crate::error::FieldError>, field: &str, value: &str, max: usize) {
    let t = value.trim();
    if t.is_empty() {
        errors.push(crate::error::FieldError::new(field, "must not be empty"));
    } else if t.chars().count() > max {
        errors.push(crate::error::FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

#[cfg(test)]
mod csv_tests {
    use super::{csv_record, csv_text};

    #[test]
    fn text_a_spreadsheet_would_read_as_a_formula_is_kept_text() {
        for bad in [
            "=HYPERLINK(\"https://x\")",
            "+1",
            "-1+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(csv_text(bad), format!("'{bad}"), "{bad:?}");
        }
        for good in ["省直机关第一食堂", "organic millet", "1 = 1", "", "'quoted"] {
            assert_eq!(csv_text(good), good);
        }
        let cells = ["-5.00".to_string(), "-bad".to_string()];
        let record: Vec<String> = csv_record(&cells, &[1]).into_iter().map(|c| c.into_owned()).collect();
        assert_eq!(record, ["-5.00", "'-bad"], "only the text columns");
    }
}
