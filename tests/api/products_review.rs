//! The county office certifies what it reviewed: an edit during review is in the history,
//! a decision naming a version the product has left is 412, and a certificate past its
//! date is refused whether or not the documents pass has seen it expire.
use crate::helpers::*;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{json, Value};

fn body() -> Value {
    json!({
        "name": "Review Millet", "category": "grain", "unit": "kg", "price": "12.50",
        "min_order_qty": "10", "origin_region_code": YANGYUAN_VILLAGE, "description": "millet",
        "shelf_life_days": 365, "supply_capacity_per_month": "500",
        "certificates": [{"kind": "green_food", "number": "LB-R-1", "valid_until": "2030-12-31"}],
        "poor_households_linked": 3, "benefit_mechanism": "dividends"
    })
}

fn in_a_year() -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(365)).to_string()
}

/// A product under review: `(id, its ETag)`.
async fn under_review(app: &TestApp, sup: &OrgUser) -> (String, String) {
    let id = app.post("/products", sup.t(), body()).await.expect(201).json["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(&format!("/products/{id}/submit"), sup.t(), json!({}))
        .await
        .expect(200);
    (id, r.header("etag").unwrap())
}

#[tokio::test]
async fn a_decision_names_the_version_reviewed_and_an_edit_during_review_is_in_the_history() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let (id, reviewed) = under_review(&app, &sup).await;
    let path = format!("/products/{id}");
    assert_eq!(
        app.get(&path, cert.t()).await.expect(200).header("etag").unwrap(),
        reviewed
    );

    // The supplier raises the price while the office reviews.
    let r = app
        .patch(&path, sup.t(), json!({"price": "125.00"}), Some(&reviewed))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "pending_review");
    let ev = app.get(&format!("{path}/events"), cert.t()).await.expect(200);
    let last = ev.json["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from_status"].as_str(), last["to_status"].as_str()),
        (Some("pending_review"), Some("pending_review"))
    );
    assert!(
        last["reason"].as_str().unwrap().contains("price during review"),
        "{last}"
    );

    // The office's decision on what it saw is refused, and nothing changes.
    let certify = json!({"valid_until": in_a_year()});
    for (action, b) in [("certify", certify.clone()), ("reject", json!({"reason": "too dear"}))] {
        app.post_with(&format!("{path}/{action}"), cert.t(), b, &[("If-Match", &reviewed)])
            .await
            .problem(412);
    }
    let now = app.get(&path, cert.t()).await.expect(200);
    assert_eq!(now.json["status"], "pending_review");
    assert!(now.json["certificate_number"].is_null());
    // On the version it has now seen, it may decide.
    let seen = now.header("etag").unwrap();
    let r = app
        .post_with(&format!("{path}/certify"), cert.t(), certify, &[("If-Match", &seen)])
        .await
        .expect(200);
    assert_eq!(r.json["price"], "125.00");
    // Revoking names a version too.
    app.post_with(
        &format!("{path}/revoke"),
        cert.t(),
        json!({"reason": "x"}),
        &[("If-Match", &seen)],
    )
    .await
    .problem(412);
    let current = r.header("etag").unwrap();
    app.post_with(
        &format!("{path}/revoke"),
        cert.t(),
        json!({"reason": "fraud"}),
        &[("If-Match", &current)],
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn a_certificate_past_its_date_is_refused_at_certification() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let cert = app.create_org("county_office", YANGYUAN).await;
    let (id, _) = under_review(&app, &sup).await;
    // Valid when entered; it expired yesterday, before any documents pass ran.
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let row = entity::products::Entity::find_by_id(id.clone())
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let mut am: entity::products::ActiveModel = row.into();
    am.certificates = Set(json!([
        {"kind": "green_food", "number": "LB-R-1", "valid_until": "2030-12-31"},
        {"kind": "organic", "number": "OG-OLD", "valid_until": yesterday.to_string()}
    ])
    .to_string());
    am.update(app.db()).await.unwrap();
    let path = format!("/products/{id}");
    let r = app
        .post(
            &format!("{path}/certify"),
            cert.t(),
            json!({"valid_until": in_a_year()}),
        )
        .await;
    assert_eq!(r.fields(), vec!["certificates[1]".to_string()], "{}", r.text);
    r.problem(422);
    assert_eq!(
        app.get(&path, cert.t()).await.expect(200).json["status"],
        "pending_review"
    );
    assert!(app.get("/catalog", None).await.expect(200).json["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["id"] != id.as_str()));
}
