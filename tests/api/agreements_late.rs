//! Standing agreements approved late or after their end, and a buyer suspended while one runs
//! (found in an audit): a late approval placed an order for every period missed, each asking
//! for delivery in the past; an agreement could be approved after it ended; and orders went on
//! being placed for a suspended buyer, whose users cannot sign in to cancel them.
use crate::agreements::agreement_body;
use crate::helpers::*;
use crate::orders::*;
use chrono::{Duration, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// A weekly agreement proposed today, then dated back: it started `days_ago` days ago and
/// ends `ends_in` days from today. Returns its id.
async fn proposed_dated_back(w: &World, days_ago: i64, ends_in: i64) -> String {
    let id = proposed(w).await;
    let today = Utc::now().date_naive();
    let sql = format!(
        "UPDATE agreements SET starts_on = '{}', ends_on = '{}' WHERE id = '{id}'",
        today - Duration::days(days_ago),
        today + Duration::days(ends_in)
    );
    w.app.db().execute_unprepared(&sql).await.unwrap();
    id
}

/// A weekly agreement for 10 of the world's product, from today for 90 days, proposed.
async fn proposed(w: &World) -> String {
    let body = agreement_body(&w.supplier.org_id, &w.product, "10", "week");
    let r = w.app.post("/agreements", w.buyer.t(), body).await.expect(201);
    r.json["id"].as_str().unwrap().to_string()
}

async fn run(app: &TestApp) -> serde_json::Value {
    app.post("/agreements/run", Some(&app.admin_token), json!({}))
        .await
        .expect(200)
        .json
}

#[tokio::test]
async fn a_late_approval_starts_with_the_period_under_way() {
    let w = world().await;
    let id = proposed_dated_back(&w, 60, 30).await;
    w.app
        .post(&format!("/agreements/{id}/approve"), w.supplier.t(), json!({}))
        .await
        .expect(200);
    let r = run(&w.app).await;
    assert_eq!(r["placed"], 1, "{r}");
    let today = Utc::now().date_naive();
    let a = w.app.get(&format!("/agreements/{id}"), w.buyer.t()).await.expect(200);
    let runs = a.json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{}", a.text);
    // The period that started 4 days ago (60 = 8 weeks + 4 days), asked for today.
    assert_eq!(runs[0]["period"], (today - Duration::days(4)).to_string());
    let oid = runs[0]["order_id"].as_str().unwrap();
    let o = w.app.get(&format!("/orders/{oid}"), w.buyer.t()).await.expect(200);
    assert_eq!(o.json["requested_date"], today.to_string(), "{}", o.text);
    assert_eq!(stock_of(&w.app, &w.product).await.reserved_milli, 10_000);
}

#[tokio::test]
async fn an_agreement_that_has_ended_cannot_be_approved() {
    let w = world().await;
    let id = proposed_dated_back(&w, 30, -1).await;
    let p = w
        .app
        .post(&format!("/agreements/{id}/approve"), w.supplier.t(), json!({}))
        .await
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("ended"), "{p}");
    assert_eq!(run(&w.app).await["placed"], 0);
    assert_eq!(count(&w.app, "orders").await, 0);
}

#[tokio::test]
async fn no_standing_order_is_placed_for_a_suspended_buyer() {
    let w = world().await;
    let id = &proposed(&w).await;
    w.app
        .post(&format!("/agreements/{id}/approve"), w.supplier.t(), json!({}))
        .await
        .expect(200);
    w.app
        .post(
            &format!("/organizations/{}/suspend", w.buyer.org_id),
            Some(&w.app.admin_token),
            json!({}),
        )
        .await
        .expect(200);
    let r = run(&w.app).await;
    assert_eq!(
        (r["placed"].as_i64(), r["shortfalls"].as_i64()),
        (Some(0), Some(1)),
        "{r}"
    );
    assert_eq!(count(&w.app, "orders").await, 0);
    assert_eq!(stock_of(&w.app, &w.product).await.reserved_milli, 0);
    let a = w
        .app
        .get(&format!("/agreements/{id}"), w.supplier.t())
        .await
        .expect(200);
    assert_eq!(a.json["runs"][0]["shortfall"][0]["field"], "buyer", "{}", a.text);
}

/// A pairing is for one budget year and an order names one of its year: an agreement naming it
/// and running past New Year had every later period refused, recorded as a stock shortfall.
#[tokio::test]
async fn an_agreement_naming_a_pairing_stays_within_the_pairings_year() {
    use chrono::Datelike;
    use sea_orm::{ActiveModelTrait, Set};
    let w = world().await;
    let today = Utc::now().date_naive();
    let pairing = |year: i32| entity::pairings::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        kind: Set("east_west".into()),
        helper_org_id: Set(w.buyer.org_id.clone()),
        helped_region_code: Set(YANGYUAN.to_string()),
        year: Set(year),
        purchase_target_fen: Set(10_000_000),
        helped_sale_target_fen: Set(0),
        created_at: Set(Utc::now()),
    };
    let this = pairing(today.year()).insert(w.app.db()).await.unwrap().id;
    let last = pairing(today.year() - 1).insert(w.app.db()).await.unwrap().id;
    let body = |pairing: &str, ends_on: String| {
        let mut b = agreement_body(&w.supplier.org_id, &w.product, "10", "week");
        b["pairing_id"] = json!(pairing);
        b["ends_on"] = json!(ends_on);
        b
    };
    let new_year = format!("{}-01-15", today.year() + 1);
    let year_end = format!("{}-12-31", today.year());
    for (pairing, ends_on) in [(&this, new_year), (&last, year_end.clone())] {
        let r = w.app.post("/agreements", w.buyer.t(), body(pairing, ends_on)).await;
        assert_eq!(r.fields(), vec!["pairing_id"]);
        r.problem(422);
    }
    assert_eq!(count(&w.app, "agreements").await, 0);
    w.app
        .post("/agreements", w.buyer.t(), body(&this, year_end))
        .await
        .expect(201);
}

/// A period placed late (the job was down over New Year) names its pairing of the period's
/// year: it was refused, as the order's year was taken from the day it was placed.
#[tokio::test]
async fn a_period_placed_after_new_year_keeps_its_pairing() {
    use chrono::{Datelike, NaiveDate};
    use sea_orm::{sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
    let w = world().await;
    let last_year = Utc::now().date_naive().year() - 1;
    let pairing = entity::pairings::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        kind: Set("east_west".into()),
        helper_org_id: Set(w.buyer.org_id.clone()),
        helped_region_code: Set(YANGYUAN.to_string()),
        year: Set(last_year),
        purchase_target_fen: Set(10_000_000),
        helped_sale_target_fen: Set(0),
        created_at: Set(Utc::now()),
    }
    .insert(w.app.db())
    .await
    .unwrap()
    .id;
    let id = proposed(&w).await;
    // Approved on 1 December last year, running over its last week, with that year's pairing.
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(last_year, m, d).unwrap();
    let approved = assist_market::services::clock::start_of(day(12, 1)).unwrap();
    use entity::agreements::Column as C;
    entity::agreements::Entity::update_many()
        .col_expr(C::StartsOn, Expr::value(day(12, 29)))
        .col_expr(C::EndsOn, Expr::value(day(12, 31)))
        .col_expr(C::PairingId, Expr::value(Some(pairing)))
        .col_expr(C::Status, Expr::value("active"))
        .col_expr(C::ApprovedAt, Expr::value(Some(approved)))
        .filter(C::Id.eq(id.clone()))
        .exec(w.app.db())
        .await
        .unwrap();
    let r = run(&w.app).await;
    assert_eq!(
        (r["placed"].as_i64(), r["shortfalls"].as_i64()),
        (Some(1), Some(0)),
        "{r}"
    );
}
