//! `/metrics`: every family is there (requests, statements, pool, outbox, jobs, cache), and
//! route labels come from matched route patterns only, so their set stays bounded.
use crate::helpers::*;
use std::collections::BTreeSet;

async fn scrape(app: &TestApp) -> String {
    let r = app.get("/metrics", None).await.expect(200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    r.text
}

/// The values of label `label` on the samples of `family`.
fn labels(text: &str, family: &str, label: &str) -> BTreeSet<String> {
    let key = format!("{label}=\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter_map(|l| {
            let i = l.find(&key)? + key.len();
            Some(l[i..i + l[i..].find('"')?].to_string())
        })
        .collect()
}

#[tokio::test]
async fn every_family_is_exposed() {
    let app = spawn_app().await;
    // A miss then a hit of the catalogue cache; an email in the outbox.
    app.get("/catalog", None).await.expect(200);
    app.get("/catalog", None).await.expect(200);
    app.create_org("canteen", CHANGAN).await;
    // The outbox worker and the scheduled jobs tick once at start.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = scrape(&app).await;
    for family in [
        "assist_http_requests_total{",
        "assist_http_request_duration_seconds_bucket{",
        "assist_db_statements_total{",
        "assist_db_pool_connections{state=\"in_use\"}",
        "assist_db_pool_connections{state=\"idle\"}",
        "assist_db_pool_max_connections ",
        "assist_db_pool_acquire_wait_seconds_bucket{",
        "assist_db_pool_acquire_timeouts_total ",
        "assist_outbox_emails{status=\"pending\"}",
        "assist_outbox_emails{status=\"sent\"}",
        "assist_outbox_oldest_pending_age_seconds ",
        "assist_job_runs_total{job=\"outbox\"}",
        "assist_job_runs_total{job=\"alert-scan\"}",
        "assist_job_runs_total{job=\"agreements\"}",
        "assist_job_failures_total{job=\"outbox\"}",
        "assist_job_duration_seconds_bucket{job=\"outbox\"",
        "assist_cache_misses_total{cache=\"catalog\"}",
        "assist_cache_hits_total{cache=\"catalog\"}",
    ] {
        assert!(text.contains(family), "{family} missing from\n{text}");
    }
    assert!(labels(&text, "assist_http_requests_total", "route").contains("/api/v1/catalog"));
    // Every query above waited for a pooled connection, and each wait was observed.
    let waits = sample(&text, "assist_db_pool_acquire_wait_seconds_count");
    assert!(waits >= 3.0, "acquire waits observed: {waits}\n{text}");
}

/// The value of the unlabelled sample `name`.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn unknown_paths_and_methods_share_one_other_label() {
    let app = spawn_app().await;
    app.get("/catalog", None).await.expect(200);
    let before = labels(&scrape(&app).await, "assist_http_requests_total", "route");
    // An unknown path, and an unknown method on a known path.
    let r = app.get("/no-such-thing-4711", None).await;
    assert_eq!(r.status, 404);
    let foo = reqwest::Method::from_bytes(b"FOO").unwrap();
    let r = app.send(app.client.request(foo, app.url("/catalog"))).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let text = scrape(&app).await;
    let routes = labels(&text, "assist_http_requests_total", "route");
    let methods = labels(&text, "assist_http_requests_total", "method");
    assert!(routes.contains("other"), "{routes:?}");
    assert!(!routes.iter().any(|r| r.contains("no-such-thing")), "{routes:?}");
    assert!(!methods.contains("FOO"), "{methods:?}");
    assert!(
        text.lines().any(|l| l.starts_with("assist_http_requests_total{")
            && l.contains("method=\"other\"")
            && l.contains("route=\"other\"")),
        "{text}"
    );
    // Only `other` and /metrics were added.
    let added: Vec<&String> = routes.difference(&before).collect();
    assert!(added.iter().all(|r| *r == "other" || *r == "/metrics"), "{added:?}");
    assert!(!labels(&text, "assist_db_statements_total", "endpoint")
        .iter()
        .any(|r| r.contains("no-such")));
}

#[tokio::test]
async fn route_labels_stay_bounded_over_random_paths() {
    let app = spawn_app().await;
    scrape(&app).await;
    let before = labels(&scrape(&app).await, "assist_http_requests_total", "route");
    let mut tokens = Vec::new();
    for i in 0..50 {
        let t = format!("z{}q", uuid::Uuid::new_v4().simple());
        let path = match i % 5 {
            0 => format!("/random-{t}"),
            1 => format!("/api/v1/random/{t}"),
            2 => format!("/products/{}", uuid::Uuid::new_v4()),
            3 => format!("/catalog/{t}/{t}"),
            _ => format!("/docs/{t}"),
        };
        tokens.push(t);
        let r = app.send(app.client.get(app.url(&path))).await;
        assert!(r.status.as_u16() < 500, "{path}: {}", r.status);
    }
    let text = scrape(&app).await;
    let after = labels(&text, "assist_http_requests_total", "route");
    let added: BTreeSet<&String> = after.difference(&before).collect();
    assert!(added.len() <= 3, "{added:?}");
    for r in &after {
        assert!(r == "other" || r.starts_with('/'), "{r}");
        assert!(
            !r.contains("random") && !tokens.iter().any(|t| r.contains(t.as_str())),
            "{r}"
        );
    }
}
