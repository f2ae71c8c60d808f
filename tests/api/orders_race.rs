//! Orders racing for the last stock of several products at once: the reservation of all of an
//! order's products is one statement, which must never over-reserve, never leave a refused
//! order's reservation behind, and never deadlock (orders listing the products in either order).
use crate::helpers::*;
use crate::orders::{count, order_body, place, product, stock_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orders_racing_for_the_last_stock_of_two_products_reserve_each_once() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let s1 = app.create_org("cooperative", YANGYUAN).await;
    let s2 = app.create_org("cooperative", YANGYUAN).await;
    // `a` holds two orders' worth, `b` one: only one order of both fits.
    let a = product(&app, &s1.org_id, 100, 1_000, 20_000).await;
    let b = product(&app, &s2.org_id, 100, 1_000, 10_000).await;
    let futs = (0..24).map(|i| {
        let (app, buyer) = (&app, &buyer);
        // Half list the products the other way round: the locks are still taken in one order.
        let body = if i % 2 == 0 {
            order_body(&[(&a, "10"), (&b, "10")])
        } else {
            order_body(&[(&b, "10"), (&a, "10")])
        };
        async move { place(app, buyer, body, &format!("race-{i}")).await }
    });
    let results = futures_util::future::join_all(futs).await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 23, "{statuses:?}");
    for (i, r) in results.iter().enumerate().filter(|(_, r)| r.status == 422) {
        // `b` is the product short of stock, named on its own line.
        let line = if i % 2 == 0 { 1 } else { 0 };
        assert_eq!(r.fields(), vec![format!("lines[{line}].quantity")], "{}", r.text);
    }
    // The refused orders left nothing reserved: exactly the one order's quantities.
    let (sa, sb) = (stock_of(&app, &a).await, stock_of(&app, &b).await);
    assert_eq!(sa.reserved_milli, 10_000);
    assert_eq!(sb.reserved_milli, 10_000);
    assert_eq!(sb.available_milli, 0);
    assert_eq!(count(&app, "orders").await, 1);
    assert_eq!(count(&app, "supplier_orders").await, 2);
}
