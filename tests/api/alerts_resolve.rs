//! A person's resolution holds for a week: the next scan reopened the alert at once whenever its
//! signals still held, and emailed every matched buyer and the county office again.
use crate::alerts::{alert_of, id, sale, scan, selling_product};
use crate::helpers::*;
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

async fn resolve(app: &TestApp, alert: &serde_json::Value) {
    let path = format!("/alerts/{}/resolve", id(alert));
    let note = json!({"note": "the county canteen takes it next week"});
    app.post(&path, Some(&app.admin_token), note).await.expect(200);
}

#[tokio::test]
async fn a_resolution_by_hand_holds_for_a_week_unless_the_level_rises() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    // Ten days of cover at a unit a day: below red (vegetables: red from 21 days).
    let p = selling_product(&app, &s.org_id, &buyer.org_id, 10).await;
    scan(&app).await;
    let a = alert_of(&app, &p).await.unwrap();
    assert_ne!(a["level"], "red", "{a}");
    resolve(&app, &a).await;
    assert_eq!(scan(&app).await["opened"], 0);
    assert!(alert_of(&app, &p).await.is_none());
    // Twenty-five times the stock at the same sales: the level rises, and a new alert opens.
    let best_before = (chrono::Utc::now().date_naive() + chrono::Days::new(60)).to_string();
    let lot = json!({"quantity": "1000", "best_before": best_before});
    app.post(&format!("/products/{p}/lots"), s.t(), lot).await.expect(201);
    assert_eq!(scan(&app).await["opened"], 1);
    let b = alert_of(&app, &p).await.unwrap();
    assert_eq!(b["level"], "red", "{b}");
    resolve(&app, &b).await;
    assert_eq!(scan(&app).await["opened"], 0);
    // A week later the hold is over.
    let eight_days_ago = chrono::Utc::now() - chrono::Duration::days(8);
    entity::alerts::Entity::update_many()
        .col_expr(entity::alerts::Column::ResolvedAt, Expr::value(Some(eight_days_ago)))
        .filter(entity::alerts::Column::ProductId.eq(p.clone()))
        .exec(app.db())
        .await
        .unwrap();
    assert_eq!(scan(&app).await["opened"], 1);
}

/// A supplier's unsold report filed after the resolution is news it did not weigh: it opens one.
#[tokio::test]
async fn an_unsold_report_after_a_resolution_opens_an_alert() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &buyer.org_id, 10).await;
    scan(&app).await;
    resolve(&app, &alert_of(&app, &p).await.unwrap()).await;
    assert_eq!(scan(&app).await["opened"], 0);
    let report = json!({"quantity": "10", "note": "the cold store is full"});
    app.post(&format!("/products/{p}/unsold-reports"), s.t(), report)
        .await
        .expect(201);
    assert_eq!(scan(&app).await["opened"], 1);
}

/// A scan decides from what it read at its start: a report filed while it writes its changes
/// was not weighed, so resolving the product's alert leaves that report open for the next scan
/// (it was closed unseen, and the supplier's backlog lost).
#[tokio::test]
async fn a_report_filed_during_a_scan_is_left_for_the_next() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let p = selling_product(&app, &s.org_id, &buyer.org_id, 10).await;
    scan(&app).await;
    assert!(alert_of(&app, &p).await.is_some());
    // Selling fast now: the next scan resolves the alert.
    sale(&app, &p, &buyer.org_id, 100, 1).await;
    let started = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let report = json!({"quantity": "400", "note": "the cold store is full"});
    let r = app
        .post(&format!("/products/{p}/unsold-reports"), s.t(), report)
        .await
        .expect(201);
    // The scan that started before the report resolves the alert and leaves the report open.
    let summary = assist_market::services::alerts::scan_at(app.db(), started)
        .await
        .unwrap();
    assert_eq!(summary.resolved, 1, "{summary:?}");
    assert!(alert_of(&app, &p).await.is_none());
    let reports = app
        .get(&format!("/products/{p}/unsold-reports"), s.t())
        .await
        .expect(200);
    let mine = reports.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == r.json["id"])
        .cloned();
    assert_eq!(mine.expect("listed")["status"], "open", "{}", reports.text);
    // The next scan weighs it.
    assert_eq!(scan(&app).await["opened"], 1);
}
