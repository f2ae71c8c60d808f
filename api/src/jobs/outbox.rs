//! Sends queued emails. Claims each row before sending so that several
//! processes never send the same email twice; failures back off and retry
//! until the mail server takes them.
use crate::services::{now, sql};
use crate::state::AppState;
use entity::outbox;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::time::Duration;

pub async fn run(state: AppState) {
    let poll = Duration::from_millis(state.settings.outbox_poll_ms.max(10));
    loop {
        match drain_once(&state).await {
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
    let due = outbox::Entity::find()
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::NextAttemptAt.lte(t))
        .order_by_asc(outbox::Column::CreatedAt)
        .limit(50)
        .all(db)
        .await?;
    let mut sent = 0;
    for mail in due {
        let claim_until = t + chrono::Duration::seconds(60);
        let claimed = db
            .execute_raw(sql(
                db,
                "UPDATE outbox SET claimed_until = $1 WHERE id = $2 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $3)",
                vec![claim_until.into(), mail.id.clone().into(), t.into()],
            ))
            .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        match state
            .mailer
            .send(&mail.to_addr, &mail.subject, &mail.body, &mail.id)
            .await
        {
            Ok(()) => {
                db.execute_raw(sql(
                    db,
                    "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, claimed_until = NULL WHERE id = $2",
                    vec![now().into(), mail.id.clone().into()],
                ))
                .await?;
                sent += 1;
            }
            Err(err) => {
                let attempts = mail.attempts + 1;
                let base = state.settings.outbox_poll_ms.max(10) as i64;
                let backoff_ms = (base.saturating_mul(1i64 << attempts.min(20))).min(300_000);
                let next = now() + chrono::Duration::milliseconds(backoff_ms);
                tracing::warn!(to = %mail.to_addr, attempts, error = %err, "email not sent; will retry");
                db.execute_raw(sql(
                    db,
                    "UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3, claimed_until = NULL WHERE id = $4",
                    vec![attempts.into(), next.into(), err.chars().take(500).collect::<String>().into(), mail.id.clone().into()],
                ))
                .await?;
            }
        }
    }
    Ok(sent)
}
