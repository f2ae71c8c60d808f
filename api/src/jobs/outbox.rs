//! Sends queued emails. Claims each row before sending so that several
//! processes never send the same email twice; failures back off and retry
//! until the mail server takes them.
use crate::services::now;
use crate::services::outbox::queries;
use crate::state::AppState;
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

/// One pass over due emails; returns how many were sent.
pub async fn drain_once(state: &AppState) -> Result<usize, sea_orm::DbErr> {
    let db = &state.db;
    let t = now();
    let due = queries::due(db, t, 50).await?;
    let mut sent = 0;
    for mail in due {
        let claim_until = t + chrono::Duration::seconds(60);
        if !queries::claim(db, &mail.id, t, claim_until).await? {
            continue;
        }
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
                let attempts = mail.attempts.saturating_add(1);
                let base = state.settings.outbox_poll_ms.max(10) as i64;
                let backoff_ms = (base.saturating_mul(1i64 << attempts.clamp(0, 20))).min(300_000);
                let next = now() + chrono::Duration::milliseconds(backoff_ms);
                tracing::warn!(to = %mail.to_addr, attempts, error = %err, "email not sent; will retry");
                let error = err.chars().take(500).collect::<String>();
                queries::mark_failed(db, &mail.id, attempts, next, error).await?;
            }
        }
    }
    Ok(sent)
}
