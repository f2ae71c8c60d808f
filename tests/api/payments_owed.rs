//! What a buyer owes is what it kept: an invoice written before a return or a partial
//! acceptance is owed only in part, a payment beyond it is a refund due, and a prepaid order
//! waiting for its payment is not the supplier's lateness.
use crate::orders::act;
use crate::payments::{accepted, id, invoice, order, pay, today, trade, Trade};
use chrono::{Duration, NaiveDate};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

async fn ageing(t: &Trade, as_of: NaiveDate) -> Value {
    t.app
        .get(&format!("/payments/ageing?as_of={as_of}"), t.buyer.t())
        .await
        .expect(200)
        .json
}

async fn terms(t: &Trade, so: &str) -> Value {
    t.app
        .get(&format!("/supplier-orders/{so}"), t.buyer.t())
        .await
        .expect(200)
        .json["payment"]
        .clone()
}

async fn give_back(t: &Trade, so: &Value, quantity: &str) {
    let line = so["lines"][0]["id"].as_str().unwrap();
    t.app
        .post(
            &format!("/supplier-orders/{}/returns", id(so)),
            t.buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": quantity}], "reason": "spoilt"}),
        )
        .await
        .expect(201);
}

/// A canteen's 10 units (125.00) accepted on account and invoiced for `amount`.
pub async fn invoiced(amount: &str) -> (Trade, Value, String) {
    let t = trade("canteen").await;
    let so = order(&t, json!({})).await;
    let s = id(&so);
    accepted(&t, &so).await;
    invoice(&t, &s, "F-1", amount).await.expect(201);
    (t, so, s)
}

#[tokio::test]
async fn a_return_after_the_invoice_lowers_what_is_owed_and_what_may_be_paid() {
    let (t, so, s) = invoiced("125.00").await;
    // 4 of the 10 units at 12.50 go back: 75.00 is owed, not the 125.00 invoiced.
    give_back(&t, &so, "4").await;
    let a = ageing(&t, today()).await;
    assert_eq!(a["totals"]["total"], "75.00", "{a}");
    assert_eq!(a["items"][0]["supplier_orders"], 1, "{a}");
    let p = terms(&t, &s).await;
    assert_eq!(p["outstanding"], "75.00", "{p}");
    assert_eq!(p["invoiced"], "125.00", "{p}");
    let r = pay(&t.app, &t.buyer, &s, "125.00").await;
    assert_eq!(r.fields(), vec!["amount"]);
    r.problem(422);
    assert_eq!(terms(&t, &s).await["paid"], "0.00", "a refused payment writes nothing");
    pay(&t.app, &t.buyer, &s, "75.00").await.expect(201);
    let p = terms(&t, &s).await;
    assert_eq!(
        (p["outstanding"].as_str(), p["refund_due"].as_str()),
        (Some("0.00"), Some("0.00")),
        "{p}"
    );
    assert_eq!(ageing(&t, today()).await["totals"]["total"], "0.00");
    // Reminders chase nothing once what was kept is paid.
    let sent = assist_market::services::payments::run_due(&t.app.state, today() + Duration::days(90))
        .await
        .unwrap();
    assert_eq!(sent.reminders, 0, "{sent:?}");
}

#[tokio::test]
async fn a_return_after_payment_is_a_refund_due() {
    let (t, so, s) = invoiced("125.00").await;
    pay(&t.app, &t.buyer, &s, "125.00").await.expect(201);
    give_back(&t, &so, "2").await;
    let p = terms(&t, &s).await;
    assert_eq!(p["refund_due"], "25.00", "{p}");
    assert_eq!(p["outstanding"], "0.00", "{p}");
    assert_eq!(ageing(&t, today()).await["totals"]["total"], "0.00");
}

#[tokio::test]
async fn a_prepaid_order_accepted_in_part_shows_the_refund_due() {
    let (t, so, s) = prepaid("canteen", "125.00", json!({})).await;
    pay(&t.app, &t.buyer, &s, "125.00").await.expect(201);
    for a in ["ship", "deliver"] {
        act(&t.app, &t.supplier, &s, a).await.expect(200);
    }
    let line = so["lines"][0]["id"].as_str().unwrap();
    let r = t
        .app
        .post(
            &format!("/supplier-orders/{s}/accept"),
            t.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "6"}], "invoice_number": "P-1"}),
        )
        .await
        .expect(200);
    // The acceptance's own answer already says so.
    assert_eq!(r.json["payment"]["refund_due"], "50.00", "{}", r.text);
    assert_eq!(terms(&t, &s).await["refund_due"], "50.00");
}

#[tokio::test]
async fn an_invoice_for_part_leaves_the_rest_owed_as_not_invoiced() {
    let (t, _, s) = invoiced("10.00").await;
    pay(&t.app, &t.buyer, &s, "10.00").await.expect(201);
    let a = ageing(&t, today()).await;
    assert_eq!(a["totals"]["total"], "115.00", "{a}");
    assert_eq!(a["totals"]["not_invoiced"], "115.00", "{a}");
    assert_eq!(a["items"][0]["supplier_orders"], 1, "{a}");
}

#[tokio::test]
async fn a_confirmed_flags_reversal_does_not_cancel_the_debt() {
    let t = trade("canteen").await;
    let so = order(&t, json!({})).await;
    accepted(&t, &so).await;
    // What a confirmed flag writes: a reversal of the credit, on the same supplier order.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let e = entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::SupplierOrderId.eq(id(&so)))
        .one(t.app.db())
        .await
        .unwrap()
        .unwrap();
    let rev = assist_market::services::ledger::NewEntry::like(
        &e,
        e.buyer_org_id.clone(),
        assist_market::domain::LedgerKind::Reversal,
        -e.amount_fen,
        -e.quantity_milli,
    );
    assist_market::services::ledger::append(t.app.db(), rev).await.unwrap();
    let a = ageing(&t, today()).await;
    assert_eq!(a["totals"]["total"], "125.00", "{a}");
}

/// A prepaid order of a buyer of `kind` with `extra` fields, confirmed and invoiced for `amount`.
async fn prepaid(kind: &str, amount: &str, extra: Value) -> (Trade, Value, String) {
    let t = trade(kind).await;
    let mut body = json!({"payment_terms": "prepay"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let so = order(&t, body).await;
    let s = id(&so);
    act(&t.app, &t.supplier, &s, "confirm").await.expect(200);
    invoice(&t, &s, "P-1", amount).await.expect(201);
    (t, so, s)
}

/// A school's prepaid order due in 3 days, confirmed and invoiced for `amount`.
async fn prepaid_for_a_school(amount: &str) -> (Trade, String) {
    let by = (today() + Duration::days(3)).to_string();
    let (t, _, s) = prepaid("school", amount, json!({"deliver_by": by})).await;
    (t, s)
}

#[tokio::test]
async fn a_prepaid_order_waiting_for_payment_is_not_late_and_its_deadline_follows_the_payment() {
    let (t, s) = prepaid_for_a_school("125.00").await;
    let app = &t.app;
    // Confirmed and invoiced 10 days ago for delivery 5 days after; the buyer has not paid since.
    for q in [
        format!(
            "UPDATE supplier_order_terms SET due_on = '{}', deliver_by = '{}' WHERE supplier_order_id = '{s}'",
            today() - Duration::days(10),
            today() - Duration::days(5)
        ),
        format!(
            "UPDATE invoices SET created_at = '{} 12:00:00+00:00' WHERE supplier_order_id = '{s}'",
            today() - Duration::days(10)
        ),
    ] {
        app.db().execute_unprepared(&q).await.unwrap();
    }
    let run = assist_market::services::payments::run_due(&app.state, today())
        .await
        .unwrap();
    assert_eq!(run.flagged_late, 0, "{run:?}");
    assert_eq!(terms(&t, &s).await["late"], false);
    // Paid today: the supplier keeps the 5 days it was given after confirming.
    let r = pay(app, &t.buyer, &s, "125.00").await.expect(201);
    assert_eq!(
        r.json["late_under"], "contract",
        "a prepayment is never late under the regulation"
    );
    let p = terms(&t, &s).await;
    assert_eq!(p["deliver_by"], (today() + Duration::days(5)).to_string(), "{p}");
    assert_eq!(p["late"], false, "{p}");
    for a in ["ship", "deliver"] {
        act(app, &t.supplier, &s, a).await.expect(200);
    }
    let l = assist_market::services::payments::lateness_of_supplier(app.db(), &t.supplier.org_id)
        .await
        .unwrap();
    assert_eq!((l.delivered, l.delivered_late, l.flagged_late), (1, 0, 0), "{l:?}");
}

#[tokio::test]
async fn orders_accepted_before_the_payable_amount_was_recorded_are_priced_at_start() {
    let (t, so, s) = invoiced("125.00").await;
    give_back(&t, &so, "4").await;
    // As migration 000270 leaves an accepted order.
    t.app
        .db()
        .execute_unprepared(&format!(
            "UPDATE supplier_order_terms SET payable_fen = NULL WHERE supplier_order_id = '{s}'"
        ))
        .await
        .unwrap();
    assert_eq!(terms(&t, &s).await["outstanding"], "125.00", "unpriced: the invoice");
    let priced = assist_market::services::payments::fill_payable(t.app.db())
        .await
        .unwrap();
    assert_eq!(priced, 1);
    assert_eq!(terms(&t, &s).await["outstanding"], "75.00");
    assert_eq!(
        assist_market::services::payments::fill_payable(t.app.db())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_paid_order_cancelled_owes_nothing_and_its_payment_is_a_refund_due() {
    let (t, _, s) = prepaid("canteen", "125.00", json!({})).await;
    pay(&t.app, &t.buyer, &s, "125.00").await.expect(201);
    act(&t.app, &t.buyer, &s, "cancel").await.expect(200);
    let p = terms(&t, &s).await;
    assert_eq!(
        (p["outstanding"].as_str(), p["refund_due"].as_str()),
        (Some("0.00"), Some("125.00")),
        "{p}"
    );
}

#[tokio::test]
async fn a_prepaid_order_the_supplier_has_not_confirmed_and_invoiced_is_late_all_the_same() {
    let (t, s) = prepaid_for_a_school("100.00").await;
    let app = &t.app;
    // Invoiced in part only: the buyer cannot pay it all, and the wait is the supplier's.
    app.db()
        .execute_unprepared(&format!(
            "UPDATE supplier_order_terms SET deliver_by = '{}' WHERE supplier_order_id = '{s}'",
            today() - Duration::days(1)
        ))
        .await
        .unwrap();
    let run = assist_market::services::payments::run_due(&app.state, today())
        .await
        .unwrap();
    assert_eq!(run.flagged_late, 1, "{run:?}");
}

#[tokio::test]
async fn two_returns_of_different_lines_at_once_both_lower_what_is_owed() {
    let t = trade("canteen").await;
    let app = &t.app;
    let second = crate::orders::product(app, &t.supplier.org_id, 1000, 1_000, 1_000_000).await;
    let body = crate::orders::order_body(&[(&t.product, "10"), (&second, "10")]);
    let so = crate::orders::place(app, &t.buyer, body, &crate::orders::new_key())
        .await
        .expect(201)
        .json["supplier_orders"][0]
        .clone();
    let s = id(&so);
    for a in ["confirm", "ship", "deliver"] {
        act(app, &t.supplier, &s, a).await.expect(200);
    }
    let lines: Vec<String> = so["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    let all: Vec<Value> = lines
        .iter()
        .map(|l| json!({"line_id": l, "accepted_quantity": "10"}))
        .collect();
    app.post(
        &format!("/supplier-orders/{s}/accept"),
        t.buyer.t(),
        json!({"lines": all, "invoice_number": "F-1"}),
    )
    .await
    .expect(200);
    // 10 × 12.50 + 10 × 10.00 = 225.00, invoiced in full.
    invoice(&t, &s, "F-1", "225.00").await.expect(201);
    let give = |line: String| {
        let path = format!("/supplier-orders/{s}/returns");
        let tok = t.buyer.token.clone();
        async move {
            app.post(
                &path,
                Some(&tok),
                json!({"lines": [{"line_id": line, "quantity": "1"}], "reason": "spoilt"}),
            )
            .await
            .expect(201);
        }
    };
    // Five rounds of one unit of each line returned at the same time: 5 × 22.50 back.
    for _ in 0..5 {
        tokio::join!(give(lines[0].clone()), give(lines[1].clone()));
    }
    assert_eq!(terms(&t, &s).await["outstanding"], "112.50");
}
