//! Standing agreements: proposal, approval, the generator (once per period), shortfalls.
use crate::helpers::*;
use crate::orders::*;
use assist_market::services::agreements;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

pub fn agreement_body(supplier: &str, product: &str, qty: &str, every: &str) -> Value {
    let today = chrono::Utc::now().date_naive();
    json!({
        "supplier_org_id": supplier,
        "lines": [{"product_id": product, "quantity": qty}],
        "every": every,
        "starts_on": today.to_string(),
        "ends_on": (today + chrono::Duration::days(90)).to_string(),
    })
}

async fn active_agreement(w: &World, qty: &str) -> String {
    let r = w
        .app
        .post(
            "/agreements",
            w.buyer.t(),
            agreement_body(&w.supplier.org_id, &w.product, qty, "month"),
        )
        .await
        .expect(201);
    assert_eq!(r.json["status"], "proposed");
    let id = r.json["id"].as_str().unwrap().to_string();
    let r = w
        .app
        .post(&format!("/agreements/{id}/approve"), w.supplier.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "active");
    id
}

#[tokio::test]
async fn generator_places_each_period_once() {
    let w = world().await;
    let app = &w.app;
    let id = active_agreement(&w, "50").await;
    let r = app
        .post("/agreements/run", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["placed"], 1);
    let r = app
        .post("/agreements/run", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["placed"], 0);
    assert_eq!(count(app, "orders").await, 1);
    let a = app.get(&format!("/agreements/{id}"), w.buyer.t()).await.expect(200);
    let runs = a.json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "placed");
    assert_eq!(runs[0]["period"], chrono::Utc::now().date_naive().to_string());
    let oid = runs[0]["order_id"].as_str().unwrap();
    let o = app.get(&format!("/orders/{oid}"), w.buyer.t()).await.expect(200);
    assert_eq!(o.json["supplier_orders"][0]["lines"][0]["quantity"], "50");
    assert_eq!(stock_of(app, &w.product).await.reserved_milli, 50_000);
    // The supplier is told of the new order.
    assert!(!app.wait_for_emails(&w.supplier.contact_email, 2, 10).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_generators_at_once_place_one_order() {
    let w = world().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(active_agreement(&w, "20").await);
    }
    let s1 = w.app.state.clone();
    let s2 = w.app.state.clone();
    let s3 = w.app.state.clone();
    let (a, b, c) = tokio::join!(
        tokio::spawn(async move { agreements::run_due(&s1).await }),
        tokio::spawn(async move { agreements::run_due(&s2).await }),
        tokio::spawn(async move { agreements::run_due(&s3).await }),
    );
    let placed = a.unwrap().unwrap().placed + b.unwrap().unwrap().placed + c.unwrap().unwrap().placed;
    assert_eq!(placed, 3);
    assert_eq!(count(&w.app, "orders").await, 3);
    assert_eq!(count(&w.app, "agreement_runs").await, 3);
    assert_eq!(stock_of(&w.app, &w.product).await.reserved_milli, 60_000);

    // A second instance on the same database changes nothing.
    let other = spawn_app_with(|s| s.database_url = Some(w.app.database_url.clone().into())).await;
    let sum = agreements::run_due(&other.state).await.unwrap();
    assert_eq!(sum.placed, 0);
    assert_eq!(count(&w.app, "orders").await, 3);
    // Two instances generating at the same moment place a new period's order once.
    active_agreement(&w, "20").await;
    let (a, b) = tokio::join!(agreements::run_due(&w.app.state), agreements::run_due(&other.state));
    assert_eq!(a.unwrap().placed + b.unwrap().placed, 1);
    assert_eq!(count(&w.app, "orders").await, 4);
    assert_eq!(count(&w.app, "agreement_runs").await, 4);
}

#[tokio::test]
async fn short_stock_records_a_shortfall_and_tells_the_buyer() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let product = product(&app, &supplier.org_id, 100, 1_000, 30_000).await;
    let w = World {
        app,
        buyer,
        supplier,
        product,
    };
    let id = active_agreement(&w, "50").await;
    let r = w
        .app
        .post("/agreements/run", Some(&w.app.admin_token), json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["shortfalls"], 1);
    assert_eq!(r.json["placed"], 0);
    let r = w
        .app
        .post("/agreements/run", Some(&w.app.admin_token), json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["shortfalls"], 0);
    assert_eq!(count(&w.app, "orders").await, 0);
    assert_eq!(stock_of(&w.app, &w.product).await.reserved_milli, 0);
    let a = w.app.get(&format!("/agreements/{id}"), w.buyer.t()).await.expect(200);
    assert_eq!(a.json["runs"][0]["status"], "shortfall");
    assert_eq!(a.json["runs"][0]["shortfall"][0]["field"], "lines[0].quantity");
    let mails = w.app.wait_for_emails(&w.buyer.contact_email, 2, 10).await;
    let shortfalls = mails.iter().filter(|m| m.contains("Shortfall")).count();
    assert_eq!(shortfalls, 1, "{mails:?}");
}

#[tokio::test]
async fn agreement_roles_validation_and_states() {
    let w = world().await;
    let app = &w.app;
    let other_supplier = app.create_org("cooperative", YANGYUAN).await;
    let other_buyer = app.create_org("canteen", CHANGAN).await;
    let body = agreement_body(&w.supplier.org_id, &w.product, "50", "week");
    app.post("/agreements", w.supplier.t(), body.clone()).await.problem(403);
    app.post("/agreements", None, body.clone()).await.problem(401);

    let mut b = body.clone();
    b["every"] = json!("day");
    assert_eq!(app.post("/agreements", w.buyer.t(), b).await.fields(), vec!["every"]);
    let mut b = body.clone();
    b["supplier_org_id"] = json!(other_buyer.org_id);
    let f = app.post("/agreements", w.buyer.t(), b).await.fields();
    assert!(f.contains(&"supplier_org_id".to_string()), "{f:?}");
    let mut b = body.clone();
    b["supplier_org_id"] = json!(other_supplier.org_id);
    assert_eq!(
        app.post("/agreements", w.buyer.t(), b).await.fields(),
        vec!["lines[0].product_id"]
    );
    let mut b = body.clone();
    b["lines"][0]["quantity"] = json!("5");
    assert_eq!(
        app.post("/agreements", w.buyer.t(), b).await.fields(),
        vec!["lines[0].quantity"]
    );
    let mut b = body.clone();
    b["ends_on"] = json!("2000-01-01");
    assert!(app
        .post("/agreements", w.buyer.t(), b)
        .await
        .fields()
        .contains(&"ends_on".to_string()));
    let mut b = body.clone();
    b["starts_on"] = json!("2000-01-01");
    assert!(app
        .post("/agreements", w.buyer.t(), b)
        .await
        .fields()
        .contains(&"starts_on".to_string()));
    let mut b = body.clone();
    b["credit_category"] = json!("gift");
    assert_eq!(
        app.post("/agreements", w.buyer.t(), b).await.fields(),
        vec!["credit_category"]
    );
    assert_eq!(count(app, "agreements").await, 0);

    let r = app.post("/agreements", w.buyer.t(), body.clone()).await.expect(201);
    let id = r.json["id"].as_str().unwrap().to_string();
    // A proposed agreement places nothing.
    let s = app
        .post("/agreements/run", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    assert_eq!(s.json["placed"], 0);
    app.post("/agreements/run", w.buyer.t(), json!({})).await.problem(403);
    // Approval: only the supplier of the agreement.
    app.post(&format!("/agreements/{id}/approve"), w.buyer.t(), json!({}))
        .await
        .problem(403);
    app.post(&format!("/agreements/{id}/approve"), other_supplier.t(), json!({}))
        .await
        .problem(404);
    app.get(&format!("/agreements/{id}"), other_buyer.t())
        .await
        .problem(404);
    app.get(&format!("/agreements/{id}"), other_supplier.t())
        .await
        .problem(404);
    app.get(&format!("/agreements/{id}"), w.supplier.t()).await.expect(200);
    app.post(&format!("/agreements/{id}/approve"), w.supplier.t(), json!({}))
        .await
        .expect(200);
    app.post(&format!("/agreements/{id}/approve"), w.supplier.t(), json!({}))
        .await
        .problem(409);
    let n = |r: Resp| r.json["items"].as_array().unwrap().len();
    assert_eq!(n(app.get("/agreements", w.buyer.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/agreements", w.supplier.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/agreements", other_buyer.t()).await.expect(200)), 0);
    assert_eq!(
        n(app
            .get("/agreements?status=active", Some(&app.admin_token))
            .await
            .expect(200)),
        1
    );
    // Cancel stops the generator.
    app.post(&format!("/agreements/{id}/cancel"), other_buyer.t(), json!({}))
        .await
        .problem(404);
    app.post(&format!("/agreements/{id}/cancel"), w.buyer.t(), json!({}))
        .await
        .expect(200);
    app.post(&format!("/agreements/{id}/cancel"), w.buyer.t(), json!({}))
        .await
        .problem(409);
    let s = app
        .post("/agreements/run", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    assert_eq!(s.json["placed"], 0);
    assert_eq!(count(app, "orders").await, 0);
}

#[test]
fn periods_step_by_week_and_month() {
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut a = entity::agreements::Model {
        id: "a".into(),
        buyer_org_id: "b".into(),
        supplier_org_id: "s".into(),
        lines: "[]".into(),
        every: "month".into(),
        starts_on: d("2026-01-31"),
        ends_on: d("2026-05-15"),
        credit_category: "purchase".into(),
        pairing_id: None,
        deliver_to: "x".into(),
        status: "active".into(),
        created_by: None,
        approved_by: None,
        approved_at: None,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    };
    let p = agreements::due_periods(&a, d("2026-12-31"));
    assert_eq!(
        p,
        vec![d("2026-01-31"), d("2026-02-28"), d("2026-03-31"), d("2026-04-30")]
    );
    a.every = "week".into();
    a.ends_on = d("2026-02-20");
    let p = agreements::due_periods(&a, d("2026-02-14"));
    assert_eq!(p, vec![d("2026-01-31"), d("2026-02-07"), d("2026-02-14")]);
    // Approved on 10 February: the week that ended before it is not placed.
    let approved = assist_market::services::clock::start_of(d("2026-02-10")).unwrap();
    a.approved_at = Some(approved + chrono::Duration::hours(12));
    let p = agreements::due_periods(&a, d("2026-02-14"));
    assert_eq!(p, vec![d("2026-02-07"), d("2026-02-14")]);
}

#[tokio::test]
async fn the_scheduled_job_places_due_orders_by_itself() {
    let app = spawn_app_with(|s| s.agreement_interval_secs = 1).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let product = product(&app, &supplier.org_id, 100, 1_000, 100_000).await;
    let w = World {
        app,
        buyer,
        supplier,
        product,
    };
    active_agreement(&w, "10").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while count(&w.app, "orders").await == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(count(&w.app, "orders").await, 1);
    assert_eq!(count(&w.app, "agreement_runs").await, 1);
}

#[tokio::test]
async fn a_run_whose_order_fails_leaves_no_order_and_no_placed_run() {
    let w = world().await;
    let app = &w.app;
    let id = active_agreement(&w, "50").await;
    // The product is revoked after approval: the period's order cannot be placed.
    app.db()
        .execute_unprepared(&format!(
            "UPDATE products SET status = 'revoked' WHERE id = '{}'",
            w.product
        ))
        .await
        .unwrap();
    let r = app
        .post("/agreements/run", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    assert_eq!(
        (r.json["placed"].clone(), r.json["shortfalls"].clone()),
        (json!(0), json!(1))
    );
    for t in ["orders", "supplier_orders", "order_lines", "idempotency_keys"] {
        assert_eq!(count(app, t).await, 0, "{t}");
    }
    assert_eq!(stock_of(app, &w.product).await.reserved_milli, 0);
    let a = app.get(&format!("/agreements/{id}"), w.buyer.t()).await.expect(200);
    let runs = a.json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "shortfall");
    assert_eq!(runs[0]["order_id"], Value::Null);
    assert_eq!(runs[0]["shortfall"][0]["field"], "lines[0].product_id");
    // Malformed ids and vocabularies at the edge.
    app.get("/agreements/not-a-uuid", w.buyer.t()).await.problem(404);
    app.get("/agreements?status=paused", w.buyer.t()).await.problem(400);
}
