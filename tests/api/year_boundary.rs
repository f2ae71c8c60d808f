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
