//! Expiring documents: suppliers' licences, reminders once each, expiry out of the
//! catalogue or into suspension, renewal back, and the county offices' list.
use crate::helpers::*;
use crate::orders::{count, product};
use assist_market::services::documents;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn licence(kind: &str, number: &str, issued: NaiveDate, until: NaiveDate) -> Value {
    json!({"kind": kind, "number": number, "issued_on": issued.to_string(), "valid_until": until.to_string()})
}

async fn record(app: &TestApp, token: Option<&str>, org: &str, body: Value) -> Resp {
    app.post(&format!("/suppliers/{org}/documents"), token, body).await
}

fn in_catalogue(cat: &Value, product: &str) -> bool {
    cat["items"].as_array().unwrap().iter().any(|i| i["id"] == product)
}

/// The (kind, number) of each listed document whose number is one of `ours`.
fn listed(list: &Value, ours: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| ours.contains(&d["number"].as_str().unwrap()))
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["number"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn licences_are_recorded_by_their_supplier_or_admin_with_their_dates_checked() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let other = app.create_org("cooperative", PINGQUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let d = today();
    let ok = licence(
        "business_licence",
        "91130727MA0001",
        d - Duration::days(100),
        d + Duration::days(400),
    );
    let r = record(&app, s.t(), &s.org_id, ok.clone()).await.expect(201);
    assert_eq!(
        r.header("Location").unwrap(),
        format!("/api/v1/suppliers/{}/documents", s.org_id)
    );
    assert_eq!(r.json["current"], true);
    assert_eq!(r.json["kind"], "business_licence");
    // Bad dates and kinds: 422 naming the field, nothing written.
    let cases = [
        (
            licence(
                "food_trade_licence",
                "JY1",
                d - Duration::days(1),
                d - Duration::days(2),
            ),
            "valid_until",
        ),
        (
            licence(
                "food_trade_licence",
                "JY1",
                d + Duration::days(1),
                d + Duration::days(20),
            ),
            "issued_on",
        ),
        (
            licence(
                "food_trade_licence",
                "JY1",
                d - Duration::days(400),
                d - Duration::days(1),
            ),
            "valid_until",
        ),
        (licence("product_certificate", "JY1", d, d + Duration::days(20)), "kind"),
        (licence("passport", "JY1", d, d + Duration::days(20)), "kind"),
        (licence("food_trade_licence", " ", d, d + Duration::days(20)), "number"),
        (
            json!({"kind": "food_trade_licence", "number": "JY1", "issued_on": "2026-02-30", "valid_until": "2030-01-01"}),
            "issued_on",
        ),
    ];
    for (body, field) in cases {
        let r = record(&app, s.t(), &s.org_id, body.clone()).await;
        assert_eq!(r.status, 422, "{body}");
        assert_eq!(r.fields(), vec![field], "{body}");
    }
    assert_eq!(count(&app, "supplier_documents").await, 1, "nothing written");
    // Who may record: another supplier 404, a buyer 403, no token 401; admin may.
    record(&app, other.t(), &s.org_id, ok.clone()).await.problem(404);
    record(&app, buyer.t(), &s.org_id, ok.clone()).await.problem(403);
    record(&app, None, &s.org_id, ok.clone()).await.problem(401);
    let renewal = licence("business_licence", "91130727MA0002", d, d + Duration::days(800));
    record(&app, Some(&app.admin_token), &s.org_id, renewal)
        .await
        .expect(201);
    // Not a supplier: 404.
    record(&app, Some(&app.admin_token), &buyer.org_id, ok.clone())
        .await
        .problem(404);
    // The newest validity is current; the older one is kept.
    let list = app
        .get(&format!("/suppliers/{}/documents", s.org_id), s.t())
        .await
        .expect(200)
        .json;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["number"], "91130727MA0002");
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[1]["current"], false);
    // Its county office may read them, another county's may not.
    let county = app.create_org("county_office", YANGYUAN).await;
    let elsewhere = app.create_org("county_office", PINGQUAN).await;
    let path = format!("/suppliers/{}/documents", s.org_id);
    app.get(&path, county.t()).await.expect(200);
    app.get(&path, elsewhere.t()).await.problem(404);
    app.get(&path, buyer.t()).await.problem(403);
}

#[tokio::test]
async fn each_reminder_goes_out_once_and_an_expired_licence_suspends_until_a_new_one_is_recorded() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &s.org_id, 1000, 1000, 10_000).await;
    let until = today() + Duration::days(100);
    let old = licence(
        "food_trade_licence",
        "JY11307270001",
        today() - Duration::days(265),
        until,
    );
    record(&app, s.t(), &s.org_id, old).await.expect(201);
    let run = |day: NaiveDate| documents::run_due(&app.state, day);
    let reminders = |n: i64| async move { run(until - Duration::days(n)).await.unwrap().reminders };
    assert_eq!(reminders(91).await, 0);
    assert_eq!(reminders(90).await, 1);
    assert_eq!(reminders(90).await, 0, "sent once");
    assert_eq!(reminders(31).await, 0);
    assert_eq!(reminders(30).await, 1);
    assert_eq!(reminders(29).await, 0);
    assert_eq!(reminders(7).await, 1);
    assert_eq!(reminders(0).await, 0, "still valid on its last day");
    assert!(in_catalogue(&app.get("/catalog", None).await.expect(200).json, &p));
    // The day after: suspended, once.
    let after = run(until + Duration::days(1)).await.unwrap();
    assert_eq!((after.reminders, after.suspended), (1, 1));
    let again = run(until + Duration::days(1)).await.unwrap();
    assert_eq!((again.reminders, again.suspended), (0, 0));
    assert_eq!(count(&app, "document_reminders").await, 4);
    let org = app
        .get(&format!("/organizations/{}", s.org_id), Some(&app.admin_token))
        .await
        .expect(200)
        .json;
    assert_eq!(org["status"], "suspended");
    app.get("/me", s.t()).await.problem(403);
    assert!(!in_catalogue(&app.get("/catalog", None).await.expect(200).json, &p));
    let mails = app.wait_for_emails(&s.contact_email, 4, 10).await;
    assert_eq!(mails.iter().filter(|m| m.contains("Expires in")).count(), 3);
    assert_eq!(mails.iter().filter(|m| m.contains("Expired:")).count(), 1);
    // A renewal recorded by the platform reinstates it.
    let new = licence(
        "food_trade_licence",
        "JY11307270002",
        today(),
        until + Duration::days(1825),
    );
    let r = record(&app, Some(&app.admin_token), &s.org_id, new).await.expect(201);
    assert_eq!(r.json["current"], true);
    app.get("/me", s.t()).await.expect(200);
    assert!(in_catalogue(&app.get("/catalog", None).await.expect(200).json, &p));
    let later = run(until + Duration::days(1)).await.unwrap();
    assert_eq!((later.suspended, later.reinstated, later.reminders), (0, 0, 0));
}

#[tokio::test]
async fn a_renewal_never_lifts_a_suspension_the_admin_made() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let until = today() + Duration::days(10);
    let old = licence(
        "food_trade_licence",
        "JY11307270003",
        today() - Duration::days(355),
        until,
    );
    record(&app, s.t(), &s.org_id, old).await.expect(201);
    let after = documents::run_due(&app.state, until + Duration::days(1)).await.unwrap();
    assert_eq!(after.suspended, 1);
    // The admin lifts the documents pass's suspension, then suspends the supplier itself.
    let admin = Some(app.admin_token.as_str());
    let org = format!("/organizations/{}", s.org_id);
    app.post(&format!("{org}/reinstate"), admin, json!({}))
        .await
        .expect(200);
    app.post(&format!("{org}/suspend"), admin, json!({})).await.expect(200);
    let new = licence(
        "food_trade_licence",
        "JY11307270004",
        today(),
        until + Duration::days(1825),
    );
    record(&app, admin, &s.org_id, new).await.expect(201);
    let status = app.get(&org, admin).await.expect(200).json["status"].clone();
    assert_eq!(status, "suspended", "the admin's suspension stands");
    app.get("/me", s.t()).await.problem(403);
}

/// A product of supplier `s` with a green-food certificate valid until `until`, submitted for
/// review; its id.
pub async fn submitted_with_certificate(app: &TestApp, s: &OrgUser, until: NaiveDate) -> String {
    let body = json!({
        "name": "Sanggan millet", "category": "grain", "unit": "kg", "price": "12.50",
        "min_order_qty": "10", "origin_region_code": YANGYUAN_VILLAGE,
        "certificates": [{"kind": "green_food", "number": "LB-18-001", "valid_until": until.to_string()}],
    });
    let id = app.post("/products", s.t(), body).await.expect(201).json["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/products/{id}/submit"), s.t(), json!({}))
        .await
        .expect(200);
    id
}

#[tokio::test]
async fn an_expired_product_certificate_takes_the_product_out_until_renewed_and_certified_again() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let office = app.create_org("county_office", YANGYUAN).await;
    let cert_until = today() + Duration::days(20);
    let id = submitted_with_certificate(&app, &s, cert_until).await;
    let in_a_year = (today() + Duration::days(365)).to_string();
    let certify_path = format!("/products/{id}/certify");
    let certify = || app.post(&certify_path, office.t(), json!({"valid_until": in_a_year}));
    certify().await.expect(200);
    assert!(in_catalogue(&app.get("/catalog", None).await.expect(200).json, &id));

    let day = cert_until + Duration::days(1);
    let r = documents::run_due(&app.state, day).await.unwrap();
    assert_eq!(
        (r.withdrawn, r.reminders),
        (1, 1),
        "one email for the expiry, none for the stages skipped"
    );
    let again = documents::run_due(&app.state, day).await.unwrap();
    assert_eq!((again.withdrawn, again.reminders), (0, 0));
    assert!(!in_catalogue(&app.get("/catalog", None).await.expect(200).json, &id));
    let p = app.get(&format!("/products/{id}"), s.t()).await.expect(200).json;
    assert_eq!(p["status"], "pending_review");
    // The county office cannot certify it again before a new certificate is recorded.
    let r = certify().await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), vec!["certificates[0]"]);
    let renewed = json!({"certificates": [{"kind": "green_food", "number": "LB-18-002",
        "valid_until": (today() + Duration::days(700)).to_string()}]});
    app.patch(&format!("/products/{id}"), s.t(), renewed, Some("*"))
        .await
        .expect(200);
    assert!(
        !in_catalogue(&app.get("/catalog", None).await.expect(200).json, &id),
        "not before review"
    );
    certify().await.expect(200);
    assert!(in_catalogue(&app.get("/catalog", None).await.expect(200).json, &id));
    let later = documents::run_due(&app.state, day).await.unwrap();
    assert_eq!((later.withdrawn, later.reminders), (0, 0));
}

#[tokio::test]
async fn county_offices_list_what_expires_in_their_county_and_admin_everything() {
    let app = spawn_app().await;
    let a = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("cooperative", PINGQUAN).await;
    let d = today();
    for (who, number, days) in [(&a, "A-LIC", 30), (&b, "B-LIC", 200)] {
        let body = licence(
            "business_licence",
            number,
            d - Duration::days(5),
            d + Duration::days(days),
        );
        record(&app, who.t(), &who.org_id, body).await.expect(201);
    }
    let body = json!({
        "name": "Yangyuan apricots", "category": "fruit", "unit": "kg", "price": "8.00",
        "min_order_qty": "5", "origin_region_code": YANGYUAN_VILLAGE,
        "certificates": [{"kind": "organic", "number": "A-ORG", "valid_until": (d + Duration::days(60)).to_string()}],
    });
    let p = app.post("/products", a.t(), body).await.expect(201).json["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/products/{p}/submit"), a.t(), json!({}))
        .await
        .expect(200);
    let ours = ["A-LIC", "B-LIC", "A-ORG"];
    let pair = |k: &str, n: &str| (k.to_string(), n.to_string());
    let admin = Some(app.admin_token.as_str());
    let l = app.get("/documents/expiring?within=90", admin).await.expect(200).json;
    assert_eq!(l["within"], 90);
    assert_eq!(
        listed(&l, &ours),
        vec![pair("business_licence", "A-LIC"), pair("product_certificate", "A-ORG")]
    );
    let first = &l["items"][0];
    assert_eq!(first["days_left"], 30);
    assert_eq!(first["supplier_org_id"], a.org_id.as_str());
    let l = app.get("/documents/expiring?within=365", admin).await.expect(200).json;
    assert_eq!(listed(&l, &ours).len(), 3);
    assert_eq!(
        listed(&app.get("/documents/expiring", admin).await.expect(200).json, &ours).len(),
        2
    );
    let yy = app.create_org("county_office", YANGYUAN).await;
    let pq = app.create_org("county_office", PINGQUAN).await;
    let l = app.get("/documents/expiring?within=365", yy.t()).await.expect(200).json;
    assert_eq!(
        listed(&l, &ours),
        vec![pair("business_licence", "A-LIC"), pair("product_certificate", "A-ORG")]
    );
    let l = app.get("/documents/expiring?within=365", pq.t()).await.expect(200).json;
    assert_eq!(listed(&l, &ours), vec![pair("business_licence", "B-LIC")]);
    // A bad `within`: 400 naming it.
    for bad in ["abc", "-1", "367", "1.5"] {
        let r = app.get(&format!("/documents/expiring?within={bad}"), admin).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.fields(), vec!["within"], "{bad}");
    }
    // Suppliers, buyers and evaluators may not; no token: 401.
    app.get("/documents/expiring", a.t()).await.problem(403);
    let buyer = app.create_org("canteen", CHANGAN).await;
    app.get("/documents/expiring", buyer.t()).await.problem(403);
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    app.get("/documents/expiring", ev.t()).await.problem(403);
    app.get("/documents/expiring", None).await.problem(401);
}

#[tokio::test]
async fn two_passes_at_once_send_each_reminder_once() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let until = today() + Duration::days(60);
    for (kind, number) in [("business_licence", "C-1"), ("food_production_licence", "C-2")] {
        let body = licence(kind, number, today() - Duration::days(1), until);
        record(&app, s.t(), &s.org_id, body).await.expect(201);
    }
    let day = until - Duration::days(30);
    let (a, b) = tokio::join!(documents::run_due(&app.state, day), documents::run_due(&app.state, day));
    let sent = a.unwrap().reminders + b.unwrap().reminders;
    assert_eq!(sent, 2, "one reminder per licence across both passes");
    // Both licences reached the 90- and 30-day stages: four rows, two emails.
    assert_eq!(count(&app, "document_reminders").await, 4);
    let mails = app.wait_for_emails(&s.contact_email, 2, 10).await;
    assert_eq!(mails.iter().filter(|m| m.contains("Expires in 30 days")).count(), 2);
}

#[tokio::test]
async fn the_demo_data_has_licences_that_expire_soon_loaded_once() {
    let app = spawn_app().await;
    assist_market::services::demo::seed(&app.state).await.unwrap();
    assist_market::services::demo::seed(&app.state).await.unwrap();
    assert_eq!(count(&app, "supplier_documents").await, 5, "loaded once");
    let pw = assist_market::services::demo::DEMO_PASSWORD;
    let yangyuan = app.login("certifier@demo.assist", pw).await;
    let l = app
        .get("/documents/expiring?within=30", Some(&yangyuan))
        .await
        .expect(200)
        .json;
    let ours = ["SC10113072700101", "JY11308810000202"];
    assert_eq!(
        listed(&l, &ours),
        vec![("food_production_licence".to_string(), "SC10113072700101".to_string())],
        "{l}"
    );
    let admin = Some(app.admin_token.as_str());
    let l = app.get("/documents/expiring?within=90", admin).await.expect(200).json;
    assert_eq!(listed(&l, &ours).len(), 2, "{l}");
}
