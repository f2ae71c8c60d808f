//! Supervision: finance offices (role `supervisor`) and the region they cover, budget
//! units, canteen contractors.
use crate::helpers::*;
use assist_market::services::ledger::{self, NewEntry};
use assist_market::services::organizations::make_credit_code;
use serde_json::json;

/// A credit of `amount_fen` to `buyer` through the real append path, with well-formed ids.
pub async fn credit(app: &TestApp, buyer: &str, supplier: &str, amount_fen: i64) -> entity::ledger_entries::Model {
    let id = || uuid::Uuid::now_v7().to_string();
    ledger::append(
        app.db(),
        NewEntry {
            buyer_org_id: buyer.into(),
            supplier_org_id: supplier.into(),
            product_id: id(),
            category: "grain".into(),
            supplier_order_id: id(),
            order_line_id: id(),
            origin_region_code: YANGYUAN.into(),
            origin_county_code: YANGYUAN.into(),
            origin_poverty_status: "deep_poverty".into(),
            quantity_milli: 1000,
            amount_fen,
            kind: "credit".into(),
            credit_category: "purchase".into(),
            pairing_id: None,
        },
    )
    .await
    .expect("append")
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
