//! What one unit's approval settles for others: a shared canteen's lead sets its members'
//! approved targets each time its plan is approved (recorded in their history), and a canteen
//! contractor serves one unit a year.
use crate::helpers::*;
use crate::supervision::{approve_plan, this_year};
use serde_json::{json, Value};

pub(crate) fn plan(org: &OrgUser) -> String {
    format!("/buyers/{}/plans/{}", org.org_id, this_year())
}

pub(crate) async fn amend(app: &TestApp, unit: &OrgUser, body: Value) {
    let tag = app.get(&plan(unit), unit.t()).await.expect(200).header("etag").unwrap();
    app.put_if(&plan(unit), unit.t(), body, &tag).await.expect(200);
}

async fn targets(app: &TestApp, unit: &OrgUser) -> (Value, Value) {
    let p = app.get(&plan(unit), unit.t()).await.expect(200);
    let q = app
        .get(&format!("/buyers/{}/quotas/{}", unit.org_id, this_year()), unit.t())
        .await
        .expect(200);
    (p.json["approved_target"].clone(), q.json["target"].clone())
}

/// A member's approved target was frozen at its own approval: the lead's later approvals (a new
/// budget, the member dropped) left it in force, behind pace for the rest of the year.
#[tokio::test]
async fn a_leads_approval_sets_its_members_approved_targets_again() {
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let lead = app.create_org("school", CHANGAN).await;
    let member = app.create_org("government", CHANGAN).await;
    let with_member = |budget: &str, reason: Option<&str>| {
        let mut b = json!({"food_budget": budget, "reserved_share": "0.3",
                           "members": [{"org_id": member.org_id, "share": "0.3"}]});
        if let Some(r) = reason {
            b["amendment_reason"] = json!(r);
        }
        b
    };
    app.put(&plan(&lead), lead.t(), with_member("100000.00", None))
        .await
        .expect(201);
    approve_plan(&app, &lead, &sup).await;
    join(&app, &member, &lead, &sup).await;
    assert_eq!(targets(&app, &member).await, (json!("9000.00"), json!("9000.00")));
    // The lead's budget doubles: the member's share of it follows once the lead is approved.
    amend(&app, &lead, with_member("200000.00", Some("a second canteen"))).await;
    assert_eq!(targets(&app, &member).await, (json!("9000.00"), json!("9000.00")));
    approve_plan(&app, &lead, &sup).await;
    assert_eq!(targets(&app, &member).await, (json!("18000.00"), json!("18000.00")));
    // The member leaves the lead's canteen: no target from it any more.
    amend(
        &app,
        &lead,
        json!({"food_budget": "100000.00", "reserved_share": "0.3", "amendment_reason": "the member left"}),
    )
    .await;
    approve_plan(&app, &lead, &sup).await;
    assert_eq!(targets(&app, &member).await, (json!("0.00"), json!("0.00")));
    let (lead_target, _) = targets(&app, &lead).await;
    assert_eq!(lead_target, "30000.00");
    let m = app.get(&plan(&member), member.t()).await.expect(200);
    assert_eq!(m.json["status"], "approved", "{}", m.text);
    assert_eq!(m.json["target"], "0.00", "{}", m.text);
}

async fn history(app: &TestApp, unit: &OrgUser, by: &OrgUser) -> Vec<Value> {
    let h = app.get(&format!("{}/history", plan(unit)), by.t()).await.expect(200);
    h.json["items"].as_array().unwrap().clone()
}

/// A lead's approval changed its member's approved target and version with no history row: the
/// target dropped to 0.00 (and the member's supervisor got 412 on its ETag) with no trace of
/// who did it or why.
#[tokio::test]
async fn a_members_retargeting_is_recorded_in_its_history() {
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let lead = app.create_org("school", CHANGAN).await;
    let member = app.create_org("government", CHANGAN).await;
    app.put(
        &plan(&lead),
        lead.t(),
        json!({"food_budget": "100000.00", "reserved_share": "0.3",
               "members": [{"org_id": member.org_id, "share": "0.3"}]}),
    )
    .await
    .expect(201);
    approve_plan(&app, &lead, &sup).await;
    join(&app, &member, &lead, &sup).await;
    let before = history(&app, &member, &sup).await.len();
    amend(
        &app,
        &lead,
        json!({"food_budget": "100000.00", "reserved_share": "0.3", "amendment_reason": "the member left"}),
    )
    .await;
    approve_plan(&app, &lead, &sup).await;
    let m = app.get(&plan(&member), member.t()).await.expect(200);
    assert_eq!(m.json["approved_target"], "0.00", "{}", m.text);
    let events = history(&app, &member, &sup).await;
    assert_eq!(events.len(), before + 1, "{events:?}");
    let e = &events[before];
    assert_eq!(e["action"], "retargeted", "{e}");
    assert_eq!(e["status"], "approved", "{e}");
    assert_eq!(e["version"], m.json["version"], "the version it made: {e}");
    assert_eq!(e["by_org_id"], sup.org_id.as_str(), "the lead's approver: {e}");
    assert_eq!(e["snapshot"]["approved_target"], "0.00", "{e}");
    let reason = e["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(&lead.org_id) && reason.contains("approved"), "{reason}");
    assert!(reason.contains("9000.00") && reason.contains("0.00"), "{reason}");
    // An approval that leaves the target as it was writes nothing more.
    amend(
        &app,
        &lead,
        json!({"food_budget": "120000.00", "reserved_share": "0.3", "amendment_reason": "a new budget"}),
    )
    .await;
    approve_plan(&app, &lead, &sup).await;
    assert_eq!(history(&app, &member, &sup).await.len(), before + 1);
}

/// A second unit naming a contractor that another unit's approved plan names was accepted and
/// approved, and the contractor's orders then stayed with the contractor: the first unit's
/// credit stopped without a word.
#[tokio::test]
async fn a_contractor_named_by_an_approved_plan_is_refused_to_another_unit() {
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let contractor = app.create_org("canteen_contractor", CHANGAN).await;
    let first = app.create_org("school", CHANGAN).await;
    let second = app.create_org("hospital", CHANGAN).await;
    let third = app.create_org("school", CHANGAN).await;
    let body = json!({"declaration": "contracted_canteen", "contractor_org_id": contractor.org_id,
                      "food_budget": "100000.00", "reserved_share": "0.3"});
    // Two drafts may name it; the first approved keeps it, the second approval is refused.
    for unit in [&first, &second] {
        app.put(&plan(unit), unit.t(), body.clone()).await.expect(201);
        app.post(&format!("{}/file", plan(unit)), unit.t(), json!({}))
            .await
            .expect(200);
    }
    app.post(&format!("{}/approve", plan(&first)), sup.t(), json!({}))
        .await
        .expect(200);
    let p = app
        .post(&format!("{}/approve", plan(&second)), sup.t(), json!({}))
        .await
        .problem(409);
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("contractor_org_id"),
        "{p}"
    );
    let s = app.get(&plan(&second), second.t()).await.expect(200);
    assert_eq!(s.json["status"], "filed", "{}", s.text);
    assert!(s.json["approved_target"].is_null(), "{}", s.text);
    // Saving a plan that names it is refused too, with nothing written.
    let p = app.put(&plan(&third), third.t(), body.clone()).await.problem(409);
    assert!(
        p["detail"].as_str().unwrap_or_default().contains("contractor_org_id"),
        "{p}"
    );
    app.get(&plan(&third), third.t()).await.problem(404);
    // The unit it serves amends its own plan naming it still.
    let mut again = body.clone();
    again["amendment_reason"] = json!("a new budget");
    again["food_budget"] = json!("120000.00");
    amend(&app, &first, again).await;
    approve_plan(&app, &first, &sup).await;
}

/// A member's approved target comes from the lead its approved plan names, and from that lead
/// only. Retargeting went by the lead named in the member's current row: once the member had
/// filed a draft naming another lead (or leaving), its old lead dropping it left its target in
/// force, and the new lead's approval set a target the member's supervisor had not approved.
#[tokio::test]
async fn a_member_is_retargeted_by_the_lead_of_its_approved_plan_only() {
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let (old, new) = (
        app.create_org("school", CHANGAN).await,
        app.create_org("hospital", CHANGAN).await,
    );
    let member = app.create_org("government", CHANGAN).await;
    let listing = |budget: &str, share: &str, reason: Option<&str>| {
        let mut b = json!({"food_budget": budget, "reserved_share": "0.3",
                           "members": [{"org_id": member.org_id, "share": share}]});
        if let Some(r) = reason {
            b["amendment_reason"] = json!(r);
        }
        b
    };
    app.put(&plan(&old), old.t(), listing("100000.00", "0.3", None))
        .await
        .expect(201);
    approve_plan(&app, &old, &sup).await;
    let shared = |lead: &OrgUser, reason: Option<&str>| {
        let mut b = json!({"declaration": "shared_canteen", "lead_org_id": lead.org_id});
        if let Some(r) = reason {
            b["amendment_reason"] = json!(r);
        }
        b
    };
    app.put(&plan(&member), member.t(), shared(&old, None))
        .await
        .expect(201);
    approve_plan(&app, &member, &sup).await;
    assert_eq!(targets(&app, &member).await.0, "9000.00");
    // The member files a draft moving to the new lead: its approved target stays in force.
    amend(&app, &member, shared(&new, Some("we eat at the hospital now"))).await;
    // The new lead's approval lists it, but the member's move is not approved yet.
    app.put(&plan(&new), new.t(), listing("100000.00", "0.5", None))
        .await
        .expect(201);
    approve_plan(&app, &new, &sup).await;
    assert_eq!(targets(&app, &member).await, (json!("9000.00"), json!("9000.00")));
    // The old lead, whose approved plan the target comes from, drops it.
    amend(
        &app,
        &old,
        json!({"food_budget": "100000.00", "reserved_share": "0.3", "amendment_reason": "the member left"}),
    )
    .await;
    approve_plan(&app, &old, &sup).await;
    assert_eq!(targets(&app, &member).await, (json!("0.00"), json!("0.00")));
    // The move is approved: the target comes from the new lead, and the old one's no longer.
    approve_plan(&app, &member, &sup).await;
    assert_eq!(targets(&app, &member).await.0, "15000.00");
    amend(&app, &old, listing("200000.00", "0.3", Some("listed again by mistake"))).await;
    approve_plan(&app, &old, &sup).await;
    assert_eq!(targets(&app, &member).await.0, "15000.00");
    amend(&app, &new, listing("200000.00", "0.5", Some("a bigger budget"))).await;
    approve_plan(&app, &new, &sup).await;
    assert_eq!(targets(&app, &member).await, (json!("30000.00"), json!("30000.00")));
    // The old lead's approved plan still lists it, but its credit is no longer split to a
    // member whose target comes from the new lead (it was credited by both).
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = crate::orders::product(&app, &supplier.org_id, 1000, 1_000, 100_000).await;
    let (so, _) = crate::orders::bought_line(&app, &old, &supplier, &p).await;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let credited: Vec<(String, i64)> = entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::SupplierOrderId.eq(so))
        .all(app.db())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.buyer_org_id, e.amount_fen))
        .collect();
    assert_eq!(credited, [(old.org_id.clone(), 10_000)]);
    let events = history(&app, &member, &sup).await;
    let last = events.last().cloned().unwrap_or_default();
    assert_eq!(last["action"], "retargeted", "{last}");
    assert!(
        last["reason"].as_str().unwrap_or_default().contains(&new.org_id),
        "{last}"
    );
}

/// `member` files a plan eating at `lead`'s shared canteen, approved by `sup`.
async fn join(app: &TestApp, member: &OrgUser, lead: &OrgUser, sup: &OrgUser) {
    app.put(
        &plan(member),
        member.t(),
        json!({"declaration": "shared_canteen", "lead_org_id": lead.org_id}),
    )
    .await
    .expect(201);
    approve_plan(app, member, sup).await;
}
