//! The business calendar (`business_utc_offset`, China time by default): the ledger's budget
//! month, "today" in date checks, the days of `/ledger` filters and of split-order flags
//! follow it, not UTC. The test picks an offset under which the business day differs from the
//! UTC day at the moment it runs (an hour's margin either way), so it fails on UTC dates.
use crate::flags::{flags, scan};
use crate::helpers::*;
use crate::orders::*;
use chrono::{Datelike, Duration, Timelike, Utc};
use serde_json::json;

/// (`business_utc_offset`, business day minus UTC day): -12:00 before 11:00 UTC, +14:00 after.
fn crossing_offset() -> (&'static str, i64) {
    if Utc::now().hour() < 11 {
        ("-12:00", -1)
    } else {
        ("+14:00", 1)
    }
}

#[tokio::test]
async fn budget_months_today_and_day_filters_follow_the_business_calendar() {
    let (offset, shift) = crossing_offset();
    let app = spawn_app_with(|s| {
        s.flag_review_threshold_fen = 10_000;
        s.business_utc_offset = offset.to_string().try_into().expect("offset");
    })
    .await;
    let local_today = Utc::now().date_naive() + Duration::days(shift);
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let product = product(&app, &supplier.org_id, 1000, 1_000, 1_000_000).await;

    // Delivery dates: the business day's yesterday is past, its today is not.
    let on = |day: chrono::NaiveDate| {
        let mut b = order_body(&[(&product, "2.5")]);
        b["requested_date"] = json!(day.to_string());
        b
    };
    let r = place(&app, &buyer, on(local_today - Duration::days(1)), &new_key()).await;
    assert_eq!(r.fields(), vec!["requested_date"]);
    r.problem(422);
    let placed = place(&app, &buyer, on(local_today), &new_key()).await.expect(201);
    for _ in 0..4 {
        place(&app, &buyer, on(local_today), &new_key()).await.expect(201);
    }

    // The credit is dated in the business calendar, and so are the filter's days.
    let so = placed.json["supplier_orders"][0]["id"].as_str().unwrap();
    let line = placed.json["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    for step in ["confirm", "ship", "deliver"] {
        act(&app, &supplier, so, step).await.expect(200);
    }
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "2.5"}], "invoice_number": "INV-DAY"}),
    )
    .await
    .expect(200);
    let ev = evaluator.t();
    let entries = app.get("/ledger", ev).await.expect(200).json["items"].clone();
    assert_eq!(entries[0]["year"], local_today.year());
    assert_eq!(entries[0]["month"], local_today.month());
    let n = |r: Resp| r.expect(200).json["items"].as_array().unwrap().len();
    let day = |d: chrono::NaiveDate| format!("/ledger?from={d}&to={d}");
    assert_eq!(n(app.get(&day(local_today), ev).await), 1);
    let utc_today = Utc::now().date_naive();
    assert_eq!(n(app.get(&day(utc_today), ev).await), 0);

    // Five orders of 25.00 on one business day are one split, named by that day.
    assert_eq!(scan(&app, false).await["raised"], 1);
    let split = flags(&app, ev, "&kind=order_splitting").await;
    assert_eq!(split[0]["evidence"]["day"], local_today.to_string());
    assert_eq!(split[0]["evidence"]["orders"], 5);
}

#[tokio::test]
async fn an_offset_that_is_not_one_is_refused_at_start() {
    for bad in ["8", "+8:00", "+15:00", "-13:00", "+08:60", "UTC", ""] {
        let parsed: Result<assist_market::config::BusinessOffset, _> = bad.to_string().try_into();
        assert!(parsed.is_err(), "{bad:?} was taken");
    }
    let ok: assist_market::config::BusinessOffset = "+05:45".to_string().try_into().expect("offset");
    assert_eq!(ok.0.local_minus_utc(), 5 * 3600 + 45 * 60);
}
