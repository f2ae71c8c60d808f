//! Sends queued emails. Claims each row before sending so that several processes never
//! send the same email at once. A transient failure (connection refused, timeout, a 4xx
//! reply) is retried with exponential backoff and jitter, up to `outbox_max_attempts`; a
//! permanent one (a 5xx reply, a malformed address) marks the email `failed` at once. Every
//! attempt carries the same `Message-ID`, so a repeat after a lost acknowledgement (at least
//! once delivery) can be recognised by the receiver.
use crate::domain::OutboxStatus;
use crate::services::now;
use crate::services::outbox::queries;
use crate::state::AppState;
use rand::Rng;
use std::time::{Duration, Instant};

/// How often the per-status counts on `/metrics` are refreshed.
const GAUGE_EVERY: Duration = Duration::from_secs(1);

pub async fn run(state: AppState) {
    let poll = Duration::from_millis(state.settings.outbox_poll_ms.max(10));
    let mut counted: Option<Instant> = None;
    loop {
        let outcome = drain_once(&state).await;
        if counted.is_none_or(|t| t.elapsed() >= GAUGE_EVERY) {
            refresh_gauges(&state).await;
            counted = Some(Instant::now());
        }
        match outcome {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox pass failed"),
        }
        tokio::time::sleep(poll).await;
    }
}

/// Sets `assist_outbox_emails{status}` from the table.
pub async fn refresh_gauges(state: &AppState) {
    if let Ok(rows) = queries::count_by_status(&state.db).await {
        for s in OutboxStatus::ALL {
            let n = rows.iter().find(|(st, _)| st == s.as_str()).map_or(0, |(_, n)| *n);
            crate::infra::gauges::set_outbox(s.as_str(), u64::try_from(n).unwrap_or(0));
        }
    }
}

/// The delay before attempt `attempts + 1`: `base * 2^(attempts-1)` capped at `max`, then a
/// random half to all of it ("equal jitter"), so that many emails failing together do not
/// come back together.
pub fn backoff(attempts: i32, base_ms: u64, max_ms: u64) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = base_ms.saturating_mul(1u64 << exp).min(max_ms.max(base_ms));
    let half = full / 2;
    let jitter = if half > 0 {
        rand::thread_rng().gen_range(0..=half)
    } else {
        0
    };
    Duration::from_millis(full - half + jitter)
}

/// One pass over due emails; returns how many were sent.
pub async fn drain_once(state: &AppState) -> Result<usize, sea_orm::DbErr> {
    let db = &state.db;
    let s = &state.settings;
    let t = now();
    let due = queries::due(db, t, 50).await?;
    let mut sent = 0;
    for mail in due {
        let claim_until = t + chrono::Duration::seconds(60);
        if !queries::claim(db, &mail.id, t, claim_until).await? {
            continue;
        }
        let attempts = mail.attempts.saturating_add(1);
        match state
            .mailer
            .send(&mail.to_addr, &mail.subject, &mail.body, &mail.id)
            .await
        {
            Ok(()) => {
                queries::mark_sent(db, &mail.id, now()).await?;
                sent += 1;
            }
            Err(err) => {
                let error = err.message.chars().take(500).collect::<String>();
                let max = i32::try_from(s.outbox_max_attempts).unwrap_or(i32::MAX);
                if err.permanent || attempts >= max {
                    tracing::warn!(to = %mail.to_addr, attempts, permanent = err.permanent, error = %err,
                        "email not sent; giving up (failed)");
                    queries::mark_failed(db, &mail.id, attempts, error).await?;
                } else {
                    let delay = backoff(attempts, s.outbox_backoff_base_ms, s.outbox_backoff_max_ms);
                    let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                    let next = now() + chrono::Duration::milliseconds(ms);
                    tracing::warn!(to = %mail.to_addr, attempts, retry_in_ms = ms, error = %err,
                        "email not sent; will retry");
                    queries::mark_retry(db, &mail.id, attempts, next, error).await?;
                }
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
        for _ in 0..200 {
            let d1 = backoff(1, 1000, 60_000);
            assert!(
                d1 >= Duration::from_millis(500) && d1 <= Duration::from_millis(1000),
                "{d1:?}"
            );
            let d3 = backoff(3, 1000, 60_000);
            assert!(
                d3 >= Duration::from_millis(2000) && d3 <= Duration::from_millis(4000),
                "{d3:?}"
            );
            let d30 = backoff(30, 1000, 60_000);
            assert!(d30 >= Duration::from_millis(30_000) && d30 <= Duration::from_millis(60_000));
            assert!(backoff(i32::MAX, u64::MAX, u64::MAX) <= Duration::from_millis(u64::MAX));
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| backoff(4, 1000, 60_000)).collect();
        assert!(spread.len() > 10, "jitter spreads the retries");
    }
}
