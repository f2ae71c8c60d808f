//! How long requests wait for a database connection.
//!
//! sqlx keeps no count of the acquires waiting on a busy pool, but it can report how long
//! each acquire took: the pool is built with `acquire_time_level(TRACE)` (see
//! [`crate::infra::db::connect_options`]) and sqlx then emits one `sqlx::pool::acquire`
//! event per acquire carrying `acquired_after_secs`. [`PoolWaitLayer`] (installed by
//! [`crate::telemetry::init`]) turns those events into the histogram
//! `assist_db_pool_acquire_wait_seconds`; acquires that gave up count in
//! `assist_db_pool_acquire_timeouts_total` ([`acquire_timed_out`]). Together with the
//! in-use, idle and max gauges these say whether callers are queueing for connections.
use prometheus::{Histogram, HistogramOpts, IntCounter, Registry};
use std::sync::LazyLock;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// The target of sqlx's acquire events.
pub const ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

static WAIT: LazyLock<Option<Histogram>> = LazyLock::new(|| {
    let opts = HistogramOpts::new(
        "assist_db_pool_acquire_wait_seconds",
        "Time each database query or transaction waited for a pooled connection",
    )
    .buckets(vec![0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0]);
    Histogram::with_opts(opts).ok()
});

static TIMEOUTS: LazyLock<Option<IntCounter>> = LazyLock::new(|| {
    IntCounter::new(
        "assist_db_pool_acquire_timeouts_total",
        "Acquires that found no connection within the acquire timeout",
    )
    .ok()
});

/// Registers both families on `r`.
pub fn register(r: &Registry) {
    if let Some(h) = WAIT.as_ref() {
        let _ = r.register(Box::new(h.clone()));
    }
    if let Some(c) = TIMEOUTS.as_ref() {
        let _ = r.register(Box::new(c.clone()));
    }
}

/// An acquire gave up waiting (the request answers 503).
pub fn acquire_timed_out() {
    if let Some(c) = TIMEOUTS.as_ref() {
        c.inc();
    }
}

/// Records one acquire's wait, in seconds.
pub fn observe_wait(secs: f64) {
    if let (Some(h), true) = (WAIT.as_ref(), secs.is_finite() && secs >= 0.0) {
        h.observe(secs);
    }
}

/// Feeds sqlx's acquire events into the wait histogram.
pub struct PoolWaitLayer;

struct AcquiredAfter(Option<f64>);

impl Visit for AcquiredAfter {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "acquired_after_secs" {
            self.0 = Some(value);
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for PoolWaitLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != ACQUIRE_TARGET {
            return;
        }
        let mut v = AcquiredAfter(None);
        event.record(&mut v);
        if let Some(secs) = v.0 {
            observe_wait(secs);
        }
    }
}
