//! What the benchmarks that bulk-load a ledger share (`reports`, `ledger`).
#![allow(dead_code)]

use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::time::Duration;

/// A numeric knob from the environment.
pub fn env_num(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p`-th percentile (0-100) of some durations.
pub fn percentile(v: &[Duration], p: usize) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get((v.len().saturating_sub(1) * p).div_ceil(100))
        .copied()
        .unwrap_or_default()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The machine's load average (1, 5, 15 minutes).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// The report roll-up rebuilt from every entry and the tail marked folded: the state the
/// sequencer leaves once it has positioned and folded them all (for bulk-loaded entries).
pub async fn fold_rollup(db: &DatabaseConnection) {
    let exec = |s: String| async move {
        db.execute_unprepared(&s).await.unwrap_or_else(|e| panic!("{e}: {s}"));
    };
    exec("DELETE FROM ledger_rollup".into()).await;
    for (dim, col) in [
        ("buyer", "buyer_org_id"),
        ("supplier", "supplier_org_id"),
        ("county", "origin_county_code"),
        ("month", "CAST(month AS TEXT)"),
    ] {
        exec(format!(
            "INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count) \
             SELECT year, '{dim}', {col}, credit_category, origin_poverty_status, SUM(amount_fen), COUNT(*) \
             FROM ledger_entries GROUP BY 1, 2, 3, 4, 5"
        ))
        .await;
    }
    exec("UPDATE ledger_tail SET low_ins = (SELECT MAX(ins) FROM ledger_entries) WHERE id = 1".into()).await;
}
