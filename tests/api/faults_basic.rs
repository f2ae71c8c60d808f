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

/// Item 6: a loss that would leave less on hand than open orders have reserved is 409
/// naming the reserved quantity, and writes nothing; up to the reserved quantity it is fine.
#[tokio::test]
async fn stock_is_never_adjusted_below_what_is_reserved() {
    let w = crate::orders::world().await; // 1000 on hand
    let (app, sup) = (&w.app, &w.supplier);
    crate::orders::placed_so(&w, "600").await;
    let path = format!("/products/{}/stock", w.product);
    let st = app.get(&path, sup.t()).await.expect(200);
    assert_eq!(
        (st.json["on_hand"].as_str(), st.json["reserved"].as_str()),
        (Some("1000"), Some("600"))
    );
    let adj = format!("/products/{}/stock-adjustments", w.product);
    let movements = || async {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::stock_movements::Entity::find().count(app.db()).await.unwrap()
    };
    let moved = movements().await;

    let r = app
        .post(&adj, sup.t(), json!({"quantity": "-500", "reason": "mould"}))
        .await;
    let p = r.problem(409);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("600") && detail.contains("reserved"), "{detail}");
    assert_eq!(app.get(&path, sup.t()).await.expect(200).json["on_hand"], "1000");
    assert_eq!(movements().await, moved, "a refused loss writes nothing");

    // Down to exactly what is reserved is allowed; a thousandth more is not.
    let r = app
        .post(&adj, sup.t(), json!({"quantity": "-400", "reason": "mould"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["stock"]["on_hand"], "600");
    assert_eq!(r.json["stock"]["available"], "0");
    app.post(&adj, sup.t(), json!({"quantity": "-0.001", "reason": "mould"}))
        .await
        .problem(409);
    // Stock found is always welcome.
    let lots = app
        .get(&format!("/products/{}/lots", w.product), sup.t())
        .await
        .expect(200);
    let lot = lots.json["items"][0]["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &adj,
            sup.t(),
            json!({"quantity": "100", "reason": "recount", "lot_id": lot}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["stock"]["on_hand"], "700");
    // Naming the lot does not get around it.
    let r = app
        .post(
            &adj,
            sup.t(),
            json!({"quantity": "-101", "reason": "lost", "lot_id": lot}),
        )
        .await;
    assert!(r.problem(409)["detail"].as_str().unwrap().contains("600"));
}

/// Item 6 under concurrency: ten parallel losses of 15 against 100 free (700 on hand, 600
/// reserved): exactly six pass, the rest are 409, and on hand never drops below reserved.
#[tokio::test]
async fn concurrent_losses_never_take_stock_below_what_is_reserved() {
    let w = crate::orders::world().await;
    let (app, sup) = (&w.app, &w.supplier);
    crate::orders::placed_so(&w, "600").await;
    let adj = format!("/products/{}/stock-adjustments", w.product);
    app.post(&adj, sup.t(), json!({"quantity": "-300", "reason": "mould"}))
        .await
        .expect(201);
    let futs: Vec<_> = (0..10)
        .map(|_| app.post(&adj, sup.t(), json!({"quantity": "-15", "reason": "spoilt"})))
        .collect();
    let res = futures_util::future::join_all(futs).await;
    let texts: Vec<_> = res.iter().map(|r| format!("{} {}", r.status, r.text)).collect();
    assert!(res.iter().all(|r| r.status == 201 || r.status == 409), "{texts:#?}");
    assert_eq!(res.iter().filter(|r| r.status == 201).count(), 6, "{texts:#?}");
    let st = app
        .get(&format!("/products/{}/stock", w.product), sup.t())
        .await
        .expect(200);
    assert_eq!(st.json["on_hand"], "610");
    assert_eq!(st.json["reserved"], "600");
    let row = {
        use sea_orm::ConnectionTrait;
        app.db()
            .query_one_raw(sea_orm::Statement::from_string(
                app.db().get_database_backend(),
                format!(
                    "SELECT (SELECT SUM(remaining_milli) FROM lots WHERE product_id = '{0}') AS lots, \
                     (SELECT SUM(delta_milli) FROM stock_movements WHERE product_id = '{0}') AS moved",
                    w.product
                ),
            ))
            .await
            .unwrap()
            .unwrap()
    };
    let lots = assist_market::services::stock::get_sum(&row, "lots").unwrap();
    let moved = assist_market::services::stock::get_sum(&row, "moved").unwrap();
    assert_eq!(lots, 610_000);
    // The lot was written straight into the database with 1000; every loss left a movement.
    assert_eq!(moved, -390_000, "300 and six times 15");
}

/// Two acceptances that take from the same lots at once both succeed: the product's stock
/// row is locked before its lots are read, so the second plans on what the first left
/// (lot A is emptied, the rest comes from lot B) instead of failing with 409.
#[tokio::test]
async fn concurrent_acceptances_of_one_product_both_take_their_stock() {
    use crate::orders::{delivered_so, product, World};
    use sea_orm::{ActiveModelTrait, Set};
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    // Lot A: 10 units, best before in 100 days (taken first).
    let p = product(&app, &supplier.org_id, 1250, 1_000, 10_000).await;
    let t = chrono::Utc::now();
    entity::lots::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        product_id: Set(p.clone()),
        quantity_milli: Set(100_000),
        remaining_milli: Set(100_000),
        harvested_on: Set(None),
        best_before: Set(t.date_naive() + chrono::Duration::days(300)),
        created_at: Set(t),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("lot B");
    let w = World {
        app,
        buyer,
        supplier,
        product: p.clone(),
    };
    let mut accepts = Vec::new();
    for _ in 0..2 {
        let (order, so) = delivered_so(&w, "8").await;
        let line = order["supplier_orders"][0]["lines"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        accepts.push((so, line));
    }
    let urls: Vec<String> = accepts
        .iter()
        .map(|(so, _)| format!("/supplier-orders/{so}/accept"))
        .collect();
    let futs = urls.iter().zip(&accepts).map(|(url, (_, line))| {
        w.app.post(
            url,
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "8"}], "invoice_number": "INV-C"}),
        )
    });
    let answers = futures_util::future::join_all(futs).await;
    for r in answers {
        r.expect(200);
    }
    let stock = w
        .app
        .get(&format!("/products/{p}/stock"), w.supplier.t())
        .await
        .expect(200);
    assert_eq!(stock.json["on_hand"], "94", "{}", stock.json);
    assert_eq!(stock.json["reserved"], "0", "{}", stock.json);
}
