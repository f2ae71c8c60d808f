//! Authorise, then validate: every operation of the served OpenAPI document × every
//! role, each write sent with an empty, a malformed, a wrong-typed and a non-JSON body. No answer
//! is ever a 5xx, and a caller who may not call a route is told so (401/403/404)
//! whatever the body: it never learns the body's shape (no 400/415/422/428).
use crate::helpers::*;
use crate::orders::{new_key, order_body, place, product};
use serde_json::{json, Value};

/// The callers: every role, and for org-owned resources the owning supplier and buyer
/// (`supplier`, `buyer`) and another organisation's (`supplier2`, `buyer2`); `certifier` is
/// the office of the products' county, `certifier2` another county's; `supervisor` is the finance
/// office of the buyers' county, `supervisor2` another county's.
const CALLERS: [&str; 11] = [
    "anon",
    "admin",
    "certifier",
    "supplier",
    "buyer",
    "evaluator",
    "certifier2",
    "supplier2",
    "buyer2",
    "supervisor",
    "supervisor2",
];

/// Who may call each write operation on the fixture's resources (all of `supplier` and
/// `buyer`'s organisations; the certifier is the office of the products' county). A caller
/// not listed must get 401/403/404. `None`: the operation is not in the table, which fails
/// the test so that a new route is classified when it is added.
fn may_call(method: &str, path: &str) -> Option<&'static [&'static str]> {
    const ANY: &[&str] = &[
        "admin",
        "certifier",
        "supplier",
        "buyer",
        "evaluator",
        "certifier2",
        "supplier2",
        "buyer2",
        "supervisor",
        "supervisor2",
    ];
    const ADMIN: &[&str] = &["admin"];
    const SUPPLIER: &[&str] = &["supplier"];
    const BUYER: &[&str] = &["buyer"];
    const SUPPLIERS: &[&str] = &["supplier", "supplier2"];
    const BUYERS: &[&str] = &["buyer", "buyer2"];
    const CERTIFIER: &[&str] = &["certifier"];
    const NOBODY: &[&str] = &[];
    let p = path.trim_start_matches("/api/v1");
    Some(match (method, p) {
        ("POST", "/auth/login" | "/auth/refresh") => &CALLERS,
        ("POST", "/auth/logout") => ANY,
        ("POST", "/admin/outbox/{id}/retry") => ADMIN,
        ("POST", "/agreements") => BUYERS,
        ("POST", "/agreements/run") => ADMIN,
        ("POST", "/agreements/{id}/approve") => SUPPLIER,
        ("POST", "/agreements/{id}/cancel") => &["supplier", "buyer"],
        ("PUT", "/alert-rules/{category}") => ADMIN,
        ("PUT", "/categories/{code}") => ADMIN,
        ("PUT", "/products/{id}/compliance-requirement") => CERTIFIER,
        ("PUT", "/lots/{id}/compliance-certificate") => SUPPLIER,
        ("POST", "/alerts/scan") => ADMIN,
        ("POST", "/alerts/{id}/acknowledge" | "/alerts/{id}/resolve") => &["admin", "certifier"],
        // Matched buyers only; which buyers are matched is the matching rule's business.
        ("POST", "/alerts/{id}/pledges") => BUYERS,
        ("PUT", "/buyers/{org_id}/quotas/{year}") => &["admin", "buyer"],
        ("PUT", "/buyers/{org_id}/plans/{year}" | "/buyers/{org_id}/plans/{year}/file") => BUYER,
        ("POST", "/buyers/{org_id}/plans/{year}/file") => BUYER,
        ("POST", "/buyers/{org_id}/plans/{year}/approve" | "/buyers/{org_id}/plans/{year}/return") => &["supervisor"],
        ("PUT", "/plan-settings/{year}") => ADMIN,
        ("POST", "/supervision/notices/run") => ADMIN,
        ("POST", "/supervision/corrections") => &["supervisor", "supervisor2"],
        ("POST", "/flags/scan") => ADMIN,
        // A flag id that does not exist: nobody may act on it.
        ("POST", "/flags/{id}/dismiss" | "/flags/{id}/confirm") => NOBODY,
        ("POST", "/orders") => BUYERS,
        ("POST", "/organizations") => ADMIN,
        ("POST", "/organizations/{id}/reinstate" | "/organizations/{id}/suspend") => ADMIN,
        ("PATCH", "/organizations/{id}") => ADMIN,
        ("POST", "/organizations/{id}/users" | "/organizations/{id}/users/{user_id}/deactivate") => ADMIN,
        ("POST", "/pairings") => ADMIN,
        ("POST", "/pairings/{id}/reconciliations") => &["admin", "buyer", "certifier"],
        ("POST", "/products") => SUPPLIERS,
        ("PATCH", "/products/{id}") => SUPPLIER,
        // Its supplier; the fixture's product is certified, so even it gets 409/428, never a delete.
        ("DELETE", "/products/{id}") => SUPPLIER,
        ("POST", "/products/{id}/certify" | "/products/{id}/reject" | "/products/{id}/revoke") => CERTIFIER,
        (
            "POST",
            "/products/{id}/lots"
            | "/products/{id}/stock-adjustments"
            | "/products/{id}/submit"
            | "/products/{id}/unsold-reports",
        ) => SUPPLIER,
        ("PUT", "/quota-floors/{year}") => ADMIN,
        // A statement id that does not exist: nobody may act on it.
        ("POST", "/reconciliations/{id}/confirm") => NOBODY,
        ("PUT", "/regions/{code}") => ADMIN,
        ("POST", "/suppliers/{id}/documents") => &["admin", "supplier"],
        ("POST", "/supplier-orders/{id}/invoices") => SUPPLIER,
        ("POST", "/supplier-orders/{id}/payments") => BUYER,
        (
            "POST",
            "/supplier-orders/{id}/accept"
            | "/supplier-orders/{id}/cancel"
            | "/supplier-orders/{id}/rating"
            | "/supplier-orders/{id}/returns",
        ) => BUYER,
        (
            "POST",
            "/supplier-orders/{id}/confirm"
            | "/supplier-orders/{id}/deliver"
            | "/supplier-orders/{id}/reject"
            | "/supplier-orders/{id}/ship",
        ) => SUPPLIER,
        _ => return None,
    })
}

struct Fixture {
    tokens: Vec<(&'static str, Option<String>)>,
    ids: Vec<(&'static str, String)>,
}

impl Fixture {
    fn token(&self, who: &str) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(n, _)| *n == who)
            .and_then(|(_, t)| t.as_deref())
    }

    /// The path with its parameters filled: real ids of the fixture's organisations where there
    /// is one, else a random UUID.
    fn fill(&self, path: &str) -> String {
        let p = path.trim_start_matches("/api/v1");
        let mut out = String::new();
        let mut prefix = String::new();
        for seg in p.split('/').filter(|s| !s.is_empty()) {
            out.push('/');
            if seg.starts_with('{') {
                let key = format!("{prefix}/{seg}");
                let v = self
                    .ids
                    .iter()
                    .find(|(k, _)| *k == key || *k == seg)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                out.push_str(&v);
            } else {
                out.push_str(seg);
                prefix = format!("/{seg}");
            }
        }
        out
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let certifier2 = app.create_org("county_office", PINGQUAN).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let supervisor = app.create_org("finance_office", CHANGAN).await;
    let supervisor2 = app.create_org("finance_office", YANGYUAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier2 = app.create_org("cooperative", PINGQUAN).await;
    let buyer2 = app.create_org("school", CHANGAN).await;
    // An organisation only the admin's suspend/reinstate act on.
    let bystander = app.create_org("hospital", SHUNPING).await;

    let p = product(app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    let order = place(app, &buyer, order_body(&[(&p, "10")]), &new_key())
        .await
        .expect(201);
    let so = order.json["supplier_orders"][0]["id"].as_str().expect("so").to_string();
    let order_id = order.json["id"].as_str().expect("order").to_string();
    app.post(
        &format!("/products/{p}/unsold-reports"),
        supplier.t(),
        json!({"quantity": "500", "note": "the cold store is full"}),
    )
    .await
    .expect(201);
    app.post("/alerts/scan", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    let alerts = app.get("/alerts?limit=200", Some(&app.admin_token)).await.expect(200);
    let alert = alerts.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["product_id"] == p.as_str()))
        .and_then(|a| a["id"].as_str())
        .expect("alert")
        .to_string();
    let year = chrono::Datelike::year(&chrono::Utc::now().date_naive());
    let pairing = app
        .post(
            "/pairings",
            Some(&app.admin_token),
            json!({"kind": "east_west", "helper_org_id": buyer.org_id, "helped_region_code": YANGYUAN,
                   "year": year, "purchase_target": "1000.00", "helped_sale_target": "500.00"}),
        )
        .await
        .expect(201);
    let today = chrono::Utc::now().date_naive();
    let agreement = app
        .post(
            "/agreements",
            buyer.t(),
            json!({"supplier_org_id": supplier.org_id, "lines": [{"product_id": p, "quantity": "10"}],
                   "every": "month", "starts_on": today.to_string(),
                   "ends_on": (today + chrono::Duration::days(90)).to_string()}),
        )
        .await
        .expect(201);
    let id = |v: &Value| v["id"].as_str().expect("id").to_string();
    let lots = app.get(&format!("/products/{p}/lots"), supplier.t()).await.expect(200);
    let lot = id(&lots.json["items"][0]);
    let bystander_me = app.get("/me", bystander.t()).await.expect(200).json;
    Fixture {
        tokens: vec![
            ("anon", None),
            ("admin", Some(app.admin_token.clone())),
            ("certifier", Some(certifier.token)),
            ("supplier", Some(supplier.token)),
            ("buyer", Some(buyer.token)),
            ("evaluator", Some(evaluator.token)),
            ("certifier2", Some(certifier2.token)),
            ("supplier2", Some(supplier2.token)),
            ("buyer2", Some(buyer2.token)),
            ("supervisor", Some(supervisor.token)),
            ("supervisor2", Some(supervisor2.token)),
        ],
        ids: vec![
            ("/products/{id}", p),
            ("/supplier-orders/{id}", so),
            ("/orders/{id}", order_id),
            ("/alerts/{id}", alert),
            ("/pairings/{id}", id(&pairing.json)),
            ("/agreements/{id}", id(&agreement.json)),
            ("/organizations/{id}", bystander.org_id),
            ("/users/{user_id}", id(&bystander_me["user"])),
            ("/buyers/{org_id}", buyer.org_id),
            ("/regions/{code}", YANGYUAN.to_string()),
            ("/alert-rules/{category}", "fruit".to_string()),
            ("/categories/{code}", "fruit".to_string()),
            ("/lots/{id}", lot),
            ("{year}", year.to_string()),
            ("/suppliers/{id}", supplier.org_id),
            ("/entries/{seq}", "1".to_string()),
        ],
    }
}

/// (method, path template) of every operation the server documents.
async fn operations(app: &TestApp) -> Vec<(String, String)> {
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200).json;
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    // Logging out revokes the caller's token: it goes last.
    ops.sort_by_key(|(m, p)| (p.ends_with("/auth/logout"), m != "GET"));
    ops
}

/// (content type, body): malformed JSON, JSON of the wrong type, JSON sent as text, and an
/// empty object (last: logging out with it revokes the token).
const BODIES: [(&str, &str); 4] = [
    ("application/json", "{\"x\":"),
    ("application/json", "[1, \"two\"]"),
    ("text/plain", "[true]"),
    ("application/json", "{}"),
];

/// Parameters of the wrong shape for every list and report.
const BAD_QUERY: &str = "?limit=abc&cursor=%ZZ&status=nope&year=x&group_by=nope&format=nope&category=nope&from=x";

fn refused(status: u16) -> bool {
    matches!(status, 401 | 403 | 404)
}

#[tokio::test]
async fn a_caller_who_may_not_call_a_route_is_refused_whatever_the_body() {
    let app = spawn_app().await;
    let fx = fixture(&app).await;
    let ops = operations(&app).await;
    assert!(ops.len() > 60, "too few operations in the document: {}", ops.len());
    let mut failures = Vec::new();
    for (method, template) in &ops {
        let url = app.url(&fx.fill(template));
        if method == "GET" {
            // A read: refused without a query, refused with a malformed one too.
            for who in CALLERS {
                let mut statuses = Vec::new();
                for query in ["", BAD_QUERY] {
                    let mut rb = app.client.get(format!("{url}{query}"));
                    if let Some(t) = fx.token(who) {
                        rb = rb.bearer_auth(t);
                    }
                    let r = app.send(rb).await;
                    if r.status.is_server_error() {
                        failures.push(format!("{who} GET {template}{query}: {} {}", r.status, r.text));
                    }
                    statuses.push(r.status.as_u16());
                }
                if refused(statuses[0]) && !refused(statuses[1]) {
                    failures.push(format!(
                        "{who} GET {template}: {statuses:?} without and with a malformed query"
                    ));
                }
            }
            continue;
        }
        let Some(allowed) = may_call(method, template) else {
            failures.push(format!("{method} {template} is not in the authorisation table"));
            continue;
        };
        for who in CALLERS {
            let mut statuses = Vec::new();
            for (content_type, body) in BODIES {
                let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
                let mut rb = app
                    .client
                    .request(m, &url)
                    .header("Content-Type", content_type)
                    .body(body);
                if let Some(t) = fx.token(who) {
                    rb = rb.bearer_auth(t);
                }
                let r = app.send(rb).await;
                let s = r.status.as_u16();
                if r.status.is_server_error() {
                    failures.push(format!("{who} {method} {template} {body}: {s} {}", r.text));
                }
                statuses.push(s);
            }
            let may = allowed.contains(&who);
            // Refused with one body: refused with every body.
            let some_refused = statuses.iter().any(|s| refused(*s));
            if (!may || some_refused) && !statuses.iter().all(|s| refused(*s)) {
                failures.push(format!("{who} {method} {template}: {statuses:?} (may call: {may})"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The house rule behind the matrix: a handler that has a caller to authorise takes its body
/// as `Guarded<T>` (opened once the caller is authorised), never as an eagerly parsed `Body<T>`.
#[test]
fn handlers_with_a_caller_take_a_guarded_body() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(dir).expect("routes") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("source");
        for handler in text.split("pub async fn ").skip(1) {
            let signature = handler.split(") ->").next().unwrap_or_default();
            if signature.contains("Caller") && signature.contains("Body<") {
                let name = signature.split('(').next().unwrap_or_default();
                offenders.push(format!("{}: {name}", path.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "parse the body after authorising: {offenders:?}");
}
