//! Every query of the outbox: queueing, and the worker's claim and outcome.
use crate::domain::{OutboxId, OutboxStatus};
use entity::outbox;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

type At = chrono::DateTime<chrono::Utc>;

/// A pending email, due at once.
pub fn pending(to: &str, subject: &str, body: &str, at: At) -> outbox::ActiveModel {
    outbox::ActiveModel {
        id: Set(OutboxId::new().to_string()),
        to_addr: Set(to.to_string()),
        subject: Set(subject.to_string()),
        body: Set(body.to_string()),
        status: Set(OutboxStatus::Pending.as_str().to_string()),
        attempts: Set(0),
        next_attempt_at: Set(at),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(at),
        sent_at: Set(None),
    }
}

/// Inserts the emails in one statement.
pub async fn insert_many(conn: &impl ConnectionTrait, rows: Vec<outbox::ActiveModel>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    outbox::Entity::insert_many(rows).exec(conn).await?;
    Ok(())
}

/// Not claimed, or claimed by a worker whose claim has run out.
fn unclaimed(now: At) -> Condition {
    Condition::any()
        .add(outbox::Column::ClaimedUntil.is_null())
        .add(outbox::Column::ClaimedUntil.lt(now))
}

/// Claims up to `limit` pending emails due at `now` until `until`, earliest due first, in one
/// statement, and returns them. Rows another worker holds are passed over (on PostgreSQL a
/// concurrent claimer skips the rows being claimed instead of waiting for them), so two
/// workers never send the same email at once. The order rides the `(status, next_attempt_at)`
/// index, so a long queue costs a claim no more than a short one.
pub async fn claim_due(
    conn: &impl ConnectionTrait,
    now: At,
    until: At,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let mut due = Query::select();
    due.column(outbox::Column::Id)
        .from(outbox::Entity)
        .and_where(outbox::Column::Status.eq(OutboxStatus::Pending))
        .and_where(outbox::Column::NextAttemptAt.lte(now))
        .cond_where(unclaimed(now))
        .order_by(outbox::Column::NextAttemptAt, Order::Asc)
        .order_by(outbox::Column::Id, Order::Asc)
        .limit(limit);
    if conn.get_database_backend() == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut rows = outbox::Entity::update_many()
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(until))
        .filter(outbox::Column::Id.in_subquery(due))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(unclaimed(now))
        .exec_with_returning(conn)
        .await?;
    rows.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
    Ok(rows)
}

/// Lets go of claims this worker holds (`until`) on emails it did not get to.
pub async fn release(conn: &impl ConnectionTrait, ids: &[String], until: At) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(Option::<At>::None))
        .filter(outbox::Column::Id.is_in(ids.iter().cloned()))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(outbox::Column::ClaimedUntil.eq(until))
        .exec(conn)
        .await?;
    Ok(())
}

/// An email claimed by one pass: its id and the claim's end, which only that pass holds.
pub type Claim<'a> = (&'a str, At);

/// Marks an email sent and lets go of its claim (if still the pass's own).
pub async fn mark_sent(conn: &impl ConnectionTrait, (id, until): Claim<'_>, at: At) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Sent.as_str()))
        .col_expr(outbox::Column::SentAt, Expr::value(at))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(Option::<At>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(outbox::Column::ClaimedUntil.eq(until))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt and when to try again; releases the claim.
pub async fn mark_retry(
    conn: &impl ConnectionTrait,
    (id, until): Claim<'_>,
    attempts: i32,
    next: At,
    error: String,
) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(next))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(Option::<At>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(outbox::Column::ClaimedUntil.eq(until))
        .exec(conn)
        .await?;
    Ok(())
}

/// Gives up on an email: `failed`, with the attempts and the last error; releases the claim.
pub async fn mark_failed(
    conn: &impl ConnectionTrait,
    (id, until): Claim<'_>,
    attempts: i32,
    error: String,
) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Failed.as_str()))
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(Option::<At>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(outbox::Column::ClaimedUntil.eq(until))
        .exec(conn)
        .await?;
    Ok(())
}

/// Emails of one status (or all), newest first, `limit` from after `cursor` (an id).
pub async fn list(
    conn: &impl ConnectionTrait,
    status: Option<OutboxStatus>,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let mut q = outbox::Entity::find();
    if let Some(s) = status {
        q = q.filter(outbox::Column::Status.eq(s));
    }
    if let Some(c) = cursor {
        q = q.filter(outbox::Column::Id.lt(c));
    }
    q.order_by_desc(outbox::Column::Id).limit(limit).all(conn).await
}

pub async fn find(conn: &impl ConnectionTrait, id: &str) -> Result<Option<outbox::Model>, DbErr> {
    outbox::Entity::find_by_id(id.to_string()).one(conn).await
}

/// A `failed` email back to `pending`, due at `now`, attempts from zero: the row as it left it
/// (the worker may take it at once, so it is not read again); `None` when it was not failed.
pub async fn retry(conn: &impl ConnectionTrait, id: &str, now: At) -> Result<Option<outbox::Model>, DbErr> {
    let mut rows = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Pending.as_str()))
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(Option::<At>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Failed))
        .exec_with_returning(conn)
        .await?;
    Ok(rows.pop())
}
