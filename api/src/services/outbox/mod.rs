//! The email outbox: written in the same transaction as the event that causes it,
//! sent later by the outbox worker (`jobs::outbox`) with retries.
mod admin;
pub mod queries;

pub use admin::{list, may_manage, retry, OutboxEmail, OutboxFilter, OutboxPage};

use super::now;
use super::writes::Writes;
use crate::error::AppResult;
use sea_orm::{ConnectionTrait, EntityTrait, QueryTrait};
use std::fmt::Display;

/// Queues one email. Call it with the transaction of the change it reports.
pub async fn enqueue(conn: &impl ConnectionTrait, to: &str, subject: &str, body: &str) -> AppResult<()> {
    queries::insert_many(conn, vec![queries::pending(to, subject, body, now())]).await?;
    Ok(())
}

/// Queues one email to an organisation's contact address (`org_id`: an `OrgId` or its text).
pub async fn enqueue_to_org(
    conn: &impl ConnectionTrait,
    org_id: impl Display,
    subject: &str,
    body: &str,
) -> AppResult<()> {
    let org = super::organizations::find(conn, org_id).await?;
    enqueue(conn, &org.contact_email, subject, body).await
}

/// Queues many emails `(to, subject, body)` with the writes sent before the statement that
/// follows them (the placement's reservation).
pub fn enqueue_many_with(writes: &mut Writes, mails: &[(String, String, String)]) {
    let t = now();
    for chunk in mails.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(to, subject, body)| queries::pending(to, subject, body, t))
            .collect();
        writes.insert(entity::outbox::Entity::insert_many(rows).as_query());
    }
}

/// Queues many emails `(to, subject, body)`, a few statements for any number
/// (the alert scan's batches). Call it with the transaction of the change it reports.
pub async fn enqueue_many(conn: &impl ConnectionTrait, mails: &[(String, String, String)]) -> AppResult<()> {
    let t = now();
    // 500 rows of 11 columns stay well under every backend's bound on parameters.
    for chunk in mails.chunks(500) {
        let rows = chunk
            .iter()
            .map(|(to, subject, body)| queries::pending(to, subject, body, t))
            .collect();
        queries::insert_many(conn, rows).await?;
    }
    Ok(())
}
