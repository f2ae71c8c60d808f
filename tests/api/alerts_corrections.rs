//! A supervisor's re-attribution writes a reversal and a new credit dated now: the scan took
//! that credit for a sale, so an alert on produce not selling resolved though nothing sold.
use crate::alerts::{alert_of, product, sale, scan};
use crate::helpers::*;
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn a_corrections_credit_is_not_a_sale() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    let stale = product(&app, &s.org_id, "vegetables", 5, 60, 90).await;
    sale(&app, &stale, &b.org_id, 3, 40).await;
    scan(&app).await;
    assert_eq!(alert_of(&app, &stale).await.unwrap()["days_since_last_sale"], 40);
    // The correction's credit of today (its reversal is not a credit), linked as such.
    let credit = sale(&app, &stale, &b.org_id, 3, 0).await;
    let sql = format!(
        "INSERT INTO attribution_correction_credits (correction_id, position, entry_id, buyer_org_id, amount_fen) \
         VALUES ('c-1', 0, '{credit}', '{}', 300)",
        b.org_id
    );
    app.db().execute_unprepared(&sql).await.unwrap();
    scan(&app).await;
    let a = alert_of(&app, &stale).await.expect("the alert stays open");
    assert_eq!(a["days_since_last_sale"], 40);
}
