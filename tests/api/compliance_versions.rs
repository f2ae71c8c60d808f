//! A category's switch of its 合格证 default moves the version (`ETag`) and `updated_at` of
//! every product whose effective requirement it changes, so no client keeps the old value.
use crate::orders::world;
use serde_json::json;

#[tokio::test]
async fn a_category_switch_moves_the_etag_of_the_products_it_changes() {
    let w = world().await;
    let app = &w.app;
    let path = format!("/products/{}", w.product);
    let get = |tag: Option<String>| {
        let mut rb = app.client.get(app.url(&path)).bearer_auth(&w.supplier.token);
        if let Some(t) = tag {
            rb = rb.header("If-None-Match", t);
        }
        app.send(rb)
    };
    let first = get(None).await.expect(200);
    let tag = first.header("etag").unwrap();
    assert_eq!(first.json["compliance_certificate_required"], false);
    assert_eq!(get(Some(tag.clone())).await.status, 304);
    let category = first.json["category"].as_str().unwrap().to_string();
    let category_path = format!("/categories/{category}");
    let set = |v: bool| {
        app.put(
            &category_path,
            Some(&app.admin_token),
            json!({"requires_compliance_certificate": v}),
        )
    };
    set(true).await.expect(200);
    let now = get(Some(tag.clone())).await.expect(200);
    assert_eq!(now.json["compliance_certificate_required"], true, "{}", now.text);
    let new_tag = now.header("etag").unwrap();
    assert_ne!(new_tag, tag);
    let at = |v: &serde_json::Value| chrono::DateTime::parse_from_rfc3339(v["updated_at"].as_str().unwrap()).unwrap();
    assert!(at(&now.json) > at(&first.json), "{} then {}", first.text, now.text);
    assert_eq!(
        now.json["version"].as_i64(),
        first.json["version"].as_i64().map(|v| v + 1)
    );
    // The same value again changes nothing: the version stays.
    set(true).await.expect(200);
    assert_eq!(get(Some(new_tag)).await.status, 304);
}

/// A product created while its category starts to need a 合格证 takes the new value: it read
/// the setting before its transaction, the switch updated only the products it could see, and
/// the new one kept `false` for good (its lots then went unflagged).
#[tokio::test]
async fn a_product_created_during_a_category_switch_takes_the_new_value() {
    let w = world().await;
    let app = &w.app;
    let category = "grain";
    let category_path = format!("/categories/{category}");
    for round in 0..8 {
        let set = |v: bool| {
            app.put(
                &category_path,
                Some(&app.admin_token),
                json!({"requires_compliance_certificate": v}),
            )
        };
        set(false).await.expect(200);
        let body = json!({
            "name": format!("小米 {round}"), "category": category, "unit": "kg", "price": "12.50",
            "min_order_qty": "10", "origin_region_code": crate::helpers::YANGYUAN_VILLAGE,
            "description": "millet", "shelf_life_days": 365, "supply_capacity_per_month": "100",
            "certificates": [], "poor_households_linked": 1, "benefit_mechanism": "wages"
        });
        let (made, switched) = tokio::join!(app.post("/products", w.supplier.t(), body), set(true));
        let (made, _) = (made.expect(201), switched.expect(200));
        let id = made.json["id"].as_str().unwrap();
        let now = app.get(&format!("/products/{id}"), w.supplier.t()).await.expect(200);
        assert_eq!(
            now.json["compliance_certificate_required"], true,
            "round {round}: {}",
            now.text
        );
    }
}
