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

/// An order waiting for the lock of a product whose stock another transaction is taking must
/// see what that transaction left. 20 on hand; a loss of 10 holds the product's lock (as
/// `POST /products/{id}/stock-adjustments` does: lock the product, then take from its lots)
/// while an order of 15 arrives, then commits. The order must be refused. The bug: one
/// statement both waited for the lock and summed the lots, so it summed them as they stood
/// before the loss and reserved 15 of the 10 left. PostgreSQL only: SQLite has one writer,
/// and the held transaction would hold it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_order_waiting_for_a_loss_reserves_only_what_is_left() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    let app = spawn_app().await;
    if app.db().get_database_backend() != DbBackend::Postgres {
        return;
    }
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = product(&app, &supplier.org_id, 100, 1_000, 20_000).await;
    let txn = app.db().begin().await.unwrap();
    for sql in [
        format!("UPDATE products SET reserved_milli = reserved_milli WHERE id = '{p}'"),
        format!("UPDATE lots SET remaining_milli = remaining_milli - 10000 WHERE product_id = '{p}'"),
    ] {
        txn.execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .unwrap();
    }
    let (order, ()) = futures_util::future::join(place(&app, &buyer, order_body(&[(&p, "15")]), "wait-loss"), async {
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        txn.commit().await.unwrap();
    })
    .await;
    let s = stock_of(&app, &p).await;
    assert_eq!(order.status.as_u16(), 422, "{} {s:?}", order.text);
    assert_eq!(order.fields(), vec!["lines[0].quantity".to_string()], "{}", order.text);
    assert_eq!((s.on_hand_milli, s.reserved_milli), (10_000, 0), "{s:?}");
}
