//! An SMTP outage of hours fails no email, and a pass whose claim has run out records
//! nothing over the process that claimed the email since.
use crate::helpers::*;
use assist_market::services::outbox::{enqueue, queries};
use entity::outbox;
use sea_orm::EntityTrait;
use std::time::{Duration, Instant};

async fn only_row(app: &TestApp) -> outbox::Model {
    outbox::Entity::find().all(app.db()).await.unwrap().pop().unwrap()
}

#[tokio::test]
async fn an_outage_fails_no_email_before_it_has_been_retried_for_the_patience_set() {
    // Retried within 20-40 ms, "given up" after 2 attempts once queued for the default 3 days.
    let app = crate::outbox::with_smtp_down(20, 40, 2, 3 * 24 * 3600).await;
    enqueue(app.db(), "later@example.org", "Subject", "Body").await.unwrap();
    // Well past the 2 attempts: still pending, and still being tried.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = only_row(&app).await;
        assert_eq!(r.status, "pending", "{r:?}");
        if r.attempts >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "not retried: {r:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_outcome_is_recorded_only_under_the_claim_that_sent_it() {
    let app = spawn_app_with(|s| s.jobs_enabled = false).await;
    enqueue(app.db(), "x@example.org", "Subject", "Body").await.unwrap();
    let t = assist_market::services::now();
    let mine = t + chrono::Duration::seconds(60);
    let claimed = queries::claim_due(app.db(), t, mine, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].id.clone();
    // A pass whose claim ran out (another process's claim now holds the row) records nothing.
    let stale = t - chrono::Duration::seconds(1);
    queries::mark_failed(app.db(), (id.as_str(), stale), 12, "timed out".into())
        .await
        .unwrap();
    queries::mark_retry(app.db(), (id.as_str(), stale), 3, t, "timed out".into())
        .await
        .unwrap();
    let r = only_row(&app).await;
    assert_eq!(
        (r.status.as_str(), r.attempts, r.claimed_until),
        ("pending", 0, Some(mine)),
        "{r:?}"
    );
    // The pass that holds the claim records its outcome; a late one cannot turn it to failed.
    queries::mark_sent(app.db(), (id.as_str(), mine), t).await.unwrap();
    queries::mark_failed(app.db(), (id.as_str(), mine), 1, "late".into())
        .await
        .unwrap();
    let r = only_row(&app).await;
    assert_eq!((r.status.as_str(), r.attempts), ("sent", 1), "{r:?}");
}
