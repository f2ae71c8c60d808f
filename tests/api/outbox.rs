//! Issue 12, the outbox under faults: a permanent refusal fails an email at once, a transient
//! one is retried with growing delays up to a bound, and the admin sees and retries failures.
use crate::helpers::*;
use assist_market::services::outbox::enqueue;
use entity::outbox;
use sea_orm::{EntityTrait, Set};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

async fn row(app: &TestApp, id: &str) -> outbox::Model {
    outbox::Entity::find_by_id(id.to_string())
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

/// Queues one email and returns its id.
async fn queue(app: &TestApp, to: &str) -> String {
    enqueue(app.db(), to, "Subject", "Body").await.unwrap();
    let mut rows = outbox::Entity::find().all(app.db()).await.unwrap();
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows.iter().rfind(|r| r.to_addr == to).unwrap().id.clone()
}

/// Waits until the email is in `status`.
async fn wait_status(app: &TestApp, id: &str, status: &str, secs: u64) -> outbox::Model {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = row(app, id).await;
        if r.status == status {
            return r;
        }
        assert!(Instant::now() < deadline, "still {} after {secs} s: {r:?}", r.status);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// An SMTP server that refuses every recipient with `550` (a permanent refusal).
async fn refusing_smtp() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 refusing.test ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("RCPT") {
                        b"550 5.1.1 no such user here\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    port
}

/// Item 8: a malformed address and a 5xx reply both fail an email at once (one attempt);
/// the admin lists it, retries it (back to pending, attempts from zero), and `/metrics` counts it.
#[tokio::test]
async fn a_permanent_failure_marks_the_email_failed_at_once() {
    let port = refusing_smtp().await;
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into())).await;
    let bad = queue(&app, "not an address").await;
    let refused = queue(&app, "nobody@example.org").await;
    for id in [&bad, &refused] {
        let r = wait_status(&app, id, "failed", 10).await;
        assert_eq!(r.attempts, 1, "failed at the first attempt: {r:?}");
        assert!(r.last_error.is_some());
    }
    assert!(row(&app, &refused).await.last_error.unwrap().contains("550"));
    let r = app.get("/readyz", None).await.expect(200);
    assert_eq!(r.json["smtp"], "ok", "a server that refuses answers: {}", r.text);

    let admin = Some(app.admin_token.as_str());
    let list = app.get("/admin/outbox?status=failed", admin).await.expect(200);
    let ids: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![refused.as_str(), bad.as_str()], "newest first");
    assert_eq!(list.json["items"][0]["status"], "failed");
    assert_eq!(list.json["items"][0]["to"], "nobody@example.org");
    // Pages, with a Link to the next one.
    let p1 = app.get("/admin/outbox?status=failed&limit=1", admin).await.expect(200);
    assert!(p1.header("link").unwrap_or_default().contains("rel=\"next\""));
    let cursor = p1.json["next_cursor"].as_str().unwrap().to_string();
    let p2 = app
        .get(&format!("/admin/outbox?status=failed&limit=1&cursor={cursor}"), admin)
        .await
        .expect(200);
    assert_eq!(p2.json["items"][0]["id"], bad.as_str());
    assert!(p2.json["next_cursor"].is_null());
    let r = app.get("/admin/outbox?status=lost", admin).await;
    r.problem(400);

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let m = app.get("/metrics", None).await.expect(200);
        if m.text.contains("assist_outbox_emails{status=\"failed\"} 2") {
            break;
        }
        assert!(Instant::now() < deadline, "{}", m.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Retried: pending, attempts from zero; the worker tries it again (and it fails again).
    let r = app
        .post(&format!("/admin/outbox/{bad}/retry"), admin, json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["attempts"], 0);
    assert_eq!(r.json["status"], "pending");
    let again = wait_status(&app, &bad, "failed", 10).await;
    assert_eq!(again.attempts, 1);
}

/// Item 8: only a failed email can be retried (409 otherwise), an unknown one is 404, and only
/// the admin may list or retry.
#[tokio::test]
async fn retry_is_for_failed_emails_and_for_the_admin_only() {
    let app = spawn_app().await;
    let sent = queue(&app, "someone@example.org").await;
    wait_status(&app, &sent, "sent", 10).await;
    let admin = Some(app.admin_token.as_str());
    let p = app
        .post(&format!("/admin/outbox/{sent}/retry"), admin, json!({}))
        .await
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("sent"), "{p}");
    assert_eq!(row(&app, &sent).await.status, "sent", "nothing changed");
    let unknown = uuid::Uuid::now_v7();
    app.post(&format!("/admin/outbox/{unknown}/retry"), admin, json!({}))
        .await
        .problem(404);

    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    for t in [sup.t(), buyer.t()] {
        app.get("/admin/outbox?status=failed", t).await.problem(403);
        app.get("/admin/outbox?status=nope", t).await.problem(403);
        app.post(&format!("/admin/outbox/{sent}/retry"), t, json!({}))
            .await
            .problem(403);
    }
    app.get("/admin/outbox", None).await.problem(401);
    app.post(&format!("/admin/outbox/{sent}/retry"), None, json!({}))
        .await
        .problem(401);
    let all = app.get("/admin/outbox", admin).await.expect(200);
    assert!(all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == sent.as_str()));
}

/// An instance whose SMTP port has nothing listening, retrying after `base_ms` doubling up
/// to `max_ms`, giving up after `attempts` once queued `give_up_secs`.
pub async fn with_smtp_down(base_ms: u64, max_ms: u64, attempts: u32, give_up_secs: u64) -> TestApp {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{dead}").into());
        s.outbox_backoff_base_ms = base_ms;
        s.outbox_backoff_max_ms = max_ms;
        s.outbox_max_attempts = attempts;
        s.outbox_give_up_after_secs = give_up_secs;
        s.outbox_poll_ms = 10;
    })
    .await
}

/// Item 8: a transient failure (nothing listens on the SMTP port) is retried with growing
/// delays, and given up after `outbox_max_attempts` (with no time to wait as well).
#[tokio::test]
async fn a_transient_failure_is_retried_with_growing_delays_then_given_up() {
    let app = with_smtp_down(200, 10_000, 4, 0).await;
    let id = queue(&app, "later@example.org").await;
    // When each attempt was recorded.
    let mut seen: Vec<(i32, Instant)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = row(&app, &id).await;
        if seen.last().is_none_or(|(n, _)| *n != r.attempts) && r.attempts > 0 {
            seen.push((r.attempts, Instant::now()));
        }
        if r.status == "failed" {
            assert_eq!(r.attempts, 4, "{r:?}");
            break;
        }
        assert_eq!(r.status, "pending");
        assert!(Instant::now() < deadline, "not given up: {r:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let n: Vec<i32> = seen.iter().map(|(n, _)| *n).collect();
    assert_eq!(n, vec![1, 2, 3, 4]);
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].1 - w[0].1).collect();
    // Delays of 100-200, 200-400 and 400-800 ms (equal jitter), seen through polling on a
    // possibly loaded machine: the sum is at least 700 ms, and the last delay is the longest.
    let total: Duration = gaps.iter().sum();
    assert!(total >= Duration::from_millis(650), "{gaps:?}");
    assert!(gaps[2] + Duration::from_millis(100) > gaps[0], "delays grow: {gaps:?}");
    assert!(gaps[2] + Duration::from_millis(100) > gaps[1], "delays grow: {gaps:?}");
    // The mail server is reported, without failing readiness.
    let r = app.get("/readyz", None).await.expect(200);
    assert_eq!(r.json["smtp"], "degraded", "{}", r.text);
}

/// Workers claim in batches: six passes racing each other (beside the instance's own worker)
/// over 120 queued emails send every one exactly once, and a row still claimed by another
/// worker is passed over until its claim runs out.
#[tokio::test]
async fn racing_workers_send_each_email_exactly_once() {
    let app = spawn_app().await;
    let to = format!("race-{}@org.test", uuid::Uuid::new_v4().simple());
    // Another worker's live claim (its pass outlasts this test unless the claim is lifted),
    // written with the row so that the instance's worker never sees it unclaimed. Its address
    // does not contain `to`, so that its message is not counted with theirs.
    let now = chrono::Utc::now();
    let held = uuid::Uuid::now_v7().to_string();
    outbox::Entity::insert(outbox::ActiveModel {
        id: Set(held.clone()),
        to_addr: Set(format!("held-{}@org.test", uuid::Uuid::new_v4().simple())),
        subject: Set("Held".into()),
        body: Set("Body".into()),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(Some(now + chrono::Duration::hours(1))),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    })
    .exec_without_returning(app.db())
    .await
    .unwrap();
    for i in 0..120 {
        enqueue(app.db(), &to, &format!("Mail {i}"), "Body").await.unwrap();
    }
    let passes = (0..6).map(|_| {
        let state = app.state.clone();
        tokio::spawn(async move {
            let mut n = 0;
            loop {
                match assist_market::jobs::outbox::drain_once(&state).await.unwrap() {
                    0 => return n,
                    k => n += k,
                }
            }
        })
    });
    for p in passes {
        p.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows: Vec<_> = outbox::Entity::find().all(app.db()).await.unwrap();
        let mine: Vec<_> = rows.iter().filter(|r| r.to_addr == to).collect();
        if mine.iter().all(|r| r.status == "sent") {
            assert_eq!(mine.len(), 120);
            assert!(mine.iter().all(|r| r.attempts == 1), "an email was sent twice");
            break;
        }
        assert!(Instant::now() < deadline, "not all sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = app.wait_for_emails(&to, 120, 30).await;
    assert_eq!(got.len(), 120, "one message per email, no repeats");
    assert_eq!(row(&app, &held).await.status, "pending", "a held claim is respected");
    // The claim runs out: the email is sent once.
    let mut expired: outbox::ActiveModel = row(&app, &held).await.into();
    expired.claimed_until = sea_orm::Set(Some(chrono::Utc::now() - chrono::Duration::seconds(1)));
    sea_orm::ActiveModelTrait::update(expired, app.db()).await.unwrap();
    let r = wait_status(&app, &held, "sent", 20).await;
    assert_eq!(r.attempts, 1);
}
