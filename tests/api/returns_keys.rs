//! A return may carry an `Idempotency-Key`: a retry of the same body (the answer was lost on
//! the way back) replays the first answer instead of returning the goods a second time, and
//! retries racing each other write one return. Without a key a return is taken as before.
use crate::helpers::*;
use crate::orders::{bought_line, count, new_key, order_body, place, product, scalar};
use serde_json::{json, Value};

async fn give_back(app: &TestApp, buyer: &OrgUser, so: &str, body: &Value, key: &str) -> Resp {
    app.post_with(
        &format!("/supplier-orders/{so}/returns"),
        buyer.t(),
        body.clone(),
        &[("Idempotency-Key", key)],
    )
    .await
}

fn ret(line: &str, qty: &str) -> Value {
    json!({"lines": [{"line_id": line, "quantity": qty}], "reason": "mould on the sacks"})
}

async fn returned_milli(app: &TestApp) -> i64 {
    scalar(app, "SUM(returned_quantity_milli)", "order_lines").await
}

#[tokio::test]
async fn a_retried_return_replays_its_first_answer_and_takes_back_once() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1250, 1_000, 20_000).await;
    let (so, line) = bought_line(&app, &buyer, &supplier, &p).await;
    let key = new_key();

    let first = give_back(&app, &buyer, &so, &ret(&line, "6"), &key).await.expect(201);
    assert_eq!(first.header("idempotent-replayed").as_deref(), Some("false"));
    // The retry would now be more than is left to return (4): it replays instead.
    let again = give_back(&app, &buyer, &so, &ret(&line, "6"), &key).await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json, first.json);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(returned_milli(&app).await, 6_000);
    assert_eq!(count(&app, "order_returns").await, 1);

    // Another body under the key is refused on the key, and writes nothing.
    let e = give_back(&app, &buyer, &so, &ret(&line, "1"), &key).await.problem(422);
    assert_eq!(e["errors"][0]["field"], "Idempotency-Key");
    // A key an order used names that order: a return under it is refused too.
    let order_key = new_key();
    place(&app, &buyer, order_body(&[(&p, "1")]), &order_key)
        .await
        .expect(201);
    let e = give_back(&app, &buyer, &so, &ret(&line, "1"), &order_key)
        .await
        .problem(422);
    assert_eq!(e["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(returned_milli(&app).await, 6_000);

    // A new key is a new return; a refused one leaves its key free for a corrected body.
    let k2 = new_key();
    let e = give_back(&app, &buyer, &so, &ret(&line, "5"), &k2).await.problem(422);
    assert_eq!(e["errors"][0]["field"], "lines[0].quantity");
    give_back(&app, &buyer, &so, &ret(&line, "4"), &k2).await.expect(201);
    assert_eq!(returned_milli(&app).await, 10_000);
    assert_eq!(count(&app, "order_returns").await, 2);
    // The ledger holds one reversal per return, and they take back exactly the credit.
    let l = app.get("/ledger", buyer.t()).await.expect(200);
    let kinds: Vec<&str> = l.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["credit", "reversal", "reversal"]);
}

#[tokio::test]
async fn retries_racing_each_other_write_one_return() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1250, 1_000, 100_000).await;
    for round in 0..3 {
        let (so, line) = bought_line(&app, &buyer, &supplier, &p).await;
        let key = new_key();
        let body = ret(&line, "3");
        let futs = (0..8).map(|_| give_back(&app, &buyer, &so, &body, &key));
        let answers = futures_util::future::join_all(futs).await;
        let mut ids = Vec::new();
        for a in &answers {
            // A retry that found the first still running is told so (409); none returns twice.
            assert!(
                a.status == 201 || a.status == 409,
                "round {round}: {} {}",
                a.status,
                a.json
            );
            if a.status == 201 {
                ids.push(a.json["id"].clone());
            }
        }
        assert!(!ids.is_empty(), "round {round}");
        assert!(ids.iter().all(|i| *i == ids[0]), "round {round}: {ids:?}");
        let so_now = app.get(&format!("/supplier-orders/{so}"), buyer.t()).await.expect(200);
        assert_eq!(so_now.json["lines"][0]["returned_quantity"], "3", "round {round}");
    }
    assert_eq!(count(&app, "order_returns").await, 3);
}

#[tokio::test]
async fn a_return_key_is_checked_only_for_the_buyer() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1250, 1_000, 20_000).await;
    let (so, line) = bought_line(&app, &buyer, &supplier, &p).await;
    let long = "k".repeat(256);
    // The supplier may not return goods: refused whatever key it sends.
    give_back(&app, &supplier, &so, &ret(&line, "1"), &long)
        .await
        .problem(403);
    give_back(&app, &supplier, &so, &json!({"junk": 1}), " ")
        .await
        .problem(403);
    // The buyer with an unusable key: 400, nothing written.
    give_back(&app, &buyer, &so, &ret(&line, "1"), &long).await.problem(400);
    give_back(&app, &buyer, &so, &ret(&line, "1"), " ").await.problem(400);
    assert_eq!(count(&app, "order_returns").await, 0);
    assert_eq!(returned_milli(&app).await, 0);
}
