//! When a plan is late: the filing that leads to its first approval is judged against the
//! year's deadline; an amendment of an approved plan keeps that mark, a returned plan filed
//! again is judged by its new filing.
use crate::helpers::*;
use crate::plans_links::{amend, plan};
use crate::supervision::{approve_plan, this_year};
use serde_json::json;

/// Filing an amendment after the deadline marked a plan filed and approved on time `late`,
/// in its view and in the supervision list: the record of the on-time filing was lost.
#[tokio::test]
async fn an_amendment_filed_after_the_deadline_keeps_the_first_filings_lateness() {
    use chrono::Datelike;
    // A deadline of this year already past needs a day of it before today: none on 1 January.
    if chrono::Utc::now().date_naive().ordinal() <= 2 {
        return;
    }
    let app = spawn_app().await;
    let y = this_year();
    let settings = |deadline: String| {
        let app = &app;
        async move {
            app.put(
                &format!("/plan-settings/{y}"),
                Some(&app.admin_token),
                json!({"filing_deadline": deadline}),
            )
            .await
            .expect(200);
        }
    };
    let sup = app.create_org("finance_office", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    settings(format!("{y}-12-31")).await;
    app.put(
        &plan(&unit),
        unit.t(),
        json!({"food_budget": "100000.00", "reserved_share": "0.3"}),
    )
    .await
    .expect(201);
    approve_plan(&app, &unit, &sup).await;
    assert_eq!(app.get(&plan(&unit), unit.t()).await.expect(200).json["late"], false);
    // The deadline passes (1 January: past, as the test does not run on the year's first days).
    settings(format!("{y}-01-01")).await;
    amend(
        &app,
        &unit,
        json!({"food_budget": "120000.00", "reserved_share": "0.3", "amendment_reason": "a new budget"}),
    )
    .await;
    file_and_approve(&app, &unit, &sup, y, false).await;
    // A first filing after the deadline is late, and stays so.
    let other = app.create_org("hospital", CHANGAN).await;
    app.put(
        &plan(&other),
        other.t(),
        json!({"food_budget": "100000.00", "reserved_share": "0.3"}),
    )
    .await
    .expect(201);
    let f = app
        .post(&format!("{}/file", plan(&other)), other.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(f.json["late"], true, "{}", f.text);
}

/// A plan returned by its supervisor and filed again after the deadline kept `late: false`
/// from its first (placeholder) filing: it was never on time in substance.
#[tokio::test]
async fn a_returned_plan_refiled_after_the_deadline_is_late() {
    use chrono::Datelike;
    // A deadline of this year already past needs a day of it before today: none on 1 January.
    if chrono::Utc::now().date_naive().ordinal() <= 2 {
        return;
    }
    let app = spawn_app().await;
    let y = this_year();
    let deadline = |d: String| {
        let app = &app;
        async move {
            let path = format!("/plan-settings/{y}");
            let body = json!({"filing_deadline": d});
            app.put(&path, Some(&app.admin_token), body).await.expect(200);
        }
    };
    let sup = app.create_org("finance_office", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    deadline(format!("{y}-12-31")).await;
    let body = json!({"food_budget": "100000.00", "reserved_share": "0.3"});
    app.put(&plan(&unit), unit.t(), body).await.expect(201);
    let f = app
        .post(&format!("{}/file", plan(&unit)), unit.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(f.json["late"], false, "a placeholder filed on time: {}", f.text);
    app.post(
        &format!("{}/return", plan(&unit)),
        sup.t(),
        json!({"reason": "a placeholder: file the real plan"}),
    )
    .await
    .expect(200);
    // The deadline passes; the real plan is filed after it.
    deadline(format!("{y}-01-01")).await;
    amend(
        &app,
        &unit,
        json!({"food_budget": "120000.00", "reserved_share": "0.3"}),
    )
    .await;
    file_and_approve(&app, &unit, &sup, y, true).await;
}

/// Files the unit's plan and has it approved, checking `late` in both answers and in the
/// supervision list.
async fn file_and_approve(app: &TestApp, unit: &OrgUser, sup: &OrgUser, y: i32, late: bool) {
    let f = app
        .post(&format!("{}/file", plan(unit)), unit.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(f.json["late"], late, "{}", f.text);
    let a = app
        .post(&format!("{}/approve", plan(unit)), sup.t(), json!({}))
        .await
        .expect(200);
    assert_eq!(a.json["late"], late, "{}", a.text);
    let list = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    let row = list.json["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["org_id"] == unit.org_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["late"], late, "{row}");
}
