//! Background jobs: the outbox worker and scheduled ticks. Each scheduled tick
//! takes its lock in the `job_locks` table (never in Redis, which a process may not
//! reach while another does) so that exactly one process runs it, however many run
//! the service.
pub mod outbox;
mod queries;
pub mod sequencer;

use crate::services::now;
use crate::state::AppState;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Logs a job's outcome (its summary, or the error) and keeps only whether it failed.
fn logged<T: std::fmt::Debug>(what: &str, outcome: crate::error::AppResult<T>) -> crate::error::AppResult<()> {
    match outcome {
        Ok(summary) => {
            tracing::info!(?summary, "{what}");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "{what} failed");
            Err(e)
        }
    }
}

/// Starts every job loop of this process.
pub fn spawn_all(state: &AppState) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    if !state.settings.jobs_enabled {
        return handles;
    }
    let s = state.clone();
    handles.push(tokio::spawn(async move { outbox::run(s).await }));
    let s = state.clone();
    handles.push(tokio::spawn(async move { sequencer::run(s).await }));
    handles.push(every(
        state,
        "agreements",
        Duration::from_secs(state.settings.agreement_interval_secs.max(1)),
        |s| async move {
            let runs = crate::services::agreements::run_due(&s).await;
            if let Err(e) = &runs {
                tracing::warn!(error = %e, "standing-order generator failed");
            }
            let sweep = crate::services::orders::sweep_expired_keys(&s).await;
            if let Err(e) = &sweep {
                tracing::warn!(error = %e, "idempotency key sweep failed");
            }
            runs.and(sweep).map(drop)
        },
    ));
    handles.push(every(
        state,
        "alert-scan",
        Duration::from_secs(state.settings.alert_scan_interval_secs.max(1)),
        |s| async move { logged("alert scan", crate::services::alerts::scan(&s).await) },
    ));
    handles.push(every(
        state,
        "payments",
        Duration::from_secs(state.settings.payment_scan_interval_secs.max(1)),
        |s| async move {
            logged(
                "payment reminders and late deliveries",
                crate::services::payments::run_due(&s, crate::services::today()).await,
            )
        },
    ));
    // Expiring documents: checked hourly, each reminder and expiry acted on once.
    handles.push(every(state, "documents", Duration::from_secs(3600), |s| async move {
        logged(
            "document reminders and expiries",
            crate::services::documents::run_due(&s, crate::services::today()).await,
        )
    }));
    handles.push(every(
        state,
        "flags",
        Duration::from_secs(state.settings.flag_scan_interval_secs.max(1)),
        |s| async move { logged("fraud signal scan", crate::services::flags::run(&s, false).await) },
    ));
    // The monthly laggard notices: checked hourly, each sent once per month.
    handles.push(every(
        state,
        "supervision-notices",
        Duration::from_secs(3600),
        |s| async move {
            logged(
                "supervision notices",
                crate::services::supervision::send_monthly(&s).await,
            )
        },
    ));
    handles
}

/// Runs `f` every `interval`, at most once per tick across all processes; each run is
/// counted in `/metrics` (runs, failures, duration by job name).
pub fn every<F, Fut>(state: &AppState, name: &'static str, interval: Duration, f: F) -> JoinHandle<()>
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), crate::error::AppError>> + Send,
{
    let s = state.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            if try_tick_lock(&s, name, interval).await {
                let _ = crate::infra::metrics::job(name, f(s.clone())).await;
            }
        }
    })
}

/// Takes the lock of the current tick of job `name`. True for exactly one caller per tick
/// (of the same interval). The database row is the one authority: a lock taken in Redis by
/// one process is unknown to another that falls back to the database while Redis is away
/// (each process has its own circuit breaker), and both would run the tick.
pub async fn try_tick_lock(state: &AppState, name: &str, interval: Duration) -> bool {
    let secs = interval.as_secs().max(1);
    let tick = chrono::Utc::now().timestamp() as u64 / secs;
    let holder = format!("{tick:020}");
    // The tick numbers of another interval do not compare with these (a longer interval's
    // are smaller), so each interval keeps its own row: a restart with a new interval must
    // not find its ticks "earlier" than the old ones and stop the job for good.
    db_lock(state, &format!("{name}:{secs}"), &holder).await
}

/// A row per job whose `holder` is the last tick taken.
pub async fn db_lock(state: &AppState, name: &str, holder: &str) -> bool {
    match queries::take_lock(&state.db, name, holder, now()).await {
        Ok(took) => took,
        Err(e) => {
            tracing::warn!(error = %e, job = name, "could not take the job lock");
            false
        }
    }
}
