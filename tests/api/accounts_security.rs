//! Accounts and security: login limits under concurrency, revocation that survives the cache,
//! refresh-token families, the audit log, and users read back and deactivated.
use crate::helpers::*;
use serde_json::{json, Value};

async fn login_pair(app: &TestApp, email: &str) -> (String, String) {
    let r = app
        .post("/auth/login", None, json!({"email": email, "password": PASSWORD}))
        .await
        .expect(200);
    (
        r.json["access_token"].as_str().unwrap().to_string(),
        r.json["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn refresh(app: &TestApp, rt: &str) -> Resp {
    app.post("/auth/refresh", None, json!({"refresh_token": rt})).await
}

/// The audit entries of `query` (admin), every page followed through `Link`.
async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut url = format!("/admin/audit-log?{query}");
    loop {
        let r = app.get(&url, Some(&app.admin_token)).await.expect(200);
        out.extend(r.json["items"].as_array().unwrap().iter().cloned());
        match r.header("link") {
            Some(link) => {
                let next = link.trim_start_matches('<').split('>').next().unwrap().to_string();
                url = next;
            }
            None => return out,
        }
    }
}

fn kinds(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

async fn burst(app: &TestApp, emails: Vec<String>) -> Vec<Resp> {
    let calls = emails.into_iter().map(|email| {
        app.send(
            app.client
                .post(app.url("/auth/login"))
                .json(&json!({"email": email, "password": "wrong-password"})),
        )
    });
    futures_util::future::join_all(calls).await
}

/// 100 wrong passwords for one account at once: at most N (= 5) reach the password check and
/// are 401; every other is 429 with `Retry-After`. Then even the right password is 429.
#[tokio::test]
async fn a_burst_of_wrong_passwords_gets_at_most_the_allowed_failures() {
    let app = spawn_app().await;
    let victim = app.create_org("canteen", CHANGAN).await;
    let results = burst(&app, vec![victim.email.clone(); 100]).await;
    let unauthorized = results.iter().filter(|r| r.status == 401).count();
    let limited: Vec<_> = results.iter().filter(|r| r.status == 429).collect();
    assert_eq!(unauthorized, 5, "401s: {unauthorized}");
    assert_eq!(limited.len(), 95);
    for r in &limited {
        let retry: u64 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After");
        assert!(retry > 0 && retry <= 900, "{retry}");
    }
    app.post(
        "/auth/login",
        None,
        json!({"email": victim.email, "password": PASSWORD}),
    )
    .await
    .problem(429);
    let failed = audit(&app, "kind=login_failed").await;
    assert_eq!(failed.iter().filter(|e| e["email"] == victim.email.as_str()).count(), 5);
    let locked = audit(&app, "kind=login_locked").await;
    assert_eq!(locked.len(), 1, "{locked:?}");
    assert_eq!(locked[0]["email"], victim.email.as_str());
    assert_eq!(locked[0]["address"], "127.0.0.1");
}

/// The per-address limit holds under concurrency too: 100 wrong logins for 100 accounts from
/// one address, 8 allowed: at most 8 are 401.
#[tokio::test]
async fn a_burst_from_one_address_gets_at_most_its_allowed_failures() {
    let app = spawn_app_with(|s| s.login_max_failures_per_ip = 8).await;
    let emails = (0..100).map(|i| format!("nobody{i}-{}@x.test", unique())).collect();
    let results = burst(&app, emails).await;
    let unauthorized = results.iter().filter(|r| r.status == 401).count();
    assert_eq!(unauthorized, 8);
    assert!(results
        .iter()
        .all(|r| r.status == 401 || (r.status == 429 && r.header("retry-after").is_some())));
    app.post("/auth/login", None, json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .await
        .problem(429);
}

/// A success forgives: the account's earlier failures no longer count.
#[tokio::test]
async fn a_successful_login_forgives_earlier_failures() {
    let app = spawn_app().await;
    let user = app.create_org("canteen", CHANGAN).await;
    let wrong = json!({"email": user.email, "password": "wrong-password"});
    for _ in 0..4 {
        app.post("/auth/login", None, wrong.clone()).await.problem(401);
    }
    login_pair(&app, &user.email).await;
    for _ in 0..5 {
        app.post("/auth/login", None, wrong.clone()).await.problem(401);
    }
    app.post("/auth/login", None, wrong).await.problem(429);
}

/// A second instance on the same database with a cache of its own: what a Redis restart, an
/// absent Redis with two processes, or a restart of the embedded default looks like.
async fn second_instance(app: &TestApp) -> TestApp {
    let mut settings = (*app.state.settings).clone();
    settings.bind = "127.0.0.1:0".into();
    if settings.redis_url.is_some() {
        settings.redis_prefix = format!("t:{}:", uuid::Uuid::new_v4().simple());
    }
    spawn_with_settings(settings, tempfile::tempdir().unwrap()).await
}

#[tokio::test]
async fn a_logged_out_session_is_refused_by_every_process_whatever_the_cache() {
    let app = spawn_app().await;
    let user = app.create_org("canteen", CHANGAN).await;
    let (access, refresh_token) = login_pair(&app, &user.email).await;
    let (other, _) = login_pair(&app, &user.email).await;
    app.get("/me", Some(&access)).await.expect(200);
    app.post("/auth/logout", Some(&access), json!({})).await.expect(204);
    app.get("/me", Some(&access)).await.problem(401);
    let fresh = second_instance(&app).await;
    fresh.get("/me", Some(&access)).await.problem(401);
    refresh(&fresh, &refresh_token).await.problem(401);
    // Another login of the same user is another session: it still works, on both.
    fresh.get("/me", Some(&other)).await.expect(200);
    app.get("/me", Some(&other)).await.expect(200);
    let entries = audit(&app, "kind=logout").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["address"], "127.0.0.1");
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let user = app.create_org("school", CHANGAN).await;
    let (a1, r1) = login_pair(&app, &user.email).await;
    let (other, other_rt) = login_pair(&app, &user.email).await;
    let p2 = refresh(&app, &r1).await.expect(200).json;
    let p3 = refresh(&app, p2["refresh_token"].as_str().unwrap())
        .await
        .expect(200)
        .json;
    let a3 = p3["access_token"].as_str().unwrap();
    app.get("/me", Some(a3)).await.expect(200);
    // The first refresh token again: stolen. Every token of that login stops working.
    let p = refresh(&app, &r1).await.problem(401);
    assert!(p["detail"].as_str().unwrap().contains("reused"), "{p}");
    for t in [a1.as_str(), p2["access_token"].as_str().unwrap(), a3] {
        app.get("/me", Some(t)).await.problem(401);
    }
    refresh(&app, p3["refresh_token"].as_str().unwrap()).await.problem(401);
    // Another login is another family.
    app.get("/me", Some(&other)).await.expect(200);
    refresh(&app, &other_rt).await.expect(200);
    let me = app.get("/me", Some(&other)).await.expect(200).json;
    let uid = me["user"]["id"].as_str().unwrap();
    let reused = audit(&app, &format!("kind=refresh_reused&user={uid}")).await;
    assert_eq!(reused.len(), 1, "{reused:?}");
    assert_eq!(reused[0]["address"], "127.0.0.1");
    assert_eq!(reused[0]["subject_user_id"], uid);
}

#[tokio::test]
async fn the_audit_log_records_security_events_for_the_admin_only() {
    let app = spawn_app().await;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    app.post(
        "/auth/login",
        None,
        json!({"email": buyer.email, "password": "nope-nope"}),
    )
    .await
    .problem(401);
    app.post(
        &format!("/organizations/{}/suspend", supplier.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/organizations/{}/reinstate", supplier.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .expect(200);
    let all = audit(&app, &format!("since={}&limit=2", urlencode(&since))).await;
    let k = kinds(&all);
    for kind in [
        "user_created",
        "login_succeeded",
        "login_failed",
        "organization_suspended",
        "organization_reinstated",
    ] {
        assert!(k.contains(&kind), "{kind} missing: {k:?}");
    }
    // Newest first, each entry once across the pages.
    let ids: Vec<_> = all.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.reverse();
    sorted.dedup();
    assert_eq!(ids, sorted);
    assert!(all.iter().all(|e| e["occurred_at"].as_str().unwrap() >= since.as_str()));
    let suspended = audit(&app, "kind=organization_suspended").await;
    assert_eq!(suspended.len(), 1);
    assert_eq!(suspended[0]["org_id"], supplier.org_id.as_str());
    assert!(suspended[0]["actor_user_id"].is_string());
    // Bad filters are 422 naming them; other roles are refused whatever the query.
    for (q, field) in [
        ("kind=nope", "kind"),
        ("user=x", "user"),
        ("since=yesterday", "since"),
        // A signed year is no time PostgreSQL takes: it failed inside the query, a 500.
        ("since=-5000-01-01T00:00:00Z", "since"),
        ("limit=0", "limit"),
    ] {
        let r = app.get(&format!("/admin/audit-log?{q}"), Some(&app.admin_token)).await;
        assert_eq!(r.fields(), [field], "{q}");
        r.problem(400);
    }
    for who in [&buyer, &supplier] {
        app.get("/admin/audit-log", who.t()).await.problem(403);
        app.get("/admin/audit-log?kind=nope", who.t()).await.problem(403);
    }
    app.get("/admin/audit-log", None).await.problem(401);
}

#[tokio::test]
async fn the_audit_log_is_append_only_in_the_database() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    assert!(!audit(&app, "").await.is_empty());
    for stmt in ["UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"] {
        let err = app.db().execute_unprepared(stmt).await;
        assert!(err.is_err(), "{stmt} succeeded");
    }
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.get("/me", Some(token)).await.expect(200).json;
    me["user"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn users_are_read_back_by_the_admin_and_by_themselves() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let other = app.create_org("school", CHANGAN).await;
    let n = unique();
    let created = app
        .post(
            &format!("/organizations/{}/users", buyer.org_id),
            Some(&app.admin_token),
            json!({"email": format!("second-{n}@user.test"), "name": "Second", "role": "buyer", "password": PASSWORD}),
        )
        .await
        .expect(201);
    let location = created.header("location").unwrap();
    let read = app.get(&location, Some(&app.admin_token)).await.expect(200);
    assert_eq!(read.json, created.json);
    assert!(read.json["deactivated_at"].is_null());
    let etag = read.header("etag").unwrap();
    let again = app
        .send(
            app.client
                .get(app.url(&location))
                .bearer_auth(&app.admin_token)
                .header("If-None-Match", &etag),
        )
        .await;
    assert_eq!(again.status, 304);
    // The list: both users of the organisation, each once, across pages.
    let mut ids = Vec::new();
    let mut url = format!("/organizations/{}/users?limit=1", buyer.org_id);
    loop {
        let r = app.get(&url, Some(&app.admin_token)).await.expect(200);
        ids.extend(
            r.json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string()),
        );
        match r.header("link") {
            Some(l) => url = l.trim_start_matches('<').split('>').next().unwrap().to_string(),
            None => break,
        }
    }
    let first = user_id(&app, &buyer.token).await;
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&first) && ids.contains(&created.json["id"].as_str().unwrap().to_string()));
    // A user reads itself; not another user, not another organisation's, not the list.
    app.get(&format!("/organizations/{}/users/{first}", buyer.org_id), buyer.t())
        .await
        .expect(200);
    app.get(&location, buyer.t()).await.problem(404);
    app.get(&location, other.t()).await.problem(404);
    app.get(&format!("/organizations/{}/users", buyer.org_id), buyer.t())
        .await
        .problem(403);
    app.get(&format!("/organizations/{}/users?limit=abc", buyer.org_id), buyer.t())
        .await
        .problem(403);
    // The wrong organisation in the path, an unknown organisation: 404.
    app.get(
        &format!("/organizations/{}/users/{first}", other.org_id),
        Some(&app.admin_token),
    )
    .await
    .problem(404);
    app.get(
        &format!("/organizations/{}/users", uuid::Uuid::new_v4()),
        Some(&app.admin_token),
    )
    .await
    .problem(404);
    let r = app
        .get(
            &format!("/organizations/{}/users?limit=abc", buyer.org_id),
            Some(&app.admin_token),
        )
        .await;
    assert_eq!(r.fields(), ["limit"]);
    r.problem(400);
    // A malformed body to an unknown organisation: 404 before 422, also for the admin.
    let unknown = uuid::Uuid::new_v4();
    let bad = json!({"email": 7});
    app.post(
        &format!("/organizations/{unknown}/users"),
        Some(&app.admin_token),
        bad.clone(),
    )
    .await
    .problem(404);
    app.patch(
        &format!("/organizations/{unknown}"),
        Some(&app.admin_token),
        bad.clone(),
        Some("*"),
    )
    .await
    .problem(404);
    app.post(
        &format!("/organizations/{}/users", buyer.org_id),
        Some(&app.admin_token),
        bad,
    )
    .await
    .problem(422);
}

#[tokio::test]
async fn a_deactivated_user_is_refused_at_once_everywhere_and_cannot_log_in() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let (access, refresh_token) = login_pair(&app, &buyer.email).await;
    let fresh = second_instance(&app).await;
    fresh.get("/me", Some(&access)).await.expect(200);
    let uid = user_id(&app, &buyer.token).await;
    let path = format!("/organizations/{}/users/{uid}/deactivate", buyer.org_id);
    // Refused roles, whatever they send; the admin cannot deactivate itself.
    app.post(&path, buyer.t(), json!({})).await.problem(403);
    let admin_id = user_id(&app, &app.admin_token).await;
    let me_path = format!("/organizations/{}/users/{admin_id}/deactivate", {
        let me = app.get("/me", Some(&app.admin_token)).await.json;
        me["organization"]["id"].as_str().unwrap().to_string()
    });
    app.post(&me_path, Some(&app.admin_token), json!({})).await.problem(409);
    app.post(
        &format!(
            "/organizations/{}/users/{}/deactivate",
            buyer.org_id,
            uuid::Uuid::new_v4()
        ),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .problem(404);
    let r = app.post(&path, Some(&app.admin_token), json!({})).await.expect(200);
    assert!(r.json["deactivated_at"].is_string());
    // Every token of the user is refused at once, by both processes.
    for t in [&access, &buyer.token] {
        app.get("/me", Some(t)).await.problem(401);
        fresh.get("/me", Some(t)).await.problem(401);
    }
    refresh(&fresh, &refresh_token).await.problem(401);
    app.post("/auth/login", None, json!({"email": buyer.email, "password": PASSWORD}))
        .await
        .problem(403);
    app.post(&path, Some(&app.admin_token), json!({})).await.problem(409);
    let entries = audit(&app, &format!("kind=user_deactivated&user={uid}")).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor_user_id"], admin_id.as_str());
    assert_eq!(entries[0]["address"], "127.0.0.1");
    let read = app
        .get(
            &format!("/organizations/{}/users/{uid}", buyer.org_id),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    assert!(read.json["deactivated_at"].is_string());
}

/// Behind a trusted reverse proxy, the per-address login limit counts each client by the
/// address the proxy forwards, so one client's failures do not lock everyone out; from anyone
/// else `X-Forwarded-For` is ignored (a client cannot escape its limit by writing one).
#[tokio::test]
async fn the_address_limit_counts_clients_behind_a_trusted_proxy_and_ignores_forged_headers() {
    let attempt = |app: &TestApp, forwarded: &str, password: &str| {
        app.client
            .post(app.url("/auth/login"))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"email": format!("nobody-{}@x.test", unique()), "password": password}))
    };
    let proxied = spawn_app_with(|s| {
        s.login_max_failures_per_ip = 3;
        s.trusted_proxies = "127.0.0.1".into();
    })
    .await;
    for _ in 0..3 {
        proxied
            .send(attempt(&proxied, "203.0.113.7", "wrong-password"))
            .await
            .problem(401);
    }
    proxied
        .send(attempt(&proxied, "203.0.113.7", "wrong-password"))
        .await
        .problem(429);
    // Another client behind the same proxy still logs in; the proxy itself is never the client.
    let ok = proxied
        .client
        .post(proxied.url("/auth/login"))
        .header("X-Forwarded-For", "198.51.100.9, 127.0.0.1")
        .json(&json!({"email": ADMIN_EMAIL, "password": PASSWORD}));
    proxied.send(ok).await.expect(200);
    // Without trusted proxies, a forged header changes nothing: the peer is the client.
    let direct = spawn_app_with(|s| s.login_max_failures_per_ip = 3).await;
    for i in 0..3 {
        let forged = format!("203.0.113.{i}");
        direct
            .send(attempt(&direct, &forged, "wrong-password"))
            .await
            .problem(401);
    }
    direct
        .send(attempt(&direct, "203.0.113.99", "wrong-password"))
        .await
        .problem(429);
}
