//! The approved plan is a budget unit's quota target (issue 13) wherever targets are read:
//! the report's ranking and the alerts' matching take it as `GET /buyers/{org}/quotas/{year}`
//! does (the approved plan's target, else the quota's).
use crate::helpers::*;
use crate::supervision::{approve_plan, credit, this_year};
use serde_json::{json, Value};

/// Units of Chang'an with their supervisor: `planned` with an approved plan (target 30000.00,
/// credited 100.00), `replanned` which set a quota of 5000.00 before its plan of 20000.00 was
/// approved, `no_canteen` whose approved plan has no target, and `quota_only`, a union with a
/// quota of 1000.00.
struct Units {
    planned: OrgUser,
    replanned: OrgUser,
    no_canteen: OrgUser,
    quota_only: OrgUser,
}

async fn units(app: &TestApp) -> Units {
    let y = this_year();
    let sup = app.create_org("finance_office", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let planned = app.create_org("school", CHANGAN).await;
    let replanned = app.create_org("hospital", CHANGAN).await;
    let no_canteen = app.create_org("government", CHANGAN).await;
    let quota_only = app.create_org("union", CHANGAN).await;
    let quota = |org: &OrgUser, budget: &str| {
        let path = format!("/buyers/{}/quotas/{y}", org.org_id);
        let body = json!({"food_budget": budget, "reserved_share": "0.5"});
        let token = org.token.clone();
        async move { app.put(&path, Some(&token), body).await.expect(201) }
    };
    quota(&replanned, "10000.00").await;
    quota(&quota_only, "2000.00").await;
    for (unit, body) in [
        (&planned, json!({"food_budget": "100000.00", "reserved_share": "0.3"})),
        (&replanned, json!({"food_budget": "40000.00", "reserved_share": "0.5"})),
        (&no_canteen, json!({"declaration": "no_canteen"})),
    ] {
        app.put(&format!("/buyers/{}/plans/{y}", unit.org_id), unit.t(), body)
            .await
            .expect(201);
        approve_plan(app, unit, &sup).await;
    }
    credit(app, &planned.org_id, &supplier.org_id, 10_000).await;
    Units {
        planned,
        replanned,
        no_canteen,
        quota_only,
    }
}

#[tokio::test]
async fn the_ranking_reads_an_approved_plans_target_as_the_quota_endpoint_does() {
    let app = spawn_app().await;
    let y = this_year();
    let u = units(&app).await;
    let r = app
        .get(
            &format!("/reports/summary?year={y}&group_by=buyer"),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let ranking = r.json["ranking"].as_array().unwrap().clone();
    let row = |org: &OrgUser| {
        ranking
            .iter()
            .find(|x| x["buyer_org_id"] == org.org_id.as_str())
            .cloned()
    };
    let figures = |v: Option<Value>| v.map(|v| (v["target"].clone(), v["credited"].clone()));
    assert_eq!(
        figures(row(&u.planned)),
        Some((json!("30000.00"), json!("100.00"))),
        "{}",
        r.text
    );
    assert_eq!(
        figures(row(&u.replanned)),
        Some((json!("20000.00"), json!("0.00"))),
        "the plan, not the earlier quota"
    );
    assert_eq!(figures(row(&u.quota_only)), Some((json!("1000.00"), json!("0.00"))));
    assert!(row(&u.no_canteen).is_none(), "no target, no rank: {}", r.text);
    assert_eq!(ranking.len(), 3, "{}", r.text);
    assert_eq!(
        ranking[0]["buyer_org_id"],
        u.planned.org_id.as_str(),
        "best progress first"
    );
    // The same targets as the quota endpoint.
    for org in [&u.planned, &u.replanned, &u.quota_only] {
        let q = app
            .get(&format!("/buyers/{}/quotas/{y}", org.org_id), Some(&app.admin_token))
            .await
            .expect(200);
        assert_eq!(Some(&q.json["target"]), row(org).as_ref().map(|v| &v["target"]));
    }
}

#[tokio::test]
async fn alerts_match_budget_units_behind_their_approved_plan() {
    let app = spawn_app().await;
    let y = this_year();
    let u = units(&app).await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let p = crate::orders::product(&app, &s.org_id, 1000, 1_000, 500_000).await;
    app.post(
        &format!("/products/{p}/unsold-reports"),
        s.t(),
        json!({"quantity": "400", "note": "the cold store is full"}),
    )
    .await
    .expect(201);
    app.post("/alerts/scan", Some(&app.admin_token), json!({}))
        .await
        .expect(200);
    let list = app.get("/alerts?limit=200", Some(&app.admin_token)).await.expect(200);
    let alert = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["product_id"] == p.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no alert: {}", list.text));
    let matched = alert["matched_buyers"].as_array().unwrap().clone();
    let reason = |org: &OrgUser| {
        matched
            .iter()
            .find(|m| m["org_id"] == org.org_id.as_str())
            .map(|m| m["reason"].as_str().unwrap().to_string())
    };
    let why = reason(&u.planned).unwrap_or_else(|| panic!("not matched: {matched:?}"));
    assert!(why.contains(&format!("behind its {y} quota")), "{why}");
    assert!(why.contains("29900.00 short of 30000.00"), "{why}");
    let why = reason(&u.replanned).unwrap_or_else(|| panic!("not matched: {matched:?}"));
    assert!(
        why.contains("20000.00 short of 20000.00"),
        "the plan, not the quota: {why}"
    );
    assert!(reason(&u.quota_only).is_some(), "{matched:?}");
    assert!(reason(&u.no_canteen).is_none(), "no target, never behind: {matched:?}");
    // Furthest behind first.
    let order: Vec<&str> = matched.iter().map(|m| m["org_id"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        [&u.planned.org_id, &u.replanned.org_id, &u.quota_only.org_id],
        "{matched:?}"
    );
}

/// A unit whose approved plan has no target (no canteen) showed progress 1.0000 in the
/// supervision list and ranked above units that really bought most of their target.
#[tokio::test]
async fn a_unit_without_a_canteen_has_no_progress_and_ranks_last() {
    let app = spawn_app().await;
    let u = units(&app).await;
    let r = app
        .get(&format!("/supervision/{}/units", this_year()), Some(&app.admin_token))
        .await
        .expect(200);
    let list = r.json["units"].as_array().unwrap();
    let at = |org: &OrgUser| list.iter().position(|x| x["org_id"] == org.org_id.as_str()).unwrap();
    assert!(list[at(&u.no_canteen)]["progress"].is_null(), "{}", r.text);
    assert!(at(&u.planned) < at(&u.no_canteen), "{}", r.text);
}

/// A shared canteen's member takes its target from its lead's plan: approved before that plan
/// was, it got the target of a draft (or 0 without one) and never lagged.
#[tokio::test]
async fn a_shared_canteens_member_is_approved_after_its_lead() {
    let app = spawn_app().await;
    let y = this_year();
    let sup = app.create_org("finance_office", CHANGAN).await;
    let lead = app.create_org("school", CHANGAN).await;
    let member = app.create_org("government", CHANGAN).await;
    let plan = |org: &OrgUser| format!("/buyers/{}/plans/{y}", org.org_id);
    app.put(
        &plan(&member),
        member.t(),
        json!({"declaration": "shared_canteen", "lead_org_id": lead.org_id}),
    )
    .await
    .expect(201);
    app.post(&format!("{}/file", plan(&member)), member.t(), json!({}))
        .await
        .expect(200);
    // No plan of the lead yet, then a draft: refused either way.
    let approve = format!("{}/approve", plan(&member));
    app.post(&approve, sup.t(), json!({})).await.problem(409);
    app.put(
        &plan(&lead),
        lead.t(),
        json!({"food_budget": "100000.00", "reserved_share": "0.3", "members": [{"org_id": member.org_id, "share": "0.3"}]}),
    )
    .await
    .expect(201);
    app.post(&approve, sup.t(), json!({})).await.problem(409);
    approve_plan(&app, &lead, &sup).await;
    let r = app.post(&approve, sup.t(), json!({})).await.expect(200);
    assert_eq!(r.json["approved_target"], "9000.00", "{}", r.text);
    // A unit the lead's approved plan does not list has no share to approve.
    let stray = app.create_org("hospital", CHANGAN).await;
    app.put(
        &plan(&stray),
        stray.t(),
        json!({"declaration": "shared_canteen", "lead_org_id": lead.org_id}),
    )
    .await
    .expect(201);
    app.post(&format!("{}/file", plan(&stray)), stray.t(), json!({}))
        .await
        .expect(200);
    app.post(&format!("{}/approve", plan(&stray)), sup.t(), json!({}))
        .await
        .problem(409);
}
