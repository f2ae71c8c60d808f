//! Bulk orders: placement, idempotency, validation, the lifecycle, roles, concurrency, emails.
use crate::helpers::*;
use assist_market::services::stock;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{json, Value};

/// A certified product of `supplier` from Yangyuan with one lot of `stock_milli`.
pub async fn product(app: &TestApp, supplier: &str, price_fen: i64, min_milli: i64, stock_milli: i64) -> String {
    product_with(app, supplier, price_fen, min_milli, stock_milli, "certified", 365).await
}

pub async fn product_with(
    app: &TestApp,
    supplier: &str,
    price_fen: i64,
    min_milli: i64,
    stock_milli: i64,
    status: &str,
    valid_days: i64,
) -> String {
    let id = ProductRow {
        price_fen,
        min_milli,
        status,
        valid_days: Some(valid_days),
        ..ProductRow::certified(supplier)
    }
    .insert(app)
    .await;
    let t = Utc::now();
    let today = t.date_naive();
    if stock_milli > 0 {
        entity::lots::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            product_id: Set(id.clone()),
            quantity_milli: Set(stock_milli),
            remaining_milli: Set(stock_milli),
            harvested_on: Set(None),
            best_before: Set(today + chrono::Duration::days(100)),
            created_at: Set(t),
            ..Default::default()
        }
        .insert(app.db())
        .await
        .expect("lot");
    }
    id
}

pub fn order_body(lines: &[(&str, &str)]) -> Value {
    json!({
        "lines": lines.iter().map(|(p, q)| json!({"product_id": p, "quantity": q})).collect::<Vec<_>>(),
        "credit_category": "purchase",
        "deliver_to": "No. 1 Canteen, Beijing",
        "requested_date": (Utc::now().date_naive() + chrono::Duration::days(3)).to_string(),
    })
}

pub async fn place(app: &TestApp, buyer: &OrgUser, body: Value, key: &str) -> Resp {
    app.post_with("/orders", buyer.t(), body, &[("Idempotency-Key", key)])
        .await
}

pub fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub async fn stock_of(app: &TestApp, product: &str) -> stock::Stock {
    stock::stock_of(app.db(), product).await.expect("stock")
}

pub async fn count(app: &TestApp, table: &str) -> i64 {
    scalar(app, "COUNT(*)", table).await
}

/// `SELECT what FROM from` as a BIGINT (0 for a NULL sum), on either backend.
pub async fn scalar(app: &TestApp, what: &str, from: &str) -> i64 {
    let row = app
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            app.db().get_database_backend(),
            format!("SELECT CAST(COALESCE({what}, 0) AS BIGINT) AS n FROM {from}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

pub struct World {
    pub app: TestApp,
    pub buyer: OrgUser,
    pub supplier: OrgUser,
    pub product: String,
}

/// A buyer, a supplier and one product (price 12.50, minimum 10, 1000 in stock).
pub async fn world() -> World {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let product = product(&app, &supplier.org_id, 1250, 10_000, 1_000_000).await;
    World {
        app,
        buyer,
        supplier,
        product,
    }
}

/// Places a one-line order and returns the supplier order id.
pub async fn placed_so(w: &World, qty: &str) -> (Value, String) {
    let r = place(&w.app, &w.buyer, order_body(&[(&w.product, qty)]), &new_key())
        .await
        .expect(201);
    let so = r.json["supplier_orders"][0]["id"].as_str().unwrap().to_string();
    (r.json, so)
}

/// Places a one-line order of `product` for `buyer`; returns (supplier order id, line id).
pub async fn placed_line(app: &TestApp, buyer: &OrgUser, product: &str, qty: &str) -> (String, String) {
    let r = place(app, buyer, order_body(&[(product, qty)]), &new_key())
        .await
        .expect(201);
    let so = &r.json["supplier_orders"][0];
    let id = |v: &Value| v.as_str().unwrap().to_string();
    (id(&so["id"]), id(&so["lines"][0]["id"]))
}

/// `buyer` orders 10 of `product`; the supplier confirms, ships and delivers; the buyer
/// accepts it all. Returns (supplier order id, line id).
pub async fn bought_line(app: &TestApp, buyer: &OrgUser, supplier: &OrgUser, product: &str) -> (String, String) {
    bought_from(app, buyer, supplier, product, &[]).await
}

/// As [`bought_line`], shipped from the lots `from` as (lot, quantity) in that order (none:
/// the lots the service chooses).
pub async fn bought_from(
    app: &TestApp,
    buyer: &OrgUser,
    supplier: &OrgUser,
    product: &str,
    from: &[(&str, &str)],
) -> (String, String) {
    let (so, line) = placed_line(app, buyer, product, "10").await;
    act(app, supplier, &so, "confirm").await.expect(200);
    let ship = if from.is_empty() {
        json!({})
    } else {
        let lots: Vec<Value> = from
            .iter()
            .map(|(lot, q)| json!({"line_id": line, "lot_id": lot, "quantity": q}))
            .collect();
        json!({ "lots": lots })
    };
    app.post(&format!("/supplier-orders/{so}/ship"), supplier.t(), ship)
        .await
        .expect(200);
    act(app, supplier, &so, "deliver").await.expect(200);
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV-1"}),
    )
    .await
    .expect(200);
    (so, line)
}

pub async fn act(app: &TestApp, who: &OrgUser, so: &str, action: &str) -> Resp {
    app.post(&format!("/supplier-orders/{so}/{action}"), who.t(), json!({}))
        .await
}

/// Takes a supplier order to `delivered`.
pub async fn delivered_so(w: &World, qty: &str) -> (Value, String) {
    let (order, so) = placed_so(w, qty).await;
    act(&w.app, &w.supplier, &so, "confirm").await.expect(200);
    act(&w.app, &w.supplier, &so, "ship").await.expect(200);
    act(&w.app, &w.supplier, &so, "deliver").await.expect(200);
    (order, so)
}

#[tokio::test]
async fn place_splits_by_supplier_copies_prices_and_emails_suppliers() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let s1 = app.create_org("cooperative", YANGYUAN).await;
    let s2 = app.create_org("family_farm", YANGYUAN).await;
    let p1 = product(&app, &s1.org_id, 1250, 1_000, 100_000).await;
    let p2 = product(&app, &s1.org_id, 333, 1_000, 100_000).await;
    let p3 = product(&app, &s2.org_id, 800, 1_000, 100_000).await;
    let key = new_key();
    let body = order_body(&[(&p1, "10"), (&p2, "1.5"), (&p3, "2.25")]);
    let r = place(&app, &buyer, body.clone(), &key).await.expect(201);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/orders/{}", r.json["id"].as_str().unwrap())
    );
    let o = &r.json;
    assert_eq!(o["buyer_org_id"], buyer.org_id);
    assert_eq!(o["status"], "placed");
    // 125.00 + 5.00 (4.995 rounded) + 18.00
    assert_eq!(o["total"], "148.00");
    let sos = o["supplier_orders"].as_array().unwrap();
    assert_eq!(sos.len(), 2);
    let so1 = sos.iter().find(|s| s["supplier_org_id"] == s1.org_id).unwrap();
    assert_eq!(so1["total"], "130.00");
    assert_eq!(so1["lines"].as_array().unwrap().len(), 2);
    assert_eq!(so1["status"], "placed");
    let l2 = so1["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["product_id"] == p2)
        .unwrap();
    assert_eq!(l2["unit_price"], "3.33");
    assert_eq!(l2["quantity"], "1.5");
    assert_eq!(l2["amount"], "5.00");
    // Reserved.
    assert_eq!(stock_of(&app, &p1).await.reserved_milli, 10_000);
    assert_eq!(stock_of(&app, &p1).await.available_milli, 90_000);

    // Prices are copied: a later price change does not touch the order.
    app.db()
        .execute_unprepared(&format!("UPDATE products SET price_fen = 9999 WHERE id = '{p1}'"))
        .await
        .unwrap();
    let again = app
        .get(&format!("/orders/{}", o["id"].as_str().unwrap()), buyer.t())
        .await
        .expect(200);
    assert_eq!(again.json["total"], "148.00");

    // Replay: same key and body -> same response, nothing new.
    let rep = place(&app, &buyer, body.clone(), &key).await.expect(201);
    assert_eq!(rep.json, r.json);
    assert_eq!(rep.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(count(&app, "orders").await, 1);
    assert_eq!(stock_of(&app, &p1).await.reserved_milli, 10_000);
    // Same key, another body -> 422.
    let other = order_body(&[(&p1, "11")]);
    let p = place(&app, &buyer, other, &key).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "Idempotency-Key");
    // The key is per buyer: another buyer may use it.
    let b2 = app.create_org("school", CHANGAN).await;
    place(&app, &b2, order_body(&[(&p1, "1")]), &key).await.expect(201);
    // Without a key -> 400.
    app.post("/orders", buyer.t(), order_body(&[(&p1, "1")]))
        .await
        .problem(400);

    // Each supplier is told, once per order: s1 got the first order and b2's.
    assert_eq!(app.wait_for_emails(&s1.contact_email, 2, 10).await.len(), 2);
    assert_eq!(app.wait_for_emails(&s2.contact_email, 1, 10).await.len(), 1);
}

#[tokio::test]
async fn expired_keys_are_forgotten() {
    let w = world().await;
    let key = new_key();
    let r1 = place(&w.app, &w.buyer, order_body(&[(&w.product, "10")]), &key)
        .await
        .expect(201);
    w.app
        .db()
        .execute_unprepared(
            "UPDATE idempotency_keys SET expires_at = created_at - INTERVAL '1 day'"
                .replace(
                    "created_at - INTERVAL '1 day'",
                    if on_postgres() {
                        "created_at - INTERVAL '1 day'"
                    } else {
                        "'2000-01-01 00:00:00+00:00'"
                    },
                )
                .as_str(),
        )
        .await
        .unwrap();
    let r2 = place(&w.app, &w.buyer, order_body(&[(&w.product, "12")]), &key)
        .await
        .expect(201);
    assert_ne!(r1.json["id"], r2.json["id"]);
    assert_eq!(count(&w.app, "orders").await, 2);
    // The sweep removes nothing live.
    assert_eq!(
        assist_market::services::orders::sweep_expired_keys(&w.app.state)
            .await
            .unwrap(),
        0
    );
    assert_eq!(count(&w.app, "idempotency_keys").await, 1);
}

#[tokio::test]
async fn invalid_orders_write_and_reserve_nothing() {
    let w = world().await;
    let app = &w.app;
    let draft = product_with(app, &w.supplier.org_id, 100, 1_000, 100_000, "draft", 365).await;
    let expired = product_with(app, &w.supplier.org_id, 100, 1_000, 100_000, "certified", -1).await;
    let suspended_sup = app.create_org("cooperative", YANGYUAN).await;
    let susp = product(app, &suspended_sup.org_id, 100, 1_000, 100_000).await;
    app.post(
        &format!("/organizations/{}/suspend", suspended_sup.org_id),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .expect(200);

    let cases: Vec<(Value, &str)> = vec![
        (order_body(&[(&w.product, "10"), ("nope", "10")]), "lines[1].product_id"),
        (order_body(&[(&w.product, "10"), (&draft, "10")]), "lines[1].product_id"),
        (order_body(&[(&expired, "10")]), "lines[0].product_id"),
        (order_body(&[(&w.product, "10"), (&susp, "10")]), "lines[1].product_id"),
        (order_body(&[(&w.product, "0")]), "lines[0].quantity"),
        (order_body(&[(&w.product, "-5")]), "lines[0].quantity"),
        (order_body(&[(&w.product, "10.0001")]), "lines[0].quantity"),
        (order_body(&[(&w.product, "9.999")]), "lines[0].quantity"),
        (
            order_body(&[(&w.product, "10"), (&w.product, "1000")]),
            "lines[0].quantity",
        ),
        (order_body(&[(&w.product, "1000.001")]), "lines[0].quantity"),
        (order_body(&[]), "lines"),
    ];
    for (body, field) in cases {
        let r = place(app, &w.buyer, body.clone(), &new_key()).await;
        let fields = r.fields();
        r.problem(422);
        assert!(fields.contains(&field.to_string()), "{body}: {fields:?}");
    }
    let mut b = order_body(&[(&w.product, "10")]);
    b["credit_category"] = json!("donation");
    assert_eq!(
        place(app, &w.buyer, b, &new_key()).await.fields(),
        vec!["credit_category"]
    );
    let mut b = order_body(&[(&w.product, "10")]);
    b["deliver_to"] = json!("  ");
    assert_eq!(place(app, &w.buyer, b, &new_key()).await.fields(), vec!["deliver_to"]);
    let mut b = order_body(&[(&w.product, "10")]);
    b["requested_date"] = json!("2020-01-01");
    assert_eq!(
        place(app, &w.buyer, b, &new_key()).await.fields(),
        vec!["requested_date"]
    );
    let mut b = order_body(&[(&w.product, "10")]);
    b["pairing_id"] = json!("no-such-pairing");
    assert_eq!(place(app, &w.buyer, b, &new_key()).await.fields(), vec!["pairing_id"]);
    let mut b = order_body(&[(&w.product, "10")]);
    b["quantity_typo"] = json!(1);
    place(app, &w.buyer, b, &new_key()).await.problem(422);
    let mut b = order_body(&[(&w.product, "10")]);
    b["lines"][0]["quantity"] = json!("ten");
    assert_eq!(
        place(app, &w.buyer, b, &new_key()).await.fields(),
        vec!["lines[0].quantity"]
    );

    // Nothing was written or reserved.
    for t in ["orders", "supplier_orders", "order_lines", "idempotency_keys", "outbox"] {
        assert_eq!(count(app, t).await, 0, "{t}");
    }
    for p in [&w.product, &draft, &expired, &susp] {
        assert_eq!(stock_of(app, p).await.reserved_milli, 0);
    }
    // Roles: only buyers order.
    place(app, &w.supplier, order_body(&[(&w.product, "10")]), &new_key())
        .await
        .problem(403);
    app.post_with(
        "/orders",
        Some(&app.admin_token),
        order_body(&[(&w.product, "10")]),
        &[("Idempotency-Key", "k")],
    )
    .await
    .problem(403);
    app.post_with(
        "/orders",
        None,
        order_body(&[(&w.product, "10")]),
        &[("Idempotency-Key", "k")],
    )
    .await
    .problem(401);
    // A valid order after all the refusals still works and a 422'd key is reusable.
    place(app, &w.buyer, order_body(&[(&w.product, "10")]), "reused")
        .await
        .expect(201);
}

#[tokio::test]
async fn pairing_must_belong_to_the_buyer_or_its_parent() {
    let app = spawn_app().await;
    let parent = app.create_org("government", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let stranger = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 100, 1_000, 100_000).await;
    let year = chrono::Datelike::year(&Utc::now());
    let mk = |id: &str, helper: &str, year: i32| entity::pairings::ActiveModel {
        id: Set(id.to_string()),
        kind: Set("east_west".into()),
        helper_org_id: Set(helper.to_string()),
        helped_region_code: Set(YANGYUAN.into()),
        year: Set(year),
        purchase_target_fen: Set(100),
        helped_sale_target_fen: Set(100),
        created_at: Set(Utc::now()),
    };
    let (now_id, old_id) = (uuid::Uuid::now_v7().to_string(), uuid::Uuid::now_v7().to_string());
    mk(&now_id, &parent.org_id, year).insert(app.db()).await.unwrap();
    mk(&old_id, &parent.org_id, year - 1).insert(app.db()).await.unwrap();
    let mut b = order_body(&[(&p, "1")]);
    b["pairing_id"] = json!(now_id);
    let r = place(&app, &child, b.clone(), &new_key()).await.expect(201);
    assert_eq!(r.json["pairing_id"], now_id.as_str());
    assert_eq!(
        place(&app, &stranger, b.clone(), &new_key()).await.fields(),
        vec!["pairing_id"]
    );
    b["pairing_id"] = json!(old_id);
    assert_eq!(place(&app, &child, b, &new_key()).await.fields(), vec!["pairing_id"]);
}

#[tokio::test]
async fn full_lifecycle_with_acceptance_rating_and_return() {
    let w = world().await;
    let app = &w.app;
    let (order, so) = placed_so(&w, "100").await;
    let oid = order["id"].as_str().unwrap();
    let line = order["supplier_orders"][0]["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/supplier-orders/{so}/confirm"),
            w.supplier.t(),
            json!({"note": "will ship Monday"}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "confirmed");
    assert_eq!(r.json["status_note"], "will ship Monday");
    assert_eq!(
        app.get(&format!("/orders/{oid}"), w.buyer.t()).await.json["status"],
        "in_progress"
    );
    let r = app
        .post(
            &format!("/supplier-orders/{so}/ship"),
            w.supplier.t(),
            json!({"note": "SF Express 123"}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "shipped");
    assert_eq!(r.json["shipment_note"], "SF Express 123");
    // An action with no body at all works too.
    let r = app
        .send(
            app.client
                .post(app.url(&format!("/supplier-orders/{so}/deliver")))
                .bearer_auth(&w.supplier.token),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "delivered");

    // Accept: more than ordered, unknown line, missing invoice -> 422.
    let bad = app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "100.001"}], "invoice_number": ""}),
        )
        .await;
    let f = bad.fields();
    bad.problem(422);
    assert!(
        f.contains(&"lines[0].accepted_quantity".to_string()) && f.contains(&"invoice_number".to_string()),
        "{f:?}"
    );
    let bad = app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": uuid::Uuid::now_v7().to_string(), "accepted_quantity": "1"}], "invoice_number": "INV-1"}),
        )
        .await;
    assert!(bad.fields().contains(&"lines".to_string()));
    // The supplier cannot accept.
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        w.supplier.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "95"}], "invoice_number": "INV-1"}),
    )
    .await
    .problem(403);

    let r = app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "95.5"}], "invoice_number": "INV-1", "note": "4.5 kg spoiled"}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "accepted");
    assert_eq!(r.json["invoice_number"], "INV-1");
    assert_eq!(r.json["acceptance_note"], "4.5 kg spoiled");
    assert_eq!(r.json["lines"][0]["accepted_quantity"], "95.5");
    assert_eq!(
        app.get(&format!("/orders/{oid}"), w.buyer.t()).await.json["status"],
        "completed"
    );
    // Stock: 95.5 left the lots, the whole reservation is gone.
    let s = stock_of(app, &w.product).await;
    assert_eq!(s.reserved_milli, 0);
    assert_eq!(s.on_hand_milli, 1_000_000 - 95_500);
    // Ledger: one credit.
    let l = app.get("/ledger", w.buyer.t()).await.expect(200);
    let items = l.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "credit");
    assert_eq!(items[0]["quantity"], "95.5");
    assert_eq!(items[0]["amount"], "1193.75");
    assert_eq!(items[0]["origin_poverty_status"], "deep_poverty");
    assert_eq!(items[0]["origin_county_code"], YANGYUAN);
    assert_eq!(items[0]["credit_category"], "purchase");
    assert_eq!(items[0]["supplier_order_id"], so);
    // Accept again -> 409.
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        w.buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "1"}], "invoice_number": "INV-2"}),
    )
    .await
    .problem(409);

    // Rating: validated, once.
    let rate = format!("/supplier-orders/{so}/rating");
    assert_eq!(
        app.post(&rate, w.buyer.t(), json!({"score": 6, "comment": ""}))
            .await
            .fields(),
        vec!["score"]
    );
    app.post(&rate, w.supplier.t(), json!({"score": 5})).await.problem(403);
    let r = app
        .post(&rate, w.buyer.t(), json!({"score": 4, "comment": "good millet"}))
        .await
        .expect(201);
    assert_eq!(r.json["score"], 4);
    app.post(&rate, w.buyer.t(), json!({"score": 5, "comment": "again"}))
        .await
        .problem(409);

    // Returns: at most what was accepted.
    let ret = format!("/supplier-orders/{so}/returns");
    let p = app
        .post(
            &ret,
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "95.501"}], "reason": "mould"}),
        )
        .await;
    assert_eq!(p.fields(), vec!["lines[0].quantity"]);
    assert_eq!(
        app.post(
            &ret,
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "1"}], "reason": " "})
        )
        .await
        .fields(),
        vec!["reason"]
    );
    app.post(
        &ret,
        w.supplier.t(),
        json!({"lines": [{"line_id": line, "quantity": "1"}], "reason": "mould"}),
    )
    .await
    .problem(403);
    let r = app
        .post(
            &ret,
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "0.5"}], "reason": "mould"}),
        )
        .await
        .expect(201);
    assert_eq!(r.json["lines"][0]["amount"], "6.25");
    assert_eq!(r.json["supplier_order"]["lines"][0]["returned_quantity"], "0.5");
    let r = app
        .post(
            &ret,
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "95"}], "reason": "mould"}),
        )
        .await
        .expect(201);
    assert_eq!(r.json["lines"][0]["amount"], "1187.50");
    app.post(
        &ret,
        w.buyer.t(),
        json!({"lines": [{"line_id": line, "quantity": "0.001"}], "reason": "more"}),
    )
    .await
    .problem(422);
    let l = app.get("/ledger", w.buyer.t()).await.expect(200);
    let items = l.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[1]["kind"], "reversal");
    assert_eq!(items[1]["quantity"], "-0.5");
    assert_eq!(items[1]["amount"], "-6.25");
    // Credits and reversals cancel exactly.
    let total: rust_decimal::Decimal = items
        .iter()
        .map(|i| i["amount"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert!(total.is_zero());
    let v = app.get("/ledger/verify", Some(&app.admin_token)).await.expect(200);
    assert_eq!(v.json["ok"], true);
    assert_eq!(v.json["entries"], 3);

    // The buyer heard about every status change.
    let mails = app.wait_for_emails(&buyer_contact(&w), 4, 10).await;
    assert!(mails.len() >= 4, "{}", mails.len());
}

fn buyer_contact(w: &World) -> String {
    w.buyer.contact_email.clone()
}

#[tokio::test]
async fn refused_transitions_are_409_and_wrong_sides_403_or_404() {
    let w = world().await;
    let app = &w.app;
    let other_supplier = app.create_org("cooperative", YANGYUAN).await;
    let other_buyer = app.create_org("canteen", CHANGAN).await;
    let (order, so) = placed_so(&w, "10").await;
    let line = order["supplier_orders"][0]["lines"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accept_body = json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "X"});
    // From placed: only confirm, reject, cancel.
    for a in ["ship", "deliver"] {
        act(app, &w.supplier, &so, a).await.problem(409);
    }
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        w.buyer.t(),
        accept_body.clone(),
    )
    .await
    .problem(409);
    // Wrong side: 403; another organisation: 404.
    act(app, &w.buyer, &so, "confirm").await.problem(403);
    act(app, &w.supplier, &so, "cancel").await.problem(403);
    act(app, &other_supplier, &so, "confirm").await.problem(404);
    act(app, &other_buyer, &so, "cancel").await.problem(404);
    act(app, &w.supplier, "nonexistent", "confirm").await.problem(404);
    // A too-long note is 422 and changes nothing.
    let long = "x".repeat(2001);
    app.post(
        &format!("/supplier-orders/{so}/confirm"),
        w.supplier.t(),
        json!({"note": long}),
    )
    .await
    .problem(422);
    app.post(
        &format!("/supplier-orders/{so}/confirm"),
        w.supplier.t(),
        json!({"nope": 1}),
    )
    .await
    .problem(422);

    act(app, &w.supplier, &so, "confirm").await.expect(200);
    for a in ["confirm", "reject", "deliver"] {
        act(app, &w.supplier, &so, a).await.problem(409);
    }
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        w.buyer.t(),
        accept_body.clone(),
    )
    .await
    .problem(409);
    // Rating and returns need acceptance.
    app.post(
        &format!("/supplier-orders/{so}/rating"),
        w.buyer.t(),
        json!({"score": 3}),
    )
    .await
    .problem(409);
    app.post(
        &format!("/supplier-orders/{so}/returns"),
        w.buyer.t(),
        json!({"lines": [], "reason": "x"}),
    )
    .await
    .problem(409);
    // Cancel a confirmed order: released.
    assert_eq!(stock_of(app, &w.product).await.reserved_milli, 10_000);
    let r = act(app, &w.buyer, &so, "cancel").await.expect(200);
    assert_eq!(r.json["status"], "cancelled");
    assert_eq!(stock_of(app, &w.product).await.reserved_milli, 0);
    // Both sides hear of the cancellation.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let told = |to: String, what: &'static str| async move {
        while std::time::Instant::now() < deadline {
            if app.emails_to(&to).iter().any(|m| m.contains(what)) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    };
    assert!(told(w.supplier.contact_email.clone(), "was cancelled").await);
    assert!(told(w.buyer.contact_email.clone(), "cancelled").await);
    for a in ["confirm", "reject", "ship", "deliver"] {
        act(app, &w.supplier, &so, a).await.problem(409);
    }
    act(app, &w.buyer, &so, "cancel").await.problem(409);

    // Reject releases.
    let (_, so2) = placed_so(&w, "20").await;
    assert_eq!(stock_of(app, &w.product).await.reserved_milli, 20_000);
    let r = app
        .post(
            &format!("/supplier-orders/{so2}/reject"),
            w.supplier.t(),
            json!({"note": "no trucks"}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "rejected");
    assert_eq!(stock_of(app, &w.product).await.reserved_milli, 0);
    act(app, &w.buyer, &so2, "cancel").await.problem(409);
    act(app, &w.supplier, &so2, "confirm").await.problem(409);

    // Shipped cannot be cancelled; delivered cannot be shipped again.
    let (_, so3) = placed_so(&w, "10").await;
    act(app, &w.supplier, &so3, "confirm").await.expect(200);
    act(app, &w.supplier, &so3, "ship").await.expect(200);
    act(app, &w.buyer, &so3, "cancel").await.problem(409);
    act(app, &w.supplier, &so3, "ship").await.problem(409);
    act(app, &w.supplier, &so3, "deliver").await.expect(200);
    for a in ["confirm", "reject", "ship", "deliver"] {
        act(app, &w.supplier, &so3, a).await.problem(409);
    }
    act(app, &w.buyer, &so3, "cancel").await.problem(409);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_transitions_apply_once() {
    let w = world().await;
    // Reject and cancel both close a placed order: exactly one wins.
    let (_, so) = placed_so(&w, "10").await;
    let futs = (0..6).map(|i| {
        let (who, a) = if i % 2 == 0 {
            (&w.supplier, "reject")
        } else {
            (&w.buyer, "cancel")
        };
        act(&w.app, who, &so, a)
    });
    let results = futures_util::future::join_all(futs).await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    assert!(results.iter().all(|r| r.status == 200 || r.status == 409));
    assert_eq!(stock_of(&w.app, &w.product).await.reserved_milli, 0);
    // Five confirms: one succeeds.
    let (_, so) = placed_so(&w, "10").await;
    let results = futures_util::future::join_all((0..5).map(|_| act(&w.app, &w.supplier, &so, "confirm"))).await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    assert_eq!(stock_of(&w.app, &w.product).await.reserved_milli, 10_000);
}

#[tokio::test]
async fn reads_are_scoped_to_the_organisation() {
    let app = spawn_app().await;
    let parent = app.create_org("government", CHANGAN).await;
    let buyer = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let other_buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let other_supplier = app.create_org("cooperative", YANGYUAN).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 100, 1_000, 100_000).await;
    let o = place(&app, &buyer, order_body(&[(&p, "5")]), &new_key())
        .await
        .expect(201);
    let oid = o.json["id"].as_str().unwrap();
    let so = o.json["supplier_orders"][0]["id"].as_str().unwrap();

    app.get(&format!("/orders/{oid}"), buyer.t()).await.expect(200);
    app.get(&format!("/orders/{oid}"), parent.t()).await.expect(200);
    app.get(&format!("/orders/{oid}"), evaluator.t()).await.expect(200);
    app.get(&format!("/orders/{oid}"), Some(&app.admin_token))
        .await
        .expect(200);
    app.get(&format!("/orders/{oid}"), other_buyer.t()).await.problem(404);
    app.get(&format!("/orders/{oid}"), supplier.t()).await.problem(403);
    app.get(&format!("/orders/{oid}"), certifier.t()).await.problem(403);
    app.get("/orders/unknown", buyer.t()).await.problem(404);
    app.get(&format!("/orders/{oid}"), None).await.problem(401);

    app.get(&format!("/supplier-orders/{so}"), supplier.t())
        .await
        .expect(200);
    app.get(&format!("/supplier-orders/{so}"), buyer.t()).await.expect(200);
    app.get(&format!("/supplier-orders/{so}"), parent.t()).await.expect(200);
    app.get(&format!("/supplier-orders/{so}"), evaluator.t())
        .await
        .expect(200);
    app.get(&format!("/supplier-orders/{so}"), other_supplier.t())
        .await
        .problem(404);
    app.get(&format!("/supplier-orders/{so}"), other_buyer.t())
        .await
        .problem(404);
    // The parent may read but not act for its child.
    act(&app, &parent, so, "cancel").await.problem(403);

    let n = |r: Resp| r.json["items"].as_array().unwrap().len();
    assert_eq!(n(app.get("/orders", buyer.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/orders", parent.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/orders", other_buyer.t()).await.expect(200)), 0);
    assert_eq!(n(app.get("/orders", evaluator.t()).await.expect(200)), 1);
    app.get("/orders", supplier.t()).await.problem(403);
    assert_eq!(n(app.get("/supplier-orders", supplier.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/supplier-orders", other_supplier.t()).await.expect(200)), 0);
    assert_eq!(
        n(app.get("/supplier-orders?status=placed", buyer.t()).await.expect(200)),
        1
    );
    assert_eq!(
        n(app.get("/supplier-orders?status=accepted", buyer.t()).await.expect(200)),
        0
    );
    app.get("/supplier-orders", certifier.t()).await.problem(403);

    // Cursor paging.
    for _ in 0..4 {
        place(&app, &buyer, order_body(&[(&p, "1")]), &new_key())
            .await
            .expect(201);
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/orders?limit=2&cursor={c}"),
            None => "/orders?limit=2".to_string(),
        };
        let r = app.get(&path, buyer.t()).await.expect(200);
        for i in r.json["items"].as_array().unwrap() {
            assert!(seen.insert(i["id"].as_str().unwrap().to_string()));
        }
        match r.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    app.get("/orders?limit=0", buyer.t()).await.problem(400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_never_oversell() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    // 175 in stock, 60 orders of 10: exactly 17 fit.
    let p = product(&app, &supplier.org_id, 100, 1_000, 175_000).await;
    let futs = (0..60).map(|i| {
        let app = &app;
        let buyer = &buyer;
        let p = p.clone();
        async move { place(app, buyer, order_body(&[(&p, "10")]), &format!("k-{i}")).await }
    });
    let results = futures_util::future::join_all(futs).await;
    let ok = results.iter().filter(|r| r.status == 201).count();
    let refused = results.iter().filter(|r| r.status == 422).count();
    assert_eq!(
        ok,
        17,
        "{:?}",
        results.iter().map(|r| r.status.as_u16()).collect::<Vec<_>>()
    );
    assert_eq!(refused, 43);
    for r in results.iter().filter(|r| r.status == 422) {
        assert_eq!(r.fields(), vec!["lines[0].quantity"]);
    }
    let s = stock_of(&app, &p).await;
    assert_eq!(s.reserved_milli, 170_000);
    assert_eq!(s.on_hand_milli, 175_000);
    assert_eq!(s.available_milli, 5_000);
    assert_eq!(s.on_hand_milli - s.reserved_milli, s.available_milli);
    assert_eq!(count(&app, "orders").await, 17);
    assert_eq!(count(&app, "idempotency_keys").await, 17);
    // The order lines add up to the reservation.
    let row = app
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            app.db().get_database_backend(),
            format!("SELECT COALESCE(SUM(quantity_milli), 0) AS q FROM order_lines WHERE product_id = '{p}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stock::get_sum(&row, "q").unwrap(), 170_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_retries_with_one_key_make_one_order() {
    let w = world().await;
    let body = order_body(&[(&w.product, "10")]);
    let futs = (0..10).map(|_| place(&w.app, &w.buyer, body.clone(), "same-key"));
    let results = futures_util::future::join_all(futs).await;
    for r in &results {
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
        assert_eq!(r.json, results[0].json);
    }
    assert_eq!(count(&w.app, "orders").await, 1);
    assert_eq!(stock_of(&w.app, &w.product).await.reserved_milli, 10_000);
    let _ = entity::orders::Entity::find().count(w.app.db()).await.unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn eml_count(dir: &std::path::Path, to: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().map(|x| x == "eml").unwrap_or(false))
                .filter(|e| {
                    std::fs::read_to_string(e.path())
                        .map(|t| t.contains(to))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_survive_smtp_being_down() {
    let port = free_port();
    let sink_dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        s.outbox_poll_ms = 50;
    })
    .await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let s1 = app.create_org("cooperative", YANGYUAN).await;
    let s2 = app.create_org("cooperative", YANGYUAN).await;
    let p1 = product(&app, &s1.org_id, 100, 1_000, 100_000).await;
    let p2 = product(&app, &s2.org_id, 100, 1_000, 100_000).await;
    let o = place(&app, &buyer, order_body(&[(&p1, "5"), (&p2, "5")]), &new_key())
        .await
        .expect(201);
    let so1 = o.json["supplier_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["supplier_org_id"] == s1.org_id)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    act(&app, &s1, &so1, "confirm").await.expect(200);
    // The worker tries and fails while the server is down; nothing is lost.
    let failed = || async {
        let row = app
            .db()
            .query_one_raw(sea_orm::Statement::from_string(
                app.db().get_database_backend(),
                "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND attempts > 0".to_string(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while failed().await < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(failed().await, 3, "every email is still pending after failed attempts");
    let mut sink = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/smtp_sink.py"))
        .args(["--port", &port.to_string(), "--dir"])
        .arg(sink_dir.path())
        .spawn()
        .expect("start the SMTP sink");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while (eml_count(sink_dir.path(), &s1.contact_email) < 1
        || eml_count(sink_dir.path(), &s2.contact_email) < 1
        || eml_count(sink_dir.path(), &buyer.contact_email) < 1)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Give a duplicate the chance to show up, then count.
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let counts = (
        eml_count(sink_dir.path(), &s1.contact_email),
        eml_count(sink_dir.path(), &s2.contact_email),
        eml_count(sink_dir.path(), &buyer.contact_email),
    );
    let _ = sink.kill();
    let _ = sink.wait();
    assert_eq!(counts, (1, 1, 1));
    assert_eq!(count(&app, "outbox").await, 3);
}

/// The catalogue's `available` follows orders at once although its pages are cached:
/// placing, rejecting, cancelling and accepting each bump the catalogue generation.
#[tokio::test]
async fn the_cached_catalogue_follows_order_stock() {
    let w = world().await;
    let app = &w.app;
    let available = || async {
        let r = app.get("/catalog?limit=200", None).await.expect(200);
        let item = r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == w.product.as_str())
            .cloned()
            .expect("product in the catalogue");
        rust_decimal::Decimal::from_str_exact(item["available"].as_str().unwrap()).unwrap()
    };
    let d = |s: &str| rust_decimal::Decimal::from_str_exact(s).unwrap();
    assert_eq!(available().await, d("1000"));
    assert_eq!(available().await, d("1000")); // now cached
    let (_, so) = placed_so(&w, "100").await;
    assert_eq!(available().await, d("900"));
    act(app, &w.supplier, &so, "reject").await.expect(200);
    assert_eq!(available().await, d("1000"));
    let (_, so) = placed_so(&w, "50").await;
    assert_eq!(available().await, d("950"));
    act(app, &w.buyer, &so, "cancel").await.expect(200);
    assert_eq!(available().await, d("1000"));
    let (order, so) = delivered_so(&w, "100").await;
    assert_eq!(available().await, d("900"));
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        w.buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "95"}], "invoice_number": "INV-9"}),
    )
    .await
    .expect(200);
    assert_eq!(available().await, d("905"));
}

/// `assist_db_statements_total` of an endpoint on `/metrics` (0 before its first request).
async fn statements_of(app: &TestApp, endpoint_part: &str) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("assist_db_statements_total{") && l.contains(endpoint_part))
        .filter_map(|l| l.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok()))
        .sum()
}

/// Delivers an order of one line per product (`qty` each) and returns its supplier order and lines.
async fn delivered_multi(w: &World, products: &[String], qty: &str) -> (String, Vec<String>) {
    let lines: Vec<(&str, &str)> = products.iter().map(|p| (p.as_str(), qty)).collect();
    let (_, so, line_ids) = delivered_lines(&w.app, &w.buyer, &w.supplier, &lines).await;
    (so, line_ids)
}

/// Places an order of `lines` (product, quantity) with one supplier and takes it to
/// `delivered`; returns the order, its supplier order and its line ids.
pub async fn delivered_lines(
    app: &TestApp,
    buyer: &OrgUser,
    supplier: &OrgUser,
    lines: &[(&str, &str)],
) -> (Value, String, Vec<String>) {
    let r = place(app, buyer, order_body(lines), &new_key()).await.expect(201);
    let so = r.json["supplier_orders"][0]["id"].as_str().unwrap().to_string();
    let line_ids = r.json["supplier_orders"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    for a in ["confirm", "ship", "deliver"] {
        act(app, supplier, &so, a).await.expect(200);
    }
    (r.json, so, line_ids)
}

/// Accepts 1.5 of every line; returns the statements the acceptance ran.
async fn accept_counting(w: &World, so: &str, lines: &[String]) -> u64 {
    let body = json!({
        "lines": lines.iter().map(|l| json!({"line_id": l, "accepted_quantity": "1.5"})).collect::<Vec<_>>(),
        "invoice_number": "INV-N",
    });
    let before = statements_of(&w.app, "supplier-orders/{id}/accept").await;
    w.app
        .post(&format!("/supplier-orders/{so}/accept"), w.buyer.t(), body)
        .await
        .expect(200);
    statements_of(&w.app, "supplier-orders/{id}/accept").await - before
}

#[tokio::test]
async fn accepting_runs_the_same_number_of_statements_for_2_or_50_lines() {
    let w = world().await;
    let app = &w.app;
    let mut products = Vec::new();
    for _ in 0..50 {
        products.push(product(app, &w.supplier.org_id, 1250, 1_000, 100_000).await);
    }
    let (so2, l2) = delivered_multi(&w, &products[..2], "2").await;
    let (so50, l50) = delivered_multi(&w, &products, "2").await;
    let two = accept_counting(&w, &so2, &l2).await;
    let fifty = accept_counting(&w, &so50, &l50).await;
    assert!(two > 0, "the statement counter counts");
    assert_eq!(two, fifty, "accepting 50 lines runs as many statements as 2 lines");
    // And the work was done: 52 ledger entries, the chain verifies, stock left.
    assert_eq!(count(app, "ledger_entries").await, 52);
    let v = app.get("/ledger/verify", Some(&app.admin_token)).await.expect(200);
    assert_eq!(v.json["ok"], true);
    let s = stock_of(app, &products[0]).await;
    assert_eq!((s.on_hand_milli, s.reserved_milli), (100_000 - 3_000, 0));
    let s = stock_of(app, &products[49]).await;
    assert_eq!((s.on_hand_milli, s.reserved_milli), (100_000 - 1_500, 0));
}

/// Nothing of an order was written or reserved.
async fn nothing_written(app: &TestApp, products: &[&str]) {
    for t in ["orders", "supplier_orders", "order_lines", "idempotency_keys"] {
        assert_eq!(count(app, t).await, 0, "{t}");
    }
    for p in products {
        assert_eq!(stock_of(app, p).await.reserved_milli, 0);
    }
}

#[tokio::test]
async fn amounts_that_would_overflow_are_422_and_reserve_nothing() {
    let w = world().await;
    let app = &w.app;
    // 99999999.00 a unit, 10000 units in stock each.
    let p1 = product(app, &w.supplier.org_id, 9_999_999_900, 1_000, 10_000_000).await;
    let p2 = product(app, &w.supplier.org_id, 9_999_999_900, 1_000, 10_000_000).await;
    // A quantity beyond the bound.
    let r = place(app, &w.buyer, order_body(&[(&p1, "900000000000")]), &new_key()).await;
    assert_eq!(r.fields(), vec!["lines[0].quantity"]);
    r.problem(422);
    // One line whose amount is beyond the bound (2000 × 99999999.00 > 10^13 fen).
    let r = place(app, &w.buyer, order_body(&[(&p1, "2000")]), &new_key()).await;
    assert_eq!(r.fields(), vec!["lines[0].quantity"]);
    r.problem(422);
    // Each line under the bound, the total over it.
    let r = place(app, &w.buyer, order_body(&[(&p1, "1000"), (&p2, "1000")]), &new_key()).await;
    assert_eq!(r.fields(), vec!["lines[1].quantity"]);
    r.problem(422);
    nothing_written(app, &[&p1, &p2]).await;
    // One line at the bound is fine.
    let r = place(app, &w.buyer, order_body(&[(&p1, "1000")]), &new_key())
        .await
        .expect(201);
    assert_eq!(r.json["total"], "99999999000.00");
}

#[tokio::test]
async fn a_product_total_beyond_the_quantity_bound_is_422() {
    let w = world().await;
    let app = &w.app;
    let cheap = product(app, &w.supplier.org_id, 1, 1_000, 1_000_000).await;
    let r = place(
        app,
        &w.buyer,
        order_body(&[(&cheap, "1000000000"), (&cheap, "1000000000")]),
        &new_key(),
    )
    .await;
    assert_eq!(r.fields(), vec!["lines[1].quantity"]);
    r.problem(422);
    nothing_written(app, &[&cheap]).await;
    // The service still answers.
    place(app, &w.buyer, order_body(&[(&cheap, "2")]), &new_key())
        .await
        .expect(201);
}

#[tokio::test]
async fn quantities_outside_the_grammar_are_422() {
    let w = world().await;
    let app = &w.app;
    for bad in [
        json!("1e2"),
        json!("1_000"),
        json!(100),
        json!("1.2345"),
        json!(" 10"),
        json!(""),
    ] {
        let mut b = order_body(&[(&w.product, "10")]);
        b["lines"][0]["quantity"] = bad.clone();
        let r = place(app, &w.buyer, b, &new_key()).await;
        assert_eq!(r.fields(), vec!["lines[0].quantity"], "{bad}");
        r.problem(422);
    }
    nothing_written(app, &[&w.product]).await;
    // Malformed ids: in the body 422 naming the field, in the path 404.
    let mut b = order_body(&[(&w.product, "10")]);
    b["lines"][0]["product_id"] = json!("not-a-uuid");
    assert_eq!(
        place(app, &w.buyer, b, &new_key()).await.fields(),
        vec!["lines[0].product_id"]
    );
    app.get("/orders/not-a-uuid", w.buyer.t()).await.problem(404);
    app.get("/supplier-orders/not-a-uuid", w.buyer.t()).await.problem(404);
    app.get("/supplier-orders?status=lost", w.buyer.t()).await.problem(400);
    place(app, &w.buyer, order_body(&[(&w.product, "10")]), &new_key())
        .await
        .expect(201);
}

/// A product selling one unit a day to `buyer` (two ledger credits), with `stock` units:
/// the scan opens an alert on it with `buyer` matched. Returns (product, alert).
async fn alert_for(app: &TestApp, supplier: &str, buyer: &str, stock: i64) -> (String, String) {
    use chrono::Datelike;
    let p = ProductRow {
        category: "vegetables",
        certified_days_ago: Some(90),
        poor_households_linked: 3,
        ..ProductRow::certified(supplier)
    }
    .insert(app)
    .await;
    let t = Utc::now();
    entity::lots::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        product_id: Set(p.clone()),
        quantity_milli: Set(stock * 1000),
        remaining_milli: Set(stock * 1000),
        harvested_on: Set(None),
        best_before: Set(t.date_naive() + chrono::Duration::days(60)),
        created_at: Set(t),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .unwrap();
    let prod = entity::products::Entity::find_by_id(p.clone())
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    for days_ago in [20, 2] {
        let at = t - chrono::Duration::days(days_ago) - chrono::Duration::minutes(5);
        entity::ledger_entries::ActiveModel {
            id: Set(uuid::Uuid::now_v7().to_string()),
            occurred_at: Set(at),
            year: Set(at.year()),
            month: Set(at.month() as i32),
            buyer_org_id: Set(buyer.to_string()),
            supplier_org_id: Set(supplier.to_string()),
            product_id: Set(p.clone()),
            category: Set(prod.category.clone()),
            supplier_order_id: Set(uuid::Uuid::now_v7().to_string()),
            order_line_id: Set(uuid::Uuid::now_v7().to_string()),
            origin_region_code: Set(prod.origin_region_code.clone()),
            origin_county_code: Set(prod.origin_county_code.clone()),
            origin_poverty_status: Set("deep_poverty".into()),
            quantity_milli: Set(14_000),
            amount_fen: Set(14 * prod.price_fen),
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
    }
    app.post("/alerts/scan", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    let r = app.get("/alerts?limit=200", Some(&app.admin_token)).await.expect(200);
    let alert = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["product_id"] == p.as_str())
        .expect("an alert on the product")["id"]
        .as_str()
        .unwrap()
        .to_string();
    (p, alert)
}

#[tokio::test]
async fn a_pledge_whose_order_fails_leaves_no_pledge_behind() {
    let w = world().await;
    let app = &w.app;
    let (p, alert) = alert_for(app, &w.supplier.org_id, &w.buyer.org_id, 40).await;
    let pl = format!("/alerts/{alert}/pledges");
    let pledged_events = || async {
        let r = app
            .get(&format!("/alerts/{alert}/events"), w.buyer.t())
            .await
            .expect(200);
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "pledged")
            .count()
    };
    // More than the stock: the order is refused, and with it the pledge and its event.
    app.post_with(
        &pl,
        w.buyer.t(),
        json!({"quantity": "100000"}),
        &[("Idempotency-Key", "p-1")],
    )
    .await
    .problem(422);
    // A quantity outside the grammar never gets that far.
    app.post_with(
        &pl,
        w.buyer.t(),
        json!({"quantity": "1e2"}),
        &[("Idempotency-Key", "p-2")],
    )
    .await
    .problem(422);
    assert_eq!(count(app, "pledges").await, 0);
    assert_eq!(pledged_events().await, 0);
    nothing_written(app, &[&p]).await;
    // A good pledge writes all three; its replay writes nothing more.
    let key = [("Idempotency-Key", "p-3")];
    let r = app
        .post_with(&pl, w.buyer.t(), json!({"quantity": "5"}), &key)
        .await
        .expect(201);
    let again = app
        .post_with(&pl, w.buyer.t(), json!({"quantity": "5"}), &key)
        .await
        .expect(201);
    assert_eq!(again.json["order"]["id"], r.json["order"]["id"]);
    assert_eq!(count(app, "pledges").await, 1);
    assert_eq!(count(app, "orders").await, 1);
    assert_eq!(pledged_events().await, 1);
    assert_eq!(stock_of(app, &p).await.reserved_milli, 5_000);
}
