//! Gauges and counters of the fault-tolerance machinery on `/metrics`: the Redis
//! breaker, the in-process cache's size, cache hits and misses, the outbox by status.
//! Registered into each application's registry by `infra::metrics::registry`.
use prometheus::{IntCounter, IntGauge, IntGaugeVec, Opts, Registry};
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

/// Cache lookups that found (or did not find) a live entry.
pub static CACHE_HITS: LazyLock<Option<IntCounter>> =
    LazyLock::new(|| IntCounter::new("assist_cache_hits_total", "Cache lookups that found an entry").ok());
pub static CACHE_MISSES: LazyLock<Option<IntCounter>> =
    LazyLock::new(|| IntCounter::new("assist_cache_misses_total", "Cache lookups that found nothing").ok());

/// Emails in the outbox by status (`pending`, `sent`, `failed`), refreshed by the worker.
pub static OUTBOX_EMAILS: LazyLock<Option<IntGaugeVec>> = LazyLock::new(|| {
    IntGaugeVec::new(
        Opts::new("assist_outbox_emails", "Emails in the outbox by status"),
        &["status"],
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

pub fn cache_lookup(hit: bool) {
    let c = if hit {
        CACHE_HITS.as_ref()
    } else {
        CACHE_MISSES.as_ref()
    };
    if let Some(c) = c {
        c.inc();
    }
}

pub fn set_outbox(status: &str, n: u64) {
    if let Some(g) = OUTBOX_EMAILS.as_ref() {
        g.with_label_values(&[status]).set(i64::try_from(n).unwrap_or(i64::MAX));
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
    for c in [CACHE_HITS.as_ref(), CACHE_MISSES.as_ref()].into_iter().flatten() {
        let _ = r.register(Box::new(c.clone()));
    }
    if let Some(g) = OUTBOX_EMAILS.as_ref() {
        let _ = r.register(Box::new(g.clone()));
    }
}
