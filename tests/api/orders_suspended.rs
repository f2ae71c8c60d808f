//! Supplier orders whose buyer or supplier organisation is suspended: the suspended side's
//! users cannot sign in, so the other side may end the order before delivery (its
//! reservation released), and a suspended buyer's orders do not move forward.
use crate::helpers::*;
use crate::orders::{act, stock_of};
use crate::payments::{id, order, trade, Trade};
use serde_json::{json, Value};

/// Five supplier orders of 10 each: placed, placed, confirmed, shipped and delivered.
async fn orders_in_every_state(t: &Trade) -> [String; 5] {
    let mut ids = Vec::new();
    for steps in [
        &[][..],
        &[],
        &["confirm"],
        &["confirm", "ship"],
        &["confirm", "ship", "deliver"],
    ] {
        let s = id(&order(t, json!({})).await);
        for a in steps {
            act(&t.app, &t.supplier, &s, a).await.expect(200);
        }
        ids.push(s);
    }
    ids.try_into().unwrap()
}

async fn set_status(t: &Trade, org: &str, action: &str) {
    t.app
        .post(
            &format!("/organizations/{org}/{action}"),
            Some(&t.app.admin_token),
            json!({}),
        )
        .await
        .expect(200);
}

async fn cancel(t: &Trade, who: &OrgUser, so: &str, note: &str) -> Resp {
    t.app
        .post(&format!("/supplier-orders/{so}/cancel"), who.t(), json!({"note": note}))
        .await
}

fn cancelled(v: &Value, by: &str) {
    assert_eq!(v["status"], "cancelled", "{v}");
    let note = v["status_note"].as_str().unwrap_or_default();
    assert!(note.starts_with(&format!("cancelled by the {by}")), "{v}");
    assert!(note.contains("suspended"), "{v}");
}

#[tokio::test]
async fn the_buyer_may_cancel_a_suspended_suppliers_order_until_it_is_delivered() {
    let t = trade("canteen").await;
    let [placed, _, confirmed, shipped, delivered] = orders_in_every_state(&t).await;
    assert_eq!(stock_of(&t.app, &t.product).await.reserved_milli, 50_000);
    // Not late and the supplier active: a shipped order cannot be cancelled.
    cancel(&t, &t.buyer, &shipped, "lost").await.problem(409);
    set_status(&t, &t.supplier.org_id, "suspend").await;

    let r = cancel(&t, &t.buyer, &shipped, "never arrived").await.expect(200);
    cancelled(&r.json, "buyer");
    assert!(
        r.json["status_note"].as_str().unwrap().ends_with("never arrived"),
        "{}",
        r.text
    );
    assert_eq!(stock_of(&t.app, &t.product).await.reserved_milli, 40_000);
    for s in [&placed, &confirmed] {
        cancelled(&cancel(&t, &t.buyer, s, "").await.expect(200).json, "buyer");
    }
    // Delivered: the buyer accepts it (or not); it is no longer cancelled.
    cancel(&t, &t.buyer, &delivered, "").await.problem(409);
    let stock = stock_of(&t.app, &t.product).await;
    assert_eq!(stock.reserved_milli, 20_000, "the delivered and the other placed order");
    assert_eq!(stock.on_hand_milli, 1_000_000, "nothing left the stock");
    let got = t
        .app
        .get(&format!("/supplier-orders/{shipped}"), t.buyer.t())
        .await
        .expect(200);
    cancelled(&got.json, "buyer");
}

#[tokio::test]
async fn a_suspended_buyers_orders_do_not_move_forward_and_its_supplier_may_end_them() {
    let t = trade("school").await;
    let [placed, placed2, confirmed, shipped, delivered] = orders_in_every_state(&t).await;
    // Before the suspension only the buyer may cancel.
    cancel(&t, &t.supplier, &placed, "").await.problem(403);
    set_status(&t, &t.buyer.org_id, "suspend").await;

    for (s, a) in [(&placed, "confirm"), (&confirmed, "ship"), (&shipped, "deliver")] {
        let p = act(&t.app, &t.supplier, s, a).await.problem(409);
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("buyer organisation is suspended"),
            "{p}"
        );
    }
    assert_eq!(
        stock_of(&t.app, &t.product).await.reserved_milli,
        50_000,
        "nothing moved"
    );

    let r = cancel(&t, &t.supplier, &shipped, "buyer gone").await.expect(200);
    cancelled(&r.json, "supplier");
    assert_eq!(stock_of(&t.app, &t.product).await.reserved_milli, 40_000);
    cancelled(
        &cancel(&t, &t.supplier, &confirmed, "").await.expect(200).json,
        "supplier",
    );
    cancelled(&cancel(&t, &t.supplier, &placed, "").await.expect(200).json, "supplier");
    let r = act(&t.app, &t.supplier, &placed2, "reject").await.expect(200);
    assert_eq!(r.json["status"], "rejected");
    // Delivered before the suspension: it waits for the buyer's reinstatement.
    cancel(&t, &t.supplier, &delivered, "").await.problem(409);
    let stock = stock_of(&t.app, &t.product).await;
    assert_eq!(stock.reserved_milli, 10_000, "the delivered order only");
    assert_eq!(stock.on_hand_milli, 1_000_000);

    // Reinstated: the buyer's side again.
    set_status(&t, &t.buyer.org_id, "reinstate").await;
    cancel(&t, &t.supplier, &delivered, "").await.problem(403);
}
