//! A supervisor's attribution correction whose right buyer leads a shared canteen: the new
//! credit is split among the members as acceptance splits it; one part of a split is
//! corrected alone; a canteen contractor cannot be named; concurrent corrections write once.
use crate::helpers::*;
use crate::supervision::this_year;
use crate::supervision_counties::{ledger_sum, reports_and_units_agree};
use assist_market::services::ledger::{self, EntryTrace};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};

/// A credit of 10.001 units for 125.01 (12,501 fen) from lot `LOT-7` (合格证 `HG-7`), weighed
/// at 9 kg, through the real append path.
async fn traced_credit(app: &TestApp, buyer: &str, supplier: &str) -> entity::ledger_entries::Model {
    let e = crate::flags::grain_entry(buyer, supplier, &uuid::Uuid::now_v7().to_string(), 10_001, 12_501);
    let t = EntryTrace {
        lot_id: Some("LOT-7".into()),
        compliance_certificate_number: Some("HG-7".into()),
        weight_kg_milli: Some(9_000),
    };
    ledger::append_traced(app.db(), vec![(e, t)])
        .await
        .unwrap()
        .pop()
        .unwrap()
}

/// A school leading a shared canteen with two members of a third each (the lead keeps the
/// rest), all of Chang'an, with its supervisor; and a wrongly credited unit.
pub struct Canteen {
    pub sup: OrgUser,
    pub lead: OrgUser,
    pub m1: OrgUser,
    pub m2: OrgUser,
    pub wrong: OrgUser,
    pub supplier: OrgUser,
}

pub async fn canteen(app: &TestApp) -> Canteen {
    let sup = app.create_org("finance_office", CHANGAN).await;
    let lead = app.create_org("school", CHANGAN).await;
    let m1 = app.create_org("government", CHANGAN).await;
    let m2 = app.create_org("hospital", CHANGAN).await;
    let wrong = app.create_org("school", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    shared_canteen(app, &sup, &lead, &[(&m1, "0.333333"), (&m2, "0.333333")]).await;
    Canteen {
        sup,
        lead,
        m1,
        m2,
        wrong,
        supplier,
    }
}

/// `lead`'s plan of this year lists `members` with their shares (the lead keeps the rest),
/// each member's names `lead`, and `sup` approves the lead's.
pub async fn shared_canteen(app: &TestApp, sup: &OrgUser, lead: &OrgUser, members: &[(&OrgUser, &str)]) {
    let y = this_year();
    let listed: Vec<Value> = members
        .iter()
        .map(|(m, share)| json!({"org_id": m.org_id, "share": share}))
        .collect();
    app.put(
        &format!("/buyers/{}/plans/{y}", lead.org_id),
        lead.t(),
        json!({"food_budget": "100000.00", "reserved_share": "0.3", "members": listed}),
    )
    .await
    .expect(201);
    for (m, _) in members {
        app.put(
            &format!("/buyers/{}/plans/{y}", m.org_id),
            m.t(),
            json!({"declaration": "shared_canteen", "lead_org_id": lead.org_id}),
        )
        .await
        .expect(201);
    }
    crate::supervision::approve_plan(app, lead, sup).await;
}

async fn entries(app: &TestApp) -> u64 {
    entity::ledger_entries::Entity::find().count(app.db()).await.unwrap()
}

async fn entry(app: &TestApp, id: &Value) -> entity::ledger_entries::Model {
    entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::Id.eq(id.as_str().unwrap()))
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
}

fn correction(entry: &str, to: &OrgUser) -> Value {
    json!({"entry_id": entry, "to_org_id": to.org_id, "reason": "the shared canteen ordered"})
}

#[tokio::test]
async fn a_correction_to_a_shared_canteens_lead_is_split_by_its_shares() {
    let app = spawn_app().await;
    let y = this_year();
    let c = canteen(&app).await;
    let e = traced_credit(&app, &c.wrong.org_id, &c.supplier.org_id).await;
    let r = app
        .post("/supervision/corrections", c.sup.t(), correction(&e.id, &c.lead))
        .await
        .expect(201);
    let ids = r.json["credit_entry_ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 3, "{}", r.text);
    assert_eq!(r.json["credit_entry_id"], ids[0], "the first credit, as before");
    // Largest remainder over the thirds: 4166.99 and 4166.99 round up, the lead's 4167.008 down.
    let sums = [
        ledger_sum(&app, "buyer_org_id", &c.m1.org_id).await,
        ledger_sum(&app, "buyer_org_id", &c.m2.org_id).await,
        ledger_sum(&app, "buyer_org_id", &c.lead.org_id).await,
    ];
    assert_eq!(sums, [4167, 4167, 4167]);
    assert_eq!(ledger_sum(&app, "buyer_org_id", &c.wrong.org_id).await, 0);
    assert_eq!(
        ledger_sum(&app, "supplier_order_id", &e.supplier_order_id).await,
        12_501
    );
    // Members first in the plan's order, the lead last; lots carried, kg divided like quantities.
    let mut parts = Vec::new();
    for id in &ids {
        parts.push(entry(&app, id).await);
    }
    let buyers: Vec<&str> = parts.iter().map(|p| p.buyer_org_id.as_str()).collect();
    assert_eq!(buyers, [&c.m1.org_id, &c.m2.org_id, &c.lead.org_id]);
    assert_eq!(parts.iter().map(|p| p.quantity_milli).sum::<i64>(), 10_001);
    assert_eq!(parts.iter().filter_map(|p| p.weight_kg_milli).sum::<i64>(), 9_000);
    for p in &parts {
        assert_eq!(p.kind, "credit");
        assert_eq!(p.lot_id.as_deref(), Some("LOT-7"));
        assert_eq!(p.compliance_certificate_number.as_deref(), Some("HG-7"));
    }
    let rev = entry(&app, &r.json["reversal_entry_id"]).await;
    assert_eq!((rev.amount_fen, rev.weight_kg_milli), (-12_501, Some(-9_000)));
    assert_eq!(rev.lot_id.as_deref(), Some("LOT-7"));
    let linked = entity::attribution_correction_credits::Entity::find()
        .filter(entity::attribution_correction_credits::Column::CorrectionId.eq(r.json["id"].as_str().unwrap()))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(linked.iter().map(|l| l.amount_fen).sum::<i64>(), 12_501);
    assert_eq!(linked.len(), 3);
    // Reports and supervision read the same ledger.
    let expected = [&c.m1, &c.m2, &c.lead, &c.wrong].map(|o| o.org_id.as_str());
    let expected: Vec<(&str, i64)> = expected.into_iter().zip([4167, 4167, 4167, 0]).collect();
    reports_and_units_agree(&app, &c.sup, &expected).await;
    // A second correction of the same entry is refused, and writes nothing.
    let before = entries(&app).await;
    app.post("/supervision/corrections", c.sup.t(), correction(&e.id, &c.m2))
        .await
        .problem(409);
    assert_eq!(entries(&app).await, before);

    // One part of the split (the first member's) belongs to the wrong unit after all:
    // its correction reverses that part only and credits the whole of it to that unit.
    let part = ids[0].as_str().unwrap();
    let r = app
        .post("/supervision/corrections", c.sup.t(), correction(part, &c.wrong))
        .await
        .expect(201);
    assert_eq!(r.json["credit_entry_ids"].as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(r.json["from_org_id"], c.m1.org_id.as_str());
    assert_eq!(ledger_sum(&app, "buyer_org_id", &c.m1.org_id).await, 0);
    assert_eq!(ledger_sum(&app, "buyer_org_id", &c.m2.org_id).await, 4167);
    assert_eq!(ledger_sum(&app, "buyer_org_id", &c.lead.org_id).await, 4167);
    assert_eq!(ledger_sum(&app, "buyer_org_id", &c.wrong.org_id).await, 4167);
    let credit = entry(&app, &r.json["credit_entry_id"]).await;
    assert_eq!(credit.weight_kg_milli, parts[0].weight_kg_milli, "the part's own kg");
    let units = app.get(&format!("/supervision/{y}/units"), c.sup.t()).await.expect(200);
    assert_eq!(units.unit_credited(&c.m1.org_id), "0.00");
    assert_eq!(units.unit_credited(&c.wrong.org_id), "41.67");
}

#[tokio::test]
async fn a_contractor_is_never_the_right_buyer_and_refused_callers_write_nothing() {
    let app = spawn_app().await;
    let y = this_year();
    let c = canteen(&app).await;
    let contractor = app.create_org("canteen_contractor", CHANGAN).await;
    let served = app.create_org("school", CHANGAN).await;
    app.put(
        &format!("/buyers/{}/plans/{y}", served.org_id),
        served.t(),
        json!({"declaration": "contracted_canteen", "contractor_org_id": contractor.org_id,
               "food_budget": "100000.00", "reserved_share": "0.2"}),
    )
    .await
    .expect(201);
    crate::supervision::approve_plan(&app, &served, &c.sup).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let far = app.create_org("finance_office", "130126").await;
    let e = traced_credit(&app, &c.wrong.org_id, &c.supplier.org_id).await;
    let before = entries(&app).await;
    // The contractor's orders are credited to the unit it serves: that unit is to be named.
    let r = app
        .post("/supervision/corrections", c.sup.t(), correction(&e.id, &contractor))
        .await;
    assert_eq!(r.fields(), ["to_org_id"], "{}", r.text);
    assert!(r.text.contains(&served.org_id), "names the unit served: {}", r.text);
    // A contractor serving a unit of another region: refused, and that unit is not named.
    let far_contractor = app.create_org("canteen_contractor", "130126").await;
    let far_unit = app.create_org("school", "130126").await;
    app.put(
        &format!("/buyers/{}/plans/{y}", far_unit.org_id),
        far_unit.t(),
        json!({"declaration": "contracted_canteen", "contractor_org_id": far_contractor.org_id,
               "food_budget": "100000.00", "reserved_share": "0.2"}),
    )
    .await
    .expect(201);
    let far_sup = app.create_org("finance_office", "130126").await;
    crate::supervision::approve_plan(&app, &far_unit, &far_sup).await;
    let r = app
        .post(
            "/supervision/corrections",
            c.sup.t(),
            correction(&e.id, &far_contractor),
        )
        .await;
    assert_eq!(r.fields(), ["to_org_id"], "{}", r.text);
    assert!(
        !r.text.contains(&far_unit.org_id),
        "another region's unit is not named: {}",
        r.text
    );
    app.post("/supervision/corrections", c.sup.t(), correction(&e.id, &c.supplier))
        .await
        .problem(422);
    app.post("/supervision/corrections", c.sup.t(), correction(&e.id, &c.wrong))
        .await
        .problem(422);
    for who in [&c.lead, &c.supplier, &evaluator] {
        app.post("/supervision/corrections", who.t(), correction(&e.id, &c.lead))
            .await
            .problem(403);
    }
    app.post(
        "/supervision/corrections",
        Some(&app.admin_token),
        correction(&e.id, &c.lead),
    )
    .await
    .problem(403);
    app.post("/supervision/corrections", far.t(), correction(&e.id, &c.lead))
        .await
        .problem(404);
    assert_eq!(entries(&app).await, before, "nothing written");
    // The unit served is accepted, credited whole (it leads no shared canteen).
    let r = app
        .post("/supervision/corrections", c.sup.t(), correction(&e.id, &served))
        .await
        .expect(201);
    assert_eq!(r.json["credit_entry_ids"], json!([r.json["credit_entry_id"]]));
    assert_eq!(ledger_sum(&app, "buyer_org_id", &served.org_id).await, 12_501);
}

#[tokio::test]
async fn a_correction_moves_only_what_returns_left_of_the_credit() {
    use crate::orders::{delivered_so, product, World};
    let app = spawn_app().await;
    let c = canteen(&app).await;
    let product = product(&app, &c.supplier.org_id, 1250, 1_000, 1_000_000).await;
    let w = World {
        app,
        buyer: c.wrong.clone(),
        supplier: c.supplier.clone(),
        product,
    };
    let (order, so) = delivered_so(&w, "10").await;
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    let app = &w.app;
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        c.wrong.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV-1"}),
    )
    .await
    .expect(200);
    let ret = |q: &str| json!({"lines": [{"line_id": line, "quantity": q}], "reason": "spoiled"});
    let returns = format!("/supplier-orders/{so}/returns");
    app.post(&returns, c.wrong.t(), ret("4")).await.expect(201);
    let l = app
        .get(&format!("/ledger?buyer={}", c.wrong.org_id), Some(&app.admin_token))
        .await
        .expect(200);
    let credit = l.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "credit")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 6 of 10 are left (75.00): the correction moves those, not the whole 125.00.
    let to = app.create_org("hospital", CHANGAN).await;
    let r = app
        .post("/supervision/corrections", c.sup.t(), correction(&credit, &to))
        .await
        .expect(201);
    assert_eq!(r.json["credit_entry_ids"].as_array().unwrap().len(), 1);
    assert_eq!(ledger_sum(app, "buyer_org_id", &c.wrong.org_id).await, 0);
    assert_eq!(ledger_sum(app, "buyer_org_id", &to.org_id).await, 7_500);
    // A credit all returned has nothing left to move: 409, nothing written.
    let (order, so) = delivered_so(&w, "2").await;
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        c.wrong.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "2"}], "invoice_number": "INV-2"}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/supplier-orders/{so}/returns"),
        c.wrong.t(),
        json!({"lines": [{"line_id": line, "quantity": "2"}], "reason": "spoiled"}),
    )
    .await
    .expect(201);
    let credit = entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::OrderLineId.eq(line))
        .filter(entity::ledger_entries::Column::Kind.eq("credit"))
        .one(app.db())
        .await
        .unwrap()
        .unwrap();
    let before = entries(app).await;
    app.post("/supervision/corrections", c.sup.t(), correction(&credit.id, &to))
        .await
        .problem(409);
    assert_eq!(entries(app).await, before, "nothing written");
    // A correction racing a full return: whichever goes first, the line's credit ends at zero
    // and nobody is left below it (each waits for the other's lock on the line).
    for _ in 0..3 {
        let (order, so) = delivered_so(&w, "3").await;
        let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
        app.post(
            &format!("/supplier-orders/{so}/accept"),
            c.wrong.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "3"}], "invoice_number": "INV-3"}),
        )
        .await
        .expect(200);
        let credit = entity::ledger_entries::Entity::find()
            .filter(entity::ledger_entries::Column::OrderLineId.eq(line))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        let back = json!({"lines": [{"line_id": line, "quantity": "3"}], "reason": "spoiled"});
        let returns = format!("/supplier-orders/{so}/returns");
        let (r, k) = tokio::join!(
            app.post(&returns, c.wrong.t(), back),
            app.post("/supervision/corrections", c.sup.t(), correction(&credit.id, &to)),
        );
        r.expect(201);
        assert!(matches!(k.status.as_u16(), 201 | 409), "{}", k.text);
        assert_eq!(ledger_sum(app, "order_line_id", line).await, 0, "{}", k.text);
        for org in [&c.wrong.org_id, &to.org_id] {
            let held: i64 = entity::ledger_entries::Entity::find()
                .filter(entity::ledger_entries::Column::OrderLineId.eq(line))
                .filter(entity::ledger_entries::Column::BuyerOrgId.eq(org.as_str()))
                .all(app.db())
                .await
                .unwrap()
                .iter()
                .map(|e| e.amount_fen)
                .sum();
            assert_eq!(held, 0, "{org}: {}", k.text);
        }
    }
}

#[tokio::test]
async fn concurrent_corrections_of_one_entry_write_once() {
    let app = spawn_app().await;
    let c = canteen(&app).await;
    let e = traced_credit(&app, &c.wrong.org_id, &c.supplier.org_id).await;
    let before = entries(&app).await;
    let body = correction(&e.id, &c.lead);
    let calls = (0..4).map(|_| app.post("/supervision/corrections", c.sup.t(), body.clone()));
    let answers = futures_util::future::join_all(calls).await;
    let mut codes: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    codes.sort();
    assert_eq!(codes, [201, 409, 409, 409], "{answers:?}");
    assert_eq!(entries(&app).await, before + 4, "one reversal and three parts");
    assert_eq!(
        ledger_sum(&app, "supplier_order_id", &e.supplier_order_id).await,
        12_501
    );
    let corrections = entity::attribution_corrections::Entity::find()
        .count(app.db())
        .await
        .unwrap();
    let credits = entity::attribution_correction_credits::Entity::find()
        .count(app.db())
        .await
        .unwrap();
    assert_eq!((corrections, credits), (1, 3));
}
