//! A plan's share is checked against the year's floor as it stands when the plan is filed and
//! when it is approved, not only when the draft was written: the admin may move the floor
//! (`PUT /plan-settings/{year}`) in between, either way.
use crate::helpers::*;
use crate::supervision::this_year;
use serde_json::{json, Value};

async fn set_floor(app: &TestApp, min_share: &str) {
    app.put(
        &format!("/plan-settings/{}", this_year()),
        Some(&app.admin_token),
        json!({ "min_share": min_share }),
    )
    .await
    .expect(200);
}

fn path(unit: &OrgUser) -> String {
    format!("/buyers/{}/plans/{}", unit.org_id, this_year())
}

/// Writes a new draft of the unit's plan with a share of `share` (and an explanation, if given).
async fn draft(app: &TestApp, unit: &OrgUser, share: &str, explanation: Option<&str>) -> Value {
    let body = json!({"food_budget": "100000.00", "reserved_share": share, "explanation": explanation});
    let mut put = app.client.put(app.url(&path(unit))).bearer_auth(&unit.token);
    if app.get(&path(unit), unit.t()).await.status == 200 {
        put = put.header("If-Match", "*");
    }
    let r = app.send(put.json(&body)).await;
    assert!(matches!(r.status.as_u16(), 200 | 201), "{}", r.text);
    r.json
}

async fn file(app: &TestApp, unit: &OrgUser) -> Resp {
    app.post(&format!("{}/file", path(unit)), unit.t(), json!({})).await
}

async fn approve(app: &TestApp, unit: &OrgUser, sup: &OrgUser, note: Option<&str>) -> Resp {
    let body = json!({ "note": note });
    app.post(&format!("{}/approve", path(unit)), sup.t(), body).await
}

#[tokio::test]
async fn a_raised_floor_requires_the_explanation_and_the_note() {
    let app = spawn_app().await;
    set_floor(&app, "0.1").await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    let filed = app.create_org("hospital", CHANGAN).await;
    // Both drafts are above the floor of 10% when written.
    assert_eq!(draft(&app, &unit, "0.2", None).await["below_floor"], false);
    draft(&app, &filed, "0.2", None).await;
    file(&app, &filed).await.expect(200);
    set_floor(&app, "0.25").await;
    // Filing below the new floor needs an explanation, and nothing changes without it.
    let r = file(&app, &unit).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.fields(), ["explanation"], "{}", r.text);
    let plan = app.get(&path(&unit), unit.t()).await.expect(200);
    assert_eq!(plan.json["status"], "draft");
    draft(&app, &unit, "0.2", Some("the canteen closes in summer")).await;
    let r = file(&app, &unit).await.expect(200);
    assert_eq!(r.json["below_floor"], true, "{}", r.text);
    // Approving a plan below the floor as it now stands needs a note: the one filed under the
    // old floor too.
    for u in [&unit, &filed] {
        let r = approve(&app, u, &sup, None).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.fields(), ["note"], "{}", r.text);
        let r = approve(&app, u, &sup, Some("checked against the budget"))
            .await
            .expect(200);
        assert_eq!(
            (&r.json["status"], &r.json["below_floor"]),
            (&json!("approved"), &json!(true))
        );
    }
}

#[tokio::test]
async fn a_lowered_floor_asks_for_no_note() {
    let app = spawn_app().await;
    set_floor(&app, "0.1").await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let filed = app.create_org("school", CHANGAN).await;
    let drafted = app.create_org("hospital", CHANGAN).await;
    // Below the floor of 10% when written (with the explanation then required).
    for u in [&filed, &drafted] {
        let p = draft(&app, u, "0.05", Some("a small canteen")).await;
        assert_eq!(p["below_floor"], true);
    }
    file(&app, &filed).await.expect(200);
    set_floor(&app, "0.03").await;
    // Above the floor as it now stands: approved without a note, no longer marked below.
    let r = approve(&app, &filed, &sup, None).await.expect(200);
    assert_eq!(
        (&r.json["status"], &r.json["below_floor"]),
        (&json!("approved"), &json!(false))
    );
    let r = file(&app, &drafted).await.expect(200);
    assert_eq!(r.json["below_floor"], false, "{}", r.text);
    let r = approve(&app, &drafted, &sup, None).await.expect(200);
    assert_eq!(r.json["below_floor"], false);
}
