//! Fraud signals: each raised on a seeded case and not on a near miss; confirming reverses the
//! named entries out of the totals; dismissing; the supervisor's scope; roles; idempotent re-runs.
use crate::helpers::*;
use assist_market::services::ledger::{self, NewEntry};
use serde_json::{json, Value};

const LINGSHOU: &str = "130126";

fn this_year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now().date_naive())
}

/// A grain credit of `product` through the real append path, with well-formed ids.
pub async fn credit_of(
    app: &TestApp,
    buyer: &str,
    supplier: &str,
    product: &str,
    qty_milli: i64,
    amount_fen: i64,
) -> entity::ledger_entries::Model {
    let e = grain_entry(buyer, supplier, product, qty_milli, amount_fen);
    ledger::append(app.db(), e).await.expect("append")
}

/// A grain credit of `product` from Yangyuan, with fresh order and line ids.
pub fn grain_entry(buyer: &str, supplier: &str, product: &str, qty_milli: i64, amount_fen: i64) -> NewEntry {
    let id = || uuid::Uuid::now_v7().to_string();
    NewEntry {
        buyer_org_id: buyer.into(),
        supplier_org_id: supplier.into(),
        product_id: product.into(),
        category: "grain".into(),
        supplier_order_id: id(),
        order_line_id: id(),
        origin_region_code: YANGYUAN.into(),
        origin_county_code: YANGYUAN.into(),
        origin_poverty_status: "deep_poverty".into(),
        quantity_milli: qty_milli,
        amount_fen,
        kind: "credit".into(),
        credit_category: "purchase".into(),
        pairing_id: None,
    }
}

async fn credit(app: &TestApp, buyer: &str, supplier: &str, product: &str, qty_milli: i64, amount_fen: i64) -> String {
    credit_of(app, buyer, supplier, product, qty_milli, amount_fen).await.id
}

pub async fn scan(app: &TestApp, full: bool) -> Value {
    app.post(&format!("/flags/scan?full={full}"), Some(&app.admin_token), json!({}))
        .await
        .expect(200)
        .json
}

pub async fn flags(app: &TestApp, who: Option<&str>, query: &str) -> Vec<Value> {
    app.get(&format!("/flags?limit=200{query}"), who).await.expect(200).json["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn names(f: &Value, entry: &str) -> bool {
    f["evidence"]["entry_ids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == entry)
}

#[tokio::test]
async fn price_outliers_are_raised_confirmed_by_reversal_and_dismissed_in_scope() {
    let app = spawn_app().await;
    let y = this_year();
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let sup = app.create_org("finance_office", CHANGAN).await;
    let other = app.create_org("finance_office", LINGSHOU).await;
    let school = app.create_org("school", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    // Certified grain per kg at 8.00, 10.00 and 12.00: the median is 10.00.
    let mut products = Vec::new();
    for price in [800, 1000, 1200] {
        let mut row = ProductRow::certified(&supplier.org_id);
        row.price_fen = price;
        products.push(row.insert(&app).await);
    }
    let p = &products[1];
    let cheap = credit(&app, &school.org_id, &supplier.org_id, p, 2000, 799).await; // 4.00/kg: 40 %
    let at_half = credit(&app, &school.org_id, &supplier.org_id, p, 2000, 1000).await; // 5.00: 50 %, a near miss
    let at_double = credit(&app, &school.org_id, &supplier.org_id, p, 1000, 2000).await; // 20.00: 200 %
    let dear = credit(&app, &school.org_id, &supplier.org_id, p, 1000, 2001).await; // 20.01: above
    let s = scan(&app, false).await;
    assert_eq!(s["raised"], 2, "{s}");
    let all = flags(&app, evaluator.t(), "&kind=price_outlier").await;
    assert_eq!(all.len(), 2);
    let low = all
        .iter()
        .find(|f| names(f, &cheap))
        .expect("the cheap line is flagged");
    let high = all.iter().find(|f| names(f, &dear)).expect("the dear line is flagged");
    assert!(!all.iter().any(|f| names(f, &at_half) || names(f, &at_double)));
    assert_eq!(low["evidence"]["median_price"], "10");
    assert_eq!(low["evidence"]["unit_price"], "4.00");
    assert_eq!(low["state"], "open");
    // A re-run, incremental or full, raises nothing new.
    assert_eq!(scan(&app, false).await["raised"], 0);
    assert_eq!(scan(&app, true).await["raised"], 0);
    assert_eq!(flags(&app, evaluator.t(), "").await.len(), 2);

    // Who may see and decide.
    app.get("/flags", school.t()).await.problem(403);
    app.get("/flags", supplier.t()).await.problem(403);
    assert_eq!(flags(&app, sup.t(), "").await.len(), 2);
    assert!(flags(&app, other.t(), "").await.is_empty());
    let low_id = low["id"].as_str().unwrap();
    let high_id = high["id"].as_str().unwrap();
    app.get(&format!("/flags/{low_id}"), other.t()).await.problem(404);
    let note = json!({"note": "priced below cost to buy credit"});
    app.post(&format!("/flags/{low_id}/dismiss"), other.t(), note.clone())
        .await
        .problem(404);
    app.post(&format!("/flags/{low_id}/confirm"), school.t(), note.clone())
        .await
        .problem(403);
    app.post(
        &format!("/flags/{low_id}/confirm"),
        Some(&app.admin_token),
        note.clone(),
    )
    .await
    .problem(403);
    let p422 = app
        .post(&format!("/flags/{low_id}/confirm"), evaluator.t(), json!({}))
        .await;
    assert_eq!(p422.fields(), ["note"]);
    let p422 = app
        .post(
            &format!("/flags/{low_id}/confirm"),
            evaluator.t(),
            json!({"note": "  "}),
        )
        .await;
    assert_eq!(p422.fields(), ["note"]);
    assert_eq!(
        app.get(&format!("/flags/{low_id}"), evaluator.t())
            .await
            .expect(200)
            .json["state"],
        "open"
    );

    // Confirming takes exactly the named entry out of the totals, by a reversal linked to the flag.
    let before = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    assert_eq!(before.unit_credited(&school.org_id), "58.00");
    let c = app
        .post(&format!("/flags/{low_id}/confirm"), evaluator.t(), note.clone())
        .await
        .expect(200);
    assert_eq!(c.json["state"], "confirmed");
    assert_eq!(c.json["note"], "priced below cost to buy credit");
    assert_eq!(c.json["reversals"][0]["entry_id"], cheap.as_str());
    assert_eq!(c.json["reversals"][0]["amount"], "7.99");
    assert_eq!(c.json["reversals"][0]["reason"], "priced below cost to buy credit");
    // The list carries each flag's reversals as the flag does (read for all the page at once).
    let listed = app.get("/flags?limit=200", evaluator.t()).await.expect(200);
    let same = listed.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == c.json["id"])
        .cloned();
    assert_eq!(same.expect("listed")["reversals"], c.json["reversals"]);
    let after = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    assert_eq!(after.unit_credited(&school.org_id), "50.01");
    app.post(&format!("/flags/{low_id}/confirm"), evaluator.t(), note.clone())
        .await
        .problem(409);
    app.post(&format!("/flags/{low_id}/dismiss"), evaluator.t(), note.clone())
        .await
        .problem(409);
    // The reversal raises no flag of its own, and the original entry is still in the ledger.
    assert_eq!(scan(&app, false).await["raised"], 0);
    let l = app.get("/ledger?limit=200", Some(&app.admin_token)).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 5);

    // The supervisor of the buyer's region dismisses the other; nothing is reversed.
    let d = app
        .post(
            &format!("/flags/{high_id}/dismiss"),
            sup.t(),
            json!({"note": "=HYPERLINK(\"https://evil.example/\",\"organic millet\")"}),
        )
        .await
        .expect(200);
    assert_eq!(d.json["state"], "dismissed");
    assert!(d.json["reversals"].as_array().unwrap().is_empty());
    let after = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    assert_eq!(after.unit_credited(&school.org_id), "50.01");
    assert_eq!(flags(&app, evaluator.t(), "&state=dismissed").await.len(), 1);
    assert_eq!(
        flags(&app, evaluator.t(), &format!("&state=open&year={y}")).await.len(),
        0
    );
    app.get("/flags?kind=nonsense", evaluator.t()).await.problem(400);

    // Spreadsheets.
    let csv = app.get("/flags?format=csv", evaluator.t()).await.expect(200);
    assert_eq!(csv.text.lines().count(), 3, "{}", csv.text);
    // The supervisor's note is text in the evaluator's spreadsheet, never a formula.
    assert!(csv.text.contains(",\"'=HYPERLINK("), "{}", csv.text);
    assert_eq!(
        d.json["note"],
        "=HYPERLINK(\"https://evil.example/\",\"organic millet\")"
    );
    let xlsx = app.get("/flags?format=xlsx", evaluator.t()).await.expect(200);
    assert!(xlsx.header("content-type").unwrap().contains("spreadsheetml"));
}

#[tokio::test]
async fn related_parties_share_a_representative_or_a_phone() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let twin = app.create_org("cooperative", YANGYUAN).await;
    let phone_twin = app.create_org("cooperative", YANGYUAN).await;
    let stranger = app.create_org("cooperative", YANGYUAN).await;
    let patch = |id: &str, body: Value| {
        let path = format!("/organizations/{id}");
        let app = &app;
        async move {
            app.send(
                app.client
                    .patch(app.url(&path))
                    .bearer_auth(&app.admin_token)
                    .header("If-Match", "*")
                    .json(&body),
            )
            .await
        }
    };
    patch(
        &buyer.org_id,
        json!({"legal_representative": "张伟", "contact_phone": "0311-1234567"}),
    )
    .await
    .expect(200);
    patch(&twin.org_id, json!({"legal_representative": " 张伟 "}))
        .await
        .expect(200);
    patch(&phone_twin.org_id, json!({"contact_phone": "0311-1234567"}))
        .await
        .expect(200);
    patch(
        &stranger.org_id,
        json!({"legal_representative": "张伟伟", "contact_phone": "0311-7654321"}),
    )
    .await
    .expect(200);
    let long = "x".repeat(101);
    let r = patch(&stranger.org_id, json!({"legal_representative": long})).await;
    assert_eq!(r.fields(), ["legal_representative"]);
    let p = ProductRow::certified(&twin.org_id).insert(&app).await;
    let e1 = credit(&app, &buyer.org_id, &twin.org_id, &p, 1000, 1000).await;
    let e2 = credit(&app, &buyer.org_id, &phone_twin.org_id, &p, 1000, 1000).await;
    credit(&app, &buyer.org_id, &stranger.org_id, &p, 1000, 1000).await;
    assert_eq!(scan(&app, false).await["raised"], 2);
    let all = flags(&app, evaluator.t(), "&kind=related_parties").await;
    assert_eq!(all.len(), 2);
    let rep = all
        .iter()
        .find(|f| f["supplier_org_id"] == twin.org_id.as_str())
        .unwrap();
    assert!(names(rep, &e1));
    assert_eq!(rep["evidence"]["shared"][0]["legal_representative"], "张伟");
    let phone = all
        .iter()
        .find(|f| f["supplier_org_id"] == phone_twin.org_id.as_str())
        .unwrap();
    assert!(names(phone, &e2));
    assert_eq!(phone["evidence"]["shared"][0]["contact_phone"], "0311-1234567");
    // A new entry of a flagged pair raises nothing new.
    credit(&app, &buyer.org_id, &twin.org_id, &p, 1000, 1000).await;
    assert_eq!(scan(&app, false).await["raised"], 0);
}

#[tokio::test]
async fn a_year_end_spike_is_more_than_half_the_target_in_the_last_30_days() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let spiky = app.create_org("canteen", CHANGAN).await;
    let steady = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = ProductRow::certified(&supplier.org_id).insert(&app).await;
    let last = this_year() - 1;
    for buyer in [&spiky, &steady] {
        app.put(
            &format!("/buyers/{}/quotas/{last}", buyer.org_id),
            Some(&app.admin_token),
            json!({"food_budget": "1000.00", "reserved_share": "0.1"}),
        )
        .await
        .expect(201);
    }
    // Target 100.00: 50.01 in December is a spike; 50.00 (and more earlier in the year) is not.
    let dates = [
        (&spiky, 5001, format!("{last}-12-05T10:00:00Z")),
        (&spiky, 3000, format!("{last}-06-05T10:00:00Z")),
        (&steady, 5000, format!("{last}-12-31T10:00:00Z")),
        (&steady, 9000, format!("{last}-12-01T23:00:00Z")),
    ];
    let mut ids = Vec::new();
    for (b, amount, _) in &dates {
        ids.push(credit(&app, &b.org_id, &supplier.org_id, &p, 1000, *amount).await);
    }
    app.lift_append_only("ledger_entries").await;
    for (id, (_, _, at)) in ids.iter().zip(&dates) {
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&chrono::Utc);
        use sea_orm::sea_query::Expr;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::ledger_entries::Entity::update_many()
            .col_expr(entity::ledger_entries::Column::OccurredAt, Expr::value(at))
            .col_expr(entity::ledger_entries::Column::Year, Expr::value(last))
            .col_expr(
                entity::ledger_entries::Column::Month,
                Expr::value(chrono::Datelike::month(&at) as i32),
            )
            .filter(entity::ledger_entries::Column::Id.eq(id.clone()))
            .exec(app.db())
            .await
            .unwrap();
    }
    scan(&app, true).await;
    let all = flags(&app, evaluator.t(), "&kind=year_end_spike").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["buyer_org_id"], spiky.org_id.as_str());
    assert_eq!(all[0]["year"], last);
    assert_eq!(all[0]["evidence"]["window_amount"], "50.01");
    assert_eq!(all[0]["evidence"]["target"], "100.00");
    assert!(names(&all[0], &ids[0]) && !names(&all[0], &ids[1]));
}
