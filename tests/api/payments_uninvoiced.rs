//! The ageing report shows accepted on-account orders not invoiced yet; lateness against
//! `deliver_by` is kept for the supplier's scorecard.
use crate::orders::act;
use crate::payments::{accepted, invoice, order, trade};
use assist_market::services::payments;
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[tokio::test]
async fn an_accepted_delivery_not_yet_invoiced_shows_in_the_ageing_report() {
    let t = trade("canteen").await;
    let app = &t.app;
    let so = order(&t, json!({})).await;
    let s = so["id"].as_str().unwrap().to_string();
    // Delivered, not accepted: nothing owed yet.
    for a in ["confirm", "ship", "deliver"] {
        act(app, &t.supplier, &s, a).await.expect(200);
    }
    let ageing = |as_of: NaiveDate| {
        let path = format!("/payments/ageing?as_of={as_of}");
        let tok = t.buyer.token.clone();
        async move { app.get(&path, Some(&tok)).await.expect(200).json }
    };
    assert_eq!(ageing(today()).await["totals"]["total"], "0.00");
    let line = so["lines"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/supplier-orders/{s}/accept"),
        t.buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV-A"}),
    )
    .await
    .expect(200);
    let terms = app
        .get(&format!("/supplier-orders/{s}"), t.buyer.t())
        .await
        .expect(200)
        .json["payment"]
        .clone();
    let due: NaiveDate = terms["due_on"].as_str().unwrap().parse().unwrap();
    let under = if terms["regulated"] == true {
        "overdue_under_regulation"
    } else {
        "overdue_under_contract"
    };
    assert!(due > today());
    // Accepted, no invoice: owed all the same, current until its due date.
    let a = ageing(today()).await;
    assert_eq!(a["totals"]["total"], "125.00", "{a}");
    assert_eq!(a["totals"]["current"], "125.00");
    assert_eq!(a["totals"]["not_invoiced"], "125.00");
    assert_eq!(a["items"][0]["not_invoiced_orders"], 1);
    assert_eq!(a["items"][0]["supplier_orders"], 1);
    // Past the due date it ages like an invoice.
    let a = ageing(due + Duration::days(10)).await;
    assert_eq!(a["totals"]["days_1_30"], "125.00", "{a}");
    assert_eq!(a["totals"][under], "125.00");
    // The supplier sees it too.
    let sup = app.get("/payments/ageing", t.supplier.t()).await.expect(200).json;
    assert_eq!(sup["totals"]["not_invoiced"], "125.00");
    // Invoiced in part: the invoice is reported, and the rest stays owed as not invoiced.
    invoice(&t, &s, "F-1", "100.00").await.expect(201);
    let a = ageing(today()).await;
    assert_eq!(a["totals"]["total"], "125.00", "{a}");
    assert_eq!(a["totals"]["not_invoiced"], "25.00");
    assert_eq!(a["items"][0]["not_invoiced_orders"], 1);
    assert_eq!(a["items"][0]["supplier_orders"], 1);
    // Invoiced in full: nothing is left not invoiced.
    invoice(&t, &s, "F-2", "25.00").await.expect(201);
    let a = ageing(today()).await;
    assert_eq!(a["totals"]["total"], "125.00", "{a}");
    assert_eq!(a["totals"]["not_invoiced"], "0.00");
    assert_eq!(a["items"][0]["not_invoiced_orders"], 0);
}

#[tokio::test]
async fn delivered_late_is_recorded_for_the_suppliers_scorecard() {
    let t = trade("canteen").await;
    let app = &t.app;
    let by = today() + Duration::days(7);
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let late = order(&t, json!({"deliver_by": by.to_string()})).await;
    let on_time = order(&t, json!({"deliver_by": by.to_string()})).await;
    let no_deadline = order(&t, json!({})).await;
    // The first one's deadline has passed by the time it is delivered.
    app.db()
        .execute_unprepared(&format!(
            "UPDATE supplier_order_terms SET deliver_by = '{}' WHERE supplier_order_id = '{}'",
            today() - Duration::days(2),
            id(&late)
        ))
        .await
        .unwrap();
    accepted(&t, &late).await;
    accepted(&t, &on_time).await;
    accepted(&t, &no_deadline).await;
    let ids = vec![id(&late), id(&on_time), id(&no_deadline)];
    let got = payments::delivered_late(app.db(), ids.clone()).await.unwrap();
    assert_eq!(got.get(&ids[0]), Some(&true));
    assert_eq!(got.get(&ids[1]), Some(&false));
    assert_eq!(got.get(&ids[2]), Some(&false));
    let l = payments::lateness_of_supplier(app.db(), &t.supplier.org_id)
        .await
        .unwrap();
    assert_eq!(
        (l.with_deadline, l.delivered, l.delivered_late, l.flagged_late),
        (2, 2, 1, 1)
    );
    assert_eq!(l.late_ratio.map(|r| r.to_string()), Some("0.5000".to_string()));
    let other = payments::lateness_of_supplier(app.db(), &t.buyer.org_id).await.unwrap();
    assert_eq!(other.with_deadline, 0);
    assert!(other.late_ratio.is_none());
}
