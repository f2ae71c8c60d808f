//! Who sees a lot's trace among buyers: the buyer of a shipment, its parent, a budget unit
//! credited through its contractor and a shared canteen's member, each only the shipments it
//! may read or is credited with.
use crate::helpers::*;
use crate::orders::{bought_line, product};
use crate::supervision::{approve_plan, this_year};
use crate::supervision_corrections::canteen;
use serde_json::{json, Value};

/// `buyer` orders 10 of `p`; the supplier ships, delivers; the buyer accepts it all.
async fn bought(app: &TestApp, buyer: &OrgUser, supplier: &OrgUser, p: &str) -> String {
    bought_line(app, buyer, supplier, p).await.0
}

fn orders_of(t: &Value) -> Vec<String> {
    let mut v: Vec<String> = t["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["supplier_order_id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn buyers_credited_with_a_lot_or_reading_its_order_see_their_shipments_of_it() {
    let app = spawn_app().await;
    let c = canteen(&app).await;
    let parent = app.create_org("canteen", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let contractor = app.create_org("canteen_contractor", CHANGAN).await;
    let unit = app.create_org("school", CHANGAN).await;
    app.put(
        &format!("/buyers/{}/plans/{}", unit.org_id, this_year()),
        unit.t(),
        json!({"declaration": "contracted_canteen", "contractor_org_id": contractor.org_id,
               "food_budget": "100000.00", "reserved_share": "0.2"}),
    )
    .await
    .expect(201);
    approve_plan(&app, &unit, &c.sup).await;
    let stranger = app.create_org("canteen", CHANGAN).await;
    let p = product(&app, &c.supplier.org_id, 1000, 1000, 100_000).await;
    let by_child = bought(&app, &child, &c.supplier, &p).await;
    let by_contractor = bought(&app, &contractor, &c.supplier, &p).await;
    let by_lead = bought(&app, &c.lead, &c.supplier, &p).await;
    let so = app
        .get(&format!("/supplier-orders/{by_child}"), parent.t())
        .await
        .expect(200)
        .json;
    let lot = so["shipped_lots"][0]["lot_id"].as_str().unwrap().to_string();
    // The unit's ledger names the lot its contractor's order came from.
    let ledger = app.get("/ledger", unit.t()).await.expect(200).json;
    assert_eq!(ledger["items"][0]["lot_id"], lot.as_str(), "{ledger}");
    let trace = format!("/lots/{lot}/trace");
    let all = app.get(&trace, c.supplier.t()).await.expect(200).json;
    assert_eq!(orders_of(&all).len(), 3);
    for (who, sos) in [
        (&child, vec![&by_child]),
        (&parent, vec![&by_child]),
        (&contractor, vec![&by_contractor]),
        (&unit, vec![&by_contractor]),
        (&c.lead, vec![&by_lead]),
        (&c.m1, vec![&by_lead]),
        (&c.m2, vec![&by_lead]),
    ] {
        let r = app.get(&trace, who.t()).await;
        assert_eq!(r.status, 200, "{}: {}", who.email, r.text);
        let want: Vec<String> = sos.into_iter().cloned().collect();
        assert_eq!(orders_of(&r.json), want, "{}", who.email);
        let doc = app
            .get(&format!("{trace}?format=epcis"), who.t())
            .await
            .expect(200)
            .text;
        for other in orders_of(&all).iter().filter(|s| !want.contains(s)) {
            assert!(!doc.contains(other.as_str()), "{}: {doc}", who.email);
        }
    }
    app.get(&trace, stranger.t()).await.problem(404);
}
