//! Gauges and counters of the fault-tolerance machinery on `/metrics`: the Redis
//! breaker and the in-process cache's size. (Cache hits and misses and the outbox by
//! status are `infra::metrics`' families.)
//! Registered into each application's registry by `infra::metrics::registry`.
use prometheus::{IntGauge, Registry};
use std::sync::LazyLock;

/// 1 while Redis is skipped after a failure (the breaker is open), else 0.
pub static REDIS_BREAKER_OPEN: LazyLock<Option<IntGauge>> = LazyLock::new(|| {
    IntGauge::new(
        "assist_redis_breaker_open",
        "1 while Redis is skipped after a failure (in-process equivalents serve)",
    )
    .ok()
});

/// Entries and bytes held by the in-process cache.
pub static CACHE_ENTRIES: LazyLock<Option<IntGauge>> =
    LazyLock::new(|| IntGauge::new("assist_cache_entries", "Entries held by the in-process cache").ok());
pub static CACHE_BYTES: LazyLock<Option<IntGauge>> = LazyLock::new(|| {
    IntGauge::new(
        "assist_cache_bytes",
        "Bytes (keys and values) held by the in-process cache",
    )
    .ok()
});

pub fn set_breaker_open(open: bool) {
    if let Some(g) = REDIS_BREAKER_OPEN.as_ref() {
        g.set(i64::from(open));
    }
}

pub fn set_cache_size(entries: usize, bytes: usize) {
    if let Some(g) = CACHE_ENTRIES.as_ref() {
        g.set(i64::try_from(entries).unwrap_or(i64::MAX));
    }
    if let Some(g) = CACHE_BYTES.as_ref() {
        g.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}

/// Adds every collector above to `r`.
pub fn register(r: &Registry) {
    for g in [
        REDIS_BREAKER_OPEN.as_ref(),
        CACHE_ENTRIES.as_ref(),
        CACHE_BYTES.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let _ = r.register(Box::new(g.clone()));
    }
}
