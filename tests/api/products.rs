//! Products: supplier admission, certification, lots and stock, the catalogue and its cache.
use crate::helpers::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{json, Value};

fn product_body(name: &str) -> Value {
    json!({
        "name": name,
        "category": "grain",
        "unit": "kg",
        "price": "12.50",
        "min_order_qty": "10",
        "origin_region_code": YANGYUAN_VILLAGE,
        "description": "Organic millet from the Sanggan river valley",
        "shelf_life_days": 365,
        "supply_capacity_per_month": "5000.5",
        "certificates": [{"kind": "green_food", "number": "LB-18-001", "valid_until": "2030-12-31"}],
        "poor_households_linked": 42,
        "benefit_mechanism": "dividends to registered poor households"
    })
}

fn in_a_year() -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(365)).to_string()
}

async fn create_product(app: &TestApp, sup: &OrgUser, body: Value) -> String {
    let r = app.post("/products", sup.t(), body).await.expect(201);
    r.json["id"].as_str().unwrap().to_string()
}

/// Creates, submits and certifies a product; returns its id.
async fn certified(app: &TestApp, sup: &OrgUser, cert: &OrgUser, body: Value) -> String {
    let id = create_product(app, sup, body).await;
    app.post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .expect(200);
    app.post(
        &format!("/products/{id}/certify"),
        cert.t(),
        json!({"valid_until": in_a_year(), "note": "inspected"}),
    )
    .await
    .expect(200);
    id
}

/// A stock adjustment by `sup` of product `id`.
async fn adjust(app: &TestApp, sup: &OrgUser, id: &str, body: Value) -> Resp {
    app.post(&format!("/products/{id}/stock-adjustments"), sup.t(), body)
        .await
}

async fn add_lot(app: &TestApp, sup: &OrgUser, id: &str, qty: &str) -> String {
    let r = app
        .post(
            &format!("/products/{id}/lots"),
            sup.t(),
            json!({"quantity": qty, "harvested_on": "2026-09-01", "best_before": in_a_year()}),
        )
        .await
        .expect(201);
    r.json["id"].as_str().unwrap().to_string()
}

async fn product_count(app: &TestApp) -> u64 {
    entity::products::Entity::find().count(app.db()).await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn catalog_ids(app: &TestApp, query: &str) -> Vec<String> {
    let r = app.get(&format!("/catalog{query}"), None).await.expect(200);
    ids(&r.json)
}

// ------------------------------------------------------------------ supplier admission

#[tokio::test]
async fn supplier_admission_checks_credit_code_uniqueness_and_poverty_county() {
    let app = spawn_app().await;
    let orgs_before = entity::organizations::Entity::find().count(app.db()).await.unwrap();
    let base = |code: &str, region: &str, name: &str| {
        json!({"name": name, "kind": "cooperative", "region_code": region,
               "contact_email": "coop@org.test", "credit_code": code})
    };
    let good = assist_market::services::organizations::make_credit_code(YANGYUAN, 77_000_001);
    // A wrong final check character.
    let mut bad = good.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    for code in [bad.as_str(), "123", "91130727MA0000000I", ""] {
        let r = app
            .post(
                "/organizations",
                Some(&app.admin_token),
                base(code, YANGYUAN, "bad code"),
            )
            .await;
        assert_eq!(r.fields(), vec!["credit_code"], "{code}: {}", r.text);
        r.problem(422);
    }
    // Outside a poverty county (Chang'an district) and above county level.
    for region in [CHANGAN, "130700", "999999"] {
        let r = app
            .post(
                "/organizations",
                Some(&app.admin_token),
                base(
                    &assist_market::services::organizations::make_credit_code(YANGYUAN, 77_000_002),
                    region,
                    "outside",
                ),
            )
            .await;
        assert_eq!(r.fields(), vec!["region_code"], "{region}: {}", r.text);
        r.problem(422);
    }
    assert_eq!(
        entity::organizations::Entity::find().count(app.db()).await.unwrap(),
        orgs_before,
        "nothing written"
    );
    // Village in a deep-poverty county: admitted (lower-case code is normalised).
    app.post(
        "/organizations",
        Some(&app.admin_token),
        base(&good.to_lowercase(), YANGYUAN_VILLAGE, "good"),
    )
    .await
    .expect(201);
    // An exited poverty county still counts.
    app.create_org("family_farm", PINGQUAN).await;
    // Duplicate credit code.
    let r = app
        .post("/organizations", Some(&app.admin_token), base(&good, SHUNPING, "dup"))
        .await;
    assert_eq!(r.fields(), vec!["credit_code"]);
    r.problem(422);
    assert_eq!(
        entity::organizations::Entity::find()
            .filter(entity::organizations::Column::Name.eq("dup"))
            .count(app.db())
            .await
            .unwrap(),
        0
    );
    // Buyers may sit anywhere.
    app.create_org("canteen", CHANGAN).await;
}

// ------------------------------------------------------------------ the whole workflow

#[tokio::test]
async fn whole_workflow_from_draft_to_catalogue() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let eval = app.create_org("evaluation_office", "130000").await;

    let r = app
        .post("/products", sup.t(), product_body("阳原小米"))
        .await
        .expect(201);
    let id = r.json["id"].as_str().unwrap().to_string();
    assert_eq!(r.json["status"], "draft");
    assert_eq!(r.json["price"], "12.50");
    assert_eq!(r.json["min_order_qty"], "10");
    assert_eq!(r.json["supply_capacity_per_month"], "5000.5");
    assert_eq!(r.json["origin_county_code"], YANGYUAN);
    assert_eq!(r.json["certificates"][0]["kind"], "green_food");
    assert_eq!(r.header("location").unwrap(), format!("/api/v1/products/{id}"));

    let g = app.get(&format!("/products/{id}"), sup.t()).await.expect(200);
    assert_eq!(g.header("etag").unwrap(), "\"1\"");
    // Not yet visible to buyers, nor in the catalogue.
    app.get(&format!("/products/{id}"), buyer.t()).await.problem(404);
    assert!(catalog_ids(&app, "").await.is_empty());

    let s = app
        .post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(s.json["status"], "pending_review");

    // The certifier's queue.
    let q = app.get("/products?status=pending_review", cert.t()).await.expect(200);
    assert_eq!(ids(&q.json), vec![id.clone()]);
    assert!(q.json["items"][0]["price_check"].is_object());

    let c = app
        .post(
            &format!("/products/{id}/certify"),
            cert.t(),
            json!({"valid_until": in_a_year(), "note": "field visit ok"}),
        )
        .await
        .expect(200);
    assert_eq!(c.json["status"], "certified");
    let number = c.json["certificate_number"].as_str().unwrap();
    assert!(number.starts_with(&format!("FP{YANGYUAN}")), "{number}");
    assert!(c.json["certified_by"].is_string());
    assert!(c.json["certified_at"].is_string());
    assert_eq!(c.json["valid_until"], in_a_year());

    let lot = add_lot(&app, &sup, &id, "1000.5").await;
    let st = app.get(&format!("/products/{id}/stock"), sup.t()).await.expect(200);
    assert_eq!(st.json["on_hand"], "1000.5");
    assert_eq!(st.json["reserved"], "0");
    assert_eq!(st.json["available"], "1000.5");
    let lots = app.get(&format!("/products/{id}/lots"), sup.t()).await.expect(200);
    assert_eq!(ids(&lots.json), vec![lot]);

    // Buyers see certified products (they order them), the evaluator sees all.
    app.get(&format!("/products/{id}"), buyer.t()).await.expect(200);
    app.get(&format!("/products/{id}/stock"), buyer.t()).await.expect(200);
    app.get(&format!("/products/{id}"), eval.t()).await.expect(200);
    let all = app.get("/products", Some(&app.admin_token)).await.expect(200);
    assert_eq!(ids(&all.json), vec![id.clone()]);

    // The public catalogue, without a token.
    let cat = app.get("/catalog", None).await.expect(200);
    let item = &cat.json["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["origin_county_code"], YANGYUAN);
    assert_eq!(item["origin_county_name"], "阳原县");
    assert_eq!(item["origin_poverty_status"], "deep_poverty");
    assert_eq!(item["price"], "12.50");
    assert_eq!(item["unit"], "kg");
    assert_eq!(item["min_order_qty"], "10");
    assert_eq!(item["available"], "1000.5");
    assert_eq!(item["certificates"][0]["number"], "LB-18-001");
    assert_eq!(item["certificate_number"], number);
    assert!(cat.json["next_cursor"].is_null());

    let ev = app.get(&format!("/products/{id}/events"), sup.t()).await.expect(200);
    let steps: Vec<(Value, Value)> = ev.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from_status"].clone(), e["to_status"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, json!("draft")),
            (json!("draft"), json!("pending_review")),
            (json!("pending_review"), json!("certified")),
        ]
    );
    assert_eq!(ev.json["items"][2]["actor_org_id"], cert.org_id.as_str());
    assert_eq!(ev.json["items"][2]["reason"], "field visit ok");

    // Revoke: gone from the catalogue, buyers get 404, the reason is recorded.
    let rv = app
        .post(
            &format!("/products/{id}/revoke"),
            cert.t(),
            json!({"reason": "pesticide residue"}),
        )
        .await
        .expect(200);
    assert_eq!(rv.json["status"], "revoked");
    assert!(catalog_ids(&app, "").await.is_empty());
    app.get(&format!("/products/{id}"), buyer.t()).await.problem(404);
    let ev = app.get(&format!("/products/{id}/events"), cert.t()).await.expect(200);
    assert_eq!(ev.json["items"][3]["reason"], "pesticide residue");
    // Revoked is final for edits and lots.
    app.patch(&format!("/products/{id}"), sup.t(), json!({"name": "x"}), Some("\"4\""))
        .await
        .problem(409);
    app.post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .problem(409);
}

#[tokio::test]
async fn reject_then_resubmit() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let id = create_product(&app, &sup, product_body("millet")).await;
    app.post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .expect(200);
    let r = app
        .post(&format!("/products/{id}/reject"), cert.t(), json!({"reason": "  "}))
        .await;
    assert_eq!(r.fields(), vec!["reason"]);
    r.problem(422);
    let r = app
        .post(
            &format!("/products/{id}/reject"),
            cert.t(),
            json!({"reason": "certificate scan unreadable"}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "rejected");
    let r = app
        .post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "pending_review");
    let ev = app.get(&format!("/products/{id}/events"), sup.t()).await.expect(200);
    assert_eq!(ev.json["items"].as_array().unwrap().len(), 4);
    assert_eq!(ev.json["items"][2]["reason"], "certificate scan unreadable");
}

// ------------------------------------------------------------------ refusals

#[tokio::test]
async fn refusals_wrong_county_role_org_and_state() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let other_sup = app.create_org("cooperative", PINGQUAN).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let other_cert = app.create_org("county_office", PINGQUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let id = create_product(&app, &sup, product_body("millet")).await;
    let p = |s: &str| format!("/products/{id}{s}");

    // No token.
    app.get(&p(""), None).await.problem(401);
    app.post("/products", None, product_body("x")).await.problem(401);
    // Wrong role: 403.
    for t in [buyer.t(), cert.t(), Some(app.admin_token.as_str())] {
        app.post("/products", t, product_body("x")).await.problem(403);
    }
    app.post(&p("/certify"), sup.t(), json!({"valid_until": in_a_year()}))
        .await
        .problem(403);
    app.post(&p("/certify"), buyer.t(), json!({"valid_until": in_a_year()}))
        .await
        .problem(403);
    app.post(&p("/submit"), cert.t(), json!({})).await.problem(403);
    app.post(
        &p("/lots"),
        buyer.t(),
        json!({"quantity": "1", "best_before": in_a_year()}),
    )
    .await
    .problem(403);
    app.get("/products", buyer.t()).await.problem(403);
    // Another supplier: 404 everywhere.
    app.get(&p(""), other_sup.t()).await.problem(404);
    app.get(&p("/events"), other_sup.t()).await.problem(404);
    app.get(&p("/stock"), other_sup.t()).await.problem(404);
    app.patch(&p(""), other_sup.t(), json!({"name": "mine"}), Some("\"1\""))
        .await
        .problem(404);
    app.post(&p("/submit"), other_sup.t(), json!({})).await.problem(404);
    app.post(
        &p("/lots"),
        other_sup.t(),
        json!({"quantity": "1", "best_before": in_a_year()}),
    )
    .await
    .problem(404);
    app.post(
        &p("/stock-adjustments"),
        other_sup.t(),
        json!({"quantity": "-1", "reason": "x"}),
    )
    .await
    .problem(404);
    assert!(ids(&app.get("/products", other_sup.t()).await.expect(200).json).is_empty());
    // Unknown product: 404.
    app.get("/products/nope", sup.t()).await.problem(404);

    // Wrong state: certify a draft.
    app.post(&p("/certify"), cert.t(), json!({"valid_until": in_a_year()}))
        .await
        .problem(409);
    app.post(&p("/revoke"), cert.t(), json!({"reason": "x"}))
        .await
        .problem(409);
    app.post(&p("/submit"), sup.t(), json!({})).await.expect(200);
    app.post(&p("/submit"), sup.t(), json!({})).await.problem(409);
    app.post(&p("/revoke"), cert.t(), json!({"reason": "x"}))
        .await
        .problem(409);
    // A certifier of another county does not see it at all.
    app.get(&p(""), other_cert.t()).await.problem(404);
    app.post(&p("/certify"), other_cert.t(), json!({"valid_until": in_a_year()}))
        .await
        .problem(404);
    app.post(&p("/reject"), other_cert.t(), json!({"reason": "x"}))
        .await
        .problem(404);
    assert!(ids(&app.get("/products", other_cert.t()).await.expect(200).json).is_empty());
    assert_eq!(
        ids(&app.get("/products", cert.t()).await.expect(200).json),
        vec![id.clone()]
    );
    // Certify with a date in the past: 422, still pending.
    let r = app
        .post(&p("/certify"), cert.t(), json!({"valid_until": "2020-01-01"}))
        .await;
    assert_eq!(r.fields(), vec!["valid_until"]);
    r.problem(422);
    let r = app
        .post(&p("/certify"), cert.t(), json!({"valid_until": "tomorrow"}))
        .await;
    assert_eq!(r.fields(), vec!["valid_until"]);
    r.problem(422);
    assert_eq!(app.get(&p(""), sup.t()).await.json["status"], "pending_review");
    app.post(&p("/certify"), cert.t(), json!({"valid_until": in_a_year()}))
        .await
        .expect(200);
    app.post(&p("/certify"), cert.t(), json!({"valid_until": in_a_year()}))
        .await
        .problem(409);
    app.post(&p("/reject"), cert.t(), json!({"reason": "late"}))
        .await
        .problem(409);
    // Bad list filter.
    let r = app.get("/products?status=sold", sup.t()).await;
    assert_eq!(r.fields(), vec!["status"]);
}

// ------------------------------------------------------------------ validation

#[tokio::test]
async fn every_validation_error_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let before = product_count(&app).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("category", json!("rice"), "category"),
        ("category", json!(""), "category"),
        ("unit", json!("ton"), "unit"),
        ("price", json!("1.005"), "price"),
        ("price", json!("-1"), "price"),
        ("price", json!("0"), "price"),
        ("price", json!("abc"), "price"),
        ("min_order_qty", json!("-1"), "min_order_qty"),
        ("min_order_qty", json!("1.0005"), "min_order_qty"),
        ("min_order_qty", json!("0"), "min_order_qty"),
        (
            "supply_capacity_per_month",
            json!("1.2345"),
            "supply_capacity_per_month",
        ),
        ("origin_region_code", json!(CHANGAN), "origin_region_code"),
        ("origin_region_code", json!("130700"), "origin_region_code"),
        ("origin_region_code", json!("999999"), "origin_region_code"),
        ("name", json!("  "), "name"),
        ("shelf_life_days", json!(0), "shelf_life_days"),
        ("poor_households_linked", json!(-3), "poor_households_linked"),
        (
            "certificates",
            json!([{"kind": "iso9001", "number": "1", "valid_until": "2030-01-01"}]),
            "certificates[0].kind",
        ),
        (
            "certificates",
            json!([{"kind": "organic", "number": "1", "valid_until": "2020-01-01"}]),
            "certificates[0].valid_until",
        ),
        (
            "certificates",
            json!([{"kind": "organic", "number": "1", "valid_until": "2030-02-30"}]),
            "certificates[0].valid_until",
        ),
        (
            "certificates",
            json!([{"kind": "organic", "number": "", "valid_until": "2030-01-01"}]),
            "certificates[0].number",
        ),
        (
            "certificates",
            json!([{"kind": "organic", "number": "1", "issued_on": "2031-01-01", "valid_until": "2030-01-01"}]),
            "certificates[0].issued_on",
        ),
    ];
    for (field, value, expected) in cases {
        let mut body = product_body("x");
        body[field] = value.clone();
        let r = app.post("/products", sup.t(), body).await;
        assert_eq!(r.fields(), vec![expected.to_string()], "{field}={value}: {}", r.text);
        r.problem(422);
    }
    // Several at once are all listed.
    let mut body = product_body("x");
    body["category"] = json!("rice");
    body["unit"] = json!("ton");
    body["price"] = json!("1.001");
    let r = app.post("/products", sup.t(), body).await;
    let mut f = r.fields();
    f.sort();
    assert_eq!(f, vec!["category", "price", "unit"]);
    // Missing field, unknown field.
    let mut body = product_body("x");
    body.as_object_mut().unwrap().remove("price");
    let r = app.post("/products", sup.t(), body).await;
    assert!(r.text.contains("price"), "{}", r.text);
    r.problem(422);
    let mut body = product_body("x");
    body["colour"] = json!("red");
    app.post("/products", sup.t(), body).await.problem(422);
    assert_eq!(product_count(&app).await, before, "nothing written");

    // Lots and stock adjustments.
    let id = create_product(&app, &sup, product_body("x")).await;
    let lot_cases: Vec<(Value, &str)> = vec![
        (json!({"quantity": "-5", "best_before": in_a_year()}), "quantity"),
        (json!({"quantity": "0", "best_before": in_a_year()}), "quantity"),
        (json!({"quantity": "1.0001", "best_before": in_a_year()}), "quantity"),
        (json!({"quantity": "5", "best_before": "2020-01-01"}), "best_before"),
        (json!({"quantity": "5", "best_before": "soon"}), "best_before"),
        (
            json!({"quantity": "5", "harvested_on": "2099-01-01", "best_before": in_a_year()}),
            "harvested_on",
        ),
    ];
    for (body, expected) in lot_cases {
        let r = app.post(&format!("/products/{id}/lots"), sup.t(), body.clone()).await;
        assert_eq!(r.fields(), vec![expected.to_string()], "{body}: {}", r.text);
        r.problem(422);
    }
    assert_eq!(entity::lots::Entity::find().count(app.db()).await.unwrap(), 0);
    let lot = add_lot(&app, &sup, &id, "10").await;
    let adj_cases: Vec<(Value, &str)> = vec![
        (json!({"quantity": "-1.0001", "reason": "spoilt"}), "quantity"),
        (json!({"quantity": "0", "reason": "spoilt"}), "quantity"),
        (json!({"quantity": "-1", "reason": ""}), "reason"),
        (json!({"quantity": "1", "reason": "found"}), "lot_id"),
        (json!({"quantity": "-1", "reason": "x", "lot_id": "nope"}), "lot_id"),
    ];
    for (body, expected) in adj_cases {
        let r = adjust(&app, &sup, &id, body.clone()).await;
        assert_eq!(r.fields(), vec![expected.to_string()], "{body}: {}", r.text);
        r.problem(422);
    }
    let st = app.get(&format!("/products/{id}/stock"), sup.t()).await.expect(200);
    assert_eq!(st.json["on_hand"], "10");
    // Never below zero: 409, nothing changes.
    adjust(&app, &sup, &id, json!({"quantity": "-10.001", "reason": "lost"}))
        .await
        .problem(409);
    adjust(
        &app,
        &sup,
        &id,
        json!({"quantity": "-11", "reason": "lost", "lot_id": lot}),
    )
    .await
    .problem(409);
    let st = app.get(&format!("/products/{id}/stock"), sup.t()).await.expect(200);
    assert_eq!(st.json["on_hand"], "10");
    assert_eq!(
        entity::stock_movements::Entity::find().count(app.db()).await.unwrap(),
        1,
        "only the lot's own movement"
    );
    // PATCH validation writes nothing either.
    let r = app
        .patch(
            &format!("/products/{id}"),
            sup.t(),
            json!({"price": "9.999"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.fields(), vec!["price"]);
    let r = app
        .patch(
            &format!("/products/{id}"),
            sup.t(),
            json!({"origin_region_code": CHANGAN}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.fields(), vec!["origin_region_code"]);
    let g = app.get(&format!("/products/{id}"), sup.t()).await.expect(200);
    assert_eq!(g.json["price"], "12.50");
    assert_eq!(g.json["version"], 1);
}

#[tokio::test]
async fn stock_adjustments_and_expired_lots() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let id = create_product(&app, &sup, product_body("x")).await;
    let lot1 = add_lot(&app, &sup, &id, "10").await;
    let _lot2 = add_lot(&app, &sup, &id, "5.5").await;
    let r = adjust(&app, &sup, &id, json!({"quantity": "-12", "reason": "mould"}))
        .await
        .expect(201);
    assert_eq!(r.json["stock"]["on_hand"], "3.5");
    let moved: Vec<&str> = r.json["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert!(!moved.is_empty() && moved.iter().all(|m| *m == "mould"));
    let r = adjust(
        &app,
        &sup,
        &id,
        json!({"quantity": "2", "reason": "recount", "lot_id": lot1}),
    )
    .await
    .expect(201);
    assert_eq!(r.json["stock"]["on_hand"], "5.5");
    // A lot past best-before no longer counts as available.
    let lot = entity::lots::Entity::find_by_id(lot1.clone())
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut am: entity::lots::ActiveModel = lot.into();
    am.best_before = Set(chrono::Utc::now().date_naive() - chrono::Days::new(1));
    am.update(app.db()).await.unwrap();
    let st = app.get(&format!("/products/{id}/stock"), sup.t()).await.expect(200);
    assert_eq!(st.json["on_hand"], "3.5");
    assert_eq!(st.json["expired"], "2");
    assert_eq!(st.json["available"], "3.5");
}

// ------------------------------------------------------------------ ETag and edits

#[tokio::test]
async fn edits_need_if_match_and_reset_certification() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let id = certified(&app, &sup, &cert, product_body("Yangyuan Millet")).await;
    add_lot(&app, &sup, &id, "100").await;
    let path = format!("/products/{id}");
    let etag = app.get(&path, sup.t()).await.expect(200).header("etag").unwrap();
    assert_eq!(catalog_ids(&app, "").await, vec![id.clone()]);

    app.patch(&path, sup.t(), json!({"name": "x"}), None).await.problem(428);
    app.patch(&path, sup.t(), json!({"name": "x"}), Some("\"999\""))
        .await
        .problem(412);
    // A change of free text keeps the certification.
    let r = app
        .patch(
            &path,
            sup.t(),
            json!({"description": "Golden millet from the Sanggan river valley"}),
            Some(&etag),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "certified");
    let etag2 = r.header("etag").unwrap();
    assert_ne!(etag, etag2);
    // The old ETag is stale now.
    app.patch(&path, sup.t(), json!({"price": "13.00"}), Some(&etag))
        .await
        .problem(412);
    let cat = app.get("/catalog?q=golden", None).await.expect(200);
    assert_eq!(
        ids(&cat.json),
        vec![id.clone()],
        "the catalogue shows the new description"
    );
    // A price change sends it back to review and out of the catalogue.
    let r = app
        .patch(&path, sup.t(), json!({"price": "13.00"}), Some(&etag2))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "pending_review");
    assert!(r.json["certificate_number"].is_null());
    assert!(catalog_ids(&app, "").await.is_empty());
    let ev = app.get(&format!("{path}/events"), sup.t()).await.expect(200);
    let last = ev.json["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from_status"], "certified");
    assert_eq!(last["to_status"], "pending_review");
    assert!(last["reason"].as_str().unwrap().contains("price"));
    // Certificates too.
    app.post(
        &format!("{path}/certify"),
        cert.t(),
        json!({"valid_until": in_a_year()}),
    )
    .await
    .expect(200);
    let etag = app.get(&path, sup.t()).await.header("etag").unwrap();
    let r = app
        .patch(
            &path,
            sup.t(),
            json!({"certificates": [{"kind": "organic", "number": "OG-1", "valid_until": "2031-01-01"}]}),
            Some(&etag),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "pending_review");
    // And origin.
    app.post(
        &format!("{path}/certify"),
        cert.t(),
        json!({"valid_until": in_a_year()}),
    )
    .await
    .expect(200);
    let etag = app.get(&path, sup.t()).await.header("etag").unwrap();
    let r = app
        .patch(&path, sup.t(), json!({"origin_region_code": YANGYUAN}), Some(&etag))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "pending_review");
}

/// Issue 12, item 7: name, unit and category are what a certification vouched for, as
/// price, origin and certificates are: changing one sends a certified product back to
/// review and out of the catalogue, and its history says why. Free text stays editable.
#[tokio::test]
async fn editing_name_unit_or_category_of_a_certified_product_needs_review_again() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let id = certified(&app, &sup, &cert, product_body("Yangyuan Millet")).await;
    add_lot(&app, &sup, &id, "100").await;
    let path = format!("/products/{id}");
    for (patch, field) in [
        (json!({"name": "Yangyuan Golden Millet"}), "name"),
        (json!({"unit": "jin"}), "unit"),
        (json!({"category": "vegetables"}), "category"),
    ] {
        let etag = app.get(&path, sup.t()).await.expect(200).header("etag").unwrap();
        // Description and the benefit mechanism are free text: no review.
        let r = app
            .patch(
                &path,
                sup.t(),
                json!({"description": format!("before the {field} change"), "benefit_mechanism": "wages"}),
                Some(&etag),
            )
            .await
            .expect(200);
        assert_eq!(r.json["status"], "certified", "{field}: {}", r.text);
        assert_eq!(catalog_ids(&app, "").await, vec![id.clone()]);
        // Sending the same value again is no change.
        let etag = r.header("etag").unwrap();
        let same = json!({ field: r.json[field].clone() });
        let r = app.patch(&path, sup.t(), same, Some(&etag)).await.expect(200);
        assert_eq!(r.json["status"], "certified", "{field} unchanged: {}", r.text);
        let events_before = app.get(&format!("{path}/events"), sup.t()).await.expect(200).json["items"]
            .as_array()
            .unwrap()
            .len();
        let etag = r.header("etag").unwrap();
        let r = app.patch(&path, sup.t(), patch.clone(), Some(&etag)).await.expect(200);
        assert_eq!(r.json["status"], "pending_review", "{field}: {}", r.text);
        assert!(r.json["certificate_number"].is_null(), "{field}");
        assert_eq!(r.json[field], patch[field], "the edit itself is kept");
        assert!(catalog_ids(&app, "").await.is_empty(), "{field}: out of the catalogue");
        let ev = app.get(&format!("{path}/events"), sup.t()).await.expect(200);
        let items = ev.json["items"].as_array().unwrap();
        assert_eq!(items.len(), events_before + 1, "{field}: one event");
        let last = items.last().unwrap();
        assert_eq!(last["from_status"], "certified");
        assert_eq!(last["to_status"], "pending_review");
        assert!(
            last["reason"].as_str().unwrap().contains(field),
            "{field}: {}",
            last["reason"]
        );
        // Re-certified, it is back in the catalogue.
        app.post(
            &format!("{path}/certify"),
            cert.t(),
            json!({"valid_until": in_a_year()}),
        )
        .await
        .expect(200);
        assert_eq!(catalog_ids(&app, "").await, vec![id.clone()], "{field}");
    }
}

// ------------------------------------------------------------------ expiry

#[tokio::test]
async fn a_certification_past_valid_until_is_expired_everywhere() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let id = certified(&app, &sup, &cert, product_body("millet")).await;
    add_lot(&app, &sup, &id, "100").await;
    assert_eq!(
        app.get(&format!("/products/{id}"), buyer.t()).await.expect(200).json["status"],
        "certified"
    );
    // Time passes: valid_until is yesterday. (Cached catalogue pages are keyed by the date as
    // well as the generation, so a day change never serves a page from before it.)
    let m = entity::products::Entity::find_by_id(id.clone())
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut am: entity::products::ActiveModel = m.into();
    am.valid_until = Set(Some(chrono::Utc::now().date_naive() - chrono::Days::new(1)));
    am.update(app.db()).await.unwrap();

    let g = app.get(&format!("/products/{id}"), sup.t()).await.expect(200);
    assert_eq!(g.json["status"], "expired");
    assert_eq!(
        app.get(&format!("/products/{id}"), cert.t()).await.json["status"],
        "expired"
    );
    app.get(&format!("/products/{id}"), buyer.t()).await.problem(404);
    let l = app.get("/products?status=expired", sup.t()).await.expect(200);
    assert_eq!(ids(&l.json), vec![id.clone()]);
    assert!(ids(&app.get("/products?status=certified", sup.t()).await.json).is_empty());
    assert_eq!(
        app.get("/products", sup.t()).await.json["items"][0]["status"],
        "expired"
    );
    assert!(
        catalog_ids(&app, "").await.is_empty(),
        "never in the catalogue, cache or not"
    );
    assert!(catalog_ids(&app, "?q=millet").await.is_empty());
    let ev = app.get(&format!("/products/{id}/events"), sup.t()).await.expect(200);
    assert_eq!(
        ev.json["items"].as_array().unwrap().last().unwrap()["to_status"],
        "expired"
    );
    // Not certifiable again without review; the supplier may resubmit it.
    app.post(
        &format!("/products/{id}/certify"),
        cert.t(),
        json!({"valid_until": in_a_year()}),
    )
    .await
    .problem(409);
    let r = app
        .post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "pending_review");
    app.post(
        &format!("/products/{id}/certify"),
        cert.t(),
        json!({"valid_until": in_a_year()}),
    )
    .await
    .expect(200);
    assert_eq!(catalog_ids(&app, "").await, vec![id]);
}

// ------------------------------------------------------------------ cache

#[tokio::test]
async fn the_cache_never_serves_a_revoked_or_suspended_product() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let sup2 = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let a = certified(&app, &sup, &cert, product_body("阳原小米 A")).await;
    let b = certified(&app, &sup2, &cert, product_body("阳原小米 B")).await;
    let queries = [
        "",
        "?q=小米",
        "?category=grain",
        "?county=130727&limit=5",
        "?poverty_status=deep_poverty",
    ];
    for _ in 0..2 {
        for q in queries {
            let got = catalog_ids(&app, q).await;
            assert_eq!(got, vec![a.clone(), b.clone()], "{q}");
        }
    }
    app.post(&format!("/products/{a}/revoke"), cert.t(), json!({"reason": "fraud"}))
        .await
        .expect(200);
    for q in queries {
        assert_eq!(catalog_ids(&app, q).await, vec![b.clone()], "after revoke: {q}");
    }
    app.post(
        &format!("/organizations/{}/suspend", sup2.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .expect(200);
    for q in queries {
        assert!(catalog_ids(&app, q).await.is_empty(), "after suspension: {q}");
    }
    // Hidden from ordering too: buyers no longer see it.
    let buyer = app.create_org("canteen", CHANGAN).await;
    app.get(&format!("/products/{b}"), buyer.t()).await.problem(404);
    app.post(
        &format!("/organizations/{}/reinstate", sup2.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(catalog_ids(&app, "?q=小米").await, vec![b.clone()]);
    app.get(&format!("/products/{b}"), buyer.t()).await.expect(200);
    // Stock changes show at once as well.
    add_lot(&app, &sup2, &b, "7").await;
    let cat = app.get("/catalog", None).await.expect(200);
    assert_eq!(cat.json["items"][0]["available"], "7");
    if on_redis() {
        assert!(app.state.cache.is_redis());
    }
}

// ------------------------------------------------------------------ search, filters, pages

#[tokio::test]
async fn search_in_chinese_and_latin_with_filters_and_pages() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let sup_pq = app.create_org("cooperative", PINGQUAN).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let cert_pq = app.create_org("county_office", PINGQUAN).await;
    let mut b = product_body("阳原小米");
    b["description"] = json!("Yangyuan MILLET, stone-ground");
    let millet = certified(&app, &sup, &cert, b).await;
    let mut b = product_body("平泉香菇");
    b["category"] = json!("edible_fungi");
    b["price"] = json!("30.00");
    b["origin_region_code"] = json!(PINGQUAN);
    b["description"] = json!("Shiitake mushrooms, dried");
    let mushroom = certified(&app, &sup_pq, &cert_pq, b).await;
    let mut b = product_body("杂粮礼盒");
    b["unit"] = json!("box");
    b["price"] = json!("88.00");
    b["description"] = json!("Mixed grains gift box with 小米 and 100%_pure oats");
    let gift = certified(&app, &sup, &cert, b).await;

    assert_eq!(catalog_ids(&app, "?q=小米").await, vec![millet.clone(), gift.clone()]);
    assert_eq!(catalog_ids(&app, "?q=阳原小米").await, vec![millet.clone()]);
    assert_eq!(catalog_ids(&app, "?q=香菇").await, vec![mushroom.clone()]);
    assert_eq!(catalog_ids(&app, "?q=millet").await, vec![millet.clone()]);
    assert_eq!(catalog_ids(&app, "?q=MiLLeT").await, vec![millet.clone()]);
    assert_eq!(catalog_ids(&app, "?q=SHIITAKE%20dried").await, vec![mushroom.clone()]);
    assert!(catalog_ids(&app, "?q=shiitake%20millet").await.is_empty());
    assert!(catalog_ids(&app, "?q=大米").await.is_empty());
    // LIKE wildcards are literal.
    assert_eq!(catalog_ids(&app, "?q=100%25_").await, vec![gift.clone()]);
    assert_eq!(catalog_ids(&app, "?q=%25").await, vec![gift.clone()]);
    assert!(catalog_ids(&app, "?q=_").await.iter().all(|i| *i == gift));
    // Filters.
    assert_eq!(
        catalog_ids(&app, "?category=edible_fungi").await,
        vec![mushroom.clone()]
    );
    assert_eq!(catalog_ids(&app, "?county=130881").await, vec![mushroom.clone()]);
    assert_eq!(
        catalog_ids(&app, "?poverty_status=poverty").await,
        vec![mushroom.clone()]
    );
    assert_eq!(
        catalog_ids(&app, "?poverty_status=deep_poverty").await,
        vec![millet.clone(), gift.clone()]
    );
    assert_eq!(
        catalog_ids(&app, "?min_price=30&max_price=88").await,
        vec![mushroom.clone(), gift.clone()]
    );
    assert_eq!(catalog_ids(&app, "?max_price=29.99").await, vec![millet.clone()]);
    assert_eq!(catalog_ids(&app, "?q=小米&max_price=50").await, vec![millet.clone()]);
    for (q, field) in [
        ("?category=rice", "category"),
        ("?min_price=abc", "min_price"),
        ("?max_price=1.001", "max_price"),
        ("?poverty_status=rich", "poverty_status"),
        ("?county=13", "county"),
        ("?limit=0", "limit"),
        ("?cursor=%3Cscript%3E", "cursor"),
    ] {
        let r = app.get(&format!("/catalog{q}"), None).await;
        assert_eq!(r.fields(), vec![field.to_string()], "{q}");
        r.problem(400);
    }
    // Cursor pages: stable order, every item once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/catalog?limit=1&cursor={c}"),
            None => "/catalog?limit=1".to_string(),
        };
        let r = app.get(&q, None).await.expect(200);
        seen.extend(ids(&r.json));
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec![millet, mushroom, gift]);
}

// ------------------------------------------------------------------ price check

#[tokio::test]
async fn certifier_queue_flags_prices_far_above_the_median() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    for price in ["10.00", "12.00", "14.00"] {
        let mut b = product_body("millet");
        b["price"] = json!(price);
        certified(&app, &sup, &cert, b).await;
    }
    let mut pending = Vec::new();
    for (price, unit) in [("16.00", "kg"), ("15.60", "kg"), ("15.61", "kg"), ("99.00", "bag")] {
        let mut b = product_body("millet");
        b["price"] = json!(price);
        b["unit"] = json!(unit);
        let id = create_product(&app, &sup, b).await;
        app.post(&format!("/products/{id}/submit"), sup.t(), json!({}))
            .await
            .expect(200);
        pending.push(id);
    }
    let q = app.get("/products?status=pending_review", cert.t()).await.expect(200);
    let find = |id: &str| -> Value {
        q.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()["price_check"]
            .clone()
    };
    let c = find(&pending[0]);
    assert_eq!(c["median_price"], "12.00");
    assert_eq!(c["ratio"], "1.33");
    assert_eq!(c["compared_with"], 3);
    assert_eq!(c["price_flag"], true);
    let c = find(&pending[1]);
    assert_eq!(c["ratio"], "1.30");
    assert_eq!(c["price_flag"], false, "exactly 30% above is not flagged");
    assert_eq!(find(&pending[2])["price_flag"], true);
    let c = find(&pending[3]);
    assert!(c["median_price"].is_null());
    assert_eq!(c["price_flag"], false);
}

// ------------------------------------------------------------------ concurrency

#[tokio::test]
async fn concurrent_certifications_and_adjustments() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let id = create_product(&app, &sup, product_body("millet")).await;
    app.post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .expect(200);
    let path = format!("/products/{id}/certify");
    let body = json!({"valid_until": in_a_year()});
    let reject = format!("/products/{id}/reject");
    let (r1, r2, r3) = tokio::join!(
        app.post(&path, cert.t(), body.clone()),
        app.post(&path, cert.t(), body.clone()),
        app.post(&reject, cert.t(), json!({"reason": "no"})),
    );
    let mut codes = vec![r1.status.as_u16(), r2.status.as_u16(), r3.status.as_u16()];
    codes.sort();
    assert_eq!(codes, vec![200, 409, 409], "{} {} {}", r1.text, r2.text, r3.text);
    let ev = app.get(&format!("/products/{id}/events"), sup.t()).await.expect(200);
    assert_eq!(ev.json["items"].as_array().unwrap().len(), 3, "one decision recorded");

    // Concurrent losses never take stock below zero.
    add_lot(&app, &sup, &id, "10").await;
    let adj = format!("/products/{id}/stock-adjustments");
    let futs: Vec<_> = (0..4)
        .map(|_| app.post(&adj, sup.t(), json!({"quantity": "-3", "reason": "spoilt"})))
        .collect();
    let res = futures_util::future::join_all(futs).await;
    let ok = res.iter().filter(|r| r.status == 201).count();
    assert_eq!(ok, 3, "{:?}", res.iter().map(|r| r.text.clone()).collect::<Vec<_>>());
    assert!(res.iter().all(|r| r.status == 201 || r.status == 409));
    let st = app.get(&format!("/products/{id}/stock"), sup.t()).await.expect(200);
    assert_eq!(st.json["on_hand"], "1");

    // Two concurrent edits with the same ETag: one wins, the other gets 412.
    let etag = app
        .get(&format!("/products/{id}"), sup.t())
        .await
        .header("etag")
        .unwrap();
    let p = format!("/products/{id}");
    let (a, b) = tokio::join!(
        app.patch(&p, sup.t(), json!({"name": "a"}), Some(&etag)),
        app.patch(&p, sup.t(), json!({"name": "b"}), Some(&etag)),
    );
    let mut codes = vec![a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, vec![200, 412]);
}

#[tokio::test]
async fn demo_data_has_an_orderable_catalogue() {
    let app = spawn_app().await;
    assist_market::services::demo::seed(&app.state).await.unwrap();
    assist_market::services::demo::seed(&app.state).await.unwrap();
    let cat = app.get("/catalog", None).await.expect(200);
    let names: Vec<&str> = cat.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    for n in ["阳原小米", "平泉香菇", "饶阳"] {
        assert_eq!(names.iter().filter(|x| x.contains(n)).count(), 1, "{n} in {names:?}");
    }
    assert!(cat.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["available"] != "0"));
    assert_eq!(catalog_ids(&app, "?q=小米").await.len(), 1);
}

#[tokio::test]
async fn products_and_catalogue_are_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200).json;
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/api/v1/products/{id}/certify",
        "/api/v1/products/{id}/stock",
        "/api/v1/products/{id}/stock-adjustments",
        "/api/v1/catalog",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(
        doc["paths"]["/api/v1/catalog"]["get"]["security"].is_null(),
        "the catalogue is public"
    );
    assert!(doc["paths"]["/api/v1/products"]["post"]["security"].is_array());
    assert!(doc["components"]["schemas"]["CatalogPage"].is_object());
}

// ------------------------------------------------------------------ typed amounts and ids (issue 10)

/// Follows a `$ref` of the served document to its schema.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "dangling reference {r}");
            target
        }
        None => schema,
    }
}

#[tokio::test]
async fn catalogue_parameters_out_of_grammar_or_bound_are_422_naming_the_parameter() {
    let app = spawn_app().await;
    for (q, field) in [
        // Overflowed a Decimal multiplication and panicked a worker before.
        ("?min_price=79000000000000000000000000000", "min_price"),
        ("?max_price=79000000000000000000000000000", "max_price"),
        ("?min_price=100000000000.01", "min_price"),
        ("?min_price=1e2", "min_price"),
        ("?min_price=1_000", "min_price"),
        ("?max_price=1.234", "max_price"),
        ("?max_price=-1", "max_price"),
        ("?min_price=%2B5", "min_price"),
        ("?category=GRAIN", "category"),
        ("?category=rice&county=130727", "category"),
        ("?poverty_status=rich", "poverty_status"),
        ("?limit=abc", "limit"),
    ] {
        let r = app.get(&format!("/catalog{q}"), None).await;
        assert_eq!(r.fields(), vec![field.to_string()], "{q}: {}", r.text);
        r.problem(400);
    }
    // The service keeps serving, and the bound itself is a valid filter.
    app.get("/catalog?min_price=100000000000.00", None).await.expect(200);
    app.get("/catalog?min_price=&category=", None).await.expect(200);
    app.get("/healthz", None).await.expect(200);
    assert!(catalog_ids(&app, "?max_price=79.5&poverty_status=deep_poverty")
        .await
        .is_empty());
}

#[tokio::test]
async fn amounts_in_bodies_are_strings_of_the_strict_grammar() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let before = product_count(&app).await;
    for (field, value) in [
        ("price", json!("1e2")),
        ("price", json!("1_000")),
        ("price", json!(100)),
        ("price", json!(12.5)),
        ("price", json!("1.234")),
        ("price", json!(" 12.50")),
        ("price", json!("79000000000000000000000000000")),
        ("price", json!("100000000000.01")),
        ("min_order_qty", json!("1e2")),
        ("min_order_qty", json!(10)),
        ("min_order_qty", json!("1000000000.001")),
        ("supply_capacity_per_month", json!("5,000")),
    ] {
        let mut body = product_body("x");
        body[field] = value.clone();
        let r = app.post("/products", sup.t(), body).await;
        assert_eq!(r.fields(), vec![field.to_string()], "{field}={value}: {}", r.text);
        r.problem(422);
    }
    assert_eq!(product_count(&app).await, before, "nothing written");
    // The largest price and quantity are taken and read back as written.
    let mut body = product_body("x");
    body["price"] = json!("100000000000.00");
    body["min_order_qty"] = json!("1000000000");
    let r = app.post("/products", sup.t(), body).await.expect(201);
    assert_eq!(r.json["price"], "100000000000.00");
    assert_eq!(r.json["min_order_qty"], "1000000000");
    let id = r.json["id"].as_str().unwrap().to_string();
    // PATCH, lots and adjustments read the same types.
    let r = app
        .patch(
            &format!("/products/{id}"),
            sup.t(),
            json!({"price": 100}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.fields(), vec!["price"]);
    for (path, body, field) in [
        (
            "lots",
            json!({"quantity": "1e3", "best_before": in_a_year()}),
            "quantity",
        ),
        ("lots", json!({"quantity": 5, "best_before": in_a_year()}), "quantity"),
        (
            "stock-adjustments",
            json!({"quantity": "-1e1", "reason": "x"}),
            "quantity",
        ),
        ("stock-adjustments", json!({"quantity": -1, "reason": "x"}), "quantity"),
    ] {
        let r = app.post(&format!("/products/{id}/{path}"), sup.t(), body.clone()).await;
        assert_eq!(r.fields(), vec![field.to_string()], "{body}: {}", r.text);
        r.problem(422);
    }
    // Still serving.
    app.get(&format!("/products/{id}"), sup.t()).await.expect(200);
}

#[tokio::test]
async fn stock_never_passes_the_quantity_bound() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let id = create_product(&app, &sup, product_body("x")).await;
    let lot = add_lot(&app, &sup, &id, "1000000000").await;
    // Another lot or stock found would take the product past the bound: a state, so 409.
    app.post(
        &format!("/products/{id}/lots"),
        sup.t(),
        json!({"quantity": "0.001", "best_before": in_a_year()}),
    )
    .await
    .problem(409);
    adjust(
        &app,
        &sup,
        &id,
        json!({"quantity": "1", "reason": "recount", "lot_id": lot}),
    )
    .await
    .problem(409);
    let st = app.get(&format!("/products/{id}/stock"), sup.t()).await.expect(200);
    assert_eq!(st.json["on_hand"], "1000000000");
    assert_eq!(
        entity::stock_movements::Entity::find().count(app.db()).await.unwrap(),
        1,
        "only the lot's own movement"
    );
    // Taking some out still works.
    let r = adjust(
        &app,
        &sup,
        &id,
        json!({"quantity": "-0.5", "reason": "spilt", "lot_id": lot}),
    )
    .await
    .expect(201);
    assert_eq!(r.json["stock"]["on_hand"], "999999999.5");
    assert_eq!(r.json["movements"][0]["quantity"], "-0.5");
}

#[tokio::test]
async fn malformed_ids_are_404_in_paths_and_422_in_bodies() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    for path in ["/products/nope", "/products/nope/events", "/products/1/lots"] {
        app.get(path, sup.t()).await.problem(404);
    }
    app.post("/products/nope/submit", sup.t(), json!({})).await.problem(404);
    let id = create_product(&app, &sup, product_body("x")).await;
    add_lot(&app, &sup, &id, "5").await;
    let r = adjust(
        &app,
        &sup,
        &id,
        json!({"quantity": "-1", "reason": "x", "lot_id": "0193"}),
    )
    .await;
    assert_eq!(r.fields(), vec!["lot_id"]);
    r.problem(422);
    // A well-formed id of nothing is 404 too.
    app.get(&format!("/products/{}", uuid::Uuid::now_v7()), sup.t())
        .await
        .problem(404);
}

#[tokio::test]
async fn product_vocabularies_and_amounts_are_typed_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200).json;
    let schemas = &doc["components"]["schemas"];
    let enum_of = |schema: &Value| -> Vec<String> {
        let s = resolve(&doc, schema);
        s["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("not an enum: {s}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let product = &schemas["Product"]["properties"];
    assert_eq!(
        enum_of(&product["status"]),
        ["draft", "pending_review", "certified", "rejected", "revoked", "expired"]
    );
    assert_eq!(
        enum_of(&product["unit"]),
        ["kg", "jin", "box", "piece", "bag", "bottle"]
    );
    assert_eq!(enum_of(&product["category"]).len(), 13);
    assert_eq!(enum_of(&schemas["NewProduct"]["properties"]["category"]).len(), 13);
    assert_eq!(enum_of(&schemas["Certificate"]["properties"]["kind"]).len(), 4);
    assert_eq!(
        enum_of(&schemas["CatalogItem"]["properties"]["origin_poverty_status"]),
        ["none", "poverty", "deep_poverty"]
    );
    let price = resolve(&doc, &schemas["NewProduct"]["properties"]["price"]);
    assert_eq!(price["pattern"], "^[0-9]+(\\.[0-9]{1,2})?$", "{price}");
    let qty = resolve(&doc, &schemas["Lot"]["properties"]["remaining"]);
    assert_eq!(qty["pattern"], "^[0-9]+(\\.[0-9]{1,3})?$", "{qty}");
    let id = resolve(&doc, &schemas["Product"]["properties"]["id"]);
    assert_eq!(id["format"], "uuid");
    let params = doc["paths"]["/api/v1/catalog"]["get"]["parameters"].as_array().unwrap();
    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))["schema"]
            .clone()
    };
    let min_price = param("min_price");
    assert_eq!(resolve(&doc, &min_price)["pattern"], "^[0-9]+(\\.[0-9]{1,2})?$");
    let poverty = param("poverty_status");
    assert_eq!(enum_of(&poverty), ["none", "poverty", "deep_poverty"]);
}
