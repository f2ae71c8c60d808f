//! What is owed, as the ageing report and invoices must keep it: returned goods are not
//! invoiced, a cancelled order is not chased, and an unpaid prepayment is late under the
//! contract, not under the regulation (which counts from delivery).
use crate::helpers::*;
use crate::orders::act;
use crate::payments::{accepted, id, invoice, order, today, trade};
use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};

async fn ageing(app: &TestApp, who: &OrgUser, as_of: NaiveDate) -> Value {
    app.get(&format!("/payments/ageing?as_of={as_of}"), who.t())
        .await
        .expect(200)
        .json
}

#[tokio::test]
async fn returned_goods_are_not_invoiced() {
    let t = trade("school").await;
    let so = order(&t, json!({})).await;
    accepted(&t, &so).await;
    let s = id(&so);
    let line = so["lines"][0]["id"].as_str().unwrap();
    t.app
        .post(
            &format!("/supplier-orders/{s}/returns"),
            t.buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "4"}], "reason": "spoiled"}),
        )
        .await
        .expect(201);
    // 10 accepted at 12.50, 4 returned: 75.00 kept, and no more may be invoiced.
    let r = invoice(&t, &s, "R-1", "125.00").await;
    assert_eq!(r.fields(), ["amount"], "{}", r.text);
    r.problem(422);
    invoice(&t, &s, "R-1", "75.00").await.expect(201);
    invoice(&t, &s, "R-2", "0.01").await.problem(422);
    let a = ageing(&t.app, &t.buyer, today()).await;
    assert_eq!(a["totals"]["total"], "75.00", "{a}");
}

#[tokio::test]
async fn an_unpaid_prepayment_is_late_under_the_contract_and_a_cancelled_order_owes_nothing() {
    let t = trade("school").await;
    let app = &t.app;
    let so = order(&t, json!({"payment_terms": "prepay"})).await;
    let s = id(&so);
    assert_eq!(so["payment"]["regulated"], true, "a budget unit buying from an SME");
    act(app, &t.supplier, &s, "confirm").await.expect(200);
    invoice(&t, &s, "P-1", "125.00").await.expect(201);
    // Due on confirmation; a day later it is late, under the contract: nothing was delivered,
    // so the regulation's 30 days from delivery have not begun.
    let a = ageing(app, &t.buyer, today() + Duration::days(1)).await;
    assert_eq!(a["totals"]["overdue_under_contract"], "125.00", "{a}");
    assert_eq!(a["totals"]["overdue_under_regulation"], "0.00", "{a}");
    let seen = app.get(&format!("/supplier-orders/{s}"), t.buyer.t()).await.expect(200);
    assert_ne!(seen.json["payment"]["overdue_under"], "regulation", "{}", seen.text);
    // The buyer cancels before paying: nothing is owed or chased any more.
    act(app, &t.buyer, &s, "cancel").await.expect(200);
    let a = ageing(app, &t.buyer, today() + Duration::days(31)).await;
    assert_eq!(a["totals"]["total"], "0.00", "{a}");
    let sent = assist_market::services::payments::run_due(&app.state, today() + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(sent.reminders, 0, "{sent:?}");
}

#[tokio::test]
async fn a_supervisor_appointed_after_the_30_day_reminder_is_told_on_the_next_pass() {
    let (t, _, _) = crate::payments_owed::invoiced("125.00").await;
    let app = &t.app;
    let due = today() + Duration::days(30);
    let run = |day: NaiveDate| assist_market::services::payments::run_due(&app.state, day);
    // 30 days overdue and no finance office covers the buyer: the buyer alone is reminded.
    assert_eq!(run(due + Duration::days(30)).await.unwrap().reminders, 1);
    // One is set up for the buyer's city: the next pass tells it, once.
    let office = app.create_org("finance_office", "130100").await;
    assert_eq!(run(due + Duration::days(31)).await.unwrap().reminders, 1);
    assert_eq!(run(due + Duration::days(32)).await.unwrap().reminders, 0);
    let told = app.wait_for_emails(&office.contact_email, 1, 10).await;
    assert_eq!(told.iter().filter(|m| m.contains("30 days late")).count(), 1);
}
