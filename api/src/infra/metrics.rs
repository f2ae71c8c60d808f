//! Database statements per request. The database's metric callback counts each
//! statement in a counter local to the request's task; when the response is ready
//! the count is added to `assist_db_statements_total{endpoint, method}` on
//! `/metrics`. It shows a query that grows with the size of a request (N+1).
use prometheus::{IntCounterVec, Opts, Registry};
use std::cell::Cell;
use std::future::Future;
use std::sync::LazyLock;

tokio::task_local! {
    static STATEMENTS: Cell<u64>;
}

/// Statements run by requests, by route pattern and method.
pub static DB_STATEMENTS: LazyLock<Option<IntCounterVec>> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new("assist_db_statements_total", "Database statements run by requests"),
        &["endpoint", "method"],
    )
    .ok()
});

/// Called by the database for every statement.
pub fn count_statement() {
    let _ = STATEMENTS.try_with(|c| c.set(c.get() + 1));
}

/// Runs `f`, counting the statements it runs in this task.
pub async fn counting<F: Future>(f: F) -> (F::Output, u64) {
    STATEMENTS
        .scope(Cell::new(0), async {
            let out = f.await;
            let n = STATEMENTS.try_with(|c| c.get()).unwrap_or(0);
            (out, n)
        })
        .await
}

/// Adds a request's statements to the counter.
pub fn record(endpoint: &str, method: &str, n: u64) {
    if let Some(c) = DB_STATEMENTS.as_ref() {
        c.with_label_values(&[endpoint, method]).inc_by(n);
    }
}

/// A registry for one application's `/metrics` with the statement counter in it.
pub fn registry() -> Registry {
    let r = Registry::new();
    if let Some(c) = DB_STATEMENTS.as_ref() {
        let _ = r.register(Box::new(c.clone()));
    }
    crate::infra::gauges::register(&r);
    r
}
