//! Supervision: finance offices (role `supervisor`) and the region they cover, budget
//! units, canteen contractors.
use crate::helpers::*;
use assist_market::services::organizations::make_credit_code;
use serde_json::json;

/// A credit of `amount_fen` to `buyer` through the real append path, with well-formed ids.
pub async fn credit(app: &TestApp, buyer: &str, supplier: &str, amount_fen: i64) -> entity::ledger_entries::Model {
    let product = uuid::Uuid::now_v7().to_string();
    crate::flags::credit_of(app, buyer, supplier, &product, 1000, amount_fen).await
}

const LINGSHOU: &str = "130126"; // a county of Shijiazhuang, beside Chang'an

fn org_body(kind: &str, region: &str, budget_unit: Option<bool>) -> serde_json::Value {
    let n = unique();
    json!({"name": format!("{kind} {n}"), "kind": kind, "region_code": region,
           "contact_email": format!("o{n}@org.test"), "credit_code": make_credit_code(&region[..6], n),
           "budget_unit": budget_unit})
}

#[tokio::test]
async fn organisations_carry_kind_region_and_budget_unit() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    // A finance office of a province, a city and a county; never of a township.
    for region in ["130000", "130100", CHANGAN] {
        app.post("/organizations", admin, org_body("finance_office", region, None))
            .await
            .expect(201);
    }
    let p = app
        .post("/organizations", admin, org_body("finance_office", "130727100", None))
        .await
        .problem(422);
    assert!(p.to_string().contains("region_code"), "{p}");
    // Defaults by kind: a school is a budget unit, a union is not, and cannot be one.
    let school = app
        .post("/organizations", admin, org_body("school", CHANGAN, None))
        .await
        .expect(201);
    assert_eq!(school.json["budget_unit"], true);
    let union = app
        .post("/organizations", admin, org_body("union", CHANGAN, None))
        .await
        .expect(201);
    assert_eq!(union.json["budget_unit"], false);
    let before = app.get("/organizations?limit=200", admin).await.expect(200).json["items"]
        .as_array()
        .map(Vec::len);
    let r = app
        .post("/organizations", admin, org_body("union", CHANGAN, Some(true)))
        .await;
    assert_eq!(r.fields(), vec!["budget_unit".to_string()], "{}", r.text);
    let after = app.get("/organizations?limit=200", admin).await.expect(200).json["items"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after, "nothing written");
    // A hospital may say it is not a budget unit; a contractor is a buyer that is not one.
    let h = app
        .post("/organizations", admin, org_body("hospital", CHANGAN, Some(false)))
        .await
        .expect(201);
    assert_eq!(h.json["budget_unit"], false);
    let c = app.create_org("canteen_contractor", CHANGAN).await;
    let me = app
        .get(&format!("/organizations/{}", c.org_id), c.t())
        .await
        .expect(200);
    assert_eq!(me.json["kind"], "canteen_contractor");
    assert_eq!(me.json["budget_unit"], false);
}

#[tokio::test]
async fn a_supervisor_sees_the_units_of_its_region_and_nothing_outside() {
    let app = spawn_app().await;
    let province = app.create_org("finance_office", "130000").await;
    let city = app.create_org("finance_office", "130100").await;
    let county = app.create_org("finance_office", CHANGAN).await;
    let next_county = app.create_org("finance_office", LINGSHOU).await;
    let here = app.create_org("school", CHANGAN).await;
    let there = app.create_org("school", YANGYUAN).await;
    let path = |o: &OrgUser| format!("/organizations/{}", o.org_id);
    app.get(&path(&here), county.t()).await.expect(200);
    app.get(&path(&here), city.t()).await.expect(200);
    app.get(&path(&here), province.t()).await.expect(200);
    app.get(&path(&here), next_county.t()).await.problem(404);
    app.get(&path(&there), county.t()).await.problem(404);
    app.get(&path(&there), city.t()).await.problem(404);
    app.get(&path(&there), province.t()).await.expect(200);

    // The ledger: each supervisor reads the entries of the buyers in its region only.
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    credit(&app, &here.org_id, &supplier.org_id, 10_000).await;
    credit(&app, &there.org_id, &supplier.org_id, 20_000).await;
    let count = |r: Resp| r.expect(200).json["items"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(count(app.get("/ledger?limit=200", county.t()).await), 1);
    assert_eq!(count(app.get("/ledger?limit=200", next_county.t()).await), 0);
    assert_eq!(count(app.get("/ledger?limit=200", province.t()).await), 2);
    // A supervisor writes no organisation and no quota.
    app.post("/organizations", county.t(), org_body("school", CHANGAN, None))
        .await
        .problem(403);
}

/// Files `unit`'s plan of this year and has `sup` approve it (only an approved plan
/// attributes a contractor's orders or splits a shared canteen's credit).
pub async fn approve_plan(app: &TestApp, unit: &OrgUser, sup: &OrgUser) {
    let path = format!("/buyers/{}/plans/{}", unit.org_id, this_year());
    app.post(&format!("{path}/file"), unit.t(), json!({})).await.expect(200);
    app.post(&format!("{path}/approve"), sup.t(), json!({}))
        .await
        .expect(200);
}

pub fn this_year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now().date_naive())
}

async fn plan(app: &TestApp, unit: &OrgUser, body: serde_json::Value, sup: Option<&OrgUser>) {
    let y = this_year();
    app.put(&format!("/buyers/{}/plans/{y}", unit.org_id), unit.t(), body)
        .await
        .expect(201);
    app.post(&format!("/buyers/{}/plans/{y}/file", unit.org_id), unit.t(), json!({}))
        .await
        .expect(200);
    if let Some(s) = sup {
        app.post(&format!("/buyers/{}/plans/{y}/approve", unit.org_id), s.t(), json!({}))
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn the_units_list_shows_progress_and_laggards_of_the_region_only() {
    let app = spawn_app().await;
    let y = this_year();
    let county = app.create_org("finance_office", CHANGAN).await;
    let next_county = app.create_org("finance_office", LINGSHOU).await;
    let city = app.create_org("finance_office", "130100").await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let no_plan = app.create_org("school", CHANGAN).await;
    let filed = app.create_org("hospital", CHANGAN).await;
    let approved = app.create_org("government", CHANGAN).await;
    let far = app.create_org("school", LINGSHOU).await;
    plan(
        &app,
        &filed,
        json!({"food_budget": "1000.00", "reserved_share": "0.5"}),
        None,
    )
    .await;
    plan(
        &app,
        &approved,
        json!({"food_budget": "1000000.00", "reserved_share": "0.5"}),
        Some(&county),
    )
    .await;
    credit(&app, &approved.org_id, &supplier.org_id, 100).await;
    let path = format!("/supervision/{y}/units");
    let r = app.get(&path, county.t()).await.expect(200);
    let units = r.json["units"].as_array().unwrap().clone();
    let ids: Vec<&str> = units.iter().map(|u| u["org_id"].as_str().unwrap()).collect();
    assert_eq!(units.len(), 3, "{ids:?}");
    assert!(!ids.contains(&far.org_id.as_str()));
    let unit = |id: &str| units.iter().find(|u| u["org_id"] == id).unwrap().clone();
    let reasons = |id: &str| {
        unit(id)["laggard_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let after_deadline = chrono::Utc::now().date_naive() > chrono::NaiveDate::from_ymd_opt(y, 3, 31).unwrap();
    if after_deadline {
        assert_eq!(reasons(&no_plan.org_id), ["no_plan_by_deadline", "no_order_yet"]);
    }
    assert_eq!(reasons(&filed.org_id), ["plan_not_approved", "no_order_yet"]);
    assert_eq!(unit(&approved.org_id)["plan_status"], "approved");
    assert_eq!(unit(&approved.org_id)["target"], "500000.00");
    assert_eq!(unit(&approved.org_id)["credited"], "1.00");
    assert_eq!(reasons(&approved.org_id), ["behind_pace"]);
    assert_eq!(unit(&approved.org_id)["rank"], 1);
    // The next county's supervisor sees only its own unit; the city both counties, ranked.
    let r = app.get(&path, next_county.t()).await.expect(200);
    assert_eq!(r.json["units"].as_array().unwrap().len(), 1);
    let r = app.get(&path, city.t()).await.expect(200);
    assert_eq!(r.json["units"].as_array().unwrap().len(), 4);
    assert_eq!(r.json["regions"].as_array().unwrap().len(), 2);
    assert_eq!(r.json["regions"][0]["region_code"], CHANGAN);
    // Filters: a region outside is refused naming it; a kind narrows.
    let r = app.get(&format!("{path}?region={LINGSHOU}"), county.t()).await;
    assert_eq!(r.fields(), ["region"]);
    let r = app
        .get(&format!("{path}?region={CHANGAN}&kind=hospital"), city.t())
        .await
        .expect(200);
    assert_eq!(r.json["units"].as_array().unwrap().len(), 1);
    // Roles: buyers and suppliers are refused; spreadsheets as the reports give them.
    app.get(&path, filed.t()).await.problem(403);
    app.get(&path, supplier.t()).await.problem(403);
    let csv = app.get(&format!("{path}?format=csv"), county.t()).await.expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.text.contains("预算单位名称"));
    let x = app.get(&format!("{path}?format=xlsx"), county.t()).await.expect(200);
    assert!(x.header("content-type").unwrap().contains("spreadsheetml"));
}

#[tokio::test]
async fn a_contractors_orders_are_credited_to_the_unit_it_serves() {
    use crate::orders::{act, delivered_so, product, World};
    let app = spawn_app().await;
    let contractor = app.create_org("canteen_contractor", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let y = this_year();
    app.put(
        &format!("/buyers/{}/plans/{y}", unit.org_id),
        unit.t(),
        json!({"declaration": "contracted_canteen", "contractor_org_id": contractor.org_id,
               "food_budget": "100000.00", "reserved_share": "0.2"}),
    )
    .await
    .expect(201);
    let product = product(&app, &supplier.org_id, 1250, 1_000, 1_000_000).await;
    let w = World {
        app,
        buyer: contractor,
        supplier,
        product,
    };
    // While the plan is a draft, or filed and under review, the contractor keeps its credit.
    let (order, so) = delivered_so(&w, "1").await;
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    w.app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "1"}], "invoice_number": "INV-0"}),
        )
        .await
        .expect(200);
    let sum = crate::supervision_counties::ledger_sum;
    assert_eq!(sum(&w.app, "buyer_org_id", &w.buyer.org_id).await, 1_250);
    assert_eq!(sum(&w.app, "buyer_org_id", &unit.org_id).await, 0);
    let sup = w.app.create_org("finance_office", CHANGAN).await;
    approve_plan(&w.app, &unit, &sup).await;
    let (order, so) = delivered_so(&w, "10").await;
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    w.app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV-1"}),
        )
        .await
        .expect(200);
    let _ = act;
    let l = w
        .app
        .get(&format!("/ledger?buyer={}", unit.org_id), Some(&w.app.admin_token))
        .await
        .expect(200);
    let items = l.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", l.text);
    assert_eq!(items[0]["buyer_org_id"], unit.org_id.as_str());
    // The unit amends its plan to stop naming the contractor; a return still takes the credit
    // back from the unit that holds it, not from the contractor.
    w.app
        .send(
            w.app
                .client
                .put(w.app.url(&format!("/buyers/{}/plans/{y}", unit.org_id)))
                .bearer_auth(&unit.token)
                .header("If-Match", "*")
                .json(&json!({"food_budget": "100000.00", "reserved_share": "0.2",
                              "amendment_reason": "we run the canteen ourselves"})),
        )
        .await
        .expect(200);
    w.app
        .post(
            &format!("/supplier-orders/{so}/returns"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "4"}], "reason": "spoiled"}),
        )
        .await
        .expect(201);
    assert_eq!(sum(&w.app, "buyer_org_id", &unit.org_id).await, 12_500 - 5_000);
    assert_eq!(
        sum(&w.app, "buyer_org_id", &w.buyer.org_id).await,
        1_250,
        "its own order only"
    );
}

#[tokio::test]
async fn monthly_notices_are_sent_once() {
    if chrono::Datelike::month(&chrono::Utc::now()) == 1 {
        // January's notices judge the pace at 1 January, which expects nothing: a unit without
        // a plan before the filing deadline does not lag yet (year_boundary.rs).
        return;
    }
    let app = spawn_app().await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    let admin = Some(app.admin_token.as_str());
    app.post("/supervision/notices/run", sup.t(), json!({}))
        .await
        .problem(403);
    let r = app.post("/supervision/notices/run", admin, json!({})).await.expect(200);
    assert_eq!(r.json["units"], 1);
    assert_eq!(r.json["summaries"], 1);
    let r = app.post("/supervision/notices/run", admin, json!({})).await.expect(200);
    assert_eq!(r.json["units"], 0);
    assert_eq!(r.json["summaries"], 0);
    app.wait_for_emails(&unit.contact_email, 1, 20).await;
    app.wait_for_emails(&sup.contact_email, 1, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(app.emails_to(&unit.contact_email).len(), 1);
    assert_eq!(app.emails_to(&sup.contact_email).len(), 1);
}

#[tokio::test]
async fn a_supervisor_corrects_an_attribution_by_reversal_and_new_credit() {
    let app = spawn_app().await;
    let y = this_year();
    let sup = app.create_org("finance_office", CHANGAN).await;
    let other = app.create_org("finance_office", LINGSHOU).await;
    let wrong = app.create_org("school", CHANGAN).await;
    let right = app.create_org("hospital", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let e = credit(&app, &wrong.org_id, &supplier.org_id, 10_000).await;
    let before = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    assert_eq!(before.unit_credited(&wrong.org_id), "100.00");
    assert_eq!(before.unit_credited(&right.org_id), "0.00");
    let body = json!({"entry_id": e.id, "to_org_id": right.org_id, "reason": "the hospital's canteen ordered"});
    app.post("/supervision/corrections", other.t(), body.clone())
        .await
        .problem(404);
    app.post("/supervision/corrections", wrong.t(), body.clone())
        .await
        .problem(403);
    let r = app
        .post(
            "/supervision/corrections",
            sup.t(),
            json!({"entry_id": e.id, "to_org_id": right.org_id, "reason": " "}),
        )
        .await;
    assert_eq!(r.fields(), ["reason"]);
    let c = app
        .post("/supervision/corrections", sup.t(), body.clone())
        .await
        .expect(201);
    assert_ne!(c.json["reversal_entry_id"], c.json["credit_entry_id"]);
    assert_eq!(c.json["entry_id"], e.id.as_str());
    app.post("/supervision/corrections", sup.t(), body).await.problem(409);
    let after = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    assert_eq!(after.unit_credited(&wrong.org_id), "0.00");
    assert_eq!(after.unit_credited(&right.org_id), "100.00");
    // The original entry is still there, beside its reversal and the new credit.
    let l = app.get("/ledger?limit=200", Some(&app.admin_token)).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 3);
}
