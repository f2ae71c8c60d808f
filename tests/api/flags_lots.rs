//! What a confirmed flag takes back, and what it leaves to a return: a lot of false origin
//! takes its own part of each line it shipped with other lots (not the whole line its entry
//! names, nor nothing when another lot gave more), and a return after a flag took one holder's
//! part of a shared canteen's line takes from the others only their share of the goods.
use crate::compliance::new_lot;
use crate::flags::{flags, scan};
use crate::flags_orders::{confirm_origin_mismatch, credited};
use crate::helpers::*;
use crate::orders::{bought_from, bought_line, product};
use serde_json::json;

/// (fen, thousandths) that `buyer` holds of `line`, all entries netted.
async fn held(app: &TestApp, buyer: &str, line: &str) -> (i64, i64) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::OrderLineId.eq(line))
        .filter(entity::ledger_entries::Column::BuyerOrgId.eq(buyer))
        .all(app.db())
        .await
        .unwrap()
        .iter()
        .fold((0, 0), |(a, q), e| (a + e.amount_fen, q + e.quantity_milli))
}

#[tokio::test]
async fn an_origin_mismatch_takes_back_the_lots_part_of_each_line_it_shipped() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let (minor, major, later) = (
        app.create_org("canteen", CHANGAN).await,
        app.create_org("canteen", CHANGAN).await,
        app.create_org("canteen", CHANGAN).await,
    );
    let p = product(&app, &supplier.org_id, 1000, 1000, 0).await;
    let best_before = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let lot = |origin: &str| json!({"quantity": "100", "best_before": best_before, "origin_county_code": origin});
    let false_lot = new_lot(&app, &supplier, &p, lot(PINGQUAN)).await;
    let honest = new_lot(&app, &supplier, &p, lot(YANGYUAN)).await;
    // 40 from the false lot and 60 from the honest one: the entry names the honest lot (it
    // gave the most). 60 and 40: the entry names the false lot, yet 40 of it are honest.
    let (_, minor_line) = bought_from(&app, &minor, &supplier, &p, &[(&false_lot, "4"), (&honest, "6")]).await;
    let (_, major_line) = bought_from(&app, &major, &supplier, &p, &[(&false_lot, "6"), (&honest, "4")]).await;
    assert_eq!(scan(&app, true).await["raised"], 1);
    let c = confirm_origin_mismatch(&app, &evaluator, "that batch came from Pingquan").await;
    assert_eq!(
        held(&app, &minor.org_id, &minor_line).await,
        (6000, 6000),
        "the lot's 4 of 10"
    );
    assert_eq!(
        held(&app, &major.org_id, &major_line).await,
        (4000, 4000),
        "the lot's 6 of 10"
    );
    assert_eq!(credited(&app, evaluator.t(), &minor.org_id).await, 6000);
    assert_eq!(credited(&app, evaluator.t(), &major.org_id).await, 4000);
    let mut amounts: Vec<&str> = c.json["reversals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount"].as_str().unwrap())
        .collect();
    amounts.sort();
    assert_eq!(amounts, ["40.00", "60.00"], "{}", c.text);
    // A later sale of the lot (3 of 10) is reversed by the next scan, once.
    let (_, later_line) = bought_from(&app, &later, &supplier, &p, &[(&honest, "7"), (&false_lot, "3")]).await;
    assert_eq!(scan(&app, false).await["reapplied"], 1);
    assert_eq!(scan(&app, true).await["reapplied"], 0);
    assert_eq!(held(&app, &later.org_id, &later_line).await, (7000, 7000));
    assert_eq!(held(&app, &minor.org_id, &minor_line).await, (6000, 6000), "not twice");
}

#[tokio::test]
async fn a_return_after_a_flag_took_a_members_part_takes_only_the_leads_share_of_the_goods() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let lead = app.create_org("school", CHANGAN).await;
    let member = app.create_org("government", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    crate::supervision_corrections::shared_canteen(&app, &sup, &lead, &[(&member, "0.4")]).await;
    // 10.00 against a certified median of 30.00: each part of the split is a price outlier.
    let p = product(&app, &supplier.org_id, 1000, 1000, 1_000_000).await;
    for _ in 0..2 {
        let mut row = ProductRow::certified(&supplier.org_id);
        row.price_fen = 3000;
        row.insert(&app).await;
    }
    let (so, line) = bought_line(&app, &lead, &supplier, &p).await;
    assert_eq!(held(&app, &lead.org_id, &line).await, (6000, 6000));
    assert_eq!(held(&app, &member.org_id, &line).await, (4000, 4000));
    scan(&app, true).await;
    let outliers = flags(&app, evaluator.t(), "&kind=price_outlier").await;
    let of_member = outliers
        .iter()
        .find(|f| f["buyer_org_id"] == member.org_id.as_str())
        .expect("the member's part is flagged");
    app.post(
        &format!("/flags/{}/confirm", of_member["id"].as_str().unwrap()),
        evaluator.t(),
        json!({"note": "priced to buy credit"}),
    )
    .await
    .expect(200);
    assert_eq!(held(&app, &member.org_id, &line).await, (0, 0));
    // 4 of the 10 come back: the lead gives back its 60 % of them (24.00, 2.4), not the 40 %
    // the flag already took from the member too; the member gives back nothing.
    let back = |q: &str| json!({"lines": [{"line_id": line, "quantity": q}], "reason": "spoiled"});
    let returns = format!("/supplier-orders/{so}/returns");
    let r = app.post(&returns, lead.t(), back("4")).await.expect(201);
    assert_eq!(r.json["lines"][0]["amount"], "40.00", "{}", r.text);
    assert_eq!(held(&app, &lead.org_id, &line).await, (3600, 3600));
    assert_eq!(held(&app, &member.org_id, &line).await, (0, 0));
    // The rest back: the lead ends at zero exactly, nobody below it.
    app.post(&returns, lead.t(), back("6")).await.expect(201);
    assert_eq!(held(&app, &lead.org_id, &line).await, (0, 0));
    assert_eq!(held(&app, &member.org_id, &line).await, (0, 0));
}
