//! Yearly reserved-share plans: every state change, refusal and role, the floor, late
//! filing, amendment with history, the quota read from the approved plan, and concurrent
//! approvals applied once.
use crate::helpers::*;
use serde_json::{json, Value};

const LINGSHOU: &str = "130126";

fn year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now().date_naive())
}

fn plan_path(org: &str) -> String {
    format!("/buyers/{org}/plans/{}", year())
}

async fn put_with(app: &TestApp, who: &OrgUser, org: &str, body: Value, tag: Option<&str>) -> Resp {
    let mut rb = app
        .client
        .put(app.url(&plan_path(org)))
        .bearer_auth(&who.token)
        .json(&body);
    if let Some(t) = tag {
        rb = rb.header("If-Match", t);
    }
    app.send(rb).await
}

async fn act(app: &TestApp, who: &OrgUser, org: &str, action: &str, body: Value) -> Resp {
    app.post(&format!("{}/{action}", plan_path(org)), who.t(), body).await
}

fn budget() -> Value {
    json!({"food_budget": "1000000.00", "reserved_share": "0.3"})
}

#[tokio::test]
async fn a_plan_goes_from_draft_to_approved_and_sets_the_quota_target() {
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    let y = year();
    // The quota can still be set before a plan exists; afterwards it is 409.
    app.put(&format!("/buyers/{}/quotas/{y}", unit.org_id), unit.t(), budget())
        .await
        .expect(201);
    let r = put_with(&app, &unit, &unit.org_id, budget(), None).await.expect(201);
    assert_eq!(r.json["status"], "draft");
    assert_eq!(r.json["target"], "300000.00");
    // A second write without If-Match is refused; a stale one too.
    put_with(&app, &unit, &unit.org_id, budget(), None).await.problem(428);
    put_with(&app, &unit, &unit.org_id, budget(), Some("\"9\""))
        .await
        .problem(412);
    let p = app
        .put(&format!("/buyers/{}/quotas/{y}", unit.org_id), unit.t(), budget())
        .await
        .problem(409);
    assert!(p["detail"].as_str().unwrap_or_default().contains("/plans/"), "{p}");
    // Nobody approves a draft.
    act(&app, &sup, &unit.org_id, "approve", json!({})).await.problem(409);
    let f = act(&app, &unit, &unit.org_id, "file", json!({})).await.expect(200);
    assert_eq!(f.json["status"], "filed");
    // Today is after 31 March unless the test runs in the first quarter.
    let after_deadline = chrono::Utc::now().date_naive() > chrono::NaiveDate::from_ymd_opt(y, 3, 31).unwrap();
    assert_eq!(f.json["late"], after_deadline);
    // A filed plan cannot be edited.
    put_with(&app, &unit, &unit.org_id, budget(), Some("*"))
        .await
        .problem(409);
    let a = act(&app, &sup, &unit.org_id, "approve", json!({})).await.expect(200);
    assert_eq!(a.json["status"], "approved");
    assert_eq!(a.json["approved_target"], "300000.00");
    let q = app
        .get(&format!("/buyers/{}/quotas/{y}", unit.org_id), unit.t())
        .await
        .expect(200);
    assert_eq!(q.json["target"], "300000.00");
    // Amending an approved plan: only with a reason; the approved target stays in force meanwhile.
    let tag = a.header("etag").unwrap();
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"food_budget": "2000000.00", "reserved_share": "0.3"}),
        Some(&tag),
    )
    .await;
    assert_eq!(r.fields(), vec!["amendment_reason".to_string()], "{}", r.text);
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"food_budget": "2000000.00", "reserved_share": "0.3", "amendment_reason": "a second canteen opened"}),
        Some(&tag),
    )
    .await
    .expect(200);
    assert_eq!(r.json["status"], "draft");
    assert_eq!(r.json["approved_target"], "300000.00");
    let q = app
        .get(&format!("/buyers/{}/quotas/{y}", unit.org_id), unit.t())
        .await
        .expect(200);
    assert_eq!(q.json["target"], "300000.00");
    act(&app, &unit, &unit.org_id, "file", json!({})).await.expect(200);
    // Returned with a reason, then edited and filed again.
    act(&app, &sup, &unit.org_id, "return", json!({"reason": " "}))
        .await
        .problem(422);
    let r = act(
        &app,
        &sup,
        &unit.org_id,
        "return",
        json!({"reason": "attach the budget approval"}),
    )
    .await
    .expect(200);
    assert_eq!(r.json["status"], "returned");
    assert_eq!(r.json["return_reason"], "attach the budget approval");
    let tag = r.header("etag").unwrap();
    put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"food_budget": "1800000.00", "reserved_share": "0.3"}),
        Some(&tag),
    )
    .await
    .expect(200);
    act(&app, &unit, &unit.org_id, "file", json!({})).await.expect(200);
    act(&app, &sup, &unit.org_id, "approve", json!({})).await.expect(200);
    let q = app
        .get(&format!("/buyers/{}/quotas/{y}", unit.org_id), unit.t())
        .await
        .expect(200);
    assert_eq!(q.json["target"], "540000.00");
    // The history keeps every step, with the amendment's reason.
    let h = app
        .get(&format!("{}/history", plan_path(&unit.org_id)), sup.t())
        .await
        .expect(200);
    let actions: Vec<&str> = h.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["saved", "filed", "approved", "amended", "filed", "returned", "saved", "filed", "approved"]
    );
    assert_eq!(h.json["items"][3]["reason"], "a second canteen opened");
    assert_eq!(h.json["items"][2]["snapshot"]["food_budget"], "1000000.00");
}

#[tokio::test]
async fn refusals_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let other_sup = app.create_org("finance_office", LINGSHOU).await;
    let unit = app.create_org("school", CHANGAN).await;
    let neighbour = app.create_org("hospital", CHANGAN).await;
    let far = app.create_org("hospital", LINGSHOU).await;
    let union = app.create_org("union", CHANGAN).await;
    let contractor = app.create_org("canteen_contractor", CHANGAN).await;
    let fields = |r: Resp| r.fields();
    // Not a budget unit.
    assert_eq!(
        fields(put_with(&app, &union, &union.org_id, budget(), None).await),
        ["org_id"]
    );
    // Another unit's plan: not visible.
    put_with(&app, &neighbour, &unit.org_id, budget(), None)
        .await
        .problem(404);
    // A share outside 0–1; below the floor without an explanation.
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"food_budget": "100.00", "reserved_share": "1.5"}),
        None,
    )
    .await;
    assert_eq!(fields(r), ["reserved_share"]);
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"food_budget": "100.00", "reserved_share": "0.05"}),
        None,
    )
    .await;
    assert_eq!(fields(r), ["explanation"]);
    // Declarations naming the unit itself, a unit outside the region, a non-contractor.
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"declaration": "shared_canteen", "lead_org_id": unit.org_id}),
        None,
    )
    .await;
    assert_eq!(fields(r), ["lead_org_id"]);
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"declaration": "shared_canteen", "lead_org_id": far.org_id}),
        None,
    )
    .await;
    assert_eq!(fields(r), ["lead_org_id"]);
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"declaration": "contracted_canteen", "contractor_org_id": neighbour.org_id, "food_budget": "100.00", "reserved_share": "0.2"}),
        None,
    )
    .await;
    assert_eq!(fields(r), ["contractor_org_id"]);
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"declaration": "no_canteen", "food_budget": "100.00"}),
        None,
    )
    .await;
    assert_eq!(fields(r), ["food_budget"]);
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"food_budget": "100.00", "reserved_share": "0.2", "members": [{"org_id": far.org_id, "share": "0.5"}]}),
        None,
    )
    .await;
    assert_eq!(fields(r), ["members[0].org_id"]);
    // Nothing was written.
    app.get(&plan_path(&unit.org_id), unit.t()).await.problem(404);
    app.get(&format!("{}/history", plan_path(&unit.org_id)), unit.t())
        .await
        .expect(200);
    // A good draft, filed; approvals by the wrong callers.
    put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"declaration": "contracted_canteen", "contractor_org_id": contractor.org_id, "food_budget": "100.00", "reserved_share": "0.2"}),
        None,
    )
    .await
    .expect(201);
    act(&app, &unit, &unit.org_id, "file", json!({})).await.expect(200);
    act(&app, &other_sup, &unit.org_id, "approve", json!({}))
        .await
        .problem(404);
    act(&app, &unit, &unit.org_id, "approve", json!({})).await.problem(403);
    app.post(
        &format!("{}/approve", plan_path(&unit.org_id)),
        Some(&app.admin_token),
        json!({}),
    )
    .await
    .problem(403);
    other_sup_cannot_read(&app, &other_sup, &unit).await;
    let p = app.get(&plan_path(&unit.org_id), sup.t()).await.expect(200);
    assert_eq!(p.json["status"], "filed");
}

async fn other_sup_cannot_read(app: &TestApp, other: &OrgUser, unit: &OrgUser) {
    app.get(&plan_path(&unit.org_id), other.t()).await.problem(404);
    app.get(&format!("{}/history", plan_path(&unit.org_id)), other.t())
        .await
        .problem(404);
}

#[tokio::test]
async fn below_the_floor_is_approved_only_with_a_note_and_settings_take_over_the_floor() {
    let app = spawn_app().await;
    let y = year();
    let sup = app.create_org("finance_office", "130100").await;
    let unit = app.create_org("hospital", CHANGAN).await;
    let admin = Some(app.admin_token.as_str());
    app.put(&format!("/plan-settings/{y}"), unit.t(), json!({"min_share": "0.2"}))
        .await
        .problem(403);
    let r = app
        .put(&format!("/plan-settings/{y}"), admin, json!({"pace_weights": [1, 2]}))
        .await;
    assert_eq!(r.fields(), ["pace_weights"]);
    let s = app
        .put(
            &format!("/plan-settings/{y}"),
            admin,
            json!({"min_share": "0.2", "filing_deadline": format!("{y}-12-31")}),
        )
        .await
        .expect(200);
    assert_eq!(s.json["min_share"], "0.2");
    let f = app.get(&format!("/quota-floors/{y}"), unit.t()).await.expect(200);
    assert_eq!(f.json["min_share"], "0.2");
    // The old route still sets it.
    app.put(&format!("/quota-floors/{y}"), admin, json!({"min_share": "0.15"}))
        .await
        .expect(200);
    let s = app.get(&format!("/plan-settings/{y}"), unit.t()).await.expect(200);
    assert_eq!(s.json["min_share"], "0.15");
    let r = put_with(
        &app,
        &unit,
        &unit.org_id,
        json!({"food_budget": "100000.00", "reserved_share": "0.1", "explanation": "most meals are provided by the province"}),
        None,
    )
    .await
    .expect(201);
    assert_eq!(r.json["below_floor"], true);
    let f = act(&app, &unit, &unit.org_id, "file", json!({})).await.expect(200);
    assert_eq!(f.json["late"], false, "filed before the deadline set");
    let r = act(&app, &sup, &unit.org_id, "approve", json!({})).await;
    assert_eq!(r.fields(), ["note"]);
    act(
        &app,
        &sup,
        &unit.org_id,
        "approve",
        json!({"note": "accepted: meals provided"}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn a_parent_files_for_its_child_and_concurrent_approvals_apply_once() {
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", "130000").await;
    let parent = app.create_org("government", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    put_with(&app, &parent, &child.org_id, budget(), None).await.expect(201);
    act(&app, &parent, &child.org_id, "file", json!({})).await.expect(200);
    let (a, b) = tokio::join!(
        act(&app, &sup, &child.org_id, "approve", json!({})),
        act(&app, &sup, &child.org_id, "approve", json!({}))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let h = app
        .get(&format!("{}/history", plan_path(&child.org_id)), parent.t())
        .await
        .expect(200);
    let approvals = h.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "approved")
        .count();
    assert_eq!(approvals, 1);
    // A stale If-Match is 412.
    let r = app
        .post_with(
            &format!("{}/return", plan_path(&child.org_id)),
            sup.t(),
            json!({"reason": "x"}),
            &[("If-Match", "\"1\"")],
        )
        .await;
    assert_eq!(r.status, 412, "{}", r.text);
}
