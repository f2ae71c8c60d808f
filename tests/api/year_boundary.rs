//! Around the turn of the budget year: an acceptance has one instant (its order and its credit
//! never fall in two years), the January notices, the year-end window of the fraud scan.
use crate::helpers::*;
use crate::orders::*;
use chrono::{DateTime, Datelike, Utc};
use serde_json::{json, Value};

fn instant(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Accepts all of a one-line delivered supplier order; returns the answer.
async fn accept_all(w: &World, order: &Value, so: &str) -> Value {
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    let qty = order["supplier_orders"][0]["lines"][0]["quantity"].as_str().unwrap();
    w.app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": qty}], "invoice_number": "INV-Y"}),
        )
        .await
        .expect(200)
        .json
}

/// The supplier order's `accepted_at` as the lot trace shows it, and its ledger entries.
async fn accepted_at_and_entries(w: &World, accepted: &Value, so: &str) -> (DateTime<Utc>, Vec<Value>) {
    let lot = accepted["shipped_lots"][0]["lot_id"].as_str().expect("a shipped lot");
    let trace = w
        .app
        .get(&format!("/lots/{lot}/trace"), w.supplier.t())
        .await
        .expect(200)
        .json;
    let ship = trace["shipments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["supplier_order_id"] == so)
        .cloned()
        .expect("the order in the trace");
    let ledger = w
        .app
        .get(&format!("/ledger?buyer={}", w.buyer.org_id), Some(&w.app.admin_token))
        .await
        .expect(200)
        .json;
    let entries: Vec<Value> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["supplier_order_id"] == so)
        .cloned()
        .collect();
    assert!(!entries.is_empty(), "{ledger}");
    (instant(&ship["accepted_at"]), entries)
}

/// An acceptance took up to four instants (its `accepted_at` before its transaction, then the
/// contractor's attribution, the shared canteen's split and the entries' time each their own),
/// and the first before waiting for its products' and lots' locks: across midnight on 31
/// December its order counted in one year and its credit in the next. Now there is one
/// instant, taken once the locks are held: `accepted_at` is every entry's `occurred_at`, and the
/// entries' year and month are its business year and month. The clock cannot be moved, so the
/// wait is made real instead: on PostgreSQL a test transaction holds the product's row, and
/// the instant must come after it lets go.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_acceptance_has_one_instant_taken_once_its_locks_are_held() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    let w = world().await;
    let (order, so) = delivered_so(&w, "20").await;
    let accepted = accept_all(&w, &order, &so).await;
    let (at, entries) = accepted_at_and_entries(&w, &accepted, &so).await;
    for e in &entries {
        assert_eq!(instant(&e["occurred_at"]), at, "one instant: {e}");
        // Tests run the business calendar at +00:00.
        assert_eq!(
            (e["year"].as_i64(), e["month"].as_i64()),
            (Some(at.year() as i64), Some(at.month() as i64))
        );
    }
    if !on_postgres() {
        return; // SQLite runs one writer at a time: no row lock to wait for.
    }
    let (order, so) = delivered_so(&w, "20").await;
    let holder = w.app.db().begin().await.unwrap();
    holder
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT id FROM products WHERE id = '{}' FOR UPDATE", w.product),
        ))
        .await
        .unwrap();
    let (accepted, released) = tokio::join!(accept_all(&w, &order, &so), async {
        for _ in 0..200 {
            let r = w
                .app
                .db()
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT COUNT(*) AS n FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
                ))
                .await
                .unwrap()
                .unwrap();
            if r.try_get::<i64>("", "n").unwrap() > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let released = Utc::now();
        holder.commit().await.unwrap();
        released
    });
    let (at, entries) = accepted_at_and_entries(&w, &accepted, &so).await;
    assert!(
        at >= released,
        "accepted at {at}, before the product's lock was released at {released}"
    );
    for e in &entries {
        assert_eq!(instant(&e["occurred_at"]), at, "one instant: {e}");
    }
}

/// The hourly job sends the month's notices on its first run of the month: at 00:10 on
/// 1 January every unit of the new year had no credit yet, so each was told it "lags behind
/// the calendar" (`no_order_yet`, `plan_not_approved`) against an expectation of nothing, and
/// each finance office got all its units as laggards. The notices now judge the pace as of the
/// month's start, and no pace reason is raised while the curve expects nothing. January's
/// start is made here with the admin's pace weights: the months before this one weigh nothing.
#[tokio::test]
async fn no_unit_is_told_it_lags_while_the_pace_expects_nothing() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let y = Utc::now().year(); // tests run the business calendar at +00:00
    let this_month = Utc::now().month0() as usize;
    let weights: Vec<i64> = (0..12).map(|m| i64::from(m >= this_month)).collect();
    app.put(&format!("/plan-settings/{y}"), admin, json!({"pace_weights": weights}))
        .await
        .expect(200);
    let sup = app.create_org("finance_office", CHANGAN).await;
    let approved = app.create_org("school", CHANGAN).await;
    let filed = app.create_org("hospital", CHANGAN).await;
    for (unit, approve) in [(&approved, true), (&filed, false)] {
        let path = format!("/buyers/{}/plans/{y}", unit.org_id);
        app.put(
            &path,
            unit.t(),
            json!({"food_budget": "100000.00", "reserved_share": "0.2"}),
        )
        .await
        .expect(201);
        app.post(&format!("{path}/file"), unit.t(), json!({})).await.expect(200);
        if approve {
            app.post(&format!("{path}/approve"), sup.t(), json!({}))
                .await
                .expect(200);
        }
    }
    // The list reads the pace now, into this month: something is expected, and both lag.
    let list = app
        .get(&format!("/supervision/{y}/units"), sup.t())
        .await
        .expect(200)
        .json;
    let reasons = |org: &str| -> Vec<String> {
        let u = list["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["org_id"] == org)
            .unwrap();
        serde_json::from_value(u["laggard_reasons"].clone()).unwrap()
    };
    assert!(
        reasons(&approved.org_id).contains(&"no_order_yet".to_string()),
        "{list}"
    );
    assert!(
        reasons(&filed.org_id).contains(&"plan_not_approved".to_string()),
        "{list}"
    );
    // The month's notices judge the months gone by, which expected nothing: nobody is told.
    let r = app.post("/supervision/notices/run", admin, json!({})).await.expect(200);
    assert_eq!(
        (r.json["units"].as_i64(), r.json["summaries"].as_i64()),
        (Some(0), Some(0)),
        "{}",
        r.text
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    for to in [&approved.contact_email, &filed.contact_email, &sup.contact_email] {
        assert!(
            app.emails_to(to).iter().all(|m| !m.contains("lag")),
            "{to} was told it lags"
        );
    }
}

/// With `ASSIST_FLAG_YEAR_END_DAYS=366` the window of a common year began on 31 December of
/// the year before, and the month of that day (12) narrowed it to December: a buyer crediting
/// 60 % of its target in June was not flagged. The window now starts on 1 January at the
/// earliest, so 366 days is the whole year, leap or not.
#[tokio::test]
async fn a_year_end_window_of_366_days_is_the_whole_of_a_common_year() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app_with(|s| s.flag_year_end_days = 366i64.try_into().expect("366 days")).await;
    let common = (1..8)
        .map(|back| Utc::now().year() - back)
        .find(|y| chrono::NaiveDate::from_ymd_opt(*y, 2, 29).is_none())
        .unwrap();
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = ProductRow::certified(&supplier.org_id).insert(&app).await;
    app.put(
        &format!("/buyers/{}/quotas/{common}", buyer.org_id),
        Some(&app.admin_token),
        json!({"food_budget": "1000.00", "reserved_share": "0.1"}),
    )
    .await
    .expect(201);
    // Target 100.00; 60.00 credited in June, nothing in December.
    let id = crate::flags::credit_of(&app, &buyer.org_id, &supplier.org_id, &p, 1000, 6000)
        .await
        .id;
    app.lift_append_only("ledger_entries").await;
    let at = DateTime::parse_from_rfc3339(&format!("{common}-06-05T10:00:00Z"))
        .unwrap()
        .with_timezone(&Utc);
    entity::ledger_entries::Entity::update_many()
        .col_expr(entity::ledger_entries::Column::OccurredAt, Expr::value(at))
        .col_expr(entity::ledger_entries::Column::Year, Expr::value(common))
        .col_expr(entity::ledger_entries::Column::Month, Expr::value(6))
        .filter(entity::ledger_entries::Column::Id.eq(id))
        .exec(app.db())
        .await
        .unwrap();
    crate::flags::scan(&app, true).await;
    let spikes = crate::flags::flags(&app, evaluator.t(), "&kind=year_end_spike").await;
    assert_eq!(spikes.len(), 1, "{spikes:?}");
    assert_eq!(spikes[0]["buyer_org_id"], buyer.org_id.as_str());
    assert_eq!(spikes[0]["year"], common);
    assert_eq!(spikes[0]["evidence"]["window_amount"], "60.00");
}

/// `ASSIST_FLAG_YEAR_END_DAYS` was clamped silently; a value outside 1-366 is now refused at
/// start, naming the setting, as the other settings are.
#[test]
fn a_year_end_window_outside_1_to_366_days_fails_at_start_naming_it() {
    for bad in ["0", "-5", "367", "thirty"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_assist-market"))
            .arg("migrate")
            .env("ASSIST_DATABASE_URL", "sqlite::memory:")
            .env("ASSIST_FLAG_YEAR_END_DAYS", bad)
            .output()
            .expect("run binary");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad} was taken");
        assert!(err.contains("ASSIST_FLAG_YEAR_END_DAYS"), "{bad}: {err}");
    }
    assert!(assist_market::config::YearEndDays::try_from(366).is_ok());
    assert!(assist_market::config::YearEndDays::try_from(1).is_ok());
}
