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

/// Queues many emails `(to, subject, body)` in one statement (the alert scan's batches).
/// Call it with the transaction of the change it reports.
pub async fn enqueue_many(conn: &impl ConnectionTrait, mails: &[(String, String, String)]) -> AppResult<()> {
    let t = now();
    for chunk in mails.chunks(500) {
        let mut text = String::from(
            "INSERT INTO outbox (id, to_addr, subject, body, status, attempts, next_attempt_at, created_at) VALUES ",
        );
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 5 + 1);
        values.push(t.into());
        for (i, (to, subject, body)) in chunk.iter().enumerate() {
            let b = values.len();
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!(
                "(${}, ${}, ${}, ${}, 'pending', 0, $1, $1)",
                b + 1,
                b + 2,
                b + 3,
                b + 4
            ));
            values.push(new_id().into());
            values.push(to.clone().into());
            values.push(subject.clone().into());
            values.push(body.clone().into());
        }
        conn.execute_raw(super::sql(conn, &text, values)).await?;
    }
    Ok(())
}
