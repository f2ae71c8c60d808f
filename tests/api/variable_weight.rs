//! Variable weight: products sold `pieces_by_weight` (unit piece, price per kg, a nominal
//! weight per piece and a tolerance), estimated at placement, weighed by the buyer at
//! acceptance, credited at actual kg x price per kg, half up to the fen on the line total.
use crate::helpers::*;
use crate::orders::{count, delivered_lines, new_key, order_body, place, product, stock_of};
use assist_market::domain::{Money, Weight};
use proptest::prelude::*;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

mod acceptance;

/// A certified product sold by weight: `price` per kg, `nominal` kg a piece, `pct` %
/// tolerance, 10 pieces in stock, minimum one piece.
async fn weighed(app: &TestApp, supplier: &str, price_fen: i64, nominal: &str, pct: i32) -> String {
    let id = product(app, supplier, price_fen, 1000, 10_000).await;
    let grams = Weight::parse(nominal).unwrap().minor();
    app.db()
        .execute_unprepared(&format!(
            "UPDATE products SET unit = 'piece', sale_mode = 'pieces_by_weight', \
             nominal_weight_milli = {grams}, weight_tolerance_pct = {pct} WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    id
}

struct Delivered {
    so: String,
    lines: Vec<String>,
    order: Value,
}

/// Places one order of `lines` (product, pieces) and takes it to `delivered`.
async fn delivered(app: &TestApp, buyer: &OrgUser, supplier: &OrgUser, lines: &[(&str, &str)]) -> Delivered {
    let (order, so, lines) = delivered_lines(app, buyer, supplier, lines).await;
    Delivered { so, lines, order }
}

fn accept_body(lines: &[(&str, &str, Option<&str>)], deviation: bool) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(id, q, w)| match w {
            Some(w) => json!({"line_id": id, "accepted_quantity": q, "actual_weight": w}),
            None => json!({"line_id": id, "accepted_quantity": q}),
        })
        .collect();
    json!({"lines": lines, "invoice_number": "INV-W", "accept_weight_deviation": deviation})
}

async fn accept(app: &TestApp, buyer: &OrgUser, so: &str, body: Value) -> Resp {
    app.post(&format!("/supplier-orders/{so}/accept"), buyer.t(), body)
        .await
}

/// The line `id` of a supplier order's JSON.
fn line<'a>(so: &'a Value, id: &str) -> &'a Value {
    so["lines"].as_array().unwrap().iter().find(|l| l["id"] == id).unwrap()
}

async fn parties(app: &TestApp) -> (OrgUser, OrgUser) {
    (
        app.create_org("canteen", CHANGAN).await,
        app.create_org("cooperative", YANGYUAN).await,
    )
}

/// The ledger's credits of `so`, (pieces, amount) sorted by amount.
async fn credits(app: &TestApp, buyer: &OrgUser, so: &str) -> Vec<(String, String)> {
    let l = app.get("/ledger", buyer.t()).await.expect(200);
    let mut v: Vec<(String, String)> = l.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["supplier_order_id"] == so)
        .map(|e| {
            (
                e["quantity"].as_str().unwrap().into(),
                e["amount"].as_str().unwrap().into(),
            )
        })
        .collect();
    v.sort_by_key(|(_, a)| Money::parse(a).unwrap());
    v
}

#[tokio::test]
async fn sale_mode_terms_are_checked_at_create_and_update() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let body = |extra: Value| {
        let mut b = json!({
            "name": "Black pig", "category": "meat", "unit": "piece", "price": "28.00",
            "min_order_qty": "1", "origin_region_code": YANGYUAN_VILLAGE,
            "sale_mode": "pieces_by_weight", "nominal_weight_kg": "100", "weight_tolerance": 15
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v.clone();
            }
        }
        b
    };
    let before = count(&app, "products").await;
    for (extra, field) in [
        (json!({"unit": "kg"}), "unit"),
        (json!({"nominal_weight_kg": "0"}), "nominal_weight_kg"),
        (json!({"nominal_weight_kg": "5000.001"}), "nominal_weight_kg"),
        (json!({"nominal_weight_kg": "1.2345"}), "nominal_weight_kg"),
        (json!({"nominal_weight_kg": null}), "nominal_weight_kg"),
        (json!({"weight_tolerance": 101}), "weight_tolerance"),
        (json!({"weight_tolerance": -1}), "weight_tolerance"),
        (json!({"weight_tolerance": "15"}), "weight_tolerance"),
        (json!({"weight_tolerance": null}), "weight_tolerance"),
        (json!({"sale_mode": "by_the_kilo"}), "sale_mode"),
        (json!({"sale_mode": "per_unit"}), "nominal_weight_kg"),
    ] {
        let r = app.post("/products", sup.t(), body(extra.clone())).await;
        let fields = r.fields();
        r.problem(422);
        assert!(fields.contains(&field.to_string()), "{extra}: {fields:?}");
    }
    assert_eq!(
        count(&app, "products").await,
        before,
        "a refused product writes nothing"
    );
    // Refused roles, whatever the body.
    app.post("/products", buyer.t(), body(json!({}))).await.problem(403);
    app.post("/products", None, body(json!({}))).await.problem(401);

    let r = app.post("/products", sup.t(), body(json!({}))).await.expect(201);
    assert_eq!(r.json["sale_mode"], "pieces_by_weight");
    assert_eq!(r.json["nominal_weight_kg"], "100");
    assert_eq!(r.json["weight_tolerance"], 15);
    let id = r.json["id"].as_str().unwrap().to_string();
    let path = format!("/products/{id}");
    // An edit is checked merged with what is stored.
    for (patch, field) in [
        (json!({"unit": "kg"}), "unit"),
        (json!({"weight_tolerance": 150}), "weight_tolerance"),
        (json!({"nominal_weight_kg": "0"}), "nominal_weight_kg"),
    ] {
        let r = app.patch(&path, sup.t(), patch.clone(), Some("*")).await;
        assert_eq!(r.fields(), vec![field.to_string()], "{patch}");
        r.problem(422);
    }
    assert_eq!(app.get(&path, sup.t()).await.json["version"], 1, "nothing written");
    let r = app
        .patch(&path, sup.t(), json!({"nominal_weight_kg": "90.5"}), Some("*"))
        .await
        .expect(200);
    assert_eq!(
        (r.json["nominal_weight_kg"].clone(), r.json["weight_tolerance"].clone()),
        (json!("90.5"), json!(15))
    );
    // Back to per unit: the weight terms go.
    let r = app
        .patch(&path, sup.t(), json!({"sale_mode": "per_unit"}), Some("*"))
        .await
        .expect(200);
    assert_eq!(r.json["sale_mode"], "per_unit");
    assert!(r.json.get("nominal_weight_kg").is_none());
    // An ordinary product says per_unit.
    let plain = product(&app, &sup.org_id, 1000, 1000, 0).await;
    assert_eq!(
        app.get(&format!("/products/{plain}"), sup.t()).await.json["sale_mode"],
        "per_unit"
    );
}

#[tokio::test]
async fn credit_is_actual_kg_times_price_per_kg_half_up_to_the_fen() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await; // 20.00 / kg, 100 kg
    let boxed = weighed(&app, &sup.org_id, 1001, "1.5", 10).await; // 10.01 / kg, 1.5 kg
    let other = weighed(&app, &sup.org_id, 1001, "1.5", 10).await;
    // The catalogue says how it is sold: by the piece, at a price per kg.
    let cat = app.get("/catalog?limit=200", None).await.expect(200).json;
    let item = cat["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == pig.as_str());
    let item = item.unwrap_or_else(|| panic!("the pig in {cat}"));
    assert_eq!(item["sale_mode"], "pieces_by_weight");
    assert_eq!(item["unit"], "piece");
    assert_eq!(item["price"], "20.00");
    assert_eq!(item["weight_tolerance"], 15);
    assert!(item["nominal_weight_kg"].as_str().unwrap().starts_with("100"), "{item}");
    // Whole pieces only, in stock as in orders.
    let best_before = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let r = app
        .post(
            &format!("/products/{pig}/lots"),
            sup.t(),
            json!({"quantity": "2.5", "best_before": best_before}),
        )
        .await;
    assert_eq!(r.fields(), vec!["quantity"]);
    let r = place(&app, &buyer, order_body(&[(&pig, "1.5")]), &new_key()).await;
    assert_eq!(r.fields(), vec!["lines[0].quantity"]);
    r.problem(422);

    let d = delivered(&app, &buyer, &sup, &[(&pig, "2"), (&boxed, "1"), (&other, "1")]).await;
    // The estimate: 2 x 100 kg x 20.00 + 2 x (1.5 kg x 10.01 = 15.015 -> 15.02).
    assert_eq!(d.order["total"], "4030.04");
    let line0 = line(&d.order["supplier_orders"][0], &d.lines[0]);
    assert_eq!(line0["weight"]["estimated_weight_kg"], "200");
    assert_eq!(line0["weight"]["actual_weight_kg"], Value::Null);
    assert_eq!(d.order["weighed"]["estimated_amount"], "4030.04");
    assert_eq!(d.order["weighed"]["actual_amount"], Value::Null);

    let (l0, l1, l2) = (&d.lines[0], &d.lines[1], &d.lines[2]);
    let r = accept(
        &app,
        &buyer,
        &d.so,
        accept_body(
            &[
                (l0, "2", Some("203.555")), // 4071.10 exactly
                (l1, "1", Some("1.5")),     // 15.015: exactly half a fen -> 15.02
                (l2, "1", Some("1.499")),   // 15.00499 -> 15.00
            ],
            false,
        ),
    )
    .await
    .expect(200);
    assert_eq!(r.json["status"], "accepted");
    assert_eq!(line(&r.json, l0)["weight"]["actual_weight_kg"], "203.555");
    assert_eq!(line(&r.json, l0)["weight"]["actual_amount"], "4071.10");
    assert_eq!(line(&r.json, l0)["weight"]["difference"], "71.10");
    assert_eq!(line(&r.json, l1)["weight"]["actual_amount"], "15.02");
    assert_eq!(line(&r.json, l2)["weight"]["difference"], "-0.02");
    assert_eq!(r.json["weighed"]["actual_amount"], "4101.12");
    assert_eq!(r.json["weighed"]["difference"], "71.08");
    assert_eq!(
        credits(&app, &buyer, &d.so).await,
        vec![
            ("1".to_string(), "15.00".to_string()),
            ("1".into(), "15.02".into()),
            ("2".into(), "4071.10".into())
        ]
    );
    // The order shows the estimate beside the actual amount.
    let oid = d.order["id"].as_str().unwrap();
    let o = app.get(&format!("/orders/{oid}"), buyer.t()).await.expect(200);
    assert_eq!(o.json["weighed"]["estimated_amount"], "4030.04");
    assert_eq!(o.json["weighed"]["actual_amount"], "4101.12");
    // Stock counts pieces.
    assert_eq!(stock_of(&app, &pig).await.on_hand_milli, 8_000);
    // The recorded weight is there for the ledger entry.
    let line_id = l0.parse().unwrap();
    let w = assist_market::services::weight::actual_weight(app.db(), line_id)
        .await
        .unwrap();
    assert_eq!(w.map(|w| w.to_string()).as_deref(), Some("203.555"));
}

#[tokio::test]
async fn a_weight_outside_the_tolerance_needs_the_buyers_acceptance() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    // Both bounds of the tolerance are inside.
    for w in ["85", "115"] {
        let d = delivered(&app, &buyer, &sup, &[(&pig, "1")]).await;
        let r = accept(&app, &buyer, &d.so, accept_body(&[(&d.lines[0], "1", Some(w))], false)).await;
        assert_eq!(r.expect(200).json["lines"][0]["weight"]["deviation_accepted"], false);
    }
    let d = delivered(&app, &buyer, &sup, &[(&pig, "1")]).await;
    let entries = count(&app, "ledger_entries").await;
    for w in ["115.001", "84.999"] {
        let r = accept(&app, &buyer, &d.so, accept_body(&[(&d.lines[0], "1", Some(w))], false)).await;
        assert_eq!(r.fields(), vec!["lines[0].actual_weight"], "{w}");
        r.problem(422);
    }
    assert_eq!(count(&app, "ledger_entries").await, entries, "nothing credited");
    let so = app
        .get(&format!("/supplier-orders/{}", d.so), buyer.t())
        .await
        .expect(200);
    assert_eq!(so.json["status"], "delivered");
    // With the buyer's explicit acceptance.
    let r = accept(
        &app,
        &buyer,
        &d.so,
        accept_body(&[(&d.lines[0], "1", Some("130"))], true),
    )
    .await
    .expect(200);
    assert_eq!(r.json["lines"][0]["weight"]["deviation_accepted"], true);
    assert_eq!(
        credits(&app, &buyer, &d.so).await,
        vec![("1".to_string(), "2600.00".to_string())]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// The weighed amount never panics, is within half a fen of the exact product, and a
    /// line of whole pieces at their nominal weight costs what the estimate says.
    #[test]
    fn weighed_amounts_are_exact_to_the_fen(fen in 0i64..=10_000_000_000_000, grams in 0i64..=1_000_000_000_000) {
        let price = Money::from_minor(fen).unwrap();
        let w = Weight::from_minor(grams).unwrap();
        let exact = i128::from(fen) * i128::from(grams);
        match Money::weighed_amount(price, w) {
            Ok(a) => {
                let back = i128::from(a.minor()) * 1000;
                prop_assert!(back - exact <= 500 && exact - back < 500);
            }
            Err(_) => prop_assert!(exact / 1000 >= 10_000_000_000_000),
        }
    }
}

#[tokio::test]
async fn a_weighed_sale_is_priced_per_kg_against_the_kg_median() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    // A product of the category sold per kg at 20.00, and a pig at 20.00 per kg.
    product(&app, &sup.org_id, 2000, 1000, 10_000).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    let d = delivered(&app, &buyer, &sup, &[(&pig, "2")]).await;
    let body = accept_body(&[(&d.lines[0], "2", Some("205"))], false);
    accept(&app, &buyer, &d.so, body).await.expect(200);
    // 4100.00 for two pigs is 20.00 per kg, the median: no price outlier (per piece it
    // would have been 2050.00 against 20.00).
    let r = crate::flags::scan(&app, true).await;
    assert_eq!(r["raised"], 0, "{r}");
}

/// A standing agreement's line is checked as each period's order will be: a fraction of a
/// piece of a product sold by weight was accepted, and then every run fell short with a 422.
#[tokio::test]
async fn an_agreement_for_a_weighed_product_takes_whole_pieces_only() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    let body = |qty: &str| crate::agreements::agreement_body(&sup.org_id, &pig, qty, "month");
    let r = app.post("/agreements", buyer.t(), body("2.5")).await;
    assert_eq!(r.fields(), vec!["lines[0].quantity"], "{}", r.text);
    r.problem(422);
    app.post("/agreements", buyer.t(), body("2")).await.expect(201);
}
