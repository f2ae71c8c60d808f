//! The idempotency key of a placement is claimed in the statement that reads the products, and
//! its stored answer is written with the order's rows: a refused request keeps neither, and the
//! claim's answer comes back even when none of the products exists.
use crate::helpers::*;
use crate::orders::{count, new_key, order_body, place, product, stock_of};

#[tokio::test]
async fn a_refused_order_leaves_its_key_free_and_a_placed_one_answers_its_replays() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1250, 1_000, 20_000).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let key = new_key();

    // No product of the order exists: refused on its line (not as a key still in use).
    let none = order_body(&[(&unknown, "1")]);
    let e = place(&app, &buyer, none.clone(), &key).await.problem(422);
    assert_eq!(e["errors"][0]["field"], "lines[0].product_id");
    // A line short of stock: refused on its quantity, after the claim and the order's rows.
    let short = order_body(&[(&p, "21")]);
    let e = place(&app, &buyer, short, &key).await.problem(422);
    assert_eq!(e["errors"][0]["field"], "lines[0].quantity");
    for table in ["idempotency_keys", "orders", "supplier_orders", "order_lines", "outbox"] {
        assert_eq!(count(&app, table).await, 0, "{table} after refusals");
    }
    assert_eq!(stock_of(&app, &p).await.reserved_milli, 0);

    // The key is still free, and the answer stored under it is the one given.
    let body = order_body(&[(&p, "2")]);
    let first = place(&app, &buyer, body.clone(), &key).await.expect(201);
    let again = place(&app, &buyer, body, &key).await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json, first.json);
    // The key now belongs to that order, also for a body naming no known product.
    let e = place(&app, &buyer, none, &key).await.problem(422);
    assert_eq!(e["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(count(&app, "orders").await, 1);
    assert_eq!(count(&app, "idempotency_keys").await, 1);
    assert_eq!(stock_of(&app, &p).await.reserved_milli, 2_000);
}

/// A retry after midnight of an order that named the day it was placed replays its answer: the
/// past-date check ran before the key was looked up and answered 422, and a client that then
/// placed it again under a new key bought twice. A new order naming a past day is still 422.
#[tokio::test]
async fn a_retry_after_midnight_replays_an_order_for_the_day_it_was_placed() {
    use assist_market::services::clock;
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1250, 1_000, 20_000).await;
    // The business day turns between the order and its retry: 26 hours apart in offsets.
    clock::set_offset(chrono::FixedOffset::west_opt(12 * 3600).unwrap());
    let placed_on = clock::today().to_string();
    let mut body = order_body(&[(&p, "2")]);
    body["requested_date"] = placed_on.clone().into();
    body["deliver_by"] = placed_on.into();
    let key = new_key();
    let first = place(&app, &buyer, body.clone(), &key).await.expect(201);
    clock::set_offset(chrono::FixedOffset::east_opt(14 * 3600).unwrap());
    let again = place(&app, &buyer, body.clone(), &key).await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json, first.json);
    let e = place(&app, &buyer, body, &new_key()).await.problem(422);
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["requested_date", "deliver_by"]);
    assert_eq!(count(&app, "orders").await, 1);
    assert_eq!(count(&app, "idempotency_keys").await, 1);
}
