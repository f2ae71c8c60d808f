//! The counties list of supervision, and a shared canteen's credit split in the ledger.
use crate::helpers::*;
use crate::orders::{delivered_so, product, World};
use crate::supervision::{credit, this_year};
use serde_json::{json, Value};

/// The net ledger amount (fen) of `column = value` in the year, straight from the table.
pub async fn ledger_sum(app: &TestApp, column: &str, value: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let row = app
        .db()
        .query_one_raw(sea_orm::Statement::from_string(
            app.db().get_database_backend(),
            format!(
                "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS s FROM ledger_entries \
                 WHERE {column} = '{value}' AND year = {}",
                this_year()
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "s").unwrap()
}

pub fn fen(v: &Value) -> i64 {
    let s = v.as_str().unwrap();
    let neg = s.starts_with('-');
    let (a, b) = s.trim_start_matches('-').split_once('.').unwrap();
    let n = a.parse::<i64>().unwrap() * 100 + b.parse::<i64>().unwrap();
    if neg {
        -n
    } else {
        n
    }
}

/// The buyer report of the year and the supervisor's units list both give each org's net
/// credit in fen as `expected` says (an org absent from the report has none).
pub async fn reports_and_units_agree(app: &TestApp, sup: &OrgUser, expected: &[(&str, i64)]) {
    let y = this_year();
    let report = app
        .get(
            &format!("/reports/summary?year={y}&group_by=buyer"),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    let units = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    for (org, fen_) in expected {
        let rows = report.json["rows"].as_array().unwrap();
        let row = rows.iter().find(|r| r["key"] == *org);
        assert_eq!(row.map_or(0, |r| fen(&r["total"])), *fen_, "{}", report.text);
        assert_eq!(fen(&json!(units.unit_credited(org))), *fen_, "{}", units.text);
    }
}

fn county<'a>(page: &'a Value, code: &str) -> Option<&'a Value> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["region_code"] == code)
}

#[tokio::test]
async fn the_counties_list_gives_each_poverty_countys_listings_and_sales_in_scope() {
    let app = spawn_app().await;
    let y = this_year();
    let here = app.create_org("finance_office", YANGYUAN).await;
    let next = app.create_org("finance_office", PINGQUAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let other = app.create_org("family_farm", YANGYUAN).await;
    let buyer = app.create_org("school", CHANGAN).await;
    product(&app, &supplier.org_id, 1000, 1000, 0).await;
    product(&app, &supplier.org_id, 2000, 1000, 0).await;
    product(&app, &other.org_id, 3000, 1000, 0).await;
    // Not listed: an expired certification, a draft.
    crate::orders::product_with(&app, &other.org_id, 1000, 1000, 0, "certified", -1).await;
    crate::orders::product_with(&app, &other.org_id, 1000, 1000, 0, "draft", 365).await;
    credit(&app, &buyer.org_id, &supplier.org_id, 12_345).await;
    credit(&app, &buyer.org_id, &other.org_id, 655).await;
    let path = format!("/supervision/{y}/counties");
    let r = app.get(&path, here.t()).await.expect(200);
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", r.text);
    let c = &items[0];
    assert_eq!(c["region_code"], YANGYUAN);
    assert_eq!(c["poverty_status"], "deep_poverty");
    assert_eq!(c["certified_products"], 3);
    assert_eq!(c["suppliers_active"], 2);
    assert_eq!(c["no_certified_product"], false);
    assert_eq!(fen(&c["credited"]), 13_000);
    assert_eq!(
        fen(&c["credited"]),
        ledger_sum(&app, "origin_county_code", YANGYUAN).await
    );
    assert_eq!(c["entries"], 2);
    // The next county's supervisor sees its own county only, with zeros.
    let r = app.get(&path, next.t()).await.expect(200);
    assert!(county(&r.json, YANGYUAN).is_none(), "{}", r.text);
    let p = county(&r.json, PINGQUAN).unwrap();
    assert_eq!(p["certified_products"], 0);
    assert_eq!(p["suppliers_active"], 0);
    assert_eq!(p["credited"], "0.00");
    assert_eq!(p["no_certified_product"], true);
    // A suspended supplier's products leave the count.
    app.post(
        &format!("/organizations/{}/suspend", other.org_id),
        Some(&app.admin_token),
        json!({"reason": "test"}),
    )
    .await
    .expect(200);
    let r = app.get(&path, here.t()).await.expect(200);
    assert_eq!(r.json["items"][0]["certified_products"], 2);
    assert_eq!(r.json["items"][0]["suppliers_active"], 1);
    // Admin and evaluators see every poverty county, paged by code with a Link.
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let all = app.get(&format!("{path}?limit=200"), ev.t()).await.expect(200);
    let n = all.json["items"].as_array().unwrap().len();
    assert!(n >= 3, "{}", all.text);
    assert!(county(&all.json, CHANGAN).is_none(), "not a poverty county");
    let first = app
        .get(&format!("{path}?limit=1"), Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(first.json["items"].as_array().unwrap().len(), 1);
    let link = first.header("link").expect("a Link to the next page");
    assert!(link.contains("rel=\"next\""), "{link}");
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!("{path}?limit=1&cursor={cursor}"), Some(&app.admin_token))
        .await
        .expect(200);
    assert!(second.json["items"][0]["region_code"].as_str() > first.json["items"][0]["region_code"].as_str());
    // A region filter narrows within the caller's; outside it is refused naming it.
    let r = app
        .get(&format!("{path}?region={YANGYUAN}"), Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("{path}?region={PINGQUAN}"), here.t()).await.fields(),
        ["region"]
    );
    // Bad year, format, limit: named.
    let r = app.get("/supervision/1999/counties", here.t()).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.fields(), ["year"]);
    let r = app.get(&format!("{path}?format=pdf"), here.t()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.fields(), ["format"]);
    let r = app.get(&format!("{path}?limit=0"), here.t()).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.fields(), ["limit"]);
    // Buyers and suppliers are refused, whatever the query.
    app.get(&path, buyer.t()).await.problem(403);
    app.get(&format!("{path}?format=pdf"), supplier.t()).await.problem(403);
    // Spreadsheets of the whole scope.
    let csv = app.get(&format!("{path}?format=csv"), here.t()).await.expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        csv.text.contains("在售认证产品数") && csv.text.contains(YANGYUAN),
        "{}",
        csv.text
    );
    let x = app.get(&format!("{path}?format=xlsx"), here.t()).await.expect(200);
    assert!(x.header("content-type").unwrap().contains("spreadsheetml"));
}

#[tokio::test]
async fn a_shared_canteens_credit_is_split_in_the_ledger_by_the_members_shares() {
    let app = spawn_app().await;
    let crate::supervision_corrections::Canteen {
        sup,
        lead,
        m1,
        m2,
        supplier,
        ..
    } = crate::supervision_corrections::canteen(&app).await;
    let product = product(&app, &supplier.org_id, 1250, 1_000, 1_000_000).await;
    let w = World {
        app,
        buyer: lead,
        supplier,
        product,
    };
    // 10.001 kg at 12.50: 125.01 (12,501 fen, 10,001 thousandths).
    let (order, so) = delivered_so(&w, "10.001").await;
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    w.app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "10.001"}], "invoice_number": "INV-1"}),
        )
        .await
        .expect(200);
    let app = &w.app;
    let amounts = [
        ledger_sum(app, "buyer_org_id", &m1.org_id).await,
        ledger_sum(app, "buyer_org_id", &m2.org_id).await,
        ledger_sum(app, "buyer_org_id", &w.buyer.org_id).await,
    ];
    // Largest remainder: 4166.99 and 4166.99 round up, the lead's 4167.008 down.
    assert_eq!(amounts, [4167, 4167, 4167]);
    assert_eq!(amounts.iter().sum::<i64>(), 12_501);
    assert_eq!(ledger_sum(app, "supplier_order_id", &so).await, 12_501);
    let l = app
        .get(&format!("/ledger?buyer={}", m1.org_id), Some(&app.admin_token))
        .await
        .expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 1, "one entry per member");
    assert_eq!(l.json["items"][0]["quantity"], "3.334");
    // Reports and supervision read the same ledger: nothing is split twice.
    reports_and_units_agree(
        app,
        &sup,
        &[(&m1.org_id, 4167), (&m2.org_id, 4167), (&w.buyer.org_id, 4167)],
    )
    .await;
    // A return is split the same way: the lead's canteen gives back 1 kg (12.50).
    app.post(
        &format!("/supplier-orders/{so}/returns"),
        w.buyer.t(),
        json!({"lines": [{"line_id": line, "quantity": "1"}], "reason": "spoiled"}),
    )
    .await
    .expect(201);
    assert_eq!(ledger_sum(app, "supplier_order_id", &so).await, 12_501 - 1250);
    // 1250 fen in proportion to what each holds (4167 fen each), by largest remainder with
    // ties to the part credited first: the members 417 each, the lead 416.
    assert_eq!(ledger_sum(app, "buyer_org_id", &m1.org_id).await, 4167 - 417);
    assert_eq!(ledger_sum(app, "buyer_org_id", &m2.org_id).await, 4167 - 417);
    assert_eq!(ledger_sum(app, "buyer_org_id", &w.buyer.org_id).await, 4167 - 416);
    let returns = app
        .get(&format!("/supplier-orders/{so}/returns"), w.buyer.t())
        .await
        .expect(200);
    assert_eq!(returns.json["items"].as_array().unwrap().len(), 1, "{}", returns.text);
    // The lead's plan drops its members; returning the rest still takes each holder's credit
    // back, to zero exactly, and nothing lands on the lead alone.
    app.send(
        app.client
            .put(app.url(&format!("/buyers/{}/plans/{}", w.buyer.org_id, this_year())))
            .bearer_auth(&w.buyer.token)
            .header("If-Match", "*")
            .json(&json!({"food_budget": "100000.00", "reserved_share": "0.3",
                          "amendment_reason": "the members eat elsewhere now"})),
    )
    .await
    .expect(200);
    app.post(
        &format!("/supplier-orders/{so}/returns"),
        w.buyer.t(),
        json!({"lines": [{"line_id": line, "quantity": "9.001"}], "reason": "spoiled"}),
    )
    .await
    .expect(201);
    for org in [&m1.org_id, &m2.org_id, &w.buyer.org_id] {
        assert_eq!(ledger_sum(app, "buyer_org_id", org).await, 0, "{org}");
    }
}

#[tokio::test]
async fn demo_plans_have_their_history_like_real_ones() {
    let app = spawn_app().await;
    assist_market::services::demo::seed(&app.state).await.unwrap();
    assist_market::services::demo::seed(&app.state).await.unwrap();
    let y = this_year();
    let pw = assist_market::services::demo::DEMO_PASSWORD;
    for (email, actions, status) in [
        (
            "buyer.school@demo.assist",
            vec!["saved", "filed", "approved"],
            "approved",
        ),
        (
            "buyer.lingshou@demo.assist",
            vec!["saved", "filed", "returned"],
            "returned",
        ),
        ("buyer.hospital@demo.assist", vec!["saved", "filed"], "filed"),
        ("buyer.lingshou.gov@demo.assist", vec!["saved"], "draft"),
    ] {
        let tok = app.login(email, pw).await;
        let org = app.get("/me", Some(&tok)).await.expect(200).json["organization"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let plan = app
            .get(&format!("/buyers/{org}/plans/{y}"), Some(&tok))
            .await
            .expect(200);
        assert_eq!(plan.json["status"], status);
        let h = app
            .get(&format!("/buyers/{org}/plans/{y}/history"), Some(&tok))
            .await
            .expect(200);
        let items = h.json["items"].as_array().unwrap();
        let got: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(got, actions, "{email}: {}", h.text);
        let last = items.last().unwrap();
        assert_eq!(last["status"], status);
        assert_eq!(last["version"], plan.json["version"], "{}", plan.text);
        assert_eq!(last["snapshot"]["status"], status);
        if status == "returned" {
            assert!(last["reason"].as_str().is_some_and(|r| !r.is_empty()));
            assert_ne!(last["by_org_id"], org.as_str(), "returned by the supervisor");
        }
    }
}
