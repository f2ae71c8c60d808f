//! 合格证 through shipment and acceptance: shipped lots checked and kept in the ledger
//! (leaf format version 2), and a lot's trace into two orders (JSON and GS1 EPCIS 2.0,
//! validated against the vendored schema).
use crate::compliance::{cert, day, lot_ids, new_lot, require};
use crate::helpers::*;
use crate::orders::{act, placed_line, product, scalar, world, World};
use assist_market::services::ledger::{checkpoint, offline};
use serde_json::{json, Value};

async fn ship(w: &World, so: &str, lots: Value) -> Resp {
    w.app
        .post(
            &format!("/supplier-orders/{so}/ship"),
            w.supplier.t(),
            json!({"lots": lots}),
        )
        .await
}

/// Places, confirms and returns (supplier order, line id).
async fn confirmed(w: &World, qty: &str) -> (String, String) {
    let (so, line) = placed_line(&w.app, &w.buyer, &w.product, qty).await;
    act(&w.app, &w.supplier, &so, "confirm").await.expect(200);
    (so, line)
}

async fn accept(w: &World, so: &str, line: &str, qty: &str) -> Resp {
    w.app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": qty}], "invoice_number": "INV-1"}),
        )
        .await
}

/// A world whose product has its first lot (no 合格证) and a second with one, and the county
/// office of its origin: (world, certifier, first lot, second lot).
async fn two_lots() -> (World, OrgUser, String, String) {
    let w = world().await;
    let app = &w.app;
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let l1 = lot_ids(app, &w.supplier, &w.product).await[0].clone();
    let l2 = new_lot(
        app,
        &w.supplier,
        &w.product,
        json!({"quantity": "500", "best_before": day(200), "compliance_certificate": cert("HGZ-L2")}),
    )
    .await;
    (w, certifier, l1, l2)
}

#[tokio::test]
async fn shipped_lots_are_checked_kept_in_the_ledger_and_traced_into_two_orders() {
    let (w, certifier, l1, l2) = two_lots().await;
    let app = &w.app;
    let p = &w.product;
    let q = product(app, &w.supplier.org_id, 1000, 1000, 100_000).await;
    let lq = lot_ids(app, &w.supplier, &q).await[0].clone();
    let (a, la) = confirmed(&w, "10").await;
    // A lot of another product, or lots that do not add up to the line: 422, nothing written.
    let r = ship(&w, &a, json!([{"line_id": la, "lot_id": lq, "quantity": "10"}])).await;
    assert_eq!(r.fields(), vec!["lots[0].lot_id".to_string()]);
    assert!(r.text.contains(&lq), "{}", r.text);
    r.problem(422);
    ship(&w, &a, json!([{"line_id": la, "lot_id": l2, "quantity": "5"}]))
        .await
        .problem(422);
    ship(&w, &a, json!([{"line_id": la, "lot_id": l2, "quantity": "600"}]))
        .await
        .problem(422);
    // The buyer may not ship.
    app.post(&format!("/supplier-orders/{a}/ship"), w.buyer.t(), json!({}))
        .await
        .problem(403);
    // Once the product requires a 合格证, the lot without one cannot ship.
    require(app, &certifier, p, json!(true)).await;
    let r = ship(&w, &a, json!([{"line_id": la, "lot_id": l1, "quantity": "10"}])).await;
    assert!(r.text.contains(&l1), "{}", r.text);
    assert_eq!(r.fields(), vec!["lots[0].lot_id".to_string()]);
    r.problem(422);
    let so = app
        .get(&format!("/supplier-orders/{a}"), w.supplier.t())
        .await
        .expect(200)
        .json;
    assert_eq!(
        (so["status"].clone(), so["shipped_lots"].clone()),
        (json!("confirmed"), json!([]))
    );
    let so = ship(&w, &a, json!([{"line_id": la, "lot_id": l2, "quantity": "10"}]))
        .await
        .expect(200)
        .json;
    assert_eq!(so["shipped_lots"][0]["lot_id"], l2.as_str());
    // Without lots named, the certified lot is chosen (the older lot has no certificate).
    let (b, lb) = confirmed(&w, "20").await;
    let so = ship(&w, &b, Value::Null).await.expect(200).json;
    let shipped = so["shipped_lots"].as_array().unwrap();
    assert_eq!(shipped.len(), 1);
    assert_eq!(
        (shipped[0]["lot_id"].clone(), shipped[0]["quantity"].clone()),
        (json!(l2), json!("20"))
    );

    // An order shipped from the older lot while it needed no certificate: acceptance waits for it.
    require(app, &certifier, p, json!(false)).await;
    let (c, lc) = confirmed(&w, "600").await;
    let so = ship(&w, &c, Value::Null).await.expect(200).json;
    assert_eq!(so["shipped_lots"][0]["lot_id"], l1.as_str());
    require(app, &certifier, p, json!(true)).await;
    for so in [&a, &b, &c] {
        act(app, &w.supplier, so, "deliver").await.expect(200);
    }
    // The buyer sees the lots and their certificates before accepting.
    let seen = app
        .get(&format!("/supplier-orders/{c}"), w.buyer.t())
        .await
        .expect(200)
        .json;
    assert_eq!(seen["shipped_lots"][0]["uncertified_batch"], true);
    let seen = app
        .get(&format!("/supplier-orders/{a}"), w.buyer.t())
        .await
        .expect(200)
        .json;
    assert_eq!(seen["shipped_lots"][0]["compliance_certificate"]["number"], "HGZ-L2");
    let before = writes_of(app).await;
    let r = accept(&w, &c, &lc, "600").await;
    assert!(r.text.contains(&l1), "{}", r.text);
    r.problem(409);
    // Refused inside the acceptance's transaction: what it did before the check is undone.
    assert_eq!(writes_of(app).await, before);
    let so = app
        .get(&format!("/supplier-orders/{c}"), w.buyer.t())
        .await
        .expect(200)
        .json;
    assert_eq!(so["status"], "delivered");
    app.put(
        &format!("/lots/{l1}/compliance-certificate"),
        w.supplier.t(),
        cert("HGZ-L1"),
    )
    .await
    .expect(200);
    accept(&w, &c, &lc, "600").await.expect(200);
    accept(&w, &a, &la, "10").await.expect(200);
    accept(&w, &b, &lb, "15").await.expect(200);
    let remaining = app
        .get(&format!("/products/{p}/lots/{l2}"), w.supplier.t())
        .await
        .expect(200)
        .json;
    assert_eq!(remaining["remaining"], "475");

    // Each accepted entry keeps its lot and certificate; leaf format 2 verifies.
    app.sequence().await;
    let v = app.get("/ledger/verify", Some(&app.admin_token)).await.expect(200).json;
    assert_eq!((v["ok"].clone(), v["entries"].clone()), (json!(true), json!(3)));
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let e = entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::SupplierOrderId.eq(a.clone()))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            e.leaf_version,
            e.lot_id.as_deref(),
            e.compliance_certificate_number.as_deref(),
            e.weight_kg_milli
        ),
        (2, Some(l2.as_str()), Some("HGZ-L2"), None)
    );
    let year = chrono::Utc::now().format("%Y").to_string();
    let export = app
        .get(&format!("/ledger/export?year={year}"), Some(&app.admin_token))
        .await
        .expect(200)
        .text;
    assert!(
        export.contains("\"compliance_certificate_number\":\"HGZ-L1\""),
        "{export}"
    );
    let note = app.get("/ledger/checkpoint", None).await.text;
    let vk = checkpoint::parse_verifier_key(&app.get("/ledger/verifier-key", None).await.text).unwrap();
    let r = offline::verify_export(&export, &note, &vk).unwrap();
    assert!(r.ok, "{r:?}");
    // A changed lot id is found.
    let bad = export.replacen(&format!("\"lot_id\":\"{l2}\""), &format!("\"lot_id\":\"{l1}\""), 1);
    assert!(!offline::verify_export(&bad, &note, &vk).unwrap().ok);

    // The trace follows the certified lot into both orders.
    let trace = format!("/lots/{l2}/trace");
    let t = app.get(&trace, w.supplier.t()).await.expect(200).json;
    let ships = t["shipments"].as_array().unwrap();
    assert_eq!(ships.len(), 2);
    assert_eq!(t["compliance_certificate"]["number"], "HGZ-L2");
    assert_eq!(t["origin"]["origin_county_code"], YANGYUAN);
    let accepted: Vec<&str> = ships.iter().map(|s| s["accepted_quantity"].as_str().unwrap()).collect();
    assert_eq!(accepted, vec!["10", "15"]);
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    for who in [&certifier, &evaluator, &w.buyer] {
        let t = app.get(&trace, who.t()).await.expect(200).json;
        assert_eq!(t["shipments"].as_array().unwrap().len(), 2);
    }
    app.get(&trace, Some(&app.admin_token)).await.expect(200);
    let buyer2 = app.create_org("canteen", CHANGAN).await;
    let supplier2 = app.create_org("cooperative", YANGYUAN).await;
    let certifier2 = app.create_org("county_office", PINGQUAN).await;
    let supervisor = app.create_org("finance_office", CHANGAN).await;
    for who in [&buyer2, &supplier2, &certifier2] {
        app.get(&trace, who.t()).await.problem(404);
    }
    app.get(&trace, supervisor.t()).await.problem(403);
    app.get(&trace, None).await.problem(401);
    app.get(&format!("{trace}?format=nope"), w.supplier.t())
        .await
        .problem(400);

    // EPCIS 2.0: commissioning, two shippings, two receivings, valid against the GS1 schema.
    for r in [
        app.get(&format!("{trace}?format=epcis"), w.supplier.t()).await,
        app.send(
            app.client
                .get(app.url(&trace))
                .bearer_auth(&w.supplier.token)
                .header("Accept", "application/ld+json"),
        )
        .await,
    ] {
        let r = r.expect(200);
        assert!(r
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/ld+json"));
        let doc: Value = serde_json::from_str(&r.text).unwrap();
        let steps: Vec<&str> = doc["epcisBody"]["eventList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["bizStep"].as_str().unwrap())
            .collect();
        assert_eq!(
            steps,
            vec!["commissioning", "shipping", "receiving", "shipping", "receiving"]
        );
        validate_epcis(&r.text);
    }
    // Each event carries the offset in force where it happened: the business calendar's.
    assist_market::services::clock::set_offset(chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let r = app.get(&format!("{trace}?format=epcis"), w.supplier.t()).await;
    let doc: Value = serde_json::from_str(&r.expect(200).text).unwrap();
    for e in doc["epcisBody"]["eventList"].as_array().unwrap() {
        assert_eq!(e["eventTimeZoneOffset"], "+08:00", "{e}");
    }
}

/// Runs the vendored GS1 schema over the document (tests/data/epcis/validate.py).
fn validate_epcis(doc: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.json");
    std::fs::write(&path, doc).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/epcis/validate.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "the EPCIS document does not validate: {}{}\n{doc}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A document that breaks the schema is refused: the check can fail.
    let mut broken: Value = serde_json::from_str(doc).unwrap();
    broken["epcisBody"]["eventList"][0]["action"] = json!("CREATE");
    std::fs::write(&path, broken.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3");
    assert!(!out.status.success(), "a broken document validated");
}

/// What an acceptance writes: ledger entries, stock movements, reservations, what is left in
/// the lots, accepted quantities of lines and of shipped lots, and emails.
async fn writes_of(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for q in [
        "COUNT(*) FROM ledger_entries",
        "COUNT(*) FROM stock_movements",
        "SUM(reserved_milli) FROM products",
        "SUM(remaining_milli) FROM lots",
        "COUNT(*) FROM order_lines WHERE accepted_quantity_milli IS NOT NULL",
        "COUNT(*) FROM shipment_lots WHERE accepted_milli IS NOT NULL",
        "COUNT(*) FROM outbox",
    ] {
        let (what, from) = q.split_once(" FROM ").unwrap();
        out.push(scalar(app, what, from).await);
    }
    out
}

/// A batch that lost its 合格证 requirement's grace in transit can be refused (0 accepted), and a
/// line shipped from a certified and an uncertified lot can take the certified part.
#[tokio::test]
async fn a_buyer_refuses_an_uncertified_batch_and_takes_the_certified_part_of_a_line() {
    let (w, certifier, l1, l2) = two_lots().await;
    let app = &w.app;
    let p = &w.product;
    // Shipped while the product needed no certificate: one from the older lot alone, one from
    // the lot without a certificate first, then the certified one.
    let (c, lc) = confirmed(&w, "20").await;
    ship(&w, &c, json!([{"line_id": lc, "lot_id": l1, "quantity": "20"}]))
        .await
        .expect(200);
    let (d, ld) = confirmed(&w, "20").await;
    ship(
        &w,
        &d,
        json!([{"line_id": ld, "lot_id": l1, "quantity": "10"}, {"line_id": ld, "lot_id": l2, "quantity": "10"}]),
    )
    .await
    .expect(200);
    require(app, &certifier, p, json!(true)).await;
    for so in [&c, &d] {
        act(app, &w.supplier, so, "deliver").await.expect(200);
    }
    let before = writes_of(app).await;
    let r = accept(&w, &c, &lc, "1").await;
    assert!(r.text.contains(&l1), "{}", r.text);
    r.problem(409);
    let r = accept(&w, &d, &ld, "11").await;
    assert!(r.text.contains(&l1), "{}", r.text);
    r.problem(409);
    assert_eq!(writes_of(app).await, before);
    // Refusing the whole batch closes the order; nothing is credited or taken from the lot.
    let so = accept(&w, &c, &lc, "0").await.expect(200).json;
    assert_eq!(so["status"], "accepted");
    assert_eq!(so["shipped_lots"][0]["accepted_quantity"], "0");
    // The certified part of the other line is taken from the certified lot.
    let so = accept(&w, &d, &ld, "10").await.expect(200).json;
    let taken: Vec<(Value, Value)> = so["shipped_lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["lot_id"].clone(), s["accepted_quantity"].clone()))
        .collect();
    assert!(taken.contains(&(json!(l1), json!("0"))), "{so}");
    assert!(taken.contains(&(json!(l2), json!("10"))), "{so}");
    for (id, left) in [(&l1, "1000"), (&l2, "490")] {
        let lot = app
            .get(&format!("/products/{p}/lots/{id}"), w.supplier.t())
            .await
            .expect(200)
            .json;
        assert_eq!(lot["remaining"], left, "{lot}");
    }
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let entries = entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::SupplierOrderId.is_in([c.clone(), d.clone()]))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].lot_id.as_deref(), entries[0].quantity_milli),
        (Some(l2.as_str()), 10_000)
    );
}

/// A lot's 合格证 may be corrected until the lot ships; after that it is what the buyer
/// collected and what the ledger names, and a replacement is 409 (the trace read the lot's
/// current certificate, so a replacement rewrote what every buyer had been shown).
#[tokio::test]
async fn a_shipped_lots_certificate_is_not_replaced() {
    let (w, _, _, l2) = two_lots().await;
    let app = &w.app;
    let put = format!("/lots/{l2}/compliance-certificate");
    // Before it ships: corrected.
    app.put(&put, w.supplier.t(), cert("HGZ-L2b")).await.expect(200);
    let (so, line) = confirmed(&w, "10").await;
    ship(&w, &so, json!([{"line_id": line, "lot_id": l2, "quantity": "10"}]))
        .await
        .expect(200);
    let before = writes_of(app).await;
    let r = app.put(&put, w.supplier.t(), cert("HGZ-OTHER")).await;
    assert!(r.text.contains("HGZ-L2b"), "{}", r.text);
    r.problem(409);
    assert_eq!(writes_of(app).await, before);
    // The same certificate again is no change.
    app.put(&put, w.supplier.t(), cert("HGZ-L2b")).await.expect(200);
    let seen = app
        .get(&format!("/supplier-orders/{so}"), w.buyer.t())
        .await
        .expect(200)
        .json;
    assert_eq!(seen["shipped_lots"][0]["compliance_certificate"]["number"], "HGZ-L2b");
}
