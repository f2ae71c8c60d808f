//! A date a request carries is `YYYY-MM-DD` with a year from 0001 to 9999 (the contract's
//! `format: date`): a signed or five-digit year is a 422 naming its field on both backends,
//! never a database error, and nothing is written.
use crate::orders::{count, new_key, order_body, place, world};
use serde_json::json;

const BAD: [&str; 3] = ["-5000-01-01", "+10000-01-01", "0000-06-01"];

#[tokio::test]
async fn signed_and_five_digit_years_are_refused_naming_the_field() {
    let w = world().await;
    let app = &w.app;
    for bad in BAD {
        let doc = json!({"kind": "food_trade_licence", "number": "JY1", "issued_on": bad, "valid_until": "2030-01-01"});
        let r = app
            .post(
                &format!("/suppliers/{}/documents", w.supplier.org_id),
                w.supplier.t(),
                doc,
            )
            .await;
        assert_eq!(r.fields(), vec!["issued_on"], "{bad}: {}", r.text);
        r.problem(422);
        let lot = json!({"quantity": "10", "best_before": "2030-01-01", "harvested_on": bad});
        let r = app
            .post(&format!("/products/{}/lots", w.product), w.supplier.t(), lot)
            .await;
        assert_eq!(r.fields(), vec!["harvested_on"], "{bad}: {}", r.text);
        r.problem(422);
        let mut body = order_body(&[(&w.product, "10")]);
        body["requested_date"] = json!(bad);
        let r = place(app, &w.buyer, body, &new_key()).await;
        assert_eq!(r.fields(), vec!["requested_date"], "{bad}: {}", r.text);
        r.problem(422);
        // A query parameter the contract does not take is a 400 naming it.
        let r = app.get(&format!("/ledger?from={bad}"), Some(&app.admin_token)).await;
        assert_eq!(r.fields(), vec!["from"], "{bad}: {}", r.text);
        r.problem(400);
    }
    assert_eq!(count(app, "supplier_documents").await, 0);
    assert_eq!(count(app, "orders").await, 0);
}
