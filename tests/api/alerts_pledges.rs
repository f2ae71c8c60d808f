//! A pledge's key covers the pledge as sent: a retry replays the first answer after the
//! buyer's organisation is renamed, the day changes or the alert is resolved (its defaults, the delivery
//! address and date, were hashed as filled in, so a retry was "another body"); and a pledge
//! asking for delivery in the past is refused, as a direct order is.
use crate::alerts::{alert_of, id, scan, selling_product};
use crate::helpers::*;
use serde_json::json;

/// An alert on a product not selling, with `buyer` matched to it: `(app, buyer, alert, its pledges path)`.
async fn alerted() -> (TestApp, OrgUser, serde_json::Value, String) {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &buyer.org_id, 40).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    let pl = format!("/alerts/{}/pledges", id(&a));
    (app, buyer, a, pl)
}

/// A pledge of 5 under a new key, refused with 409: its problem.
async fn new_pledge_refused(app: &TestApp, buyer: &OrgUser, pl: &str) -> serde_json::Value {
    let key = [("Idempotency-Key", "pledge-new")];
    let r = app.post_with(pl, buyer.t(), json!({"quantity": "5"}), &key).await;
    r.problem(409)
}

#[tokio::test]
async fn a_retried_pledge_replays_after_a_rename_or_a_resolution() {
    let (app, buyer, a, pl) = alerted().await;
    let key = [("Idempotency-Key", "pledge-retry")];
    let first = app
        .post_with(&pl, buyer.t(), json!({"quantity": "5"}), &key)
        .await
        .expect(201);
    let order = first.json["order"]["id"].clone();

    // The defaults change: the delivery address is the organisation's name (renamed here in
    // the database: the API keeps names), and the date is three days from the day of the call.
    use sea_orm::ConnectionTrait;
    app.db()
        .execute_unprepared(&format!(
            "UPDATE organizations SET name = 'Renamed canteen' WHERE id = '{}'",
            buyer.org_id
        ))
        .await
        .unwrap();
    let again = app
        .post_with(&pl, buyer.t(), json!({"quantity": "5"}), &key)
        .await
        .expect(201);
    assert_eq!(again.json["order"]["id"], order, "{}", again.text);
    // Another body under the key is still refused.
    app.post_with(&pl, buyer.t(), json!({"quantity": "6"}), &key)
        .await
        .problem(422);

    // Resolved: the retry replays, a new pledge is refused.
    app.post(
        &format!("/alerts/{}/resolve", id(&a)),
        Some(&app.admin_token),
        json!({"note": "sold"}),
    )
    .await
    .expect(200);
    let again = app
        .post_with(&pl, buyer.t(), json!({"quantity": "5"}), &key)
        .await
        .expect(201);
    assert_eq!(again.json["order"]["id"], order);
    new_pledge_refused(&app, &buyer, &pl).await;
    let got = app.get(&format!("/alerts/{}", id(&a)), buyer.t()).await.expect(200);
    assert_eq!(got.json["pledges"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_pledge_for_delivery_in_the_past_is_refused() {
    let (app, buyer, a, pl) = alerted().await;
    let r = app
        .post_with(
            &pl,
            buyer.t(),
            json!({"quantity": "5", "requested_date": "2001-01-01"}),
            &[("Idempotency-Key", "pledge-past")],
        )
        .await;
    assert_eq!(r.fields(), vec!["requested_date".to_string()], "{}", r.text);
    r.problem(422);
    let got = app.get(&format!("/alerts/{}", id(&a)), buyer.t()).await.expect(200);
    assert!(got.json["pledges"].as_array().unwrap().is_empty());
}

/// A raise re-ranks the matches: a buyer who pledged and is no longer among them lost the
/// alert (404), its own pledge and the pledge's replay. A buyer who pledged keeps them.
#[tokio::test]
async fn a_buyer_who_pledged_keeps_the_alert_when_the_matches_change() {
    let (app, buyer, a, pl) = alerted().await;
    let key = [("Idempotency-Key", "pledge-kept")];
    let first = app
        .post_with(&pl, buyer.t(), json!({"quantity": "5"}), &key)
        .await
        .expect(201);
    // The matches as a raise that ranks others first leaves them: without this buyer.
    use sea_orm::ConnectionTrait;
    app.db()
        .execute_unprepared(&format!(
            "DELETE FROM alert_matches WHERE buyer_org_id = '{}'",
            buyer.org_id
        ))
        .await
        .unwrap();
    let got = app.get(&format!("/alerts/{}", id(&a)), buyer.t()).await.expect(200);
    assert_eq!(got.json["pledges"].as_array().unwrap().len(), 1, "{}", got.text);
    let again = app
        .post_with(&pl, buyer.t(), json!({"quantity": "5"}), &key)
        .await
        .expect(201);
    assert_eq!(again.json["order"]["id"], first.json["order"]["id"], "{}", again.text);
    // A new pledge needs a match as it stands.
    let p = new_pledge_refused(&app, &buyer, &pl).await;
    assert!(p["detail"].as_str().unwrap().contains("matched"), "{p}");
    let list = app.get("/alerts", buyer.t()).await.expect(200);
    assert_eq!(list.json["items"].as_array().unwrap().len(), 1, "{}", list.text);
    // Another canteen, never matched and with no pledge, still sees nothing.
    let other = app.create_org("canteen", CHANGAN).await;
    app.get(&format!("/alerts/{}", id(&a)), other.t()).await.problem(404);
}

/// A suspended supplier's products raised alerts that told buyers to pledge, and every
/// pledge was refused: the scan now leaves them out, and resolves the alert already open.
#[tokio::test]
async fn a_suspended_suppliers_products_raise_no_alert() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &buyer.org_id, 40).await;
    scan(&app).await;
    assert!(alert_of(&app, &p).await.is_some());
    let path = format!("/organizations/{}/suspend", s.org_id);
    app.post(&path, Some(&app.admin_token), json!({})).await.expect(200);
    scan(&app).await;
    assert!(alert_of(&app, &p).await.is_none(), "the open alert is resolved");
    scan(&app).await;
    assert!(alert_of(&app, &p).await.is_none(), "and none is raised again");
}

/// A pledge whose order the buyer cancelled still counted in `pledged`, which the county office
/// reads before resolving the alert: it is now shown withdrawn and left out of the total.
#[tokio::test]
async fn a_cancelled_pledge_no_longer_counts() {
    let (app, buyer, a, pl) = alerted().await;
    let kept = [("Idempotency-Key", "pledge-kept")];
    app.post_with(&pl, buyer.t(), json!({"quantity": "5"}), &kept)
        .await
        .expect(201);
    let gone = [("Idempotency-Key", "pledge-gone")];
    let r = app
        .post_with(&pl, buyer.t(), json!({"quantity": "3"}), &gone)
        .await
        .expect(201);
    let so = r.json["order"]["supplier_orders"][0]["id"].as_str().unwrap();
    app.post(&format!("/supplier-orders/{so}/cancel"), buyer.t(), json!({}))
        .await
        .expect(200);
    let got = app
        .get(&format!("/alerts/{}", id(&a)), Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(got.json["pledged"], "5", "{}", got.text);
    let pledges = got.json["pledges"].as_array().unwrap();
    let withdrawn: Vec<bool> = pledges.iter().map(|p| p["withdrawn"].as_bool().unwrap()).collect();
    assert_eq!(withdrawn.iter().filter(|w| **w).count(), 1, "{}", got.text);
    assert_eq!(pledges.len(), 2);
}

/// A pledge's refused quantity is named as the pledge names it, `quantity`, not as the order
/// it places (`lines[0].quantity`, a field the pledge body does not have).
#[tokio::test]
async fn a_pledge_beyond_the_stock_names_its_quantity() {
    let (app, buyer, _a, pl) = alerted().await;
    let key = [("Idempotency-Key", "pledge-too-much")];
    let r = app.post_with(&pl, buyer.t(), json!({"quantity": "100000"}), &key).await;
    assert_eq!(r.fields(), vec!["quantity"], "{}", r.text);
    r.problem(422);
}
