//! Foundation: auth, organisations, users, regions, errors, health, docs.
use crate::helpers::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

fn claims_for(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("b64");
    serde_json::from_slice(&bytes).expect("claims json")
}

fn b64(v: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

#[tokio::test]
async fn login_and_me() {
    let app = spawn_app().await;
    let r = app.get("/me", Some(&app.admin_token)).await.expect(200);
    assert_eq!(r.json["user"]["role"], "admin");
    assert_eq!(r.json["organization"]["kind"], "platform");
    assert!(r.header("x-request-id").is_some());
    let c = claims_for(&app.admin_token);
    for k in ["sub", "org", "role", "exp", "jti"] {
        assert!(!c[k].is_null(), "claim {k} missing");
    }
}

#[tokio::test]
async fn login_failures_are_401_problems() {
    let app = spawn_app().await;
    let p = app
        .post(
            "/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "wrong-password"}),
        )
        .await
        .problem(401);
    assert!(p["detail"].as_str().unwrap_or("").contains("wrong email or password"));
    app.post(
        "/auth/login",
        None,
        json!({"email": "nobody@x.test", "password": "whatever1"}),
    )
    .await
    .problem(401);
    // Missing field: 422 naming it. Malformed JSON: 400. Wrong content type: 415.
    let r = app.post("/auth/login", None, json!({"email": ADMIN_EMAIL})).await;
    assert_eq!(r.fields(), vec!["password".to_string()]);
    r.problem(422);
    let r = app
        .send(
            app.client
                .post(app.url("/auth/login"))
                .header("content-type", "application/json")
                .body("{\"email\": "),
        )
        .await;
    r.problem(400);
    let r = app
        .send(
            app.client
                .post(app.url("/auth/login"))
                .header("content-type", "text/plain")
                .body("hello"),
        )
        .await;
    r.problem(415);
    let big = "x".repeat(300 * 1024);
    let r = app
        .post("/auth/login", None, json!({"email": big, "password": "x"}))
        .await;
    r.problem(413);
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let app = spawn_app().await;
    let good = claims_for(&app.admin_token);
    // Missing and garbage tokens.
    app.get("/me", None).await.problem(401);
    app.get("/me", Some("not-a-token")).await.problem(401);
    // Tampered payload (role changed, signature kept).
    let parts: Vec<&str> = app.admin_token.split('.').collect();
    let mut tampered_claims = good.clone();
    tampered_claims["sub"] = json!("someone-else");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(tampered_claims.to_string().as_bytes()),
        parts[2]
    );
    app.get("/me", Some(&tampered)).await.problem(401);
    // Expired.
    let mut expired = good.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 10);
    let t = encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &expired,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode");
    app.get("/me", Some(&t)).await.problem(401);
    // Another algorithm with the same secret.
    let t = encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &good,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode");
    app.get("/me", Some(&t)).await.problem(401);
    // alg: none.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(good.to_string().as_bytes())
    );
    app.get("/me", Some(&none)).await.problem(401);
    // Signed with another secret.
    let t = encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(b"another-secret-another-secret-0000"),
    )
    .expect("encode");
    app.get("/me", Some(&t)).await.problem(401);
    // The right token still works.
    app.get("/me", Some(&app.admin_token)).await.expect(200);
}

#[tokio::test]
async fn refresh_rotates_and_logout_revokes() {
    let app = spawn_app().await;
    let r = app
        .post("/auth/login", None, json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .await
        .expect(200);
    let access = r.json["access_token"].as_str().expect("a").to_string();
    let refresh = r.json["refresh_token"].as_str().expect("r").to_string();
    assert_eq!(r.json["expires_in"], json!(900));
    // A refresh token is not an access token.
    app.get("/me", Some(&refresh)).await.problem(401);
    let r2 = app
        .post("/auth/refresh", None, json!({"refresh_token": refresh}))
        .await
        .expect(200);
    let access2 = r2.json["access_token"].as_str().expect("a").to_string();
    let refresh2 = r2.json["refresh_token"].as_str().expect("r").to_string();
    app.get("/me", Some(&access2)).await.expect(200);
    // An access token cannot refresh.
    app.post("/auth/refresh", None, json!({"refresh_token": access2}))
        .await
        .problem(401);
    // Logout ends the session: every token of that login (reuse of a spent refresh token does
    // too: tests/api/accounts_security.rs).
    app.post("/auth/logout", Some(&access2), json!({})).await.expect(204);
    app.get("/me", Some(&access2)).await.problem(401);
    app.get("/me", Some(&access)).await.problem(401);
    for rt in [&refresh, &refresh2] {
        app.post("/auth/refresh", None, json!({"refresh_token": rt}))
            .await
            .problem(401);
    }
    // Another session of the same user is unaffected.
    app.get("/me", Some(&app.admin_token)).await.expect(200);
}

#[tokio::test]
async fn concurrent_refreshes_yield_one_new_pair() {
    let app = spawn_app().await;
    let r = app
        .post("/auth/login", None, json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .await
        .expect(200);
    let refresh = r.json["refresh_token"].as_str().expect("r").to_string();
    let calls = (0..8).map(|_| app.post("/auth/refresh", None, json!({"refresh_token": refresh})));
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "exactly one refresh wins");
    assert!(results.iter().all(|r| r.status == 200 || r.status == 401));
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_account_and_address() {
    let app = spawn_app().await;
    let victim = app.create_org("canteen", CHANGAN).await;
    for _ in 0..5 {
        app.post(
            "/auth/login",
            None,
            json!({"email": victim.email, "password": "bad-password"}),
        )
        .await
        .problem(401);
    }
    let r = app
        .post(
            "/auth/login",
            None,
            json!({"email": victim.email, "password": PASSWORD}),
        )
        .await;
    let retry: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry > 0 && retry <= 900);
    r.problem(429);
    // Other accounts from the same address still log in; many successful logins are never throttled.
    for _ in 0..35 {
        app.login(ADMIN_EMAIL, PASSWORD).await;
    }
}

#[tokio::test]
async fn failed_logins_are_rate_limited_per_address() {
    let app = spawn_app_with(|s| s.login_max_failures_per_ip = 8).await;
    for i in 0..8 {
        app.post(
            "/auth/login",
            None,
            json!({"email": format!("nobody{i}@x.test"), "password": "bad-password"}),
        )
        .await
        .problem(401);
    }
    app.post("/auth/login", None, json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .await
        .problem(429);
}

#[tokio::test]
async fn admin_routes_refuse_every_other_role() {
    let app = spawn_app().await;
    let target = app.create_org("canteen", CHANGAN).await;
    let users = [
        app.create_org("county_office", YANGYUAN).await,
        app.create_org("cooperative", YANGYUAN).await,
        app.create_org("union", CHANGAN).await,
        app.create_org("evaluation_office", CHANGAN).await,
    ];
    let org_body = json!({"name": "X", "kind": "school", "region_code": CHANGAN, "contact_email": "x@y.test",
        "credit_code": assist_market::services::organizations::make_credit_code(CHANGAN, 424242)});
    for u in &users {
        app.post("/organizations", u.t(), org_body.clone()).await.problem(403);
        app.post(&format!("/organizations/{}/suspend", target.org_id), u.t(), json!({}))
            .await
            .problem(403);
        app.post(&format!("/organizations/{}/reinstate", target.org_id), u.t(), json!({}))
            .await
            .problem(403);
        app.post(
            &format!("/organizations/{}/users", u.org_id),
            u.t(),
            json!({"email": format!("new{}@x.test", unique()), "name": "n", "role": "buyer", "password": PASSWORD}),
        )
        .await
        .problem(403);
        app.put(
            "/regions/130727",
            u.t(),
            json!({"name": "x", "level": "county", "parent_code": "130700"}),
        )
        .await
        .problem(403);
    }
    // Nothing was written by the refused calls.
    let list = app
        .get("/organizations?kind=school", Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        app.get("/regions/130727", None).await.expect(200).json["name"],
        "阳原县"
    );
}

#[tokio::test]
async fn organisations_are_scoped_to_the_caller() {
    let app = spawn_app().await;
    let a = app.create_org("canteen", CHANGAN).await;
    let b = app.create_org("cooperative", YANGYUAN).await;
    let eval = app.create_org("evaluation_office", CHANGAN).await;
    app.get(&format!("/organizations/{}", b.org_id), a.t())
        .await
        .problem(404);
    app.get(&format!("/organizations/{}", a.org_id), b.t())
        .await
        .problem(404);
    app.get(&format!("/organizations/{}", a.org_id), a.t())
        .await
        .expect(200);
    app.get("/organizations/no-such-id", a.t()).await.problem(404);
    let mine = app.get("/organizations", a.t()).await.expect(200);
    let ids: Vec<&str> = mine.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, vec![a.org_id.as_str()]);
    // A parent sees its children; evaluators see everything.
    let child = app.create_org_with("canteen", CHANGAN, Some(&a.org_id)).await;
    app.get(&format!("/organizations/{}", child.org_id), a.t())
        .await
        .expect(200);
    app.get(&format!("/organizations/{}", a.org_id), child.t())
        .await
        .problem(404);
    app.get(&format!("/organizations/{}", b.org_id), eval.t())
        .await
        .expect(200);
}

#[tokio::test]
async fn organisation_list_paginates() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.create_org("school", CHANGAN).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/organizations?kind=school&limit=2&cursor={c}"),
            None => "/organizations?kind=school&limit=2".to_string(),
        };
        let r = app.get(&path, Some(&app.admin_token)).await.expect(200);
        for o in r.json["items"].as_array().expect("items") {
            seen.push(o["id"].as_str().expect("id").to_string());
        }
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), 5);
    app.get("/organizations?limit=0", Some(&app.admin_token))
        .await
        .problem(400);
    app.get("/organizations?limit=201", Some(&app.admin_token))
        .await
        .problem(400);
    // A query parameter of the wrong type is 400 naming it, like a body field.
    let r = app.get("/organizations?limit=abc", Some(&app.admin_token)).await;
    assert_eq!(r.fields(), vec!["limit"]);
    r.problem(400);
    app.get("/organizations?cursor=%27%3B--", Some(&app.admin_token))
        .await
        .problem(400);
}

#[tokio::test]
async fn suspension_stops_login_and_every_call() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    app.get("/me", s.t()).await.expect(200);
    let r = app
        .post(
            &format!("/organizations/{}/suspend", s.org_id),
            Some(&app.admin_token),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "suspended");
    app.get("/me", s.t()).await.problem(403);
    app.post("/auth/login", None, json!({"email": s.email, "password": PASSWORD}))
        .await
        .problem(403);
    app.post(
        &format!("/organizations/{}/suspend", s.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .problem(409);
    app.post(
        &format!("/organizations/{}/reinstate", s.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .expect(200);
    app.get("/me", s.t()).await.expect(200);
    app.login(&s.email, PASSWORD).await;
    app.post("/organizations/nope/suspend", Some(&app.admin_token), json!({}))
        .await
        .problem(404);
}

#[tokio::test]
async fn organisation_validation_names_fields_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let r = app
        .post(
            "/organizations",
            admin,
            json!({"name": " ", "kind": "bakery", "region_code": "999999", "contact_email": "nope", "credit_code": "123"}),
        )
        .await;
    let mut f = r.fields();
    f.sort();
    assert_eq!(f, vec!["contact_email", "credit_code", "kind", "name", "region_code"]);
    r.problem(422);
    // A valid-looking code with a wrong check character.
    let mut code = assist_market::services::organizations::make_credit_code(CHANGAN, 777);
    let last = code.pop().expect("char");
    code.push(if last == '0' { '1' } else { '0' });
    let r = app
        .post("/organizations", admin, json!({"name": "A", "kind": "canteen", "region_code": CHANGAN, "contact_email": "a@b.test", "credit_code": code}))
        .await;
    assert_eq!(r.fields(), vec!["credit_code"]);
    // A supplier outside a poverty county.
    let r = app
        .post(
            "/organizations",
            admin,
            json!({"name": "S", "kind": "cooperative", "region_code": CHANGAN, "contact_email": "s@b.test",
            "credit_code": assist_market::services::organizations::make_credit_code(CHANGAN, 778)}),
        )
        .await;
    assert_eq!(r.fields(), vec!["region_code"]);
    // Unknown fields and wrong types are 422 naming the field.
    let r = app.post("/organizations", admin, json!({"name": 5})).await;
    assert_eq!(r.fields(), vec!["name"]);
    let list = app.get("/organizations", admin).await.expect(200);
    assert_eq!(
        list.json["items"].as_array().map(Vec::len),
        Some(1),
        "only the platform exists"
    );
    // A duplicate credit code.
    let code = assist_market::services::organizations::make_credit_code(CHANGAN, 779);
    let body = json!({"name": "A", "kind": "canteen", "region_code": CHANGAN, "contact_email": "a@b.test", "credit_code": code});
    app.post("/organizations", admin, body.clone()).await.expect(201);
    let r = app.post("/organizations", admin, body).await;
    assert_eq!(r.fields(), vec!["credit_code"]);
}

#[tokio::test]
async fn users_must_fit_their_organisation() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let org = app.create_org("canteen", CHANGAN).await;
    let path = format!("/organizations/{}/users", org.org_id);
    let r = app
        .post(
            &path,
            admin,
            json!({"email": "x@y.test", "name": "X", "role": "supplier", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.fields(), vec!["role"]);
    let r = app
        .post(
            &path,
            admin,
            json!({"email": "bad", "name": "", "role": "buyer", "password": "short"}),
        )
        .await;
    let mut f = r.fields();
    f.sort();
    assert_eq!(f, vec!["email", "name", "password"]);
    let r = app
        .post(
            &path,
            admin,
            json!({"email": "Dup@Y.test", "name": "X", "role": "buyer", "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r.json["email"], "dup@y.test");
    assert!(r.header("location").is_some());
    app.post(
        &path,
        admin,
        json!({"email": "dup@y.test", "name": "X", "role": "buyer", "password": PASSWORD}),
    )
    .await
    .problem(409);
    app.post(
        "/organizations/nope/users",
        admin,
        json!({"email": "z@y.test", "name": "X", "role": "buyer", "password": PASSWORD}),
    )
    .await
    .problem(404);
    app.login("dup@y.test", PASSWORD).await;
}

#[tokio::test]
async fn regions_are_listed_and_replaced() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let r = app
        .get("/regions?level=county&poverty_status=deep_poverty", None)
        .await
        .expect(200);
    let codes: Vec<&str> = r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|x| x["code"].as_str())
        .collect();
    assert!(codes.contains(&"130727") && !codes.contains(&"130636"));
    let r = app.get("/regions?parent=130600", None).await.expect(200);
    assert!(r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|x| x["parent_code"] == "130600"));
    app.get("/regions/000000", None).await.problem(404);
    app.get("/regions?level=planet", None).await.problem(400);
    // Create, then replace.
    let body = json!({"name": "新县", "level": "county", "parent_code": "130700", "poverty_status": "poverty", "exited_year": 2020});
    let r = app.put("/regions/130799", admin, body.clone()).await.expect(201);
    assert_eq!(r.json["poverty_status"], "poverty");
    let tag = r.header("etag").expect("an ETag");
    let mut body2 = body.clone();
    body2["poverty_status"] = json!("none");
    // Replacing names the version it replaces: 428 without it, 412 once it is stale.
    app.put("/regions/130799", admin, body2.clone()).await.problem(428);
    let r = app
        .put_if("/regions/130799", admin, body2.clone(), &tag)
        .await
        .expect(200);
    assert_eq!(r.json["poverty_status"], "none");
    assert_eq!(
        app.get("/regions/130799", None).await.expect(200).header("etag"),
        r.header("etag")
    );
    body2["poverty_status"] = json!("poverty");
    app.put_if("/regions/130799", admin, body2, &tag).await.problem(412);
    assert_eq!(
        app.get("/regions/130799", None).await.expect(200).json["poverty_status"],
        "none"
    );
    // Invalid input: wrong code length, unknown parent, status below county level.
    let r = app.put("/regions/1307", admin, body.clone()).await;
    assert_eq!(r.fields(), vec!["code"]);
    let r = app
        .put(
            "/regions/130798",
            admin,
            json!({"name": "x", "level": "county", "parent_code": "999900"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["parent_code"]);
    let r = app
        .put(
            "/regions/130727100",
            admin,
            json!({"name": "x", "level": "township", "parent_code": "130727", "poverty_status": "poverty"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["poverty_status"]);
    app.get("/regions/130798", None).await.problem(404);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    app.get("/api/v1/nothing-here", None).await.problem(404);
    app.get("/definitely/not", None).await.problem(404);
    let r = app.send(app.client.delete(app.url("/regions"))).await;
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    r.problem(405);
    let r = app.send(app.client.get(app.url("/auth/login"))).await;
    r.problem(405);
}

#[tokio::test]
async fn health_metrics_and_docs() {
    let app = spawn_app().await;
    app.get("/healthz", None).await.expect(200);
    let r = app.get("/readyz", None).await.expect(200);
    assert_eq!(r.json["database"], "ok");
    app.get("/me", Some(&app.admin_token)).await.expect(200);
    let m = app.get("/metrics", None).await.expect(200);
    assert!(m.text.contains("assist_http_requests_total"), "{}", m.text);
    assert!(m.text.contains("endpoint=\"/api/v1/me\""));
    let docs = app.get("/docs/", None).await.expect(200);
    assert!(docs.text.to_lowercase().contains("swagger"));
    let spec = app.get("/api-docs/openapi.json", None).await.expect(200);
    assert!(spec.json["openapi"].as_str().unwrap_or("").starts_with("3.1"));
    assert!(spec.json["components"]["securitySchemes"]["bearer_auth"].is_object());
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.get("/readyz", None).await.expect(200);
    if on_postgres() {
        let name = app.database_url.rsplit('/').next().expect("db name").to_string();
        let base = std::env::var("TEST_DATABASE_URL").expect("url");
        let admin = sea_orm::Database::connect(format!("{}/postgres", base.trim_end_matches('/')))
            .await
            .expect("admin");
        use sea_orm::ConnectionTrait;
        admin
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .expect("drop");
    } else {
        app.state.db.clone().close().await.expect("close");
    }
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.json["database"], "down");
}

#[tokio::test]
async fn openapi_document_matches_the_committed_file() {
    let app = spawn_app().await;
    let served = app.get("/api-docs/openapi.json", None).await.expect(200).json;
    let generated = serde_json::to_value(assist_market::openapi::document()).expect("doc");
    assert_eq!(served, generated);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("openapi/openapi.json is committed"))
            .expect("valid JSON");
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
    // Every operation documents its errors as problem+json and protected ones carry the bearer scheme.
    for (path, item) in generated["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            assert!(
                op["responses"]["500"].is_object(),
                "{method} {path} lacks error responses"
            );
        }
    }
    assert!(generated["paths"]["/api/v1/organizations"]["post"]["security"].is_array());
    assert!(generated["paths"]["/api/v1/auth/login"]["post"]["security"].is_null());
}

#[tokio::test]
async fn emails_reach_the_mail_transport() {
    let app = spawn_app().await;
    let to = format!("probe-{}@mail.test", unique());
    assist_market::services::outbox::enqueue(app.db(), &to, "Probe", "hello")
        .await
        .expect("enqueue");
    let got = app.wait_for_emails(&to, 1, 10).await;
    assert_eq!(got.len(), 1, "one email arrives");
    assert!(got[0].contains("Probe"));
}

#[test]
fn a_malformed_setting_fails_at_start_naming_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_assist-market"))
        .arg("migrate")
        .env("ASSIST_DATABASE_URL", "mysql://nope")
        .output()
        .expect("run binary");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ASSIST_DATABASE_URL"));
    // A shared database without a signing key: each process would sign with a key of its own.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_assist-market"))
        .arg("migrate")
        .env("ASSIST_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env_remove("ASSIST_LEDGER_SIGNING_KEY")
        .output()
        .expect("run binary");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ASSIST_LEDGER_SIGNING_KEY"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_assist-market"))
        .arg("migrate")
        .env("ASSIST_BODY_LIMIT", "lots")
        .output()
        .expect("run binary");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ASSIST_BODY_LIMIT"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every write route of the document, with its path parameters filled with `id`.
fn write_routes(id: &str) -> Vec<(String, String)> {
    let doc = serde_json::to_value(assist_market::openapi::document()).expect("doc");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                let mut p = String::new();
                let mut in_param = false;
                for ch in path.chars() {
                    match ch {
                        '{' => in_param = true,
                        '}' => {
                            in_param = false;
                            p.push_str(id);
                        }
                        c if !in_param => p.push(c),
                        _ => {}
                    }
                }
                out.push((method.to_string(), p));
            }
        }
    }
    out
}

#[tokio::test]
async fn evaluators_are_refused_on_every_write_route() {
    let app = spawn_app().await;
    let eval = app.create_org("evaluation_office", CHANGAN).await;
    let other = app.create_org("canteen", CHANGAN).await;
    let mut checked = 0;
    for (method, path) in write_routes(&other.org_id) {
        if path.starts_with("/api/v1/auth/") {
            continue;
        }
        // Deciding on a fraud signal is the one write an evaluator makes (tests/api/flags.rs).
        if path.starts_with("/api/v1/flags/") && (path.ends_with("/confirm") || path.ends_with("/dismiss")) {
            continue;
        }
        let rb = match method.as_str() {
            "post" => app.client.post(app.url(&path)),
            "put" => app.client.put(app.url(&path)),
            "patch" => app.client.patch(app.url(&path)),
            _ => app.client.delete(app.url(&path)),
        };
        let r = app
            .send(
                rb.bearer_auth(&eval.token)
                    .header("Idempotency-Key", format!("k-{}", unique()))
                    .header("If-Match", "\"1\"")
                    .json(&json!({})),
            )
            .await;
        assert_eq!(
            r.status, 403,
            "{method} {path} answered {} to an evaluator: {}",
            r.status, r.text
        );
        checked += 1;
    }
    assert!(checked >= 5);
}

#[tokio::test]
async fn no_malformed_request_yields_a_5xx() {
    let app = spawn_app().await;
    let junk_bodies = [
        "",
        "null",
        "[]",
        "{\"a\":",
        "{\"lines\": [{\"product_id\": 5, \"quantity\": -1e309}]}",
        "{\"quantity\": \"1e400\", \"price\": \"99999999999999999999999999\"}",
        "\"\\ud800\"",
        "{\"name\": \"a\\u0000b\", \"reason\": \"\\u0000\"}",
    ];
    let ids = [
        "x",
        "%00",
        "..%2F..",
        "0000000000000000000000000000000000000000000000000000000000000000000000",
        "1%20OR%201=1",
    ];
    let tokens = [Some(app.admin_token.clone()), None, Some("garbage".to_string())];
    for id in ids {
        for (method, path) in write_routes(id) {
            for body in junk_bodies {
                for token in &tokens {
                    let rb = match method.as_str() {
                        "post" => app.client.post(app.url(&path)),
                        "put" => app.client.put(app.url(&path)),
                        "patch" => app.client.patch(app.url(&path)),
                        _ => app.client.delete(app.url(&path)),
                    };
                    let mut rb = rb
                        .header("content-type", "application/json")
                        .header("Idempotency-Key", "k")
                        .body(body);
                    if let Some(t) = token {
                        rb = rb.bearer_auth(t);
                    }
                    let r = app.send(rb).await;
                    assert!(
                        r.status.as_u16() < 500,
                        "{method} {path} with {body:?} gave {}: {}",
                        r.status,
                        r.text
                    );
                }
            }
        }
        let doc = serde_json::to_value(assist_market::openapi::document()).expect("doc");
        for (path, item) in doc["paths"].as_object().expect("paths") {
            if item.get("get").is_none() {
                continue;
            }
            let p = path
                .replace("{id}", id)
                .replace("{code}", id)
                .replace("{org_id}", id)
                .replace("{year}", id)
                .replace("{category}", id);
            let q = format!("{p}?limit=abc&cursor=%ff&year=-1&from=notadate&status=%27&level=x&q=%25");
            for token in &tokens {
                let mut rb = app.client.get(app.url(&q));
                if let Some(t) = token {
                    rb = rb.bearer_auth(t);
                }
                let r = app.send(rb).await;
                assert!(r.status.as_u16() < 500, "GET {q} gave {}: {}", r.status, r.text);
            }
        }
    }
}

/// Ids are parsed once at the edge: a malformed id in a path is 404, in a body
/// 422 naming the field, in a token 401; vocabularies in a query are 400 naming
/// the parameter.
#[tokio::test]
async fn malformed_ids_and_vocabularies_are_refused_at_the_edge() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    app.get("/organizations/not-a-uuid", admin).await.problem(404);
    app.post("/organizations/not-a-uuid/reinstate", admin, json!({}))
        .await
        .problem(404);
    let user = json!({"email": "x@y.test", "name": "X", "role": "buyer", "password": PASSWORD});
    app.post("/organizations/12345/users", admin, user.clone())
        .await
        .problem(404);
    // A well-formed id of nothing is 404 as well.
    let nobody = uuid::Uuid::now_v7();
    app.get(&format!("/organizations/{nobody}"), admin).await.problem(404);
    app.post(&format!("/organizations/{nobody}/users"), admin, user)
        .await
        .problem(404);
    // In a body: 422 naming the field, and nothing is written.
    let r = app
        .post(
            "/organizations",
            admin,
            json!({"name": "A", "kind": "canteen", "region_code": CHANGAN, "contact_email": "a@b.test",
                "credit_code": assist_market::services::organizations::make_credit_code(CHANGAN, 780),
                "parent_org_id": "not-a-uuid"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["parent_org_id"]);
    r.problem(422);
    let r = app
        .post(
            "/organizations",
            admin,
            json!({"name": "A", "kind": "canteen", "region_code": CHANGAN, "contact_email": "a@b.test",
                "credit_code": assist_market::services::organizations::make_credit_code(CHANGAN, 781),
                "parent_org_id": nobody.to_string()}),
        )
        .await;
    assert_eq!(r.fields(), vec!["parent_org_id"]);
    r.problem(422);
    let org = app.create_org("canteen", CHANGAN).await;
    let r = app
        .post(
            &format!("/organizations/{}/users", org.org_id),
            admin,
            json!({"email": "k@y.test", "name": "K", "role": "king", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.fields(), vec!["role"]);
    r.problem(422);
    let list = app.get("/organizations", admin).await.expect(200);
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(2));
    // In a query: 400 naming the parameter.
    for (q, field) in [
        ("/organizations?kind=bakery", "kind"),
        ("/organizations?status=sleeping", "status"),
        ("/regions?poverty_status=rich", "poverty_status"),
        ("/regions?level=planet", "level"),
    ] {
        let r = app.get(q, admin).await;
        assert_eq!(r.fields(), vec![field.to_string()], "{q}");
        r.problem(400);
    }
    let r = app
        .get("/organizations?kind=canteen&status=active", admin)
        .await
        .expect(200);
    assert_eq!(r.json["items"][0]["id"], org.org_id);
    // In a token: ids that are not UUIDs do not verify, even correctly signed.
    let mut claims = claims_for(&app.admin_token);
    claims["sub"] = json!("admin");
    let t = encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode");
    app.get("/me", Some(&t)).await.problem(401);
    let mut claims = claims_for(&app.admin_token);
    claims["role"] = json!("emperor");
    let t = encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode");
    app.get("/me", Some(&t)).await.problem(401);
    // Responses carry the same text as before.
    let me = app.get("/me", admin).await.expect(200).json;
    assert_eq!(me["user"]["id"], claims_for(&app.admin_token)["sub"]);
    assert_eq!(me["organization"]["status"], "active");
}

/// The organisation vocabularies are documented as enums with every value.
#[tokio::test]
async fn organisation_and_region_vocabularies_are_documented_enums() {
    use assist_market::domain::{OrgKind, OrgStatus, PovertyStatus, RegionLevel, Role};
    let doc = serde_json::to_value(assist_market::openapi::document()).expect("doc");
    let schemas = &doc["components"]["schemas"];
    let values = |all: Vec<&str>| json!(all);
    for (name, all) in [
        ("OrgKind", values(OrgKind::ALL.iter().map(|v| v.as_str()).collect())),
        ("OrgStatus", values(OrgStatus::ALL.iter().map(|v| v.as_str()).collect())),
        ("Role", values(Role::ALL.iter().map(|v| v.as_str()).collect())),
        (
            "RegionLevel",
            values(RegionLevel::ALL.iter().map(|v| v.as_str()).collect()),
        ),
        (
            "PovertyStatus",
            values(PovertyStatus::ALL.iter().map(|v| v.as_str()).collect()),
        ),
    ] {
        assert_eq!(schemas[name]["enum"], all, "{name}");
    }
    for (schema, field, target) in [
        ("Organization", "kind", "OrgKind"),
        ("Organization", "status", "OrgStatus"),
        ("NewOrganization", "kind", "OrgKind"),
        ("User", "role", "Role"),
        ("NewUser", "role", "Role"),
        ("Region", "level", "RegionLevel"),
        ("Region", "poverty_status", "PovertyStatus"),
        ("PutRegion", "level", "RegionLevel"),
    ] {
        let r = &schemas[schema]["properties"][field]["$ref"];
        assert_eq!(r, &json!(format!("#/components/schemas/{target}")), "{schema}.{field}");
    }
}

/// No secret of the settings reaches a Debug print (and so a log line).
#[tokio::test]
async fn settings_debug_shows_no_secret() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut s = test_settings(&tmp).await;
    if s.redis_url.is_none() {
        s.redis_url = Some("redis://:redis-pass-5678@127.0.0.1:1".into());
    }
    if s.smtp_url.is_none() {
        s.smtp_url = Some("smtp://mailer:smtp-pass-9012@127.0.0.1:1".into());
    }
    let debug = format!("{s:?}");
    let mut secrets = vec![SECRET.to_string(), PASSWORD.to_string(), s.database_url()];
    secrets.extend(s.redis_url.as_ref().map(|u| u.expose().clone()));
    secrets.extend(s.smtp_url.as_ref().map(|u| u.expose().clone()));
    assert_eq!(secrets.len(), 5);
    for secret in &secrets {
        assert!(!debug.contains(secret.as_str()), "{secret} is in {debug}");
    }
    assert!(debug.contains("Secret([redacted])"));
    // The running service's settings too.
    let app = spawn_app().await;
    let debug = format!("{:?}", app.state.settings);
    for secret in [SECRET, PASSWORD, app.database_url.as_str()] {
        assert!(!debug.contains(secret), "{secret} is in {debug}");
    }
}

/// The database leader lock: one taker per tick, and never back to an earlier tick.
#[tokio::test]
async fn the_job_lock_is_taken_once_per_tick() {
    let app = spawn_app().await;
    let lock = |holder: &'static str| assist_market::jobs::db_lock(&app.state, "probe", holder);
    assert!(lock("00000000000000000001").await, "a free lock is taken");
    assert!(!lock("00000000000000000001").await, "the same tick is taken once");
    assert!(lock("00000000000000000002").await, "the next tick is taken");
    assert!(!lock("00000000000000000001").await, "an earlier tick is refused");
}

/// A restart with a longer interval still runs the job: the ticks of an hour are smaller
/// numbers than the ticks of a minute, and the database lock refused them for good.
#[tokio::test]
async fn a_job_still_runs_after_its_interval_is_raised() {
    let app = spawn_app().await;
    let tick = |secs: u64| {
        assist_market::jobs::try_tick_lock(&app.state, "interval-probe", std::time::Duration::from_secs(secs))
    };
    // (Taking each once is `the_job_lock_is_taken_once_per_tick`: asking twice here could
    // straddle a minute's boundary. With Redis, its own lock answers first.)
    assert!(tick(60).await, "the minute's tick is taken");
    assert!(
        tick(3600).await,
        "after a restart with an hourly interval, the hour's tick is taken"
    );
}
