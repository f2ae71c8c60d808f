//! Delivery deadlines: `deliver_by`, late supplier orders, their email and cancellation.
use crate::orders::{act, count, new_key, order_body, place, stock_of};
use crate::payments::{order, trade, Trade};
use assist_market::services::payments;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::json;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[tokio::test]
async fn deliver_by_must_not_be_past_nor_before_the_requested_date() {
    let t = trade("canteen").await;
    let before = count(&t.app, "orders").await;
    for (by, msg) in [
        (today() - Duration::days(1), "past"),
        (today() + Duration::days(1), "requested_date"),
    ] {
        let mut body = order_body(&[(&t.product, "10")]);
        body["deliver_by"] = json!(by.to_string());
        let r = place(&t.app, &t.buyer, body, &new_key()).await;
        assert_eq!(r.fields(), vec!["deliver_by"]);
        assert!(r.text.contains(msg), "{}", r.text);
        r.problem(422);
    }
    assert_eq!(count(&t.app, "orders").await, before, "nothing written");
    assert_eq!(stock_of(&t.app, &t.product).await.reserved_milli, 0);
    // 7, 15 or 30 days ahead are the usual choices.
    let by = today() + Duration::days(15);
    let so = order(&t, json!({"deliver_by": by.to_string()})).await;
    assert_eq!(so["payment"]["deliver_by"], by.to_string());
    assert_eq!(so["payment"]["late"], false);
}

#[tokio::test]
async fn a_late_order_is_flagged_its_supplier_emailed_once_and_the_buyer_may_cancel_it_shipped() {
    let t = trade("canteen").await;
    let app = &t.app;
    let by = today() + Duration::days(7);
    let so = order(&t, json!({"deliver_by": by.to_string()})).await;
    let s = so["id"].as_str().unwrap().to_string();
    // An order delivered on time stays on time.
    let on_time = order(&t, json!({"deliver_by": by.to_string()})).await;
    let s2 = on_time["id"].as_str().unwrap().to_string();
    for a in ["confirm", "ship"] {
        act(app, &t.supplier, &s, a).await.expect(200);
        act(app, &t.supplier, &s2, a).await.expect(200);
    }
    act(app, &t.supplier, &s2, "deliver").await.expect(200);
    // Not late yet: a shipped order cannot be cancelled.
    act(app, &t.buyer, &s, "cancel").await.problem(409);
    assert_eq!(payments::run_due(&app.state, by).await.unwrap().flagged_late, 0);
    assert_eq!(
        payments::run_due(&app.state, by + Duration::days(1))
            .await
            .unwrap()
            .flagged_late,
        1
    );
    assert_eq!(
        payments::run_due(&app.state, by + Duration::days(2))
            .await
            .unwrap()
            .flagged_late,
        0,
        "flagged once"
    );
    let got = app
        .get(&format!("/supplier-orders/{s}"), t.buyer.t())
        .await
        .expect(200)
        .json;
    assert_eq!(got["payment"]["late"], true);
    assert!(got["payment"]["late_since"].is_string());
    let late_mail = || {
        app.emails_to(&t.supplier.contact_email)
            .into_iter()
            .filter(|m| m.contains("is late"))
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while late_mail() < 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(late_mail(), 1, "the supplier is emailed once");
    let on_time = app
        .get(&format!("/supplier-orders/{s2}"), t.buyer.t())
        .await
        .expect(200)
        .json;
    assert_eq!(on_time["payment"]["late"], false);

    // The supplier may not cancel; the buyer may, although it is shipped: the reservation goes.
    act(app, &t.supplier, &s, "cancel").await.problem(403);
    assert_eq!(stock_of(app, &t.product).await.reserved_milli, 20_000);
    let r = act(app, &t.buyer, &s, "cancel").await.expect(200);
    assert_eq!(r.json["status"], "cancelled");
    assert_eq!(stock_of(app, &t.product).await.reserved_milli, 10_000);
    // Lateness stays on the record (the supplier's scorecard): a late order never delivered
    // counts as not on time.
    assert!(r.json["payment"]["late_since"].is_string());
    let card = app
        .get(&format!("/suppliers/{}/scorecard", t.supplier.org_id), t.buyer.t())
        .await
        .expect(200)
        .json;
    // The other order was delivered on time: one of two, not one of one.
    assert_eq!(card["delivered_on_time"]["denominator"], 2, "{card}");
    assert_eq!(card["delivered_on_time"]["numerator"], 1, "{card}");
}

/// A supplier order shipped, whose deadline passed before the job ran (moved back in the
/// fixture): its id.
async fn shipped_past_its_deadline(t: &Trade) -> String {
    let app = &t.app;
    let so = order(t, json!({"deliver_by": (today() + Duration::days(3)).to_string()})).await;
    let s = so["id"].as_str().unwrap().to_string();
    for a in ["confirm", "ship"] {
        act(app, &t.supplier, &s, a).await.expect(200);
    }
    sea_orm::ConnectionTrait::execute_unprepared(
        app.db(),
        &format!(
            "UPDATE supplier_order_terms SET deliver_by = '{}' WHERE supplier_order_id = '{s}'",
            today() - Duration::days(1)
        ),
    )
    .await
    .unwrap();
    s
}

#[tokio::test]
async fn a_delivery_after_the_deadline_is_recorded_late() {
    let t = trade("school").await;
    let app = &t.app;
    let s = shipped_past_its_deadline(&t).await;
    let r = act(app, &t.supplier, &s, "deliver").await.expect(200);
    assert_eq!(r.json["payment"]["late"], true);
    assert!(r.json["payment"]["late_since"].is_string());
    // Delivered: the job no longer flags or emails it.
    assert_eq!(payments::run_due(&app.state, today()).await.unwrap().flagged_late, 0);
}

/// A late order cancelled before the hourly job flagged it is late all the same: once
/// cancelled the job never flags it, and the supplier kept a clean on-time record.
#[tokio::test]
async fn a_late_order_cancelled_before_the_job_ran_is_recorded_late() {
    let t = trade("school").await;
    let app = &t.app;
    let s = shipped_past_its_deadline(&t).await;
    let r = act(app, &t.buyer, &s, "cancel").await.expect(200);
    assert!(r.json["payment"]["late_since"].is_string(), "{}", r.text);
    let card = app
        .get(&format!("/suppliers/{}/scorecard", t.supplier.org_id), t.buyer.t())
        .await
        .expect(200)
        .json;
    assert_eq!(card["delivered_on_time"]["denominator"], 1, "{card}");
    assert_eq!(card["delivered_on_time"]["numerator"], 0, "{card}");
}
