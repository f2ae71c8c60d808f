//! Supplier scorecards: every figure on seeded orders, who may read them, and the
//! catalogue's summary.
use crate::helpers::*;
use crate::orders::{act, product_with};
use crate::payments::{order, trade};
use chrono::{Datelike, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn accept(app: &TestApp, buyer: &OrgUser, so: &Value, qty: &str) {
    let line = so["lines"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/supplier-orders/{}/accept", id(so)),
        buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": qty}], "invoice_number": "INV-S"}),
    )
    .await
    .expect(200);
}

/// Moves a supplier order's placing back `days` days.
async fn placed_days_ago(app: &TestApp, so: &str, days: i64) {
    entity::supplier_orders::Entity::update_many()
        .col_expr(
            entity::supplier_orders::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::days(days)),
        )
        .filter(entity::supplier_orders::Column::Id.eq(so))
        .exec(app.db())
        .await
        .unwrap();
}

/// An open alert on `product` (one per product); its id.
async fn alert(app: &TestApp, product: &str, supplier: &str) -> String {
    let alert = uuid::Uuid::now_v7().to_string();
    let t = Utc::now();
    entity::alerts::ActiveModel {
        id: Set(alert.clone()),
        product_id: Set(product.into()),
        supplier_org_id: Set(supplier.into()),
        origin_region_code: Set(YANGYUAN_VILLAGE.into()),
        origin_county_code: Set(YANGYUAN.into()),
        category: Set("grain".into()),
        level: Set("yellow".into()),
        level_rank: Set(1),
        status: Set("open".into()),
        reasons: Set("[]".into()),
        available_milli: Set(0),
        avg_daily_sales_milli: Set(0),
        days_of_cover: Set(None),
        days_to_expiry: Set(None),
        days_since_last_sale: Set(None),
        matched_buyers: Set("[]".into()),
        opened_at: Set(t),
        updated_at: Set(t),
        acknowledged_at: Set(None),
        acknowledged_by: Set(None),
        resolved_at: Set(None),
        resolved_by: Set(None),
        resolution_note: Set(None),
    }
    .insert(app.db())
    .await
    .unwrap();
    alert
}

/// A pledge against `alert`, recorded as the one that placed `order_id`.
async fn pledge(app: &TestApp, alert: &str, buyer: &str, order_id: &str) {
    let t = Utc::now();
    entity::pledges::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        alert_id: Set(alert.into()),
        buyer_org_id: Set(buyer.into()),
        buyer_user_id: Set(None),
        quantity_milli: Set(10_000),
        order_id: Set(order_id.into()),
        created_at: Set(t),
    }
    .insert(app.db())
    .await
    .unwrap();
}

fn figure(v: &Value) -> (Value, Value, Value) {
    (v["numerator"].clone(), v["denominator"].clone(), v["rate"].clone())
}

#[tokio::test]
async fn every_figure_of_the_scorecard_counts_the_seeded_orders() {
    let t = trade("canteen").await;
    let app = &t.app;
    let (s, b) = (&t.supplier, &t.buyer);
    let today = Utc::now().date_naive();
    // 1: confirmed at once, delivered by its deadline, all 10 accepted, rated 5; from a pledge.
    let o1 = order(&t, json!({"deliver_by": (today + Duration::days(10)).to_string()})).await;
    // 2: delivered after its deadline, 8 of 10 accepted and 2 returned, rated 4.
    let o2 = order(&t, json!({"deliver_by": (today + Duration::days(10)).to_string()})).await;
    for so in [&o1, &o2] {
        for a in ["confirm", "ship"] {
            act(app, s, &id(so), a).await.expect(200);
        }
    }
    entity::supplier_order_terms::Entity::update_many()
        .col_expr(
            entity::supplier_order_terms::Column::DeliverBy,
            sea_orm::sea_query::Expr::value(Some(today - Duration::days(1))),
        )
        .filter(entity::supplier_order_terms::Column::SupplierOrderId.eq(id(&o2)))
        .exec(app.db())
        .await
        .unwrap();
    for so in [&o1, &o2] {
        act(app, s, &id(so), "deliver").await.expect(200);
    }
    accept(app, b, &o1, "10").await;
    accept(app, b, &o2, "8").await;
    let line2 = o2["lines"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/supplier-orders/{}/returns", id(&o2)),
        b.t(),
        json!({"lines": [{"line_id": line2, "quantity": "2"}], "reason": "bruised"}),
    )
    .await
    .expect(201);
    for (so, score) in [(&o1, 5), (&o2, 4)] {
        app.post(
            &format!("/supplier-orders/{}/rating", id(so)),
            b.t(),
            json!({"score": score, "comment": ""}),
        )
        .await
        .expect(201);
    }
    // 3: placed three days ago and confirmed only now: not within 48 h.
    let o3 = order(&t, json!({})).await;
    placed_days_ago(app, &id(&o3), 3).await;
    act(app, s, &id(&o3), "confirm").await.expect(200);
    // 4: placed three days ago, never answered; from a pledge.
    let o4 = order(&t, json!({})).await;
    placed_days_ago(app, &id(&o4), 3).await;
    // 5: placed just now (still the supplier's 48 h); 6: cancelled by the buyer unanswered.
    let _o5 = order(&t, json!({})).await;
    let o6 = order(&t, json!({})).await;
    act(app, b, &id(&o6), "cancel").await.expect(200);
    let order_of = |so: &Value| so["order_id"].as_str().unwrap().to_string();
    let a = alert(app, &t.product, &s.org_id).await;
    pledge(app, &a, &b.org_id, &order_of(&o1)).await;
    pledge(app, &a, &b.org_id, &order_of(&o4)).await;
    // Documents: a licence and the product's certification are valid; another product's
    // certification expired yesterday.
    app.post(
        &format!("/suppliers/{}/documents", s.org_id),
        s.t(),
        json!({"kind": "business_licence", "number": "BL-1", "issued_on": (today - Duration::days(10)).to_string(),
               "valid_until": (today + Duration::days(500)).to_string()}),
    )
    .await
    .expect(201);
    product_with(app, &s.org_id, 1000, 1000, 0, "certified", -1).await;

    let year = today.year();
    let card = app
        .get(&format!("/suppliers/{}/scorecard?year={year}", s.org_id), s.t())
        .await
        .expect(200)
        .json;
    assert_eq!(card["year"], year);
    assert_eq!(card["orders_received"], 6);
    assert_eq!(
        figure(&card["confirmed_within_48h"]),
        (json!(2), json!(4), json!("0.5"))
    );
    assert_eq!(figure(&card["delivered_on_time"]), (json!(1), json!(2), json!("0.5")));
    assert_eq!(figure(&card["acceptance"]), (json!("18"), json!("20"), json!("0.9")));
    assert_eq!(figure(&card["returns"]), (json!("2"), json!("18"), json!("0.111111")));
    assert_eq!(card["rating"], json!({"count": 2, "sum": 9, "average": "4.50"}));
    assert_eq!(figure(&card["pledge_response"]), (json!(1), json!(2), json!("0.5")));
    assert_eq!(
        figure(&card["certificates_valid"]),
        (json!(2), json!(3), json!("0.666667"))
    );

    // Another year has nothing.
    let before = app
        .get(&format!("/suppliers/{}/scorecard?year={}", s.org_id, year - 1), b.t())
        .await
        .expect(200)
        .json;
    assert_eq!(before["orders_received"], 0);
    assert_eq!(figure(&before["delivered_on_time"]), (json!(0), json!(0), Value::Null));
    assert_eq!(before["rating"]["average"], Value::Null);

    // The catalogue shows the summary on the supplier's product.
    let cat = app.get("/catalog", None).await.expect(200).json;
    let item = cat["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == t.product.as_str())
        .unwrap()
        .clone();
    let sum = &item["supplier_summary"];
    assert_eq!(sum["year"], year);
    assert_eq!(sum["deliveries"], 2);
    assert_eq!(sum["on_time_delivery"], "0.5");
    assert_eq!(sum["acceptance_rate"], "0.9");
    assert_eq!(sum["rating"]["average"], "4.50");
}

#[tokio::test]
async fn the_scorecard_is_for_the_supplier_buyers_and_evaluators_and_only_of_suppliers() {
    let t = trade("canteen").await;
    let app = &t.app;
    let path = format!("/suppliers/{}/scorecard", t.supplier.org_id);
    app.get(&path, t.supplier.t()).await.expect(200);
    app.get(&path, t.buyer.t()).await.expect(200);
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    app.get(&path, ev.t()).await.expect(200);
    app.get(&path, Some(&app.admin_token)).await.expect(200);
    // Another supplier: 404; a county office and a finance office: 403; no token: 401.
    let other = app.create_org("cooperative", PINGQUAN).await;
    app.get(&path, other.t()).await.problem(404);
    let county = app.create_org("county_office", YANGYUAN).await;
    app.get(&path, county.t()).await.problem(403);
    let finance = app.create_org("finance_office", CHANGAN).await;
    app.get(&path, finance.t()).await.problem(403);
    app.get(&path, None).await.problem(401);
    // A buyer's id, or no organisation at all: 404.
    let of_buyer = format!("/suppliers/{}/scorecard", t.buyer.org_id);
    app.get(&of_buyer, Some(&app.admin_token)).await.problem(404);
    let nobody = format!("/suppliers/{}/scorecard", uuid::Uuid::new_v4());
    app.get(&nobody, Some(&app.admin_token)).await.problem(404);
    // A year that is not one: 400 naming it.
    for bad in ["abc", "1999", "2101", "2026.5"] {
        let r = app.get(&format!("{path}?year={bad}"), t.buyer.t()).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.fields(), vec!["year"], "{bad}");
    }
}
