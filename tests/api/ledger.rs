//! The ledger: credits on acceptance, scoping, the tree and its tamper check
//! (the verifiable log itself: `ledger_log.rs`).
use crate::helpers::*;
use crate::orders::*;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

async fn accept_all(w: &World, so: &str, order: &Value, qty: &str) {
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    w.app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": qty}], "invoice_number": "INV"}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn tree_verifies_and_a_tampered_amount_is_found() {
    let w = world().await;
    let app = &w.app;
    for q in ["10", "20", "30"] {
        let (o, so) = delivered_so(&w, q).await;
        accept_all(&w, &so, &o, q).await;
    }
    app.sequence().await;
    let v = app.get("/ledger/verify", Some(&app.admin_token)).await.expect(200);
    assert_eq!(v.json["ok"], true);
    assert_eq!(v.json["entries"], 3);
    assert_eq!(v.json["first_bad_seq"], Value::Null);
    let items = app.get("/ledger", Some(&app.admin_token)).await.json["items"].clone();
    let items = items.as_array().unwrap();
    assert_eq!(v.json["tree_size"], 3);
    assert_eq!(v.json["head_hash"], v.json["root_hash"]);
    assert_eq!(items[0]["leaf_version"], 2);
    assert_eq!(items[0]["leaf_hash"].as_str().unwrap().len(), 64);
    let seqs: Vec<i64> = items.iter().map(|i| i["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, vec![1, 2, 3]);

    // Only admin and evaluators verify.
    app.get("/ledger/verify", w.buyer.t()).await.problem(403);
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    app.get("/ledger/verify", ev.t()).await.expect(200);

    // Tamper with entry 2's amount behind the service's back.
    app.lift_append_only("ledger_entries").await;
    app.db()
        .execute_unprepared(
            "UPDATE ledger_entries SET amount_fen = amount_fen + 100 \
             WHERE id = (SELECT entry_id FROM ledger_positions WHERE seq = 2)",
        )
        .await
        .unwrap();
    let v = app.get("/ledger/verify", ev.t()).await.expect(200);
    assert_eq!(v.json["ok"], false);
    assert_eq!(v.json["first_bad_seq"], 2);
    assert_eq!(v.json["entries"], 3);
}

#[tokio::test]
async fn entries_cannot_be_updated_or_deleted_in_the_database() {
    let w = world().await;
    for _ in 0..2 {
        let (o, so) = delivered_so(&w, "10").await;
        accept_all(&w, &so, &o, "10").await;
    }
    w.app.sequence().await;
    let db = w.app.db();
    for table in [
        "ledger_entries",
        "ledger_positions",
        "ledger_tree_nodes",
        "ledger_checkpoints",
    ] {
        let set = if table == "ledger_tree_nodes" {
            "hash = 'x'"
        } else {
            "leaf_hash = 'x'"
        };
        let set = if table == "ledger_checkpoints" {
            "note = 'x'"
        } else {
            set
        };
        assert!(
            db.execute_unprepared(&format!("UPDATE {table} SET {set}"))
                .await
                .is_err(),
            "{table}"
        );
        assert!(
            db.execute_unprepared(&format!("DELETE FROM {table}")).await.is_err(),
            "{table}"
        );
    }
    let v = w.app.get("/ledger/verify", Some(&w.app.admin_token)).await.expect(200);
    assert_eq!(v.json["ok"], true);
    // No route writes to the ledger either.
    for m in ["PUT", "PATCH", "DELETE", "POST"] {
        let r = w
            .app
            .send(
                w.app
                    .client
                    .request(m.parse().unwrap(), w.app.url("/ledger"))
                    .bearer_auth(&w.app.admin_token)
                    .json(&json!({})),
            )
            .await;
        assert!(r.status == 404 || r.status == 405, "{m} /ledger -> {}", r.status);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acceptances_make_one_tree() {
    let w = world().await;
    let mut todo = Vec::new();
    for _ in 0..8 {
        todo.push(delivered_so(&w, "10").await);
    }
    let futs = todo.iter().map(|(o, so)| accept_all(&w, so, o, "10"));
    futures_util::future::join_all(futs).await;
    w.app.sequence().await;
    let v = w.app.get("/ledger/verify", Some(&w.app.admin_token)).await.expect(200);
    assert_eq!(v.json["ok"], true);
    assert_eq!(v.json["entries"], 8);
}

#[tokio::test]
async fn ledger_is_scoped_and_filtered() {
    let app = spawn_app().await;
    let parent = app.create_org("government", CHANGAN).await;
    let buyer = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let product = product(&app, &supplier.org_id, 1000, 1_000, 1_000_000).await;
    let w = World {
        app,
        buyer,
        supplier,
        product,
    };
    let (o, so) = delivered_so(&w, "10").await;
    accept_all(&w, &so, &o, "10").await;
    let app = &w.app;
    let other_buyer = app.create_org("canteen", CHANGAN).await;
    let other_supplier = app.create_org("cooperative", YANGYUAN).await;
    let yangyuan_office = app.create_org("county_office", YANGYUAN).await;
    let pingquan_office = app.create_org("county_office", PINGQUAN).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let n = |r: Resp| r.json["items"].as_array().unwrap().len();
    assert_eq!(n(app.get("/ledger", w.buyer.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/ledger", parent.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/ledger", w.supplier.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/ledger", evaluator.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/ledger", yangyuan_office.t()).await.expect(200)), 1);
    assert_eq!(n(app.get("/ledger", pingquan_office.t()).await.expect(200)), 0);
    assert_eq!(n(app.get("/ledger", other_buyer.t()).await.expect(200)), 0);
    assert_eq!(n(app.get("/ledger", other_supplier.t()).await.expect(200)), 0);
    // A buyer cannot widen its view with a filter.
    assert_eq!(
        n(app
            .get(&format!("/ledger?buyer={}", w.buyer.org_id), other_buyer.t())
            .await
            .expect(200)),
        0
    );
    let today = chrono::Utc::now().date_naive();
    let ev = evaluator.t();
    assert_eq!(n(app.get(&format!("/ledger?buyer={}", parent.org_id), ev).await), 1);
    assert_eq!(
        n(app
            .get(&format!("/ledger?supplier={}", other_supplier.org_id), ev)
            .await),
        0
    );
    assert_eq!(n(app.get(&format!("/ledger?county={YANGYUAN}"), ev).await), 1);
    assert_eq!(n(app.get(&format!("/ledger?county={PINGQUAN}"), ev).await), 0);
    assert_eq!(n(app.get("/ledger?category=grain", ev).await), 1);
    assert_eq!(n(app.get("/ledger?category=fruit", ev).await), 0);
    app.get("/ledger?category=gold", ev).await.problem(400);
    assert_eq!(n(app.get(&format!("/ledger?from={today}&to={today}"), ev).await), 1);
    let tomorrow = today + chrono::Duration::days(1);
    assert_eq!(n(app.get(&format!("/ledger?from={tomorrow}"), ev).await), 0);
    app.get(&format!("/ledger?from={tomorrow}&to={today}"), ev)
        .await
        .problem(422);
    // The budget year and month the entry counts in, as the reports group it.
    let (y, m) = (chrono::Datelike::year(&today), chrono::Datelike::month(&today));
    assert_eq!(n(app.get(&format!("/ledger?year={y}&month={m}"), ev).await), 1);
    assert_eq!(n(app.get(&format!("/ledger?year={y}"), ev).await), 1);
    assert_eq!(n(app.get(&format!("/ledger?year={}", y - 1), ev).await), 0);
    let bad = app.get(&format!("/ledger?year={y}&month=13"), ev).await;
    assert_eq!(bad.fields(), vec!["month"]);
    bad.problem(422);
    assert_eq!(app.get("/ledger?month=3", ev).await.fields(), vec!["year"]);
    let bad = app.get("/ledger?from=yesterday", ev).await;
    assert_eq!(bad.fields(), vec!["from"]);
    bad.problem(400);
    app.get("/ledger?cursor=abc", ev).await.problem(422);
    app.get("/ledger", None).await.problem(401);

    // The poverty status is copied: changing the county later does not rewrite the entry.
    app.put_if(
        &format!("/regions/{YANGYUAN}"),
        Some(&app.admin_token),
        json!({"name": "阳原县", "level": "county", "parent_code": "130700", "poverty_status": "none", "exited_year": 2020, "registered_poor": false}),
        "*",
    )
    .await
    .expect(200);
    let e = app.get("/ledger", ev).await.json["items"][0].clone();
    assert_eq!(e["origin_poverty_status"], "deep_poverty");
    let (o, so) = delivered_so(&w, "10").await;
    accept_all(&w, &so, &o, "10").await;
    let items = app.get("/ledger", ev).await.json["items"].clone();
    let region = app.get(&format!("/regions/{YANGYUAN}"), None).await.json;
    assert_eq!(items[1]["origin_poverty_status"], region["poverty_status"]);
}
