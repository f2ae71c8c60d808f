//! Issue 11, conventions: request ids in responses and problems, CORS, compression,
//! `Link` on lists, `ETag`/`If-None-Match`, `If-Match: *`, `Cache-Control: no-store` on
//! tokens, `Allow` on every 405.
use crate::helpers::*;
use crate::orders::{placed_so, world};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use std::io::Read;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

async fn raw(app: &TestApp, rb: reqwest::RequestBuilder) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let _ = app;
    let r = rb.send().await.expect("request");
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn a_client_that_asks_gets_json_and_csv_compressed() {
    let app = spawn_app().await;
    // JSON, gzip.
    let plain = app.get("/api-docs/openapi.json", None).await.expect(200);
    let (s, h, body) = raw(
        &app,
        app.client
            .get(app.url("/api-docs/openapi.json"))
            .header("Accept-Encoding", "gzip"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h["content-encoding"], "gzip");
    assert!(
        body.len() < plain.text.len() / 3,
        "{} vs {}",
        body.len(),
        plain.text.len()
    );
    let v: Value = serde_json::from_slice(&gunzip(&body)).expect("JSON inside");
    assert_eq!(v, plain.json);

    // JSON of a route, brotli when preferred.
    let (s, h, _) = raw(
        &app,
        app.client
            .get(app.url("/regions"))
            .bearer_auth(&app.admin_token)
            .header("Accept-Encoding", "br"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h["content-encoding"], "br");

    // CSV, gzip.
    let y = chrono::Utc::now().format("%Y").to_string();
    let path = format!("/reports/summary?year={y}&group_by=county&format=csv");
    let plain_csv = app.get(&path, Some(&app.admin_token)).await.expect(200);
    let (s, h, body) = raw(
        &app,
        app.client
            .get(app.url(&path))
            .bearer_auth(&app.admin_token)
            .header("Accept-Encoding", "gzip"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(gunzip(&body), plain_csv.text.as_bytes());

    // Not asked: not compressed.
    assert!(plain.header("content-encoding").is_none());
}

const ORIGIN: &str = "https://canteen-app.example.org";

async fn preflight(app: &TestApp, origin: &str) -> Resp {
    app.send(
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/orders"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            ),
    )
    .await
}

#[tokio::test]
async fn cors_answers_the_configured_origins_only() {
    let app = spawn_app_with(|s| s.cors_origins = format!("{ORIGIN}, https://other.example.org")).await;

    let ok = preflight(&app, ORIGIN).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.header("access-control-allow-origin").as_deref(), Some(ORIGIN));
    assert!(ok.header("access-control-allow-methods").unwrap().contains("POST"));
    let allowed_headers = ok.header("access-control-allow-headers").unwrap().to_lowercase();
    assert!(allowed_headers.contains("idempotency-key"), "{allowed_headers}");
    assert!(ok.header("x-request-id").is_some());

    let refused = preflight(&app, "https://evil.example.com").await;
    for h in refused.headers.keys() {
        assert!(!h.as_str().starts_with("access-control-"), "{h} on a refused preflight");
    }
    let p = refused.problem(400);
    assert!(p["instance"].as_str().unwrap().starts_with("urn:request:"), "{p}");

    // Actual requests: the allowed origin is told so and sees the useful headers; another origin
    // is served (non-browser clients send any Origin) but with no CORS headers.
    let r = app
        .send(
            app.client
                .get(app.url("/me"))
                .bearer_auth(&app.admin_token)
                .header("Origin", ORIGIN),
        )
        .await
        .expect(200);
    assert_eq!(r.header("access-control-allow-origin").as_deref(), Some(ORIGIN));
    let exposed = r.header("access-control-expose-headers").unwrap().to_lowercase();
    for h in ["etag", "location", "link", "x-request-id", "retry-after"] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
    let r = app
        .send(
            app.client
                .get(app.url("/me"))
                .bearer_auth(&app.admin_token)
                .header("Origin", "https://evil.example.com"),
        )
        .await
        .expect(200);
    assert!(r.header("access-control-allow-origin").is_none());

    // By default no origin is allowed.
    let plain = spawn_app().await;
    let r = preflight(&plain, ORIGIN).await;
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_request_id_is_carried_or_made_and_names_the_problem() {
    let app = spawn_app().await;
    let with_id = |path: &str, id: &str| app.client.get(app.url(path)).header("X-Request-Id", id.to_string());

    // A sane id is carried.
    let r = app.send(with_id("/healthz", "trace-42.a_B")).await.expect(200);
    assert_eq!(r.header("x-request-id").as_deref(), Some("trace-42.a_B"));

    // One that is not a token (too long, or with other characters) is replaced by a fresh one.
    for bad in ["a".repeat(129), "has space".into(), "semi;colon".into()] {
        let r = app.send(with_id("/healthz", &bad)).await.expect(200);
        let got = r.header("x-request-id").unwrap();
        assert_ne!(got, bad);
        assert!(uuid::Uuid::parse_str(&got).is_ok(), "{got}");
    }
    // None sent: a fresh one each time.
    let a = app.get("/healthz", None).await.header("x-request-id").unwrap();
    let b = app.get("/healthz", None).await.header("x-request-id").unwrap();
    assert_ne!(a, b);

    // Every problem names its occurrence by the same id: 401, 404 (route and resource), 405, 422, 400.
    let r = app.send(with_id("/orders", "req-401")).await;
    assert_eq!(r.problem(401)["instance"], "urn:request:req-401");
    let r = app.send(with_id("/no-such-route", "req-404")).await;
    assert_eq!(r.problem(404)["instance"], "urn:request:req-404");
    let missing = format!("/organizations/{}", uuid::Uuid::new_v4());
    let r = app
        .send(with_id(&missing, "req-404b").bearer_auth(&app.admin_token))
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("req-404b"));
    assert_eq!(r.problem(404)["instance"], "urn:request:req-404b");
    let r = app
        .send(app.client.delete(app.url("/orders")).header("X-Request-Id", "req-405"))
        .await;
    assert_eq!(r.problem(405)["instance"], "urn:request:req-405");
    let r = app
        .send(
            app.client
                .post(app.url("/organizations"))
                .bearer_auth(&app.admin_token)
                .header("X-Request-Id", "req-422")
                .json(&json!({"name": 5})),
        )
        .await;
    assert_eq!(r.problem(422)["instance"], "urn:request:req-422");
    let r = app.send(with_id("/catalog?q=%00", "req-400")).await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("req-400"));
    let p = r.json.clone();
    assert!(r.status.is_client_error());
    assert_eq!(p["instance"], "urn:request:req-400");

    // A generated id is the one in the problem.
    let r = app.get("/orders", None).await;
    let id = r.header("x-request-id").unwrap();
    assert_eq!(r.problem(401)["instance"], format!("urn:request:{id}"));
}

#[tokio::test]
async fn token_responses_are_not_stored() {
    let app = spawn_app().await;
    let r = app
        .post("/auth/login", None, json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .await
        .expect(200);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let refresh = r.json["refresh_token"].as_str().unwrap().to_string();
    let r = app
        .post("/auth/refresh", None, json!({"refresh_token": refresh}))
        .await
        .expect(200);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert!(r.header("etag").is_none());
}

/// Follows `Link: <...>; rel="next"` from `first` to the end; returns the ids seen, in order.
async fn follow(app: &TestApp, first: &str, token: Option<&str>) -> (Vec<String>, usize) {
    let mut url = app.url(first);
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let mut rb = app.client.get(&url);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        let r = app.send(rb).await.expect(200);
        pages += 1;
        for it in r.json["items"].as_array().unwrap() {
            ids.push(it["id"].as_str().unwrap().to_string());
        }
        match r.header("link") {
            Some(link) => {
                assert!(!r.json["next_cursor"].is_null());
                let target = link
                    .strip_prefix('<')
                    .and_then(|l| l.split_once(">; rel=\"next\""))
                    .map(|(u, _)| u.to_string())
                    .unwrap_or_else(|| panic!("not an RFC 8288 next link: {link}"));
                assert!(target.starts_with("/api/v1/"), "{target}");
                url = format!("{}{}", app.addr, target);
            }
            None => {
                assert!(r.json["next_cursor"].is_null(), "a next_cursor without a Link");
                return (ids, pages);
            }
        }
        assert!(pages < 50, "the links do not end");
    }
}

#[tokio::test]
async fn following_link_next_returns_every_item_once() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN).await;
    let mut made = BTreeSet::new();
    for _ in 0..7 {
        made.insert(ProductRow::certified(&sup.org_id).insert(&app).await);
    }
    // The supplier's products, two a page, the filter kept in every link.
    let (ids, pages) = follow(&app, "/products?limit=2&status=certified", sup.t()).await;
    assert_eq!(pages, 4);
    assert_eq!(ids.len(), 7);
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), made);
    // The public catalogue, three a page.
    let (ids, _) = follow(&app, "/catalog?limit=3", sup.t()).await;
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an item came twice");
    assert!(made.iter().all(|m| ids.contains(m)));
    // Organisations (admin).
    let (ids, _) = follow(&app, "/organizations?limit=1", Some(&app.admin_token)).await;
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    assert!(ids.contains(&sup.org_id));
}

async fn conditional(app: &TestApp, path: &str, token: Option<&str>) {
    let first = app.get(path, token).await.expect(200);
    let tag = first.header("etag").unwrap_or_else(|| panic!("no ETag on GET {path}"));
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    let mut rb = app.client.get(app.url(path)).header("If-None-Match", &tag);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let again = app.send(rb).await;
    assert_eq!(again.status, 304, "GET {path} with If-None-Match: {}", again.text);
    assert!(again.text.is_empty());
    assert_eq!(again.header("etag").as_deref(), Some(tag.as_str()));
    // Another tag: the full answer.
    let mut rb = app.client.get(app.url(path)).header("If-None-Match", "\"other\"");
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let other = app.send(rb).await.expect(200);
    assert_eq!(other.json, first.json);
}

#[tokio::test]
async fn single_resources_have_an_etag_and_a_repeated_read_is_304() {
    let w = world().await;
    let app = &w.app;
    let (order, so) = placed_so(&w, "20").await;
    let order_id = order["id"].as_str().unwrap();

    conditional(app, &format!("/products/{}", w.product), w.buyer.t()).await;
    conditional(app, &format!("/products/{}", w.product), w.supplier.t()).await;
    conditional(app, &format!("/orders/{order_id}"), w.buyer.t()).await;
    conditional(app, &format!("/supplier-orders/{so}"), w.supplier.t()).await;
    conditional(
        app,
        &format!("/organizations/{}", w.buyer.org_id),
        Some(&app.admin_token),
    )
    .await;
    conditional(app, "/catalog", w.buyer.t()).await;

    // A change gives a new tag, and the old one no longer answers 304.
    let before = app.get(&format!("/supplier-orders/{so}"), w.supplier.t()).await;
    let tag = before.header("etag").unwrap();
    crate::orders::act(app, &w.supplier, &so, "confirm").await.expect(200);
    let r = app
        .send(
            app.client
                .get(app.url(&format!("/supplier-orders/{so}")))
                .bearer_auth(&w.supplier.token)
                .header("If-None-Match", &tag),
        )
        .await
        .expect(200);
    assert_ne!(r.header("etag").unwrap(), tag);
}

/// A quota's `ETag` is its version (for `If-Match`), but its body holds progress figures that
/// change without a new version: its tag never answers 304, so the figures are never stale.
#[tokio::test]
async fn a_version_tag_over_derived_figures_is_not_a_304() {
    let app = spawn_app().await;
    let gov = app.create_org("government", CHANGAN).await;
    let y = chrono::Utc::now().format("%Y").to_string();
    let path = format!("/buyers/{}/quotas/{y}", gov.org_id);
    app.put(
        &path,
        gov.t(),
        json!({"food_budget": "1000.00", "reserved_share": "0.3"}),
    )
    .await
    .expect(201);
    let r = app.get(&path, gov.t()).await.expect(200);
    let tag = r.header("etag").unwrap();
    assert_eq!(tag, "\"1\"");
    let again = app
        .send(
            app.client
                .get(app.url(&path))
                .bearer_auth(&gov.token)
                .header("If-None-Match", &tag),
        )
        .await
        .expect(200);
    assert_eq!(again.json, r.json);
    // `If-Match: *` replaces whatever version is there.
    let r = app
        .send(
            app.client
                .put(app.url(&path))
                .bearer_auth(&gov.token)
                .header("If-Match", "*")
                .json(&json!({"food_budget": "2000.00", "reserved_share": "0.3"})),
        )
        .await
        .expect(200);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
}

#[tokio::test]
async fn if_match_star_matches_any_current_version() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let p = app
        .post(
            "/products",
            sup.t(),
            json!({
                "name": "Oats", "category": "grain", "unit": "kg", "price": "8.00", "min_order_qty": "5",
                "origin_region_code": YANGYUAN_VILLAGE, "description": "",
                "certificates": [{"kind": "green_food", "number": "LB-18-001", "valid_until": "2030-12-31"}],
            }),
        )
        .await
        .expect(201);
    let id = p.json["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/products/{id}"),
            sup.t(),
            json!({"name": "Naked oats"}),
            Some("*"),
        )
        .await
        .expect(200);
    assert_eq!(r.json["name"], "Naked oats");
    // A stale tag still fails.
    let stale = p.header("etag").unwrap();
    app.patch(&format!("/products/{id}"), sup.t(), json!({"name": "x"}), Some(&stale))
        .await
        .problem(412);
}

fn fill(path: &str) -> String {
    path.split('/')
        .map(|s| match s {
            "{year}" => "2026".to_string(),
            "{code}" => YANGYUAN.to_string(),
            "{category}" => "grain".to_string(),
            s if s.starts_with('{') => uuid::Uuid::new_v4().to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_405_lists_exactly_the_methods_of_its_path() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200).json;
    let all = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let has: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .filter(|m| all.contains(&m.as_str()))
            .collect();
        let url = format!("{}{}", app.addr, fill(path));
        for m in all.iter().filter(|m| !has.contains(**m)) {
            let r = app
                .send(
                    app.client
                        .request(reqwest::Method::from_bytes(m.as_bytes()).unwrap(), &url)
                        .bearer_auth(&app.admin_token)
                        .json(&json!({})),
                )
                .await;
            // A literal segment may also fit a sibling's `{id}` (GET /alerts/scan is GET
            // /alerts/{id}): only methods no sibling has are 405 here.
            if r.status == 405 {
                let allow: BTreeSet<String> = r
                    .header("allow")
                    .unwrap_or_else(|| panic!("{m} {path}: 405 without Allow"))
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect();
                assert_eq!(allow, has, "{m} {path}");
                r.problem(405);
            }
        }
        // DELETE is served only where the document says (a draft product): 405 elsewhere.
        if !has.contains("DELETE") {
            let r = app.send(app.client.delete(&url).bearer_auth(&app.admin_token)).await;
            assert_eq!(r.status, 405, "DELETE {path}");
        }
    }
    let r = app.send(app.client.put(app.url("/alerts/scan"))).await;
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    let r = app.send(app.client.put(app.url("/catalog"))).await;
    assert_eq!(r.header("allow").as_deref(), Some("GET"));
    let r = app
        .send(app.client.request(reqwest::Method::OPTIONS, app.url("/products")))
        .await;
    assert_eq!(r.status, 405);
    let allow: BTreeSet<_> = r.header("allow").unwrap().split(", ").map(str::to_string).collect();
    assert_eq!(allow, BTreeSet::from(["GET".to_string(), "POST".to_string()]));
}

/// The login route tells its failed-login allowances (draft-ietf-httpapi-ratelimit-headers-09):
/// the policy, and what is left of it after each failure, down to the 429.
#[tokio::test]
async fn login_tells_its_rate_limits() {
    let app = spawn_app_with(|s| {
        s.login_max_failures_per_account = 3;
        s.login_max_failures_per_ip = 50;
        s.login_window_secs = 600;
    })
    .await;
    let login = |password: &str| {
        app.client
            .post(app.url("/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": password}))
    };
    let ok = app.send(login(PASSWORD)).await.expect(200);
    assert_eq!(
        ok.header("ratelimit-policy").as_deref(),
        Some("\"account\";q=3;w=600, \"address\";q=50;w=600")
    );
    let rl = ok.header("ratelimit").unwrap();
    assert!(rl.starts_with("\"account\";r=3;t="), "{rl}");
    let wrong = app.send(login("wrong-password-1")).await;
    let rl = wrong.header("ratelimit").unwrap();
    assert!(rl.starts_with("\"account\";r=2;t="), "{rl}");
    assert!(rl.contains("\"address\";r=49;t="), "{rl}");
    wrong.problem(401);
    app.send(login("wrong-password-2")).await.problem(401);
    app.send(login("wrong-password-3")).await.problem(401);
    let limited = app.send(login(PASSWORD)).await;
    let rl = limited.header("ratelimit").unwrap();
    assert!(rl.starts_with("\"account\";r=0;t="), "{rl}");
    assert!(limited.header("retry-after").is_some());
    limited.problem(429);
}

/// A query string that is not well-formed is a 400 problem naming the parameter; a value of the
/// wrong shape stays a 422 naming it.
#[tokio::test]
async fn a_malformed_query_is_400_naming_the_parameter() {
    let app = spawn_app().await;
    for (qs, name) in [
        ("q=%ZZ", "q"),
        ("limit=2&q=a%2", "q"),
        ("q=%FF", "q"),
        ("li%zzmit=3", "li%zzmit"),
    ] {
        let p = app.get(&format!("/catalog?{qs}"), None).await.problem(400);
        assert!(
            p["detail"].as_str().unwrap().contains(&format!("`{name}`")),
            "{qs}: {p}"
        );
        assert!(p["instance"].is_string());
    }
    let r = app.get("/catalog?limit=abc", None).await;
    assert_eq!(r.fields(), ["limit"]);
    r.problem(400);
    app.get("/catalog?q=%E5%B0%8F%E7%B1%B3+x", None).await.expect(200);
}

/// Authorise, then validate, for the lists any signed-in caller may read: a malformed query
/// from a revoked session or a suspended organisation is 401/403, never the 400 that would
/// tell it the route's parameters (the session's check is a database read, the query's is not).
#[tokio::test]
async fn a_refused_caller_learns_nothing_from_a_malformed_query() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let paths = [
        "/ledger?limit=abc",
        "/alerts?limit=abc",
        "/organizations?limit=abc",
        "/pairings?limit=abc",
        "/reports/summary?year=abc",
    ];
    for p in paths {
        app.get(p, buyer.t()).await.problem(400);
    }
    app.post(
        &format!("/organizations/{}/suspend", buyer.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .expect(200);
    for p in paths {
        app.get(p, buyer.t()).await.problem(403);
    }
    let other = app.create_org("canteen", CHANGAN).await;
    app.post("/auth/logout", other.t(), json!({})).await.expect(204);
    for p in paths {
        app.get(p, other.t()).await.problem(401);
    }
}
