//! Issue 12 (faults and hostile clients): the bounded items that need no new infrastructure.
use crate::helpers::*;
use serde_json::{json, Value};

fn product_body(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "category": "grain",
        "unit": "kg",
        "price": "12.50",
        "min_order_qty": "10",
        "origin_region_code": YANGYUAN_VILLAGE,
        "description": description,
        "certificates": [{"kind": "green_food", "number": "LB-18-001", "valid_until": "2030-12-31"}],
    })
}

/// Item 10: JSON carries a NUL only as a `\u0000` escape. An escaped backslash followed by
/// `u0000` (the bytes `\\u0000`) is a backslash and five ordinary characters: accepted and
/// stored as written. A real NUL escape is 422 naming the field that holds it.
#[tokio::test]
async fn only_a_real_nul_escape_is_refused_and_it_names_the_field() {
    let app = spawn_app().await;
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;

    // Ordinary text: `a\u0000b` with a literal backslash (JSON `"a\\u0000b"`), and an even run
    // of backslashes before `u0000`.
    let name = r"C:\u0000\temp";
    let description = r"two \\u0000 backslashes, then text";
    let r = app.post("/products", sup.t(), product_body(name, description)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["name"], name);
    assert_eq!(r.json["description"], description);
    let id = r.json["id"].as_str().unwrap().to_string();
    let g = app.get(&format!("/products/{id}"), sup.t()).await.expect(200);
    assert_eq!(g.json["name"], name, "stored as written");
    assert_eq!(g.json["description"], description);
    let row = {
        use sea_orm::EntityTrait;
        entity::products::Entity::find_by_id(id.clone())
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(row.name, name);

    // The same text sent as raw bytes, to be sure of what is on the wire.
    let raw = br#"{"name": "a\\u0000b", "category": "grain", "unit": "kg", "price": "1.00",
        "min_order_qty": "1", "origin_region_code": "130727100201"}"#;
    let rb = app
        .client
        .post(app.url("/products"))
        .bearer_auth(&sup.token)
        .header("content-type", "application/json")
        .body(raw.to_vec());
    let r = app.send(rb).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["name"], r"a\u0000b");

    // A real NUL: in a top-level field, in a nested one, after an odd run of backslashes.
    let products_before = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::products::Entity::find().count(app.db()).await.unwrap()
    };
    let mut body = product_body("a\u{0}b", "fine");
    let r = app.post("/products", sup.t(), body.clone()).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.fields(), vec!["name"]);
    body["name"] = json!("millet");
    body["certificates"][0]["number"] = json!("LB\u{0}1");
    body["description"] = json!("a backslash then a NUL: \\\u{0}");
    let r = app.post("/products", sup.t(), body).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, vec!["certificates[0].number", "description"]);
    let raw = br#"{"name": "a\\\u0000b", "category": "grain", "unit": "kg", "price": "1.00",
        "min_order_qty": "1", "origin_region_code": "130727100201"}"#;
    let rb = app
        .client
        .post(app.url("/products"))
        .bearer_auth(&sup.token)
        .header("content-type", "application/json")
        .body(raw.to_vec());
    let r = app.send(rb).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.fields(), vec!["name"]);
    let products_after = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::products::Entity::find().count(app.db()).await.unwrap()
    };
    assert_eq!(products_before, products_after, "a refused body writes nothing");
}
