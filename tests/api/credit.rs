//! Credit: quotas with children and reversals, pairings and their progress,
//! yearly reconciliations (lifecycle, refusals, adjustments after lock), and the
//! evaluator refused on every write route.
use crate::helpers::*;
use assist_market::services::ledger::{self, NewEntry};
use chrono::Datelike;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

pub fn this_year() -> i32 {
    chrono::Utc::now().year()
}

/// A ledger entry through the real append path. `amount_fen` is signed (reversals negative).
#[allow(clippy::too_many_arguments)]
pub async fn append(
    app: &TestApp,
    buyer: &str,
    supplier: &str,
    county: &str,
    status: &str,
    category: &str,
    amount_fen: i64,
    line: Option<&str>,
) -> entity::ledger_entries::Model {
    let kind = if amount_fen < 0 { "reversal" } else { "credit" };
    // Uuids like every stored id, so that listings can read the entry back.
    let line = line
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    ledger::append(
        app.db(),
        NewEntry {
            buyer_org_id: buyer.into(),
            supplier_org_id: supplier.into(),
            product_id: supplier.to_string(),
            category: "grain".into(),
            supplier_order_id: uuid::Uuid::now_v7().to_string(),
            order_line_id: line,
            origin_region_code: county.into(),
            origin_county_code: county.into(),
            origin_poverty_status: status.into(),
            quantity_milli: if amount_fen < 0 { -1000 } else { 1000 },
            amount_fen,
            kind: kind.into(),
            credit_category: category.into(),
            pairing_id: None,
        },
    )
    .await
    .expect("append")
}

/// Edits the entry at `seq` (tamper test): lifts the append-only trigger, edits the amount.
pub async fn tamper(app: &TestApp, seq: i64) {
    app.sequence().await;
    app.lift_append_only("ledger_entries").await;
    app.db()
        .execute_unprepared(&format!(
            "UPDATE ledger_entries SET amount_fen = amount_fen + 1 \
             WHERE id = (SELECT entry_id FROM ledger_positions WHERE seq = {seq})"
        ))
        .await
        .unwrap();
}

pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[tokio::test]
async fn quota_progress_counts_children_and_reversals() {
    let app = spawn_app().await;
    let y = this_year();
    let parent = app.create_org("government", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let other = app.create_org("school", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;

    let q = app
        .put(
            &format!("/buyers/{}/quotas/{y}", parent.org_id),
            parent.t(),
            json!({"food_budget": "1000000.00", "reserved_share": "0.3"}),
        )
        .await
        .expect(201);
    assert_eq!(q.json["target"], "300000.00");
    assert_eq!(q.json["credited"], "0.00");
    assert_eq!(q.json["reserved_share"], "0.3");
    assert_eq!(q.header("etag").as_deref(), Some("\"1\""));

    append(
        &app,
        &parent.org_id,
        &supplier.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        100_000,
        None,
    )
    .await;
    let credit = append(
        &app,
        &child.org_id,
        &supplier.org_id,
        PINGQUAN,
        "poverty",
        "helped_sale",
        50_000,
        None,
    )
    .await;
    append(
        &app,
        &other.org_id,
        &supplier.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        999_900,
        None,
    )
    .await;
    // A return of part of the child's delivery.
    append(
        &app,
        &child.org_id,
        &supplier.org_id,
        PINGQUAN,
        "poverty",
        "helped_sale",
        -20_000,
        Some(&credit.order_line_id),
    )
    .await;

    let q = app
        .get(&format!("/buyers/{}/quotas/{y}", parent.org_id), parent.t())
        .await
        .expect(200);
    assert_eq!(q.json["credited"], "1300.00", "{}", q.text);
    assert_eq!(q.json["progress"], "0.0043");
    assert_eq!(q.json["shortfall"], "298700.00");
    assert_eq!(q.json["behind_pace"], true);
    assert_eq!(q.json["buyer_org_id"], parent.org_id.as_str());
    assert_eq!(q.json["year"], y);
    let expected: f64 = s(&q.json["expected_by_today"]).parse().unwrap();
    let frac: f64 = s(&q.json["elapsed_fraction"]).parse().unwrap();
    assert!((expected - 300000.0 * frac).abs() < 30.0 + 1.0, "{expected} vs {frac}");

    // The same figures for admin and evaluators; the parent may read the child's quota, not the reverse.
    app.get(&format!("/buyers/{}/quotas/{y}", parent.org_id), Some(&app.admin_token))
        .await
        .expect(200);
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let r = app
        .get(&format!("/buyers/{}/quotas/{y}", parent.org_id), ev.t())
        .await
        .expect(200);
    assert_eq!(r.json["credited"], "1300.00");
    app.get(&format!("/buyers/{}/quotas/{y}", parent.org_id), child.t())
        .await
        .problem(404);
    app.get(&format!("/buyers/{}/quotas/{y}", parent.org_id), other.t())
        .await
        .problem(404);
    app.get(&format!("/buyers/{}/quotas/{y}", child.org_id), parent.t())
        .await
        .problem(404); // no quota yet
    app.put(
        &format!("/buyers/{}/quotas/{y}", child.org_id),
        child.t(),
        json!({"food_budget": "1000.00", "reserved_share": "0.5"}),
    )
    .await
    .expect(201);
    let cq = app
        .get(&format!("/buyers/{}/quotas/{y}", child.org_id), parent.t())
        .await
        .expect(200);
    assert_eq!(cq.json["credited"], "300.00");
    assert_eq!(cq.json["progress"], "0.6000");
    app.put(
        &format!("/buyers/{}/quotas/{y}", parent.org_id),
        other.t(),
        json!({"food_budget": "1.00", "reserved_share": "0.5"}),
    )
    .await
    .problem(404);
    app.get(&format!("/buyers/{}/quotas/{y}", parent.org_id), supplier.t())
        .await
        .problem(403);

    // A past year is entirely elapsed; a future one not begun.
    let past = app
        .put(
            &format!("/buyers/{}/quotas/{}", parent.org_id, y - 1),
            parent.t(),
            json!({"food_budget": "100.00", "reserved_share": "0.1"}),
        )
        .await
        .expect(201);
    assert_eq!(past.json["credited"], "0.00");
    assert_eq!(past.json["behind_pace"], true);
    assert_eq!(past.json["expected_by_today"], "10.00");
    let fut = app
        .put(
            &format!("/buyers/{}/quotas/{}", parent.org_id, y + 1),
            parent.t(),
            json!({"food_budget": "100.00", "reserved_share": "0.1"}),
        )
        .await
        .expect(201);
    assert_eq!(fut.json["behind_pace"], false);
    assert_eq!(fut.json["expected_by_today"], "0.00");
}

#[tokio::test]
async fn quota_validation_floor_and_if_match() {
    let app = spawn_app().await;
    let y = this_year();
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let path = format!("/buyers/{}/quotas/{y}", buyer.org_id);

    let p = app
        .put(
            &path,
            buyer.t(),
            json!({"food_budget": "1000.00", "reserved_share": "0.05"}),
        )
        .await
        .problem(422);
    assert!(p["detail"].as_str().unwrap().contains("at least 0.1"), "{p}");
    let r = app
        .put(&path, buyer.t(), json!({"food_budget": "-1", "reserved_share": "1.5"}))
        .await;
    assert_eq!(r.fields(), vec!["food_budget", "reserved_share"]);
    r.problem(422);
    let r = app
        .put(&path, buyer.t(), json!({"food_budget": "0", "reserved_share": "0.2"}))
        .await;
    assert_eq!(r.fields(), vec!["food_budget"]);
    let r = app
        .put(
            &path,
            buyer.t(),
            json!({"food_budget": "1.001", "reserved_share": "0.2"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["food_budget"]);
    let r = app.put(&path, buyer.t(), json!({"food_budget": "10.00"})).await;
    r.problem(422);
    let r = app
        .put(
            &format!("/buyers/{}/quotas/1800", buyer.org_id),
            buyer.t(),
            json!({"food_budget": "10.00", "reserved_share": "0.2"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["year"]);
    // Nothing was written.
    app.get(&path, buyer.t()).await.problem(404);
    // Not a buyer organisation.
    app.put(
        &format!("/buyers/{}/quotas/{y}", supplier.org_id),
        Some(&app.admin_token),
        json!({"food_budget": "10.00", "reserved_share": "0.2"}),
    )
    .await
    .problem(404);

    // The admin lowers the floor for the year.
    app.put(&format!("/quota-floors/{y}"), buyer.t(), json!({"min_share": "0.05"}))
        .await
        .problem(403);
    let r = app
        .put(
            &format!("/quota-floors/{y}"),
            Some(&app.admin_token),
            json!({"min_share": "2"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["min_share"]);
    let f = app
        .put(
            &format!("/quota-floors/{y}"),
            Some(&app.admin_token),
            json!({"min_share": "0.05"}),
        )
        .await
        .expect(200);
    assert_eq!(f.json["min_share"], "0.05");
    let f = app.get(&format!("/quota-floors/{y}"), buyer.t()).await.expect(200);
    assert_eq!(f.json["is_default"], false);
    let f = app
        .get(&format!("/quota-floors/{}", y + 1), buyer.t())
        .await
        .expect(200);
    assert_eq!(f.json["min_share"], "0.1");
    assert_eq!(f.json["is_default"], true);

    // Exact target: 100.01 × 0.333333 = 33.3366... -> 33.34.
    let q = app
        .put(
            &path,
            buyer.t(),
            json!({"food_budget": "100.01", "reserved_share": "0.333333"}),
        )
        .await
        .expect(201);
    assert_eq!(q.json["target"], "33.34");
    // Replace: If-Match required (428 without), then 200 and a new version.
    app.put(
        &path,
        Some(&app.admin_token),
        json!({"food_budget": "2000.00", "reserved_share": "0.3"}),
    )
    .await
    .problem(428);
    let q = app
        .send(
            app.client
                .put(app.url(&path))
                .bearer_auth(&app.admin_token)
                .header("If-Match", "\"1\"")
                .json(&json!({"food_budget": "2000.00", "reserved_share": "0.3"})),
        )
        .await
        .expect(200);
    assert_eq!(q.json["target"], "600.00");
    assert_eq!(q.json["version"], 2);
    let stale = app
        .send(
            app.client
                .put(app.url(&path))
                .bearer_auth(&buyer.token)
                .header("If-Match", "\"1\"")
                .json(&json!({"food_budget": "1.00", "reserved_share": "0.3"})),
        )
        .await;
    stale.problem(412);
    let fresh = app
        .send(
            app.client
                .put(app.url(&path))
                .bearer_auth(&buyer.token)
                .header("If-Match", "\"2\"")
                .json(&json!({"food_budget": "1000.00", "reserved_share": "0.3"})),
        )
        .await
        .expect(200);
    assert_eq!(fresh.json["target"], "300.00");
}

/// Creates a pairing of `helper` with YANGYUAN for this year.
pub async fn make_pairing(app: &TestApp, helper: &str, county: &str, kind: &str) -> Value {
    app.post(
        "/pairings",
        Some(&app.admin_token),
        json!({
            "kind": kind, "helper_org_id": helper, "helped_region_code": county,
            "year": this_year(), "purchase_target": "1000.00", "helped_sale_target": "500.00"
        }),
    )
    .await
    .expect(201)
    .json
}

#[tokio::test]
async fn pairing_progress_split_by_category_and_scoped() {
    let app = spawn_app().await;
    let helper = app.create_org("government", CHANGAN).await;
    let child = app.create_org_with("union", CHANGAN, Some(&helper.org_id)).await;
    let other = app.create_org("school", CHANGAN).await;
    let sup = app.create_org("cooperative", YANGYUAN).await;
    let county = app.create_org("county_office", YANGYUAN).await;
    let other_county = app.create_org("county_office", PINGQUAN).await;
    let ev = app.create_org("evaluation_office", CHANGAN).await;

    // Bad input: every field named, nothing written.
    let r = app
        .post(
            "/pairings",
            Some(&app.admin_token),
            json!({"kind": "friendly", "helper_org_id": sup.org_id, "helped_region_code": YANGYUAN_VILLAGE,
                   "year": 1999, "purchase_target": "-5", "helped_sale_target": "1.234"}),
        )
        .await;
    assert_eq!(
        r.fields(),
        vec![
            "kind",
            "helper_org_id",
            "helped_region_code",
            "year",
            "purchase_target",
            "helped_sale_target"
        ]
    );
    r.problem(422);
    let body = json!({"kind": "east_west", "helper_org_id": helper.org_id, "helped_region_code": YANGYUAN,
                      "year": this_year(), "purchase_target": "1", "helped_sale_target": "1"});
    app.post("/pairings", helper.t(), body.clone()).await.problem(403);
    app.post("/pairings", county.t(), body).await.problem(403);

    let p = make_pairing(&app, &helper.org_id, YANGYUAN, "east_west").await;
    let id = s(&p["id"]).to_string();
    assert_eq!(p["purchase_target"], "1000.00");
    assert_eq!(p["helped_region_name"].as_str().map(|n| !n.is_empty()), Some(true));
    // The same pairing twice: 409.
    app.post(
        "/pairings",
        Some(&app.admin_token),
        json!({"kind": "east_west", "helper_org_id": helper.org_id, "helped_region_code": YANGYUAN,
               "year": this_year(), "purchase_target": "1", "helped_sale_target": "1"}),
    )
    .await
    .problem(409);

    append(
        &app,
        &helper.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        10_000,
        None,
    )
    .await;
    let c = append(
        &app,
        &child.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        30_000,
        None,
    )
    .await;
    append(
        &app,
        &child.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "helped_sale",
        5_000,
        None,
    )
    .await;
    append(
        &app,
        &helper.org_id,
        &sup.org_id,
        PINGQUAN,
        "poverty",
        "purchase",
        70_000,
        None,
    )
    .await; // other county
    append(
        &app,
        &other.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        90_000,
        None,
    )
    .await; // other buyer
    append(
        &app,
        &child.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        -2_000,
        Some(&c.order_line_id),
    )
    .await;

    let pr = app
        .get(&format!("/pairings/{id}/progress"), helper.t())
        .await
        .expect(200);
    assert_eq!(pr.json["purchase"]["credited"], "380.00", "{}", pr.text);
    assert_eq!(pr.json["purchase"]["entries"], 3);
    assert_eq!(pr.json["purchase"]["target"], "1000.00");
    assert_eq!(pr.json["purchase"]["progress"], "0.3800");
    assert_eq!(pr.json["purchase"]["shortfall"], "620.00");
    assert_eq!(pr.json["helped_sale"]["credited"], "50.00");
    assert_eq!(pr.json["helped_sale"]["progress"], "0.1000");
    assert_eq!(pr.json["total"], "430.00");

    // Who sees it.
    for (who, status) in [
        (helper.t(), 200),
        (county.t(), 200),
        (ev.t(), 200),
        (Some(app.admin_token.as_str()), 200),
        (child.t(), 404),
        (other.t(), 404),
        (sup.t(), 404),
        (other_county.t(), 404),
    ] {
        assert_eq!(app.get(&format!("/pairings/{id}"), who).await.status.as_u16(), status);
        assert_eq!(
            app.get(&format!("/pairings/{id}/progress"), who).await.status.as_u16(),
            status
        );
    }
    let l = app.get("/pairings", county.t()).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 1);
    let l = app.get("/pairings", other_county.t()).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 0);
    let l = app.get("/pairings", other.t()).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 0);
    let l = app
        .get(&format!("/pairings?year={}", this_year()), ev.t())
        .await
        .expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 1);
    app.get("/pairings/nope", Some(&app.admin_token)).await.problem(404);
}

pub struct Fixture {
    pub app: TestApp,
    pub helper: OrgUser,
    pub child: OrgUser,
    pub county: OrgUser,
    pub sup: OrgUser,
    pub pairing: String,
}

pub async fn reconciliation_fixture() -> Fixture {
    let app = spawn_app().await;
    let helper = app.create_org("state_enterprise", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&helper.org_id)).await;
    let county = app.create_org("county_office", SHUNPING).await;
    let sup = app.create_org("cooperative", SHUNPING).await;
    let p = make_pairing(&app, &helper.org_id, SHUNPING, "paired_county").await;
    Fixture {
        pairing: s(&p["id"]).to_string(),
        app,
        helper,
        child,
        county,
        sup,
    }
}

#[tokio::test]
async fn reconciliation_lifecycle_with_every_refusal() {
    let Fixture {
        app,
        helper,
        child,
        county,
        sup,
        pairing,
    } = reconciliation_fixture().await;
    let other_buyer = app.create_org("hospital", CHANGAN).await;
    let other_county = app.create_org("county_office", YANGYUAN).await;
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let y = this_year();
    append(
        &app,
        &helper.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "purchase",
        120_000,
        None,
    )
    .await;
    append(
        &app,
        &child.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "helped_sale",
        34_500,
        None,
    )
    .await;
    append(
        &app,
        &other_buyer.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "purchase",
        1_000,
        None,
    )
    .await;
    let path = format!("/pairings/{pairing}/reconciliations");

    // Who may make a statement.
    app.post(&path, ev.t(), json!({"year": y})).await.problem(403);
    app.post(&path, sup.t(), json!({"year": y})).await.problem(403);
    app.post(&path, other_buyer.t(), json!({"year": y})).await.problem(404);
    app.post(&path, other_county.t(), json!({"year": y})).await.problem(404);
    let r = app.post(&path, helper.t(), json!({"year": y - 1})).await;
    assert_eq!(r.fields(), vec!["year"]);
    app.post(&path, helper.t(), json!({})).await.problem(422);

    let st = app.post(&path, helper.t(), json!({"year": y})).await.expect(201);
    let id = s(&st.json["id"]).to_string();
    assert!(st.header("location").unwrap().ends_with(&id));
    assert_eq!(st.json["status"], "pending");
    assert_eq!(st.json["purchase"], "1200.00");
    assert_eq!(st.json["helped_sale"], "345.00");
    assert_eq!(st.json["total"], "1545.00");
    assert_eq!(st.json["purchase_count"], 1);
    assert_eq!(st.json["helped_sale_count"], 1);
    assert_eq!(st.json["ledger"]["from_seq"], 1);
    assert_eq!(st.json["ledger"]["to_seq"], 3);
    let verify = ledger::verify(app.db(), None).await.unwrap();
    assert_eq!(st.json["ledger"]["head_hash"], verify.head_hash.as_str());
    assert_eq!(st.json["adjustments"]["count"], 0);
    assert_eq!(st.json["adjustments"]["total"], "0.00");

    // Third parties: admin and evaluators are not parties (403); other organisations do not see it (404).
    let c = format!("/reconciliations/{id}/confirm");
    app.post(&c, Some(&app.admin_token), json!({})).await.problem(403);
    app.post(&c, ev.t(), json!({})).await.problem(403);
    app.post(&c, sup.t(), json!({})).await.problem(403);
    app.post(&c, other_buyer.t(), json!({})).await.problem(404);
    app.post(&c, child.t(), json!({})).await.problem(404);
    app.post(&c, other_county.t(), json!({})).await.problem(404);
    app.post("/reconciliations/none/confirm", helper.t(), json!({}))
        .await
        .problem(404);

    let r = app.post(&c, helper.t(), json!({})).await.expect(200);
    assert_eq!(r.json["status"], "pending");
    assert!(r.json["helper_confirmed_at"].is_string());
    let p = app.post(&c, helper.t(), json!({})).await.problem(409);
    assert!(s(&p["detail"]).contains("already confirmed"), "{p}");
    let r = app.post(&c, county.t(), json!({})).await.expect(200);
    assert_eq!(r.json["status"], "locked");
    assert!(r.json["locked_at"].is_string());
    app.post(&c, county.t(), json!({})).await.problem(409);

    // Reading: both sides, admin, evaluators; not others.
    for (who, status) in [
        (helper.t(), 200),
        (county.t(), 200),
        (ev.t(), 200),
        (other_buyer.t(), 404),
        (other_county.t(), 404),
        (sup.t(), 404),
    ] {
        assert_eq!(
            app.get(&format!("/reconciliations/{id}"), who).await.status.as_u16(),
            status
        );
    }
    let l = app.get(&path, county.t()).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn reversal_after_lock_is_an_adjustment_on_the_next_statement() {
    let Fixture {
        app,
        helper,
        child,
        county,
        sup,
        pairing,
    } = reconciliation_fixture().await;
    let y = this_year();
    let credit = append(
        &app,
        &child.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "purchase",
        80_000,
        None,
    )
    .await;
    append(
        &app,
        &helper.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "helped_sale",
        20_000,
        None,
    )
    .await;
    let path = format!("/pairings/{pairing}/reconciliations");
    let first = app.post(&path, county.t(), json!({"year": y})).await.expect(201).json;
    let id = s(&first["id"]).to_string();
    app.post(&format!("/reconciliations/{id}/confirm"), county.t(), json!({}))
        .await
        .expect(200);
    app.post(&format!("/reconciliations/{id}/confirm"), helper.t(), json!({}))
        .await
        .expect(200);

    // A return after the lock.
    append(
        &app,
        &child.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "purchase",
        -15_000,
        Some(&credit.order_line_id),
    )
    .await;
    // An unrelated entry elsewhere does not count.
    append(
        &app,
        &child.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        -1_000,
        None,
    )
    .await;

    let locked = app
        .get(&format!("/reconciliations/{id}"), helper.t())
        .await
        .expect(200)
        .json;
    assert_eq!(locked["status"], "locked");
    for k in [
        "purchase",
        "helped_sale",
        "total",
        "ledger",
        "adjustments",
        "purchase_count",
    ] {
        assert_eq!(locked[k], first[k], "{k} of a locked statement changed");
    }

    let next = app.post(&path, helper.t(), json!({"year": y})).await.expect(201).json;
    assert_eq!(next["status"], "pending");
    assert_eq!(next["adjustments"]["after_reconciliation_id"], id.as_str());
    assert_eq!(
        next["adjustments"]["from_seq"],
        first["ledger"]["to_seq"].as_i64().unwrap() + 1
    );
    assert_eq!(next["adjustments"]["purchase"], "-150.00");
    assert_eq!(next["adjustments"]["helped_sale"], "0.00");
    assert_eq!(next["adjustments"]["total"], "-150.00");
    assert_eq!(next["adjustments"]["count"], 1);
    assert_eq!(next["purchase"], "650.00");
    assert_eq!(next["ledger"]["to_seq"], 4);
    let l = app.get(&path, helper.t()).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(l.json["items"][0]["id"], next["id"]);
}

#[tokio::test]
async fn superseded_and_tampered_statements_are_refused() {
    let Fixture {
        app,
        helper,
        county,
        sup,
        pairing,
        ..
    } = reconciliation_fixture().await;
    let y = this_year();
    append(
        &app,
        &helper.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "purchase",
        10_000,
        None,
    )
    .await;
    let path = format!("/pairings/{pairing}/reconciliations");
    let a = app.post(&path, helper.t(), json!({"year": y})).await.expect(201).json;
    let b = app
        .post(&path, Some(&app.admin_token), json!({"year": y}))
        .await
        .expect(201)
        .json;
    let a_now = app
        .get(&format!("/reconciliations/{}", s(&a["id"])), helper.t())
        .await
        .expect(200);
    assert_eq!(a_now.json["status"], "superseded");
    let p = app
        .post(
            &format!("/reconciliations/{}/confirm", s(&a["id"])),
            helper.t(),
            json!({}),
        )
        .await
        .problem(409);
    assert!(s(&p["detail"]).contains("superseded"));

    // The chain is altered after the statement was made: confirmation is refused.
    app.post(
        &format!("/reconciliations/{}/confirm", s(&b["id"])),
        helper.t(),
        json!({}),
    )
    .await
    .expect(200);
    tamper(&app, 1).await;
    let p = app
        .post(
            &format!("/reconciliations/{}/confirm", s(&b["id"])),
            county.t(),
            json!({}),
        )
        .await
        .problem(409);
    assert!(s(&p["detail"]).contains("no longer verifies"), "{p}");
    let still = app
        .get(&format!("/reconciliations/{}", s(&b["id"])), county.t())
        .await
        .expect(200);
    assert_eq!(still.json["status"], "pending");
    assert!(still.json["county_confirmed_at"].is_null());
    // And no new statement is made over a broken chain.
    let p = app.post(&path, helper.t(), json!({"year": y})).await.problem(409);
    assert!(s(&p["detail"]).contains("no longer verifies"), "{p}");
}

#[tokio::test]
async fn concurrent_confirmations_lock_exactly_once() {
    let Fixture {
        app,
        helper,
        county,
        sup,
        pairing,
        ..
    } = reconciliation_fixture().await;
    append(
        &app,
        &helper.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "purchase",
        10_000,
        None,
    )
    .await;
    let st = app
        .post(
            &format!("/pairings/{pairing}/reconciliations"),
            helper.t(),
            json!({"year": this_year()}),
        )
        .await
        .expect(201)
        .json;
    let c = format!("/reconciliations/{}/confirm", s(&st["id"]));
    let (a, b, a2, b2) = tokio::join!(
        app.post(&c, helper.t(), json!({})),
        app.post(&c, county.t(), json!({})),
        app.post(&c, helper.t(), json!({})),
        app.post(&c, county.t(), json!({})),
    );
    let mut codes = [
        a.status.as_u16(),
        b.status.as_u16(),
        a2.status.as_u16(),
        b2.status.as_u16(),
    ];
    codes.sort();
    assert_eq!(codes, [200, 200, 409, 409]);
    let r = app
        .get(&format!("/reconciliations/{}", s(&st["id"])), helper.t())
        .await
        .expect(200);
    assert_eq!(r.json["status"], "locked");
}

#[tokio::test]
async fn evaluator_is_refused_on_every_write_route() {
    let Fixture {
        app, helper, pairing, ..
    } = reconciliation_fixture().await;
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let y = this_year();
    let st = app
        .post(
            &format!("/pairings/{pairing}/reconciliations"),
            helper.t(),
            json!({"year": y}),
        )
        .await
        .expect(201)
        .json;
    let quota = json!({"food_budget": "100.00", "reserved_share": "0.3"});
    let rs = [
        app.put(&format!("/buyers/{}/quotas/{y}", helper.org_id), ev.t(), quota.clone())
            .await,
        app.put(&format!("/buyers/{}/quotas/{y}", ev.org_id), ev.t(), quota)
            .await,
        app.put(&format!("/quota-floors/{y}"), ev.t(), json!({"min_share": "0.05"}))
            .await,
        app.post(
            "/pairings",
            ev.t(),
            json!({"kind": "designated", "helper_org_id": helper.org_id, "helped_region_code": YANGYUAN,
                   "year": y, "purchase_target": "1", "helped_sale_target": "1"}),
        )
        .await,
        app.post(
            &format!("/pairings/{pairing}/reconciliations"),
            ev.t(),
            json!({"year": y}),
        )
        .await,
        app.post(&format!("/reconciliations/{}/confirm", s(&st["id"])), ev.t(), json!({}))
            .await,
    ];
    for r in rs {
        r.problem(403);
    }
    // Nothing was written.
    app.get(&format!("/buyers/{}/quotas/{y}", helper.org_id), helper.t())
        .await
        .problem(404);
    let f = app.get(&format!("/quota-floors/{y}"), ev.t()).await.expect(200);
    assert_eq!(f.json["is_default"], true);
    let l = app.get("/pairings", ev.t()).await.expect(200);
    assert_eq!(l.json["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn statements_made_at_once_leave_exactly_one_pending() {
    let Fixture {
        app,
        helper,
        county,
        sup,
        pairing,
        ..
    } = reconciliation_fixture().await;
    append(
        &app,
        &helper.org_id,
        &sup.org_id,
        SHUNPING,
        "poverty",
        "purchase",
        10_000,
        None,
    )
    .await;
    let path = format!("/pairings/{pairing}/reconciliations");
    let y = this_year();
    let (a, b, c) = tokio::join!(
        app.post(&path, helper.t(), json!({"year": y})),
        app.post(&path, county.t(), json!({"year": y})),
        app.post(&path, Some(&app.admin_token), json!({"year": y})),
    );
    for r in [&a, &b, &c] {
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    }
    let l = app.get(&path, helper.t()).await.expect(200);
    let items = l.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let pending: Vec<&Value> = items.iter().filter(|i| i["status"] == "pending").collect();
    assert_eq!(pending.len(), 1, "{items:#?}");
    // The newest one is the pending one.
    assert_eq!(pending[0]["id"], items[0]["id"]);
}

/// Amounts are strict decimal strings within their bound, shares fractions, ids uuids,
/// kinds values of their vocabulary: anything else is 422 naming the field (or
/// parameter), nothing is written and the service keeps serving.
#[tokio::test]
async fn amounts_shares_ids_and_kinds_are_typed_at_the_edge() {
    let app = spawn_app().await;
    let y = this_year();
    let buyer = app.create_org("canteen", CHANGAN).await;
    let path = format!("/buyers/{}/quotas/{y}", buyer.org_id);

    for bad in [
        json!("1e2"),
        json!(100),
        json!("99999999999999999"),
        json!("1_000"),
        json!("1.234"),
        json!("-1"),
        json!(" 12"),
        json!("100000000000.01"),
    ] {
        let r = app
            .put(&path, buyer.t(), json!({"food_budget": bad, "reserved_share": "0.3"}))
            .await;
        assert_eq!(r.fields(), vec!["food_budget"], "food_budget {bad}");
        r.problem(422);
    }
    for bad in [
        json!("1.5"),
        json!("2"),
        json!(0.3),
        json!("-0.1"),
        json!("0.1234567"),
        json!("30%"),
    ] {
        let r = app
            .put(
                &path,
                buyer.t(),
                json!({"food_budget": "1000.00", "reserved_share": bad}),
            )
            .await;
        assert_eq!(r.fields(), vec!["reserved_share"], "reserved_share {bad}");
        r.problem(422);
    }
    // Nothing was written.
    app.get(&path, buyer.t()).await.problem(404);

    // The bound itself is taken, and the target is exact: budget × share rounded half up.
    let q = app
        .put(
            &path,
            buyer.t(),
            json!({"food_budget": "100000000000.00", "reserved_share": "1"}),
        )
        .await
        .expect(201);
    assert_eq!(q.json["food_budget"], "100000000000.00");
    assert_eq!(q.json["reserved_share"], "1");
    assert_eq!(q.json["target"], "100000000000.00");
    assert_eq!(q.json["shortfall"], "100000000000.00");
    assert_eq!(q.json["progress"], "0.0000");
    let tag = q.header("etag").unwrap();
    let q = app
        .send(
            app.client
                .put(app.url(&path))
                .bearer_auth(buyer.t().unwrap())
                .header("If-Match", tag)
                .json(&json!({"food_budget": "0.05", "reserved_share": "0.3"})),
        )
        .await
        .expect(200);
    // 5 fen × 0.3 = 1.5 fen, rounded half up.
    assert_eq!(q.json["target"], "0.02");

    // Pairings: every refused field named at once.
    let helper = app.create_org("canteen", CHANGAN).await;
    let r = app
        .post(
            "/pairings",
            Some(&app.admin_token),
            json!({"kind": "EAST_WEST", "helper_org_id": "not-a-uuid", "helped_region_code": YANGYUAN,
                   "year": y, "purchase_target": "1e2", "helped_sale_target": 100}),
        )
        .await;
    assert_eq!(
        r.fields(),
        vec!["kind", "helper_org_id", "purchase_target", "helped_sale_target"]
    );
    r.problem(422);
    let r = app
        .post(
            "/pairings",
            Some(&app.admin_token),
            json!({"kind": "east_west", "helper_org_id": helper.org_id, "helped_region_code": YANGYUAN,
                   "year": y, "purchase_target": "99999999999999999", "helped_sale_target": "1"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["purchase_target"]);
    let none = app.get("/pairings", Some(&app.admin_token)).await.expect(200);
    assert_eq!(none.json["items"], json!([]), "nothing written");

    // Query parameters and path ids.
    let r = app.get("/pairings?kind=friendly", Some(&app.admin_token)).await;
    assert_eq!(r.fields(), vec!["kind"]);
    r.problem(400);
    let r = app.get("/pairings?year=twenty", Some(&app.admin_token)).await;
    assert_eq!(r.fields(), vec!["year"]);
    app.get("/pairings/not-a-uuid", Some(&app.admin_token))
        .await
        .problem(404);
    app.get("/pairings/not-a-uuid/progress", Some(&app.admin_token))
        .await
        .problem(404);
    app.get("/reconciliations/1", Some(&app.admin_token)).await.problem(404);
    app.get(&format!("/buyers/not-a-uuid/quotas/{y}"), buyer.t())
        .await
        .problem(404);

    // The floor is a share too.
    for bad in [json!("1.5"), json!(0.05), json!("1e-1")] {
        let r = app
            .put(
                &format!("/quota-floors/{y}"),
                Some(&app.admin_token),
                json!({"min_share": bad}),
            )
            .await;
        assert_eq!(r.fields(), vec!["min_share"], "min_share {bad}");
    }

    // Still serving, with the types' values.
    let p = make_pairing(&app, &helper.org_id, YANGYUAN, "paired_county").await;
    assert_eq!(p["kind"], "paired_county");
    let f = app
        .get(
            &format!("/pairings?kind=paired_county&year={y}"),
            Some(&app.admin_token),
        )
        .await
        .expect(200);
    assert_eq!(f.json["items"].as_array().map(Vec::len), Some(1));
}

/// Two replacements of the same version at once: exactly one wins, the other is 412
/// (the version is checked in the write itself, not only before it).
#[tokio::test]
async fn concurrent_quota_replacements_of_one_version_write_once() {
    let app = spawn_app().await;
    let y = this_year();
    let buyer = app.create_org("canteen", CHANGAN).await;
    let path = format!("/buyers/{}/quotas/{y}", buyer.org_id);
    app.put(
        &path,
        buyer.t(),
        json!({"food_budget": "1000.00", "reserved_share": "0.2"}),
    )
    .await
    .expect(201);
    let put = |budget: &'static str| {
        app.send(
            app.client
                .put(app.url(&path))
                .bearer_auth(buyer.t().unwrap())
                .header("If-Match", "\"1\"")
                .json(&json!({"food_budget": budget, "reserved_share": "0.2"})),
        )
    };
    let (a, b) = tokio::join!(put("2000.00"), put("3000.00"));
    let mut codes = vec![a.status.as_u16(), b.status.as_u16()];
    codes.sort();
    assert_eq!(codes, vec![200, 412], "{} / {}", a.text, b.text);
    let q = app.get(&path, buyer.t()).await.expect(200);
    assert_eq!(q.json["version"], 2);
    let winner = if a.status.as_u16() == 200 { &a } else { &b };
    assert_eq!(q.json["food_budget"], winner.json["food_budget"]);
}

/// The quota follows the same pace curve as the supervision list: with the admin's monthly
/// weights (all of the year's buying expected in January), expected_by_today is the whole
/// target from February on, while elapsed_fraction stays the share of the year gone.
#[tokio::test]
async fn the_quota_follows_the_admins_pace_weights() {
    let app = spawn_app().await;
    let y = this_year();
    let buyer = app.create_org("union", CHANGAN).await;
    app.put(
        &format!("/buyers/{}/quotas/{y}", buyer.org_id),
        buyer.t(),
        json!({"food_budget": "1000.00", "reserved_share": "0.5"}),
    )
    .await
    .expect(201);
    let mut weights = vec![0; 12];
    weights[0] = 1;
    app.put(
        &format!("/plan-settings/{y}"),
        Some(&app.admin_token),
        json!({"pace_weights": weights}),
    )
    .await
    .expect(200);
    let q = app
        .get(&format!("/buyers/{}/quotas/{y}", buyer.org_id), buyer.t())
        .await
        .expect(200);
    if chrono::Utc::now().month() > 1 {
        assert_eq!(q.json["expected_by_today"], "500.00", "{}", q.text);
        assert_eq!(q.json["behind_pace"], true);
        assert_ne!(q.json["elapsed_fraction"], "1", "{}", q.text);
    }
}
