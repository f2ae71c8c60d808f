//! Payment terms, invoices, payments, the ageing report and reminders.
use crate::helpers::*;
use crate::orders::{act, count, new_key, order_body, place, product};
use assist_market::services::organizations::make_credit_code;
use assist_market::services::payments;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A buyer of `kind`, an SME supplier and a product (12.50, minimum 1, 1000 in stock).
pub struct Trade {
    pub app: TestApp,
    pub buyer: OrgUser,
    pub supplier: OrgUser,
    pub product: String,
}

pub async fn trade(kind: &str) -> Trade {
    let app = spawn_app().await;
    let buyer = app.create_org(kind, CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let product = product(&app, &supplier.org_id, 1250, 1_000, 1_000_000).await;
    Trade {
        app,
        buyer,
        supplier,
        product,
    }
}

/// Places a 10-unit order (125.00) with `extra` fields; returns the supplier order.
pub async fn order(t: &Trade, extra: Value) -> Value {
    let mut body = order_body(&[(&t.product, "10")]);
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = place(&t.app, &t.buyer, body, &new_key()).await.expect(201);
    r.json["supplier_orders"][0].clone()
}

pub fn id(so: &Value) -> String {
    so["id"].as_str().unwrap().to_string()
}

/// Confirms, ships, delivers and accepts everything.
pub async fn accepted(t: &Trade, so: &Value) {
    let s = id(so);
    for a in ["confirm", "ship", "deliver"] {
        act(&t.app, &t.supplier, &s, a).await.expect(200);
    }
    let line = so["lines"][0]["id"].as_str().unwrap();
    t.app
        .post(
            &format!("/supplier-orders/{s}/accept"),
            t.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV-A"}),
        )
        .await
        .expect(200);
}

pub async fn invoice(t: &Trade, so: &str, number: &str, amount: &str) -> Resp {
    t.app
        .post(
            &format!("/supplier-orders/{so}/invoices"),
            t.supplier.t(),
            json!({"number": number, "amount": amount, "issued_on": today().to_string()}),
        )
        .await
}

pub async fn pay(app: &TestApp, buyer: &OrgUser, so: &str, amount: &str) -> Resp {
    app.post(
        &format!("/supplier-orders/{so}/payments"),
        buyer.t(),
        json!({"amount": amount, "paid_on": today().to_string(), "reference": "ICBC 42"}),
    )
    .await
}

async fn terms(app: &TestApp, who: &OrgUser, so: &str) -> Value {
    app.get(&format!("/supplier-orders/{so}"), who.t())
        .await
        .expect(200)
        .json["payment"]
        .clone()
}

#[tokio::test]
async fn organisations_record_supplier_size_and_payment_days() {
    let app = spawn_app().await;
    let n = unique();
    let mk = |kind: &str, extra: Value| {
        let mut b = json!({"name": format!("{kind} {n}"), "kind": kind, "region_code": YANGYUAN,
            "contact_email": format!("x{n}@org.test"), "credit_code": make_credit_code(YANGYUAN, n)});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let admin = Some(app.admin_token.as_str());
    let r = app
        .post(
            "/organizations",
            admin,
            mk("enterprise", json!({"supplier_size": "large"})),
        )
        .await
        .expect(201);
    assert_eq!(r.json["supplier_size"], "large");
    let s = app.create_org("cooperative", YANGYUAN).await;
    let got = app
        .get(&format!("/organizations/{}", s.org_id), s.t())
        .await
        .expect(200);
    assert_eq!(got.json["supplier_size"], "sme", "SME by default");
    let before = count(&app, "organizations").await;
    for (body, field) in [
        (mk("school", json!({"supplier_size": "sme"})), "supplier_size"),
        (mk("enterprise", json!({"supplier_size": "huge"})), "supplier_size"),
        (mk("school", json!({"payment_days": 0})), "payment_days"),
        (mk("enterprise", json!({"payment_days": 30})), "payment_days"),
    ] {
        let r = app.post("/organizations", admin, body).await;
        assert!(r.fields().contains(&field.to_string()), "{}", r.text);
        r.problem(422);
    }
    assert_eq!(count(&app, "organizations").await, before, "nothing written");
}

#[tokio::test]
async fn terms_follow_the_regulation_for_budget_units_and_smes() {
    let t = trade("canteen").await;
    let so = order(&t, json!({})).await;
    assert_eq!(so["payment"]["payment_terms"], "on_account");
    assert_eq!(
        so["payment"]["payment_days"], 30,
        "a budget unit pays an SME within 30 days"
    );
    assert_eq!(so["payment"]["regulated"], true);
    // A private enterprise is no budget unit: its own days, 60 by default.
    let p = t.app.create_org("private_enterprise", CHANGAN).await;
    let r = place(&t.app, &p, order_body(&[(&t.product, "1")]), &new_key())
        .await
        .expect(201);
    assert_eq!(r.json["payment_terms"], "on_account");
    assert_eq!(r.json["supplier_orders"][0]["payment"]["payment_days"], 60);
    assert_eq!(r.json["supplier_orders"][0]["payment"]["regulated"], false);
    // A budget unit that set 90 days still pays an SME within 60, a large supplier within 90.
    let n = unique();
    let org = t
        .app
        .post(
            "/organizations",
            Some(&t.app.admin_token),
            json!({"name": format!("school {n}"), "kind": "school", "region_code": CHANGAN,
                   "contact_email": format!("s{n}@org.test"), "credit_code": make_credit_code(CHANGAN, n),
                   "payment_days": 90}),
        )
        .await
        .expect(201);
    assert_eq!(org.json["payment_days"], 90);
    let org_id = org.json["id"].as_str().unwrap().to_string();
    let email = format!("b{n}@user.test");
    t.app
        .post(
            &format!("/organizations/{org_id}/users"),
            Some(&t.app.admin_token),
            json!({"email": email, "name": "b", "role": "buyer", "password": PASSWORD}),
        )
        .await
        .expect(201);
    let school = OrgUser {
        token: t.app.login(&email, PASSWORD).await,
        org_id,
        email,
        contact_email: String::new(),
    };
    let big = t.app.create_org("enterprise", YANGYUAN).await;
    sea_orm::ConnectionTrait::execute_unprepared(
        t.app.db(),
        &format!(
            "UPDATE organizations SET supplier_size = 'large' WHERE id = '{}'",
            big.org_id
        ),
    )
    .await
    .unwrap();
    let p2 = product(&t.app, &big.org_id, 100, 1_000, 100_000).await;
    let r = place(
        &t.app,
        &school,
        order_body(&[(&t.product, "1"), (&p2, "1")]),
        &new_key(),
    )
    .await
    .expect(201);
    for so in r.json["supplier_orders"].as_array().unwrap() {
        let (days, regulated) = if so["supplier_org_id"] == big.org_id.as_str() {
            (90, false)
        } else {
            (60, true)
        };
        assert_eq!(so["payment"]["payment_days"], days);
        assert_eq!(so["payment"]["regulated"], regulated);
    }
    // Unknown terms: 422 naming the field.
    let mut body = order_body(&[(&t.product, "1")]);
    body["payment_terms"] = json!("cash");
    let r = place(&t.app, &t.buyer, body, &new_key()).await;
    assert!(r.fields().contains(&"payment_terms".to_string()), "{}", r.text);
}

#[tokio::test]
async fn on_account_orders_are_invoiced_once_accepted_and_paid_in_parts() {
    let t = trade("canteen").await;
    let app = &t.app;
    let so = order(&t, json!({})).await;
    let s = id(&so);
    // Not accepted yet: 409, nothing written.
    invoice(&t, &s, "F-1", "100.00").await.problem(409);
    accepted(&t, &so).await;
    let p = terms(app, &t.buyer, &s).await;
    let due = today() + Duration::days(30);
    assert_eq!(p["delivered_on"], today().to_string());
    assert_eq!(p["due_on"], due.to_string(), "due 30 days after delivery");
    assert_eq!(count(app, "invoices").await, 0);

    // Bad invoices: 4xx naming the field, nothing written.
    let r = invoice(&t, &s, "F-1", "125.01").await;
    assert_eq!(r.fields(), vec!["amount"]);
    r.problem(422);
    let r = app
        .post(
            &format!("/supplier-orders/{s}/invoices"),
            t.supplier.t(),
            json!({"number": " ", "amount": "0", "issued_on": (today() + Duration::days(1)).to_string()}),
        )
        .await;
    let mut f = r.fields();
    f.sort();
    assert_eq!(f, vec!["amount", "issued_on", "number"]);
    // The buyer cannot invoice; another supplier cannot see the order.
    app.post(
        &format!("/supplier-orders/{s}/invoices"),
        t.buyer.t(),
        json!({"number": "F-1", "amount": "1.00", "issued_on": today().to_string()}),
    )
    .await
    .problem(403);
    let other = app.create_org("cooperative", YANGYUAN).await;
    app.post(
        &format!("/supplier-orders/{s}/invoices"),
        other.t(),
        json!({"number": "F-1", "amount": "1.00", "issued_on": today().to_string()}),
    )
    .await
    .problem(404);
    assert_eq!(count(app, "invoices").await, 0);

    let r = invoice(&t, &s, "F-1", "100.00").await.expect(201);
    assert_eq!(r.json["amount"], "100.00");
    assert_eq!(invoice(&t, &s, "F-1", "1.00").await.fields(), vec!["number"]);
    invoice(&t, &s, "F-2", "25.00").await.expect(201);
    assert_eq!(invoice(&t, &s, "F-3", "0.01").await.fields(), vec!["amount"]);

    // Payments: above what is invoiced, in the future, by the supplier: refused, nothing written.
    let r = pay(app, &t.buyer, &s, "125.01").await;
    assert_eq!(r.fields(), vec!["amount"]);
    r.problem(422);
    let r = app
        .post(
            &format!("/supplier-orders/{s}/payments"),
            t.buyer.t(),
            json!({"amount": "1.00", "paid_on": (today() + Duration::days(1)).to_string(), "reference": "x"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["paid_on"]);
    pay(app, &t.supplier, &s, "1.00").await.problem(403);
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    pay(app, &ev, &s, "1.00").await.problem(403);
    assert_eq!(count(app, "payments").await, 0);

    let r = pay(app, &t.buyer, &s, "40.00").await.expect(201);
    assert_eq!(r.json["late_under"], Value::Null);
    pay(app, &t.buyer, &s, "85.00").await.expect(201);
    pay(app, &t.buyer, &s, "0.01").await.problem(422);
    let p = terms(app, &t.supplier, &s).await;
    assert_eq!(
        (p["invoiced"].as_str(), p["paid"].as_str()),
        (Some("125.00"), Some("125.00"))
    );
    assert_eq!(p["outstanding"], "0.00");
    // Both sides and evaluators read the lists.
    for who in [&t.buyer, &t.supplier, &ev] {
        let inv = app
            .get(&format!("/supplier-orders/{s}/invoices"), who.t())
            .await
            .expect(200);
        assert_eq!(inv.json["items"].as_array().unwrap().len(), 2);
        let pays = app
            .get(&format!("/supplier-orders/{s}/payments"), who.t())
            .await
            .expect(200);
        assert_eq!(pays.json["items"].as_array().unwrap().len(), 2);
    }
    app.get(&format!("/supplier-orders/{s}/payments"), other.t())
        .await
        .problem(404);
}

#[tokio::test]
async fn a_prepaid_order_ships_only_once_paid_in_full() {
    let t = trade("school").await;
    let app = &t.app;
    let so = order(&t, json!({"payment_terms": "prepay"})).await;
    let s = id(&so);
    assert_eq!(so["payment"]["payment_terms"], "prepay");
    invoice(&t, &s, "P-1", "125.00").await.problem(409);
    act(app, &t.supplier, &s, "confirm").await.expect(200);
    assert_eq!(terms(app, &t.buyer, &s).await["due_on"], today().to_string());
    act(app, &t.supplier, &s, "ship").await.problem(409);
    invoice(&t, &s, "P-1", "125.00").await.expect(201);
    pay(app, &t.buyer, &s, "100.00").await.expect(201);
    let r = act(app, &t.supplier, &s, "ship").await;
    assert!(r.json["detail"].as_str().unwrap().contains("paid"), "{}", r.text);
    r.problem(409);
    pay(app, &t.buyer, &s, "25.00").await.expect(201);
    let r = act(app, &t.supplier, &s, "ship").await.expect(200);
    assert_eq!(r.json["status"], "shipped");
}

#[tokio::test]
async fn concurrent_payments_never_exceed_what_is_invoiced() {
    let t = trade("canteen").await;
    let so = order(&t, json!({})).await;
    let s = id(&so);
    accepted(&t, &so).await;
    invoice(&t, &s, "F-1", "100.00").await.expect(201);
    let futs = (0..8).map(|_| pay(&t.app, &t.buyer, &s, "30.00"));
    let results = futures_util::future::join_all(futs).await;
    let ok = results.iter().filter(|r| r.status == 201).count();
    assert!(
        results.iter().all(|r| r.status == 201 || r.status == 422),
        "no other answer"
    );
    assert_eq!(ok, 3, "30 fits three times into 100");
    assert_eq!(count(&t.app, "payments").await, 3);
    assert_eq!(terms(&t.app, &t.buyer, &s).await["paid"], "90.00");
}

fn bucket(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_ageing_report_buckets_by_days_overdue_and_splits_regulation_from_contract() {
    let t = trade("canteen").await;
    let app = &t.app;
    // An SME (regulated, due in 30 days) and a large supplier (contract, due in 60 days).
    let big = app.create_org("enterprise", YANGYUAN).await;
    sea_orm::ConnectionTrait::execute_unprepared(
        app.db(),
        &format!(
            "UPDATE organizations SET supplier_size = 'large' WHERE id = '{}'",
            big.org_id
        ),
    )
    .await
    .unwrap();
    let p2 = product(app, &big.org_id, 1000, 1_000, 100_000).await;
    let so = order(&t, json!({})).await;
    accepted(&t, &so).await;
    invoice(&t, &id(&so), "F-1", "125.00").await.expect(201);
    pay(app, &t.buyer, &id(&so), "25.00").await.expect(201);
    let so2 = place(app, &t.buyer, order_body(&[(&p2, "5")]), &new_key())
        .await
        .expect(201)
        .json["supplier_orders"][0]
        .clone();
    let s2 = id(&so2);
    for a in ["confirm", "ship", "deliver"] {
        act(app, &big, &s2, a).await.expect(200);
    }
    let line = so2["lines"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/supplier-orders/{s2}/accept"),
        t.buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "5"}], "invoice_number": "X"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/supplier-orders/{s2}/invoices"),
        big.t(),
        json!({"number": "B-1", "amount": "50.00", "issued_on": today().to_string()}),
    )
    .await
    .expect(201);

    let ageing = |who: &OrgUser, as_of: NaiveDate| {
        let path = format!("/payments/ageing?as_of={as_of}");
        let tok = who.token.clone();
        async move { app.get(&path, Some(&tok)).await.expect(200).json }
    };
    // Today: everything current.
    let a = ageing(&t.buyer, today()).await;
    assert_eq!(bucket(&a["totals"], "current"), "150.00");
    assert_eq!(bucket(&a["totals"], "total"), "150.00");
    assert_eq!(a["items"].as_array().unwrap().len(), 2);
    // 45 days on: the SME's 100.00 is 15 days overdue under the regulation; the large
    // supplier's is still current (due in 60).
    let a = ageing(&t.buyer, today() + Duration::days(45)).await;
    assert_eq!(bucket(&a["totals"], "days_1_30"), "100.00");
    assert_eq!(bucket(&a["totals"], "current"), "50.00");
    assert_eq!(bucket(&a["totals"], "overdue_under_regulation"), "100.00");
    assert_eq!(bucket(&a["totals"], "overdue_under_contract"), "0.00");
    // 150 days on: both over 90 / 61-90; the large supplier's late under the contract.
    let a = ageing(&t.buyer, today() + Duration::days(150)).await;
    assert_eq!(bucket(&a["totals"], "over_90"), "100.00");
    assert_eq!(bucket(&a["totals"], "days_61_90"), "50.00");
    assert_eq!(bucket(&a["totals"], "overdue_under_contract"), "50.00");
    // Each supplier sees only what it is owed; evaluators see everything.
    let a = ageing(&big, today()).await;
    assert_eq!(a["items"].as_array().unwrap().len(), 1);
    assert_eq!(a["items"][0]["buyer_org_id"], t.buyer.org_id.as_str());
    assert_eq!(bucket(&a["totals"], "total"), "50.00");
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    assert_eq!(bucket(&ageing(&ev, today()).await["totals"], "total"), "150.00");
    let other = app.create_org("school", CHANGAN).await;
    assert_eq!(ageing(&other, today()).await["items"].as_array().unwrap().len(), 0);
    // Supervisors see the budget units of their region, and nothing outside it.
    let city = app.create_org("finance_office", "130100").await;
    assert_eq!(bucket(&ageing(&city, today()).await["totals"], "total"), "150.00");
    let elsewhere = app.create_org("finance_office", PINGQUAN).await;
    assert_eq!(ageing(&elsewhere, today()).await["items"].as_array().unwrap().len(), 0);
    assert_eq!(bucket(&ageing(&elsewhere, today()).await["totals"], "total"), "0.00");
    // Certifiers may not read it; a malformed date is 422 naming it.
    let c = app.create_org("county_office", YANGYUAN).await;
    app.get("/payments/ageing", c.t()).await.problem(403);
    let r = app.get("/payments/ageing?as_of=soon", t.buyer.t()).await;
    assert_eq!(r.fields(), vec!["as_of"]);
}

#[tokio::test]
async fn reminders_go_out_on_the_due_date_7_and_30_days_after_each_once() {
    let t = trade("canteen").await;
    let app = &t.app;
    let so = order(&t, json!({})).await;
    let s = id(&so);
    accepted(&t, &so).await;
    invoice(&t, &s, "F-1", "125.00").await.expect(201);
    // A second order, paid in full: never reminded.
    let paid = order(&t, json!({})).await;
    accepted(&t, &paid).await;
    invoice(&t, &id(&paid), "F-9", "125.00").await.expect(201);
    pay(app, &t.buyer, &id(&paid), "125.00").await.expect(201);

    // The finance office of the buyer's city supervises it.
    let office = app.create_org("finance_office", "130100").await;
    let due = today() + Duration::days(30);
    let subjects = || {
        app.emails_to(&t.buyer.contact_email)
            .into_iter()
            .filter(|m| m.contains("Payment due") || m.contains("Payment overdue"))
            .count()
    };
    let run = |day: NaiveDate| payments::run_due(&app.state, day);
    assert_eq!(run(due - Duration::days(1)).await.unwrap().reminders, 0);
    assert_eq!(run(due).await.unwrap().reminders, 1);
    assert_eq!(run(due).await.unwrap().reminders, 0, "sent once");
    assert_eq!(run(due + Duration::days(6)).await.unwrap().reminders, 0);
    assert_eq!(run(due + Duration::days(7)).await.unwrap().reminders, 1);
    // From 30 days the supervisor is told too.
    assert_eq!(run(due + Duration::days(30)).await.unwrap().reminders, 2);
    assert_eq!(run(due + Duration::days(31)).await.unwrap().reminders, 0);
    assert_eq!(count(app, "payment_reminders").await, 4);
    let to_office = app.wait_for_emails(&office.contact_email, 1, 10).await;
    assert_eq!(to_office.iter().filter(|m| m.contains("30 days late")).count(), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while subjects() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(subjects(), 3, "one email per reminder");
}

#[tokio::test]
async fn the_demo_data_has_paid_partly_paid_and_overdue_orders() {
    let app = spawn_app().await;
    assist_market::services::demo::seed(&app.state).await.unwrap();
    assist_market::services::demo::seed(&app.state).await.unwrap();
    assert_eq!(count(&app, "invoices").await, 4, "loaded once");
    let pw = assist_market::services::demo::DEMO_PASSWORD;
    let buyer = app.login("buyer@demo.assist", pw).await;
    let a = app.get("/payments/ageing", Some(&buyer)).await.expect(200).json;
    let t = &a["totals"];
    // Partly paid (220.00, current), overdue (440.00, 45 days), prepaid awaiting payment (440.00).
    assert_eq!(bucket(t, "total"), "1100.00", "{a}");
    assert_eq!(bucket(t, "days_31_60"), "440.00");
    assert_eq!(bucket(t, "overdue_under_regulation"), "440.00");
    let supplier = app.login("supplier@demo.assist", pw).await;
    let a = app.get("/payments/ageing", Some(&supplier)).await.expect(200).json;
    assert_eq!(bucket(&a["totals"], "total"), "1100.00");
}

#[tokio::test]
async fn the_admin_updates_a_suppliers_size_with_if_match() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let path = format!("/organizations/{}", s.org_id);
    let admin = Some(app.admin_token.as_str());
    let tag = app.get(&path, admin).await.expect(200).header("etag").unwrap();
    app.patch(&path, admin, json!({"supplier_size": "large"}), None)
        .await
        .problem(428);
    app.patch(&path, s.t(), json!({"supplier_size": "large"}), Some(&tag))
        .await
        .problem(403);
    let r = app.patch(&path, admin, json!({"payment_days": 30}), Some(&tag)).await;
    assert_eq!(r.fields(), vec!["payment_days"]);
    let r = app
        .patch(&path, admin, json!({"supplier_size": "large"}), Some(&tag))
        .await
        .expect(200);
    assert_eq!(r.json["supplier_size"], "large");
    assert_ne!(r.header("etag").unwrap(), tag);
    app.patch(&path, admin, json!({"supplier_size": "sme"}), Some(&tag))
        .await
        .problem(412);
    assert_eq!(app.get(&path, admin).await.json["supplier_size"], "large");
}
