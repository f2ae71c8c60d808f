//! Sends queued emails. Claims a batch of rows in one statement before sending, so that
//! several processes never send the same email at once. A transient failure (connection
//! refused, timeout, a 4xx reply) is retried with exponential backoff and jitter until it
//! has failed `outbox_max_attempts` times and been queued `outbox_give_up_after_secs`; a
//! permanent one (a 5xx reply, a malformed address) marks the email `failed` at once. Each
//! outcome is recorded only while the claim is still this pass's own: a send that outlived
//! its claim (which another process may have taken since) changes nothing. Every attempt carries the same `Message-ID`, so a repeat after a lost
//! acknowledgement (at least once delivery) can be recognised by the receiver.
use crate::services::now;
use crate::services::outbox::queries;
use crate::state::AppState;
use rand::Rng;
use std::time::Duration;

pub async fn run(state: AppState) {
    let poll = Duration::from_millis(state.settings.outbox_poll_ms.max(10));
    loop {
        match crate::infra::metrics::job("outbox", drain_once(&state)).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox pass failed"),
        }
        tokio::time::sleep(poll).await;
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

/// Emails claimed in one statement per pass.
const BATCH: u64 = 50;
/// A claim lasts this long. A pass starts no send after a third of it, leaving two thirds
/// for the send in progress (lettre's timeouts are per SMTP step), and lets go of the rest,
/// so no claim runs out while its email is being sent.
const CLAIM_SECS: i64 = 60;
/// A send is cut off this long before its claim runs out, leaving time to record it.
const CLAIM_MARGIN_SECS: i64 = 5;

/// One pass over due emails: claims a batch in one statement, sends each email and records
/// its outcome at once (so a crash or a shutdown repeats at most the one email in flight,
/// with its `Message-ID`); returns how many were sent.
pub async fn drain_once(state: &AppState) -> Result<usize, sea_orm::DbErr> {
    let db = &state.db;
    let t = now();
    let claim_until = t + chrono::Duration::seconds(CLAIM_SECS);
    let batch = queries::claim_due(db, t, claim_until, BATCH).await?;
    let started = std::time::Instant::now();
    let last_start = Duration::from_secs(CLAIM_SECS.unsigned_abs() / 3);
    let mut sent = 0;
    let mut unsent = Vec::new();
    for mail in batch {
        if started.elapsed() >= last_start {
            unsent.push(mail.id);
        } else if send_one(state, mail, claim_until).await? {
            sent += 1;
        }
    }
    queries::release(db, &unsent, claim_until).await?;
    Ok(sent)
}

/// Sends one claimed email and records the outcome: sent, retried later with backoff, or
/// failed. True when sent.
async fn send_one(
    state: &AppState,
    mail: entity::outbox::Model,
    claim_until: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let db = &state.db;
    let s = &state.settings;
    let attempts = mail.attempts.saturating_add(1);
    // The send must end well inside the claim: lettre's timeouts are per SMTP step, and a
    // slow server could otherwise keep one send going past it.
    let left = (claim_until - now() - chrono::Duration::seconds(CLAIM_MARGIN_SECS))
        .to_std()
        .unwrap_or_default();
    if left.is_zero() {
        // No time left to send in (a slow pass, a clock jump): not an attempt; the claim runs out.
        return Ok(false);
    }
    let sent = match tokio::time::timeout(
        left,
        state.mailer.send(&mail.to_addr, &mail.subject, &mail.body, &mail.id),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(crate::infra::mailer::SendError {
            permanent: false,
            message: "the SMTP server did not finish within the claim".into(),
        }),
    };
    let claim = (mail.id.as_str(), claim_until);
    match sent {
        Ok(()) => {
            queries::mark_sent(db, claim, now()).await?;
            Ok(true)
        }
        Err(err) => {
            let error = err.message.chars().take(500).collect::<String>();
            let max = i32::try_from(s.outbox_max_attempts).unwrap_or(i32::MAX);
            let queued_for = (now() - mail.created_at).num_seconds();
            let patience = i64::try_from(s.outbox_give_up_after_secs).unwrap_or(i64::MAX);
            if err.permanent || (attempts >= max && queued_for >= patience) {
                tracing::warn!(to = %mail.to_addr, attempts, permanent = err.permanent, error = %err,
                    "email not sent; giving up (failed)");
                queries::mark_failed(db, claim, attempts, error).await?;
            } else {
                let delay = backoff(attempts, s.outbox_backoff_base_ms, s.outbox_backoff_max_ms);
                let ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                let next = now() + chrono::Duration::milliseconds(ms);
                tracing::warn!(to = %mail.to_addr, attempts, retry_in_ms = ms, error = %err,
                    "email not sent; will retry");
                queries::mark_retry(db, claim, attempts, next, error).await?;
            }
            Ok(false)
        }
    }
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
