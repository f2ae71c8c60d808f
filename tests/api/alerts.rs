//! Unsold-produce alerts: rules, signals, the scan, matching, notification, response.
//!
//! Products, lots and sales are fixtures written straight into the database
//! (products and orders are built elsewhere): certified products with lots, and
//! sales as ledger credit entries with an explicit `occurred_at` (a test-only
//! insert, so that "sold 10 days ago" is possible; the hash chain is not the
//! subject here).
use crate::helpers::*;
use chrono::{Datelike, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

/// A certified product of `supplier` from YANGYUAN with one lot of `stock` units
/// (best-before in `bb_days`), certified `listed_days_ago` days ago.
pub async fn product(
    app: &TestApp,
    supplier: &str,
    category: &str,
    stock: i64,
    bb_days: i64,
    listed_days_ago: i64,
) -> String {
    let id = ProductRow {
        name: format!("{category} {}", unique()),
        category,
        certified_days_ago: Some(listed_days_ago),
        poor_households_linked: 3,
        ..ProductRow::certified(supplier)
    }
    .insert(app)
    .await;
    lot(app, &id, stock, bb_days).await;
    id
}

async fn lot(app: &TestApp, product_id: &str, units: i64, bb_days: i64) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    entity::lots::ActiveModel {
        id: Set(id.clone()),
        product_id: Set(product_id.to_string()),
        quantity_milli: Set(units * 1000),
        remaining_milli: Set(units * 1000),
        harvested_on: Set(Some(today() - Duration::days(1))),
        best_before: Set(today() + Duration::days(bb_days)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    id
}

/// A sale of `units` of `product_id` to `buyer`, `days_ago` days ago (a ledger credit): its id.
pub async fn sale(app: &TestApp, product_id: &str, buyer: &str, units: i64, days_ago: i64) -> String {
    let p = entity::products::Entity::find_by_id(product_id.to_string())
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let at = Utc::now() - Duration::days(days_ago) - Duration::minutes(5);
    let id = uuid::Uuid::now_v7().to_string();
    entity::ledger_entries::ActiveModel {
        id: Set(id.clone()),
        occurred_at: Set(at),
        year: Set(at.year()),
        month: Set(at.month() as i32),
        buyer_org_id: Set(buyer.to_string()),
        supplier_org_id: Set(p.supplier_org_id.clone()),
        product_id: Set(p.id.clone()),
        category: Set(p.category.clone()),
        supplier_order_id: Set("so-fixture".into()),
        order_line_id: Set(uuid::Uuid::now_v7().to_string()),
        origin_region_code: Set(p.origin_region_code.clone()),
        origin_county_code: Set(p.origin_county_code.clone()),
        origin_poverty_status: Set("deep_poverty".into()),
        quantity_milli: Set(units * 1000),
        amount_fen: Set(units * p.price_fen),
        kind: Set("credit".into()),
        credit_category: Set("purchase".into()),
        pairing_id: Set(None),
        credited_pairing_id: Set(None),
        leaf_version: Set(1),
        leaf_hash: Set("00".repeat(32)),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    id
}

pub async fn scan(app: &TestApp) -> Value {
    app.post("/alerts/scan", Some(&app.admin_token), json!({}))
        .await
        .expect(200)
        .json
}

/// The open (or acknowledged) alert of a product, if any, as the admin sees it.
pub async fn alert_of(app: &TestApp, product_id: &str) -> Option<Value> {
    let r = app.get("/alerts?limit=200", Some(&app.admin_token)).await.expect(200);
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["product_id"] == product_id && a["status"] != "resolved")
        .cloned()
}

fn codes(a: &Value) -> Vec<String> {
    a["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn outbox_count(app: &TestApp, to: &str) -> u64 {
    entity::outbox::Entity::find()
        .filter(entity::outbox::Column::ToAddr.eq(to.to_string()))
        .count(app.db())
        .await
        .unwrap()
}

/// A product selling 1 unit a day for the last 28 days (last sale 2 days ago), with `stock` units.
pub async fn selling_product(app: &TestApp, supplier: &str, buyer: &str, stock: i64) -> String {
    let p = product(app, supplier, "vegetables", stock, 60, 90).await;
    sale(app, &p, buyer, 14, 20).await;
    sale(app, &p, buyer, 14, 2).await;
    p
}

#[tokio::test]
async fn rules_have_defaults_and_refuse_invalid_values() {
    let app = spawn_app().await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let r = app.get("/alert-rules", supplier.t()).await.expect(200);
    let items = r.json["items"].as_array().unwrap();
    for c in [
        "vegetables",
        "fruit",
        "edible_fungi",
        "meat",
        "eggs",
        "dairy",
        "aquatic",
        "grain",
        "oils",
        "tea",
        "herbs",
        "processed_food",
        "handicrafts",
    ] {
        assert!(items.iter().any(|i| i["category"] == c), "no default rule for {c}");
    }
    let veg = items.iter().find(|i| i["category"] == "vegetables").unwrap();
    let grain = items.iter().find(|i| i["category"] == "grain").unwrap();
    assert!(
        veg["red_days"].as_i64() < grain["red_days"].as_i64(),
        "perishables have shorter windows"
    );

    let good =
        json!({"yellow_days": 5, "orange_days": 10, "red_days": 15, "no_sales_days": 4, "expiry_window_days": 3});
    // Replacing a rule names its version: 428 without it, 412 when stale.
    app.put("/alert-rules/fruit", Some(&app.admin_token), good.clone())
        .await
        .problem(428);
    app.put_if("/alert-rules/fruit", Some(&app.admin_token), good.clone(), "\"7\"")
        .await
        .problem(412);
    let r = app
        .put_if("/alert-rules/fruit", Some(&app.admin_token), good.clone(), "\"1\"")
        .await
        .expect(200);
    assert_eq!(r.json["red_days"], 15);
    assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
    app.put_if("/alert-rules/fruit", Some(&app.admin_token), good.clone(), "\"1\"")
        .await
        .problem(412);
    let r = app.get("/alert-rules", Some(&app.admin_token)).await.expect(200);
    let fruit = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["category"] == "fruit")
        .unwrap()
        .clone();
    assert_eq!(fruit["yellow_days"], 5);

    // Out of order (red below orange below yellow), negative, unknown category, wrong shape.
    let p = app
        .put(
            "/alert-rules/fruit",
            Some(&app.admin_token),
            json!({"yellow_days": 30, "orange_days": 20, "red_days": 10, "no_sales_days": 4, "expiry_window_days": 3}),
        )
        .await;
    let fields = p.fields();
    p.problem(422);
    assert!(
        fields.contains(&"orange_days".to_string()) && fields.contains(&"red_days".to_string()),
        "{fields:?}"
    );
    let p = app
        .put(
            "/alert-rules/fruit",
            Some(&app.admin_token),
            json!({"yellow_days": 5, "orange_days": 10, "red_days": 15, "no_sales_days": -1, "expiry_window_days": -2}),
        )
        .await;
    let fields = p.fields();
    p.problem(422);
    assert!(fields.contains(&"no_sales_days".to_string()) && fields.contains(&"expiry_window_days".to_string()));
    // An unknown category is no resource: 404, before the body is read.
    app.put(
        "/alert-rules/spaceships",
        Some(&app.admin_token),
        json!({"yellow_days": "x"}),
    )
    .await
    .problem(404);
    let p = app
        .put(
            "/alert-rules/fruit",
            Some(&app.admin_token),
            json!({"yellow_days": "x"}),
        )
        .await;
    p.problem(422);
    // Nothing was written by the refused requests.
    let r = app.get("/alert-rules", Some(&app.admin_token)).await.expect(200);
    let fruit2 = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["category"] == "fruit")
        .unwrap()
        .clone();
    assert_eq!(fruit, fruit2);
    // Only the admin edits rules.
    app.put("/alert-rules/fruit", supplier.t(), good.clone())
        .await
        .problem(403);
    app.put("/alert-rules/fruit", certifier.t(), good.clone())
        .await
        .problem(403);
    app.put("/alert-rules/fruit", None, good).await.problem(401);
    app.get("/alert-rules", None).await.problem(401);
}

#[tokio::test]
async fn days_of_cover_fires_at_each_level_alone() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    // Vegetables: yellow from 7, orange from 14, red from 21 days of cover; 1 unit sold a day.
    let calm = selling_product(&app, &s.org_id, &b.org_id, 6).await;
    let yellow = selling_product(&app, &s.org_id, &b.org_id, 8).await;
    let orange = selling_product(&app, &s.org_id, &b.org_id, 15).await;
    let red = selling_product(&app, &s.org_id, &b.org_id, 30).await;
    let sum = scan(&app).await;
    assert_eq!(sum["opened"], 3, "{sum}");
    assert!(sum["scanned"].as_i64().unwrap() >= 4);
    assert!(alert_of(&app, &calm).await.is_none());
    for (p, level, doc) in [(&yellow, "yellow", 8), (&orange, "orange", 15), (&red, "red", 30)] {
        let a = alert_of(&app, p).await.unwrap();
        assert_eq!(a["level"], level);
        assert_eq!(codes(&a), vec!["days_of_cover"]);
        assert_eq!(a["days_of_cover"], doc);
        assert_eq!(a["avg_daily_sales"], "1");
        assert_eq!(a["status"], "open");
        assert_eq!(a["origin_region_code"], YANGYUAN_VILLAGE);
        assert_eq!(a["supplier_org_id"], s.org_id.as_str());
        assert!(a["reasons"][0]["detail"].as_str().unwrap().contains("days"));
    }
    // A second scan changes nothing.
    let sum = scan(&app).await;
    assert_eq!(
        (sum["opened"].as_i64(), sum["raised"].as_i64(), sum["resolved"].as_i64()),
        (Some(0), Some(0), Some(0))
    );
}

#[tokio::test]
async fn no_sales_fires_alone() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    // Listed 10 days ago, never sold (vegetables: orange after 7 days without a sale).
    let never = product(&app, &s.org_id, "vegetables", 5, 60, 10).await;
    // Last sold 40 days ago: outside the 28-day window, so no days-of-cover figure.
    let stale = product(&app, &s.org_id, "vegetables", 5, 60, 90).await;
    sale(&app, &stale, &b.org_id, 3, 40).await;
    // Listed 3 days ago, never sold: too early to tell.
    let fresh = product(&app, &s.org_id, "vegetables", 5, 60, 3).await;
    scan(&app).await;
    let a = alert_of(&app, &never).await.unwrap();
    assert_eq!(
        (a["level"].as_str(), codes(&a)),
        (Some("orange"), vec!["no_sales".to_string()])
    );
    assert!(a["days_of_cover"].is_null(), "infinite cover is null");
    assert!(a["reasons"][0]["detail"].as_str().unwrap().contains("never sold"));
    let a = alert_of(&app, &stale).await.unwrap();
    assert_eq!(codes(&a), vec!["no_sales"]);
    assert_eq!(a["days_since_last_sale"], 40);
    assert!(alert_of(&app, &fresh).await.is_none());
}

#[tokio::test]
async fn expiry_window_fires_alone() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    // 1 a day; 5 units in stock (5 days of cover, under yellow) but best-before in 3 days.
    let risky = product(&app, &s.org_id, "vegetables", 5, 3, 90).await;
    sale(&app, &risky, &b.org_id, 28, 1).await;
    // 2 units, best-before in 3 days: sells out in time.
    let fine = product(&app, &s.org_id, "vegetables", 2, 3, 90).await;
    sale(&app, &fine, &b.org_id, 28, 1).await;
    // Expired lots do not count as stock at all.
    let expired = product(&app, &s.org_id, "vegetables", 50, -1, 90).await;
    sale(&app, &expired, &b.org_id, 28, 1).await;
    scan(&app).await;
    let a = alert_of(&app, &risky).await.unwrap();
    assert_eq!(
        (a["level"].as_str(), codes(&a)),
        (Some("red"), vec!["expiry_risk".to_string()])
    );
    assert_eq!(a["days_to_expiry"], 3);
    assert!(alert_of(&app, &fine).await.is_none());
    assert!(alert_of(&app, &expired).await.is_none());
}

#[tokio::test]
async fn manual_report_opens_yellow_and_refuses_others() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let other = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &b.org_id, 3).await;
    scan(&app).await;
    assert!(alert_of(&app, &p).await.is_none());
    let path = format!("/products/{p}/unsold-reports");
    let r = app
        .post(
            &path,
            s.t(),
            json!({"quantity": "800.5", "note": "the cold store is full"}),
        )
        .await
        .expect(201);
    assert_eq!(r.json["quantity"], "800.5");
    assert_eq!(r.json["status"], "open");
    assert!(r.header("location").unwrap().contains(&path));
    // Refusals: another supplier (404), other roles (403), bad input (422), unknown product (404).
    app.post(&path, other.t(), json!({"quantity": "1"})).await.problem(404);
    app.post(&path, b.t(), json!({"quantity": "1"})).await.problem(403);
    app.post(&path, Some(&app.admin_token), json!({"quantity": "1"}))
        .await
        .problem(403);
    app.post(&path, None, json!({"quantity": "1"})).await.problem(401);
    let pr = app.post(&path, s.t(), json!({"quantity": "0"})).await;
    assert_eq!(pr.fields(), vec!["quantity"]);
    pr.problem(422);
    app.post(&path, s.t(), json!({"quantity": "-3"})).await.problem(422);
    app.post(&path, s.t(), json!({"quantity": "1.0001"})).await.problem(422);
    app.post(&path, s.t(), json!({})).await.problem(422);
    app.post("/products/nope/unsold-reports", s.t(), json!({"quantity": "1"}))
        .await
        .problem(404);
    let n = entity::unsold_reports::Entity::find().count(app.db()).await.unwrap();
    assert_eq!(n, 1, "refused reports write nothing");

    let sum = scan(&app).await;
    assert_eq!(sum["opened"], 1);
    let a = alert_of(&app, &p).await.unwrap();
    assert_eq!(
        (a["level"].as_str(), codes(&a)),
        (Some("yellow"), vec!["unsold_report".to_string()])
    );
    // Resolving the alert closes the report; the next scan leaves the product alone.
    app.post(
        &format!("/alerts/{}/resolve", id(&a)),
        Some(&app.admin_token),
        json!({"note": "collected by the county canteen"}),
    )
    .await
    .expect(200);
    assert_eq!(scan(&app).await["opened"], 0);
}

#[tokio::test]
async fn raises_never_lowers_and_resolves_when_sales_pick_up() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &b.org_id, 8).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    assert_eq!(a["level"], "yellow");
    // More stock arrives: 30 days of cover -> red.
    let extra = lot(&app, &p, 22, 60).await;
    let sum = scan(&app).await;
    assert_eq!((sum["opened"].as_i64(), sum["raised"].as_i64()), (Some(0), Some(1)));
    let a2 = alert_of(&app, &p).await.unwrap();
    assert_eq!(id(&a2), id(&a), "the same alert is raised");
    assert_eq!(a2["level"], "red");
    assert_eq!(a2["days_of_cover"], 30);
    // Some stock goes (15 days: orange): an open alert is never silently lowered.
    let l = entity::lots::Entity::find_by_id(extra)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut am: entity::lots::ActiveModel = l.into();
    am.remaining_milli = Set(7000);
    am.update(app.db()).await.unwrap();
    let sum = scan(&app).await;
    assert_eq!((sum["raised"].as_i64(), sum["resolved"].as_i64()), (Some(0), Some(0)));
    assert_eq!(alert_of(&app, &p).await.unwrap()["level"], "red");
    // Sales pick up: 300 sold today -> under every threshold -> resolved by the scan.
    sale(&app, &p, &b.org_id, 300, 0).await;
    let sum = scan(&app).await;
    assert_eq!(sum["resolved"], 1);
    assert!(alert_of(&app, &p).await.is_none());
    let r = app
        .get(&format!("/alerts/{}", id(&a)), Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "resolved");
    assert!(r.json["resolved_at"].is_string());
    let ev = app
        .get(&format!("/alerts/{}/events", id(&a)), Some(&app.admin_token))
        .await
        .expect(200);
    let kinds: Vec<&str> = ev.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["opened", "raised", "resolved"]);
    let raised = &ev.json["items"][1];
    assert_eq!(
        (raised["from_level"].as_str(), raised["to_level"].as_str()),
        (Some("yellow"), Some("red"))
    );
    assert!(raised["actor_user_id"].is_null(), "the scan has no actor");
}

#[tokio::test]
async fn one_open_alert_per_product_even_with_concurrent_scans() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let office = app.create_org("county_office", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let mut ps = Vec::new();
    for _ in 0..6 {
        ps.push(selling_product(&app, &s.org_id, &b.org_id, 40).await);
    }
    let mut handles = Vec::new();
    for _ in 0..4 {
        let c = app.client.clone();
        let url = app.url("/alerts/scan");
        let t = app.admin_token.clone();
        handles.push(tokio::spawn(async move {
            let r = c.post(url).bearer_auth(t).json(&json!({})).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }));
    }
    let mut opened = 0;
    for h in handles {
        opened += h.await.unwrap()["opened"].as_i64().unwrap();
    }
    assert_eq!(opened, 6, "each product opened once across the racing scans");
    for p in &ps {
        let n = entity::alerts::Entity::find()
            .filter(entity::alerts::Column::ProductId.eq(p.clone()))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(n, 1);
    }
    let events = entity::alert_events::Entity::find()
        .filter(entity::alert_events::Column::Kind.eq("opened"))
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(events, 6);
    assert_eq!(
        outbox_count(&app, &office.contact_email).await,
        6,
        "one email per alert and level"
    );
    // The database itself refuses a second open alert of a product.
    let a = entity::alerts::Entity::find()
        .filter(entity::alerts::Column::ProductId.eq(ps[0].clone()))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut dup: entity::alerts::ActiveModel = a.clone().into();
    dup.id = Set(uuid::Uuid::now_v7().to_string());
    assert!(dup.insert(app.db()).await.is_err(), "partial unique index");
}

#[tokio::test]
async fn notification_once_per_level_to_matched_buyers_and_county_office() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let office = app.create_org("county_office", YANGYUAN).await;
    let other_office = app.create_org("county_office", PINGQUAN).await;
    let paired = app.create_org("government", CHANGAN).await;
    pairing(&app, &paired.org_id, YANGYUAN, Utc::now().year()).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &b.org_id, 8).await;
    scan(&app).await;
    scan(&app).await;
    assert_eq!(outbox_count(&app, &office.contact_email).await, 1);
    assert_eq!(outbox_count(&app, &paired.contact_email).await, 1);
    assert_eq!(
        outbox_count(&app, &b.contact_email).await,
        1,
        "bought the category before"
    );
    assert_eq!(outbox_count(&app, &other_office.contact_email).await, 0);
    // Raise to red: one more each, and no more on later scans.
    lot(&app, &p, 30, 60).await;
    scan(&app).await;
    scan(&app).await;
    assert_eq!(outbox_count(&app, &office.contact_email).await, 2);
    assert_eq!(outbox_count(&app, &paired.contact_email).await, 2);
    let n = entity::alert_notifications::Entity::find()
        .count(app.db())
        .await
        .unwrap();
    assert_eq!(n, 6, "3 recipients x 2 levels");
    // The messages go out through the outbox worker.
    let got = app.wait_for_emails(&office.contact_email, 2, 20).await;
    assert_eq!(got.len(), 2);
    assert!(got.iter().any(|m| m.contains("RED")), "subject names the level");
    // The link in the message is built from the public URL (here the bound address).
    let queued = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::ToAddr.eq(office.contact_email.clone()))
        .all(app.db())
        .await
        .unwrap();
    let link = format!("{}/api/v1/alerts/", app.addr);
    assert!(
        queued.iter().all(|m| m.body.contains(&link)),
        "{link} in {:?}",
        queued[0].body
    );
}

async fn pairing(app: &TestApp, helper: &str, region: &str, year: i32) {
    entity::pairings::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        kind: Set("east_west".into()),
        helper_org_id: Set(helper.to_string()),
        helped_region_code: Set(region.to_string()),
        year: Set(year),
        purchase_target_fen: Set(10_000_000),
        helped_sale_target_fen: Set(0),
        created_at: Set(Utc::now()),
    }
    .insert(app.db())
    .await
    .unwrap();
}

async fn quota(app: &TestApp, buyer: &str, target_fen: i64) {
    entity::quotas::ActiveModel {
        buyer_org_id: Set(buyer.to_string()),
        year: Set(Utc::now().year()),
        food_budget_fen: Set(target_fen * 10),
        reserved_share_ppm: Set(100_000),
        target_fen: Set(target_fen),
        version: Set(1),
        updated_at: Set(Utc::now()),
    }
    .insert(app.db())
    .await
    .unwrap();
}

#[tokio::test]
async fn matching_ranks_paired_then_behind_quota_then_category_buyers() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let paired = app.create_org("government", CHANGAN).await;
    let paired_last_year = app.create_org("government", CHANGAN).await;
    let far_behind = app.create_org("school", CHANGAN).await;
    let behind = app.create_org("hospital", CHANGAN).await;
    let met = app.create_org("union", CHANGAN).await;
    let met_child = app.create_org_with("canteen", CHANGAN, Some(&met.org_id)).await;
    let veg_buyer = app.create_org("canteen", CHANGAN).await;
    let fruit_buyer = app.create_org("canteen", CHANGAN).await;
    let year = Utc::now().year();
    pairing(&app, &paired.org_id, YANGYUAN, year).await;
    pairing(&app, &paired_last_year.org_id, YANGYUAN, year - 1).await;
    quota(&app, &far_behind.org_id, 1_000_000).await; // 10000.00 short
    quota(&app, &behind.org_id, 500_000).await;
    quota(&app, &met.org_id, 20_000).await; // met by its child's purchases below
                                            // behind: credited 1000.00 of 5000.00 (100 units of fruit at 10.00).
    let fruit = product(&app, &s.org_id, "fruit", 1, 60, 90).await;
    sale(&app, &fruit, &behind.org_id, 100, 1).await;
    sale(&app, &fruit, &fruit_buyer.org_id, 5, 1).await;
    let p = product(&app, &s.org_id, "vegetables", 40, 60, 90).await;
    sale(&app, &p, &veg_buyer.org_id, 28, 3).await;
    sale(&app, &p, &met_child.org_id, 20, 3).await; // 200.00 credited to the union through its child
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    let m = a["matched_buyers"].as_array().unwrap();
    let order: Vec<&str> = m.iter().map(|x| x["org_id"].as_str().unwrap()).collect();
    let ranks: Vec<i64> = m.iter().map(|x| x["rank"].as_i64().unwrap()).collect();
    assert_eq!(ranks, (1..=m.len() as i64).collect::<Vec<_>>());
    assert_eq!(order[0], paired.org_id, "{m:?}");
    assert!(m[0]["reason"]
        .as_str()
        .unwrap()
        .contains("paired with the origin county 130727"));
    assert_eq!(order[1], far_behind.org_id, "{m:?}");
    assert!(
        m[1]["reason"].as_str().unwrap().contains("10000.00 short"),
        "{}",
        m[1]["reason"]
    );
    assert!(m[1]["name"].as_str().unwrap().starts_with("school"));
    assert_eq!(order[2], behind.org_id, "{m:?}");
    assert!(
        m[2]["reason"].as_str().unwrap().contains("4000.00 short of 5000.00"),
        "{}",
        m[2]["reason"]
    );
    assert_eq!(order[3], veg_buyer.org_id, "{m:?}");
    assert!(m[3]["reason"].as_str().unwrap().contains("bought vegetables before"));
    assert_eq!(order[4], met_child.org_id, "{m:?}");
    assert_eq!(order.len(), 5, "{m:?}");
    assert!(
        !order.contains(&met.org_id.as_str()),
        "a met quota (children count) is not behind"
    );
    assert!(
        !order.contains(&fruit_buyer.org_id.as_str()),
        "bought another category only"
    );
    assert!(
        !order.contains(&paired_last_year.org_id.as_str()),
        "pairing of another year"
    );
    // The matched buyer sees the alert; others do not.
    app.get(&format!("/alerts/{}", id(&a)), paired.t()).await.expect(200);
    // Another organisation sees why each buyer was matched, not its figures (quota, credit,
    // purchases); a buyer sees its own.
    let reasons_for = |who: &OrgUser| {
        let path = format!("/alerts/{}", id(&a));
        let token = who.token.clone();
        let app = &app;
        async move {
            let r = app.get(&path, Some(&token)).await.expect(200);
            r.json["matched_buyers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["reason"].as_str().unwrap().to_string())
                .collect::<Vec<String>>()
        }
    };
    for who in [&s, &paired] {
        let r = reasons_for(who).await;
        assert_eq!(r[1], format!("behind its {year} quota"), "{r:?}");
        assert_eq!(r[2], format!("behind its {year} quota"), "{r:?}");
        assert_eq!(r[3], "bought vegetables before", "{r:?}");
    }
    let r = reasons_for(&behind).await;
    assert!(r[2].contains("4000.00 short of 5000.00"), "its own figures: {r:?}");
    assert_eq!(r[1], format!("behind its {year} quota"), "{r:?}");
    app.get(&format!("/alerts/{}", id(&a)), fruit_buyer.t())
        .await
        .problem(404);
}

#[tokio::test]
async fn visibility_response_and_refusals_by_role_and_organisation() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let s2 = app.create_org("cooperative", YANGYUAN).await;
    let office = app.create_org("county_office", YANGYUAN).await;
    let office2 = app.create_org("county_office", PINGQUAN).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let matched = app.create_org("canteen", CHANGAN).await;
    let stranger = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &matched.org_id, 40).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    let aid = id(&a);
    let one = format!("/alerts/{aid}");

    // Who sees it.
    for who in [
        Some(app.admin_token.as_str()),
        evaluator.t(),
        office.t(),
        s.t(),
        matched.t(),
    ] {
        app.get(&one, who).await.expect(200);
        let l = app.get("/alerts", who).await.expect(200);
        assert_eq!(l.json["items"].as_array().unwrap().len(), 1);
        app.get(&format!("{one}/events"), who).await.expect(200);
    }
    for who in [office2.t(), s2.t(), stranger.t()] {
        app.get(&one, who).await.problem(404);
        app.get(&format!("{one}/events"), who).await.problem(404);
        let l = app.get("/alerts", who).await.expect(200);
        assert!(l.json["items"].as_array().unwrap().is_empty());
    }
    app.get(&one, None).await.problem(401);
    app.get("/alerts/does-not-exist", Some(&app.admin_token))
        .await
        .problem(404);

    // Filters.
    let q = |f: &str| format!("/alerts?{f}");
    assert_eq!(
        app.get(&q("level=red"), Some(&app.admin_token)).await.expect(200).json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(app
        .get(&q("level=yellow"), Some(&app.admin_token))
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        app.get(
            &q("county=130727&category=vegetables&status=open"),
            Some(&app.admin_token)
        )
        .await
        .expect(200)
        .json["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(app
        .get(&q("county=130881"), Some(&app.admin_token))
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(app
        .get(&q("category=fruit"), Some(&app.admin_token))
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .is_empty());
    for bad in [
        "level=purple",
        "status=closed",
        "county=13",
        "category=rockets",
        "limit=0",
    ] {
        app.get(&q(bad), Some(&app.admin_token)).await.problem(400);
    }

    // Only the admin scans.
    for who in [office.t(), s.t(), matched.t(), evaluator.t()] {
        app.post("/alerts/scan", who, json!({})).await.problem(403);
    }
    app.post("/alerts/scan", None, json!({})).await.problem(401);

    // Acknowledge / resolve: the origin county's office or the admin.
    let ack = format!("{one}/acknowledge");
    let res = format!("{one}/resolve");
    let note = json!({"note": "calling the canteens"});
    app.post(&ack, s.t(), note.clone()).await.problem(403);
    app.post(&ack, matched.t(), note.clone()).await.problem(403);
    app.post(&ack, evaluator.t(), note.clone()).await.problem(403);
    app.post(&ack, office2.t(), note.clone()).await.problem(404);
    let pr = app.post(&ack, office.t(), json!({"note": "  "})).await;
    assert_eq!(pr.fields(), vec!["note"]);
    pr.problem(422);
    app.post(&ack, office.t(), json!({})).await.problem(422);
    let r = app.post(&ack, office.t(), note.clone()).await.expect(200);
    assert_eq!(r.json["status"], "acknowledged");
    app.post(&ack, office.t(), note.clone()).await.problem(409);
    // An acknowledged alert is still the one open alert of the product.
    assert_eq!(scan(&app).await["opened"], 0);
    app.post(&res, office2.t(), note.clone()).await.problem(404);
    let r = app
        .post(&res, office.t(), json!({"note": "bought by the county school"}))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "resolved");
    assert_eq!(r.json["resolution_note"], "bought by the county school");
    app.post(&res, office.t(), note.clone()).await.problem(409);
    app.post(&ack, Some(&app.admin_token), note.clone()).await.problem(409);
    let ev = app.get(&format!("{one}/events"), evaluator.t()).await.expect(200);
    let items = ev.json["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["opened", "acknowledged", "resolved"]);
    assert_eq!(items[1]["actor_org_id"], office.org_id.as_str());
    assert_eq!(items[1]["note"], "calling the canteens");
    assert!(items[2]["occurred_at"].is_string());

    // Pledges: matched buyers only, with a key, a valid quantity, on an unresolved alert.
    let pl = format!("{one}/pledges");
    let key = [("Idempotency-Key", "k-1")];
    app.post_with(&pl, s.t(), json!({"quantity": "5"}), &key)
        .await
        .problem(403);
    app.post_with(&pl, office.t(), json!({"quantity": "5"}), &key)
        .await
        .problem(403);
    app.post_with(&pl, stranger.t(), json!({"quantity": "5"}), &key)
        .await
        .problem(404);
    app.post_with(&pl, matched.t(), json!({"quantity": "5"}), &[])
        .await
        .problem(400);
    app.post_with(&pl, matched.t(), json!({"quantity": "0"}), &key)
        .await
        .problem(422);
    app.post_with(&pl, matched.t(), json!({"quantity": "5"}), &key)
        .await
        .problem(409);
    let l = app.get(&pl, matched.t()).await.expect(200);
    assert!(l.json["items"].as_array().unwrap().is_empty());
    app.get(&pl, stranger.t()).await.problem(404);
}

/// Depends on `services::orders::place_order` (built by the orders work): until the
/// merge it answers 503 and this test only checks that the refusal passes through.
#[tokio::test]
async fn pledge_places_an_order_and_reserves_stock() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    // A second matched buyer (paired with the origin county), whose pledge the first does not see.
    let other = app.create_org("government", CHANGAN).await;
    pairing(&app, &other.org_id, YANGYUAN, Utc::now().year()).await;
    let p = selling_product(&app, &s.org_id, &buyer.org_id, 40).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    let pl = format!("/alerts/{}/pledges", id(&a));
    let body = json!({"quantity": "12.5", "deliver_to": "No. 1 canteen"});
    let key = [("Idempotency-Key", "pledge-1")];
    let r = app.post_with(&pl, buyer.t(), body.clone(), &key).await;
    if r.status == 503 {
        println!("place_order is not available yet (503): pledge test skipped until the orders merge");
        r.problem(503);
        return;
    }
    let r = r.expect(201);
    let order_id = r.json["order"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.json["pledge"]["quantity"], "12.5");
    assert_eq!(r.json["pledge"]["order_id"], order_id.as_str());
    assert_eq!(
        r.json["order"]["supplier_orders"][0]["lines"][0]["product_id"],
        p.as_str()
    );
    let prod = entity::products::Entity::find_by_id(p.clone())
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(prod.reserved_milli, 12_500, "the pledge reserved stock");
    // Replay: same order, one pledge.
    let again = app.post_with(&pl, buyer.t(), body, &key).await;
    assert_eq!(again.json["order"]["id"], order_id.as_str(), "{}", again.text);
    let got = app.get(&format!("/alerts/{}", id(&a)), buyer.t()).await.expect(200);
    assert_eq!(got.json["pledges"].as_array().unwrap().len(), 1);
    assert_eq!(got.json["pledged"], "12.5");
    let ev = app
        .get(&format!("/alerts/{}/events", id(&a)), buyer.t())
        .await
        .expect(200);
    assert!(ev.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "pledged"));
    // More than available: the order path's 422, nothing written.
    app.post_with(
        &pl,
        buyer.t(),
        json!({"quantity": "100000"}),
        &[("Idempotency-Key", "pledge-2")],
    )
    .await
    .problem(422);
    let prod = entity::products::Entity::find_by_id(p)
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(prod.reserved_milli, 12_500);
    // Each buyer sees its own pledges and the total; the supplier sees every pledge.
    app.post_with(
        &pl,
        other.t(),
        json!({"quantity": "2", "deliver_to": "County hall"}),
        &[("Idempotency-Key", "pledge-other")],
    )
    .await
    .expect(201);
    let one = format!("/alerts/{}", id(&a));
    for (who, own) in [(&buyer, "12.5"), (&other, "2")] {
        let got = app.get(&one, who.t()).await.expect(200);
        let quantities: Vec<&str> = got.json["pledges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["quantity"].as_str().unwrap())
            .collect();
        assert_eq!(quantities, [own]);
        assert_eq!(got.json["pledged"], "14.5");
        let listed = app.get(&pl, who.t()).await.expect(200);
        assert_eq!(listed.json["items"].as_array().unwrap().len(), 1, "{}", listed.text);
    }
    let got = app.get(&one, s.t()).await.expect(200);
    assert_eq!(got.json["pledges"].as_array().unwrap().len(), 2);
    // Nor does the alert's history show a buyer another's pledge.
    let pledged_by = |r: &Resp| -> Vec<String> {
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "pledged")
            .map(|e| e["actor_org_id"].as_str().unwrap().to_string())
            .collect()
    };
    let events = format!("{one}/events");
    let ev = app.get(&events, other.t()).await.expect(200);
    assert_eq!(pledged_by(&ev), std::slice::from_ref(&other.org_id));
    let ev = app.get(&events, s.t()).await.expect(200);
    assert_eq!(pledged_by(&ev).len(), 2);
}

#[tokio::test]
async fn scheduled_scan_runs_once_per_tick_with_two_schedulers() {
    let a = spawn_app_with(|s| s.alert_scan_interval_secs = 1).await;
    let db_url = a.database_url.clone();
    let prefix = a.state.settings.redis_prefix.clone();
    let b = spawn_app_with(move |s| {
        s.alert_scan_interval_secs = 1;
        s.database_url = Some(db_url.into());
        s.redis_prefix = prefix;
    })
    .await;
    // The tick lock: exactly one of the two processes gets a given tick.
    let iv = std::time::Duration::from_secs(3600);
    let got_a = assist_market::jobs::try_tick_lock(&a.state, "alert-scan-probe", iv).await;
    let got_b = assist_market::jobs::try_tick_lock(&b.state, "alert-scan-probe", iv).await;
    assert!(got_a ^ got_b, "one holder per tick ({got_a}, {got_b})");
    // A third process that has no Redis (as one whose breaker is open) does not take it again.
    let c_db = a.database_url.clone();
    let c = spawn_app_with(move |s| {
        s.database_url = Some(c_db.into());
        s.redis_url = None;
    })
    .await;
    assert!(!assist_market::jobs::try_tick_lock(&c.state, "alert-scan-probe", iv).await);

    let s = a.create_org("cooperative", YANGYUAN).await;
    let office = a.create_org("county_office", YANGYUAN).await;
    let buyer = a.create_org("canteen", CHANGAN).await;
    let mut ps = Vec::new();
    for _ in 0..5 {
        // Listed today, so that a tick between the lot and the sales opens nothing early.
        let p = product(&a, &s.org_id, "vegetables", 40, 60, 0).await;
        sale(&a, &p, &buyer.org_id, 14, 20).await;
        sale(&a, &p, &buyer.org_id, 14, 2).await;
        ps.push(p);
    }
    // Both schedulers tick every second; wait for the alerts to appear, then a few more ticks.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let n = entity::alerts::Entity::find().count(a.db()).await.unwrap();
        if n >= 5 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    for p in &ps {
        let n = entity::alerts::Entity::find()
            .filter(entity::alerts::Column::ProductId.eq(p.clone()))
            .count(a.db())
            .await
            .unwrap();
        assert_eq!(n, 1, "one alert per product");
    }
    let opened = entity::alert_events::Entity::find()
        .filter(entity::alert_events::Column::Kind.eq("opened"))
        .count(a.db())
        .await
        .unwrap();
    assert_eq!(opened, 5);
    assert_eq!(
        outbox_count(&a, &office.contact_email).await,
        5,
        "one notification per alert and level"
    );
    // Both processes serve the same alerts.
    let l = b.get("/alerts", Some(&b.admin_token)).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 5);
}

/// The buyers an alert was matched to, as the `alert_matches` relation holds them.
async fn matches_of(app: &TestApp, alert_id: &str) -> Vec<(String, i32)> {
    let mut rows: Vec<(String, i32)> = entity::alert_matches::Entity::find()
        .filter(entity::alert_matches::Column::AlertId.eq(alert_id.to_string()))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.buyer_org_id, m.match_rank))
        .collect();
    rows.sort_by_key(|r| r.1);
    rows
}

fn json_matches(a: &Value) -> Vec<(String, i32)> {
    a["matched_buyers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["org_id"].as_str().unwrap().to_string(),
                m["rank"].as_i64().unwrap() as i32,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_buyer_sees_the_alerts_it_is_matched_to_through_the_relation_not_the_json() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let other = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &b.org_id, 8).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    assert_eq!(a["level"], "yellow");
    let aid = id(&a);
    // Written with the alert, exactly the buyers of the response's `matched_buyers`.
    assert_eq!(matches_of(&app, &aid).await, json_matches(&a));
    assert_eq!(matches_of(&app, &aid).await, vec![(b.org_id.clone(), 1)]);
    let seen = |r: &Resp| r.json["items"].as_array().unwrap().len();
    assert_eq!(seen(&app.get("/alerts", b.t()).await.expect(200)), 1);
    assert_eq!(seen(&app.get("/alerts", other.t()).await.expect(200)), 0);

    // The JSON is what the response shows, not who may see: an org id written into
    // the JSON alone (as a LIKE over it would have matched) does not open the alert.
    let mut row: entity::alerts::ActiveModel = entity::alerts::Entity::find_by_id(aid.clone())
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .into();
    let mut forged = a["matched_buyers"].as_array().unwrap().clone();
    forged.push(json!({"org_id": other.org_id, "name": "x", "rank": 2, "reason": "forged"}));
    row.matched_buyers = Set(serde_json::to_string(&forged).unwrap());
    row.update(app.db()).await.unwrap();
    assert_eq!(seen(&app.get("/alerts", other.t()).await.expect(200)), 0);
    app.get(&format!("/alerts/{aid}"), other.t()).await.problem(404);
    // And the matched buyer still sees it, with the JSON shown as stored.
    let got = app.get(&format!("/alerts/{aid}"), b.t()).await.expect(200);
    assert_eq!(got.json["matched_buyers"].as_array().unwrap().len(), 2);

    // Raising the alert rewrites the relation with the new match.
    lot(&app, &p, 30, 60).await;
    assert_eq!(scan(&app).await["raised"], 1);
    let raised = alert_of(&app, &p).await.unwrap();
    assert_eq!(raised["level"], "red");
    assert_eq!(matches_of(&app, &aid).await, json_matches(&raised));
    assert_eq!(seen(&app.get("/alerts", other.t()).await.expect(200)), 0);
    assert_eq!(seen(&app.get("/alerts", b.t()).await.expect(200)), 1);
}

#[tokio::test]
async fn the_alert_matches_migration_backfills_from_the_json() {
    use migration::{MigratorTrait, SchemaManager};
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let paired = app.create_org("government", CHANGAN).await;
    pairing(&app, &paired.org_id, YANGYUAN, Utc::now().year()).await;
    let p = selling_product(&app, &s.org_id, &b.org_id, 40).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    let expected = json_matches(&a);
    assert_eq!(expected.len(), 2);
    // Run the migration again over existing alerts: down drops the table, up
    // recreates it and fills it from each alert's `matched_buyers`.
    let m = migration::Migrator::migrations()
        .into_iter()
        .find(|m| m.name().ends_with("_alert_matches"))
        .unwrap();
    let manager = SchemaManager::new(app.db());
    m.down(&manager).await.unwrap();
    m.up(&manager).await.unwrap();
    assert_eq!(matches_of(&app, &id(&a)).await, expected);
    app.get(&format!("/alerts/{}", id(&a)), paired.t()).await.expect(200);
    app.get(&format!("/alerts/{}", id(&a)), b.t()).await.expect(200);
}

#[tokio::test]
async fn malformed_parameters_ids_and_quantities_are_refused() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &b.org_id, 40).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    let admin = Some(app.admin_token.as_str());

    // Unknown vocabulary values in the query: 400 naming the parameter.
    for (q, field) in [
        ("level=purple", "level"),
        ("status=closed", "status"),
        ("status=OPEN", "status"),
        ("category=rockets", "category"),
        ("county=13", "county"),
        ("limit=x", "limit"),
    ] {
        let r = app.get(&format!("/alerts?{q}"), admin).await;
        assert_eq!(r.fields(), vec![field.to_string()], "{q}: {}", r.text);
        r.problem(400);
    }
    // Every known value is accepted.
    for q in [
        "level=yellow",
        "level=orange",
        "level=red",
        "status=open",
        "status=acknowledged",
        "status=resolved",
    ] {
        app.get(&format!("/alerts?{q}"), admin).await.expect(200);
    }

    // A malformed alert id in the path: 404, on every route that takes one.
    let bad = "not-an-id";
    app.get(&format!("/alerts/{bad}"), admin).await.problem(404);
    app.get(&format!("/alerts/{bad}/events"), admin).await.problem(404);
    app.get(&format!("/alerts/{bad}/pledges"), admin).await.problem(404);
    let note = json!({"note": "x"});
    app.post(&format!("/alerts/{bad}/acknowledge"), admin, note.clone())
        .await
        .problem(404);
    app.post(&format!("/alerts/{bad}/resolve"), admin, note.clone())
        .await
        .problem(404);
    app.post_with(
        &format!("/alerts/{bad}/pledges"),
        b.t(),
        json!({"quantity": "1"}),
        &[("Idempotency-Key", "k-bad")],
    )
    .await
    .problem(404);
    app.post(
        &format!("/products/{bad}/unsold-reports"),
        s.t(),
        json!({"quantity": "1"}),
    )
    .await
    .problem(404);
    // A well-formed id of nothing is 404 too.
    let none = uuid::Uuid::now_v7();
    app.get(&format!("/alerts/{none}"), admin).await.problem(404);

    // Quantities outside the grammar: 422 naming the field, nothing written.
    let reports = format!("/products/{p}/unsold-reports");
    let pledges = format!("/alerts/{}/pledges", id(&a));
    for q in [
        json!("1e2"),
        json!("1_000"),
        json!(100),
        json!("1.2345"),
        json!("-1"),
        json!("10000000000"),
    ] {
        let r = app.post(&reports, s.t(), json!({ "quantity": q })).await;
        assert_eq!(r.fields(), vec!["quantity".to_string()], "{q}: {}", r.text);
        r.problem(422);
        let r = app
            .post_with(&pledges, b.t(), json!({ "quantity": q }), &[("Idempotency-Key", "k-q")])
            .await;
        assert_eq!(r.fields(), vec!["quantity".to_string()], "{q}: {}", r.text);
        r.problem(422);
    }
    let n = entity::unsold_reports::Entity::find().count(app.db()).await.unwrap();
    assert_eq!(n, 0);
    let n = entity::pledges::Entity::find().count(app.db()).await.unwrap();
    assert_eq!(n, 0);
    // An unknown credit category on a pledge names its field.
    let r = app
        .post_with(
            &pledges,
            b.t(),
            json!({"quantity": "1", "credit_category": "gift"}),
            &[("Idempotency-Key", "k-c")],
        )
        .await;
    assert_eq!(r.fields(), vec!["credit_category".to_string()], "{}", r.text);
    r.problem(422);

    // Rules: an unknown category is 404 for the admin, 403 for anyone else first.
    let good =
        json!({"yellow_days": 5, "orange_days": 10, "red_days": 15, "no_sales_days": 4, "expiry_window_days": 3});
    app.put("/alert-rules/rockets", s.t(), good.clone()).await.problem(403);
    app.put("/alert-rules/rockets", admin, good).await.problem(404);
}

#[tokio::test]
async fn putting_a_rule_twice_bumps_its_version_and_keeps_one_row() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let body = |red: i64| json!({"yellow_days": 5, "orange_days": 10, "red_days": red, "no_sales_days": 4, "expiry_window_days": 3});
    let r = app
        .put_if("/alert-rules/tea", admin, body(15), "\"1\"")
        .await
        .expect(200);
    assert_eq!(r.json["category"], "tea");
    app.put_if("/alert-rules/tea", admin, body(16), "*").await.expect(200);
    let rows = entity::alert_rules::Entity::find()
        .filter(entity::alert_rules::Column::Category.eq("tea"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].red_days, rows[0].version), (16, 3), "seeded at 1, two updates");
}
