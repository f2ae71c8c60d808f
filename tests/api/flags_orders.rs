//! Fraud signals read off orders and lots: split orders, round trips, origin mismatches.
use crate::compliance::new_lot;
use crate::flags::{flags, scan};
use crate::helpers::*;
use crate::orders::{act, bought_line, new_key, order_body, place, placed_line, product};
use serde_json::json;

#[tokio::test]
async fn lots_stating_another_origin_are_flagged() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = ProductRow::certified(&supplier.org_id).insert(&app).await;
    let best_before = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let lot = |county: &str| json!({"quantity": "10", "best_before": best_before, "origin_county_code": county});
    let path = format!("/products/{p}/lots");
    let r = app.post(&path, supplier.t(), lot("999999")).await;
    assert_eq!(r.fields(), ["origin_county_code"]);
    let far = app.post(&path, supplier.t(), lot(PINGQUAN)).await.expect(201);
    app.post(&path, supplier.t(), lot(YANGYUAN)).await.expect(201);
    app.post(
        &path,
        supplier.t(),
        json!({"quantity": "10", "best_before": best_before}),
    )
    .await
    .expect(201);
    assert_eq!(scan(&app, false).await["raised"], 1);
    let all = flags(&app, evaluator.t(), "&kind=origin_mismatch").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["evidence"]["lot_id"], far.json["id"]);
    assert_eq!(all[0]["evidence"]["lot_origin_county_code"], PINGQUAN);
    assert_eq!(all[0]["evidence"]["certified_origin_county_code"], YANGYUAN);
    assert_eq!(scan(&app, true).await["raised"], 0);
}

#[tokio::test]
async fn five_small_orders_in_a_day_above_the_threshold_are_split_orders() {
    let app = spawn_app_with(|s| s.flag_review_threshold_fen = 10_000).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let splitter = app.create_org("canteen", CHANGAN).await;
    let near = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    // Five of 25.00 (together 125.00, above 100.00); four of 25.00 and one of 100.00 for the other.
    for _ in 0..5 {
        place(&app, &splitter, order_body(&[(&p, "2.5")]), &new_key())
            .await
            .expect(201);
    }
    for q in ["2.5", "2.5", "2.5", "2.5", "10"] {
        place(&app, &near, order_body(&[(&p, q)]), &new_key()).await.expect(201);
    }
    assert_eq!(scan(&app, false).await["raised"], 1);
    let all = flags(&app, evaluator.t(), "&kind=order_splitting").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["buyer_org_id"], splitter.org_id.as_str());
    assert_eq!(all[0]["evidence"]["orders"], 5);
    assert_eq!(all[0]["evidence"]["total"], "125.00");
    assert_eq!(all[0]["evidence"]["review_threshold"], "100.00");
}

/// Places, ships and accepts one 10-unit order, then returns all of it.
async fn round_trip(app: &TestApp, buyer: &OrgUser, supplier: &OrgUser, p: &str, full: bool) {
    let (so, line) = bought_line(app, buyer, supplier, p).await;
    let back = if full { "10" } else { "9" };
    app.post(
        &format!("/supplier-orders/{so}/returns"),
        buyer.t(),
        json!({"lines": [{"line_id": line, "quantity": back}], "reason": "not needed"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn two_full_returns_between_a_pair_in_a_year_are_round_trips() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let near = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    round_trip(&app, &buyer, &supplier, &p, true).await;
    // One full return only: nothing yet.
    assert_eq!(scan(&app, false).await["raised"], 0);
    round_trip(&app, &buyer, &supplier, &p, true).await;
    // The other buyer: one full return and one partial.
    round_trip(&app, &near, &supplier, &p, true).await;
    round_trip(&app, &near, &supplier, &p, false).await;
    assert_eq!(scan(&app, false).await["raised"], 1);
    let all = flags(&app, evaluator.t(), "&kind=round_trip").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["buyer_org_id"], buyer.org_id.as_str());
    assert_eq!(all[0]["evidence"]["orders"].as_array().unwrap().len(), 2);
    assert_eq!(all[0]["evidence"]["entry_ids"].as_array().unwrap().len(), 2);
    // Confirming reverses nothing more: the returns took the credits out already.
    let c = app
        .post(
            &format!("/flags/{}/confirm", all[0]["id"].as_str().unwrap()),
            evaluator.t(),
            json!({"note": "circular purchases"}),
        )
        .await
        .expect(200);
    assert!(c.json["reversals"].as_array().unwrap().is_empty());
    assert_eq!(scan(&app, true).await["raised"], 0);
}

#[tokio::test]
async fn confirming_an_origin_mismatch_reverses_the_credits_of_that_batch() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let p = product(&app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    let best_before = (chrono::Utc::now().date_naive() + chrono::Duration::days(5)).to_string();
    let far = new_lot(
        &app,
        &supplier,
        &p,
        json!({"quantity": "10", "best_before": best_before, "origin_county_code": PINGQUAN}),
    )
    .await;
    // Flagged when the lot is recorded, before any sale of it.
    assert_eq!(scan(&app, false).await["raised"], 1);
    let (so, line) = placed_line(&app, &buyer, &p, "10").await;
    act(&app, &supplier, &so, "confirm").await.expect(200);
    app.post(
        &format!("/supplier-orders/{so}/ship"),
        supplier.t(),
        json!({"lots": [{"line_id": line, "lot_id": far, "quantity": "10"}]}),
    )
    .await
    .expect(200);
    act(&app, &supplier, &so, "deliver").await.expect(200);
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV-FAR"}),
    )
    .await
    .expect(200);
    assert_eq!(
        credited(&app, evaluator.t(), &buyer.org_id).await,
        10_000,
        "10 at 10.00 credited"
    );
    confirm_origin_mismatch(&app, &evaluator, "the batch came from Pingquan, not Yangyuan").await;
    assert_eq!(
        credited(&app, evaluator.t(), &buyer.org_id).await,
        0,
        "the batch's credit is reversed"
    );
    // The goods come back after the confirmation: nothing is left to take back, so the return
    // writes no reversal (it took the credit back a second time before).
    let r = app
        .post(
            &format!("/supplier-orders/{so}/returns"),
            buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "4"}], "reason": "wrong origin"}),
        )
        .await
        .expect(201);
    assert!(r.json["lines"][0]["ledger_entry_id"].is_null(), "{}", r.text);
    assert_eq!(r.json["lines"][0]["amount"], "40.00");
    assert_eq!(
        credited(&app, evaluator.t(), &buyer.org_id).await,
        0,
        "not reversed twice"
    );
}

/// `evaluator` confirms the one origin-mismatch flag with `note`; the answer (200).
pub async fn confirm_origin_mismatch(app: &TestApp, evaluator: &OrgUser, note: &str) -> Resp {
    let flag = flags(app, evaluator.t(), "&kind=origin_mismatch").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/flags/{flag}/confirm"),
        evaluator.t(),
        json!({ "note": note }),
    )
    .await
    .expect(200)
}

/// The buyer's credited total in fen, as its ledger lists it.
pub async fn credited(app: &TestApp, who: Option<&str>, buyer: &str) -> i64 {
    let l = app.get(&format!("/ledger?buyer={buyer}"), who).await.expect(200).json;
    l["items"].as_array().unwrap().iter().fold(0i64, |s, e| {
        s + (e["amount"].as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64
    })
}

/// Five orders of 25.00 placed by one canteen with one supplier (above a 100.00 threshold),
/// flagged as a split before any is accepted.
struct Split {
    app: TestApp,
    evaluator: OrgUser,
    splitter: OrgUser,
    supplier: OrgUser,
    /// (supplier order id, line id) of each order.
    placed: Vec<(String, String)>,
    flag: serde_json::Value,
}

async fn split() -> Split {
    let app = spawn_app_with(|s| s.flag_review_threshold_fen = 10_000).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let splitter = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    let mut placed = Vec::new();
    for _ in 0..5 {
        placed.push(placed_line(&app, &splitter, &p, "2.5").await);
    }
    assert_eq!(scan(&app, false).await["raised"], 1);
    let flag = flags(&app, evaluator.t(), "&kind=order_splitting").await[0].clone();
    assert_eq!(flag["evidence"]["entry_ids"], json!([]));
    Split {
        app,
        evaluator,
        splitter,
        supplier,
        placed,
        flag,
    }
}

impl Split {
    /// Delivers and accepts the first `n` orders.
    async fn accept(&self, n: usize) {
        for (so, line) in &self.placed[..n] {
            for a in ["confirm", "ship", "deliver"] {
                act(&self.app, &self.supplier, so, a).await.expect(200);
            }
            self.app
                .post(
                    &format!("/supplier-orders/{so}/accept"),
                    self.splitter.t(),
                    json!({"lines": [{"line_id": line, "accepted_quantity": "2.5"}], "invoice_number": "INV-S"}),
                )
                .await
                .expect(200);
        }
    }

    async fn confirm(&self) -> Resp {
        let id = self.flag["id"].as_str().unwrap();
        let path = format!("/flags/{id}/confirm");
        self.app
            .post(&path, self.evaluator.t(), json!({"note": "split"}))
            .await
            .expect(200)
    }

    /// The splitter's net credit, in fen.
    async fn net(&self) -> i64 {
        let path = format!("/ledger?buyer={}&limit=200", self.splitter.org_id);
        let l = self.app.get(&path, Some(&self.app.admin_token)).await.expect(200);
        l.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["amount"].as_str().unwrap().parse::<f64>().unwrap() * 100.0).round() as i64)
            .sum()
    }
}

/// A split is flagged when its orders are placed, before any credit exists; confirming it
/// after the orders are accepted takes their credit out (it named only `entry_ids`, empty
/// at the scan, and reversed nothing).
#[tokio::test]
async fn confirming_a_split_flagged_before_acceptance_reverses_the_accepted_orders() {
    let s = split().await;
    s.accept(5).await;
    let c = s.confirm().await;
    let reversals = c.json["reversals"].as_array().unwrap();
    assert_eq!(reversals.len(), 5, "{}", c.text);
    assert!(reversals.iter().all(|r| r["amount"] == "25.00"));
    assert_eq!(s.net().await, 0);
}

/// A split confirmed before its orders were accepted reversed nothing, and the orders accepted
/// afterwards kept their credit: the next flag scan now reverses them, once.
#[tokio::test]
async fn orders_of_a_confirmed_split_accepted_later_are_reversed_by_the_next_scan() {
    let s = split().await;
    assert_eq!(s.confirm().await.json["reversals"], json!([]));
    s.accept(3).await;
    assert_eq!(s.net().await, 7_500);
    assert_eq!(scan(&s.app, false).await["reapplied"], 3);
    assert_eq!(s.net().await, 0);
    assert_eq!(scan(&s.app, false).await["reapplied"], 0);
    let id = s.flag["id"].as_str().unwrap();
    let f = s.app.get(&format!("/flags/{id}"), s.evaluator.t()).await.expect(200);
    let reversals = f.json["reversals"].as_array().unwrap();
    assert_eq!(reversals.len(), 3, "{}", f.text);
    assert!(
        reversals
            .iter()
            .all(|r| r["amount"] == "25.00" && r["reason"] == "split"),
        "{}",
        f.text
    );
}

/// Orders already named by a split flag, grouped again under another day (as orders placed
/// between 00:00 and 08:00 China time were when the day became the business day), raise no
/// second flag.
#[tokio::test]
async fn orders_already_flagged_as_a_split_are_not_flagged_again_under_another_day() {
    use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app_with(|s| s.flag_review_threshold_fen = 10_000).await;
    let splitter = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    let mut placed = Vec::new();
    for _ in 0..8 {
        placed.push(placed_line(&app, &splitter, &p, "2.5").await.0);
    }
    assert_eq!(scan(&app, false).await["raised"], 1);
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    let move_back = |ids: Vec<String>| {
        entity::supplier_orders::Entity::update_many()
            .col_expr(entity::supplier_orders::Column::CreatedAt, Expr::value(yesterday))
            .filter(entity::supplier_orders::Column::Id.is_in(ids))
            .exec(app.db())
    };
    move_back(placed[..5].to_vec()).await.unwrap();
    assert_eq!(scan(&app, true).await["raised"], 0);
    // Five new orders on that day beside the five already named: a split of the new five.
    let mut new = Vec::new();
    for _ in 0..5 {
        new.push(placed_line(&app, &splitter, &p, "2.5").await.0);
    }
    move_back(new.clone()).await.unwrap();
    assert_eq!(scan(&app, true).await["raised"], 1);
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let day = (chrono::Utc::now() - chrono::Duration::days(1))
        .date_naive()
        .to_string();
    let all = flags(&app, evaluator.t(), "&kind=order_splitting").await;
    let second = all.iter().find(|f| f["evidence"]["day"] == day.as_str()).unwrap();
    new.sort();
    assert_eq!(second["evidence"]["supplier_order_ids"], json!(new));
    assert_eq!(second["evidence"]["orders"], 5);
}

/// A contracted canteen's orders are credited to the unit it serves, so pairs read off the
/// ledger's buyer never compared the contractor with its supplier: the contractor sharing a
/// legal representative with its supplier raised nothing.
#[tokio::test]
async fn a_contractor_sharing_a_representative_with_its_supplier_is_flagged() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let office = app.create_org("finance_office", CHANGAN).await;
    let contractor = app.create_org("canteen_contractor", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    app.put(
        &format!("/buyers/{}/plans/{}", unit.org_id, crate::supervision::this_year()),
        unit.t(),
        json!({"declaration": "contracted_canteen", "contractor_org_id": contractor.org_id,
               "food_budget": "100000.00", "reserved_share": "0.2"}),
    )
    .await
    .expect(201);
    crate::supervision::approve_plan(&app, &unit, &office).await;
    for org in [&contractor.org_id, &supplier.org_id] {
        app.patch(
            &format!("/organizations/{org}"),
            Some(&app.admin_token),
            json!({"legal_representative": "李明"}),
            Some("*"),
        )
        .await
        .expect(200);
    }
    let p = product(&app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    let (so, line) = placed_line(&app, &contractor, &p, "10").await;
    for a in ["confirm", "ship", "deliver"] {
        act(&app, &supplier, &so, a).await.expect(200);
    }
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        contractor.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV-C"}),
    )
    .await
    .expect(200);
    assert_eq!(scan(&app, false).await["raised"], 1);
    let all = flags(&app, evaluator.t(), "&kind=related_parties").await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["buyer_org_id"], contractor.org_id.as_str());
    assert_eq!(
        all[0]["evidence"]["entry_ids"].as_array().unwrap().len(),
        1,
        "{}",
        all[0]
    );
    // Confirming takes the unit's credit from the contractor's order out.
    let c = app
        .post(
            &format!("/flags/{}/confirm", all[0]["id"].as_str().unwrap()),
            evaluator.t(),
            json!({"note": "same owner"}),
        )
        .await
        .expect(200);
    assert_eq!(c.json["reversals"][0]["amount"], "100.00", "{}", c.text);
}
