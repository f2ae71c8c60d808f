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
