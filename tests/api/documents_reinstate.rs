//! No supplier is reinstated by hand while a licence of it has expired: the renewal comes
//! first, whoever suspended it.
use crate::helpers::*;
use assist_market::services::documents;
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[tokio::test]
async fn a_licence_that_expires_under_the_admins_suspension_holds_the_supplier_until_renewed() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let admin = Some(app.admin_token.as_str());
    let org = format!("/organizations/{}", s.org_id);
    let doc = |number: &str, until: NaiveDate| {
        json!({"kind": "food_trade_licence", "number": number,
               "issued_on": (today() - Duration::days(300)).to_string(), "valid_until": until.to_string()})
    };
    app.post(
        &format!("/suppliers/{}/documents", s.org_id),
        s.t(),
        doc("JY1", today()),
    )
    .await
    .expect(201);
    // The admin suspends it for a reason of its own; meanwhile its licence lapses.
    app.post(&format!("{org}/suspend"), admin, json!({})).await.expect(200);
    app.db()
        .execute_unprepared(&format!(
            "UPDATE supplier_documents SET valid_until = '{}' WHERE supplier_org_id = '{}'",
            today() - Duration::days(1),
            s.org_id
        ))
        .await
        .unwrap();
    let run = documents::run_due(&app.state, today()).await.unwrap();
    assert_eq!(run.suspended, 0, "already suspended: {run:?}");
    // Lifting its own suspension does not waive the licence.
    let r = app.post(&format!("{org}/reinstate"), admin, json!({})).await;
    let p = r.problem(409);
    assert!(p["detail"].as_str().unwrap().contains("JY1 expired on"), "{p}");
    assert_eq!(app.get(&org, admin).await.expect(200).json["status"], "suspended");
    app.get("/me", s.t()).await.problem(403);
    // Once renewed, the admin's suspension still stands until the admin lifts it.
    let renewed = doc("JY2", today() + Duration::days(1000));
    app.post(&format!("/suppliers/{}/documents", s.org_id), admin, renewed)
        .await
        .expect(201);
    assert_eq!(app.get(&org, admin).await.expect(200).json["status"], "suspended");
    app.post(&format!("{org}/reinstate"), admin, json!({}))
        .await
        .expect(200);
    app.get("/me", s.t()).await.expect(200);
}

#[tokio::test]
async fn a_product_is_certified_no_longer_than_its_quality_certificates_hold() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let office = app.create_org("county_office", YANGYUAN).await;
    let cert_until = today() + Duration::days(20);
    let id = crate::documents::submitted_with_certificate(&app, &s, cert_until).await;
    let in_a_year = (today() + Duration::days(365)).to_string();
    let r = app
        .post(
            &format!("/products/{id}/certify"),
            office.t(),
            json!({"valid_until": in_a_year}),
        )
        .await
        .expect(200);
    // The day after the certificate lapses the product is expired, whether or not the
    // documents pass has run yet: catalogue and orders read this date.
    assert_eq!(r.json["valid_until"], cert_until.to_string(), "{}", r.text);
}
