//! The email outbox: written in the same transaction as the event that causes it,
//! sent later by the outbox worker (`jobs::outbox`) with retries.
use super::{new_id, now};
use crate::error::AppResult;
use entity::outbox;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

/// Queues one email. Call it with the transaction of the change it reports.
pub async fn enqueue(conn: &impl ConnectionTrait, to: &str, subject: &str, body: &str) -> AppResult<()> {
    let t = now();
    outbox::ActiveModel {
        id: Set(new_id()),
        to_addr: Set(to.to_string()),
        subject: Set(subject.to_string()),
        body: Set(body.to_string()),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(t),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(t),
        sent_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Queues one email to an organisation's contact address.
pub async fn enqueue_to_org(conn: &impl ConnectionTrait, org_id: &str, subject: &str, body: &str) -> AppResult<()> {
    let org = super::organizations::find(conn, org_id).await?;
    enqueue(conn, &org.contact_email, subject, body).await
}
