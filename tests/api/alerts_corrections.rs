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

/// Confirming a flag reverses credits of sales made whenever, dated the day it is confirmed:
/// no goods moved, so the scan must not read it as sales falling (a yellow alert raised to
/// orange, every matched buyer emailed).
#[tokio::test]
async fn a_confirmed_flags_reversal_is_not_a_lost_sale() {
    let app = spawn_app().await;
    let s = app.create_org("cooperative", YANGYUAN).await;
    let b = app.create_org("canteen", CHANGAN).await;
    // 10 units in stock, 28 sold in 28 days: 10 days of cover, yellow for vegetables.
    let p = product(&app, &s.org_id, "vegetables", 10, 60, 90).await;
    let old = sale(&app, &p, &b.org_id, 14, 40).await;
    sale(&app, &p, &b.org_id, 14, 20).await;
    sale(&app, &p, &b.org_id, 14, 2).await;
    scan(&app).await;
    assert_eq!(alert_of(&app, &p).await.expect("an alert")["level"], "yellow");
    // The flag's reversal of the sale 40 days ago, written today.
    let reversal = sale(&app, &p, &b.org_id, -14, 0).await;
    let sql = format!(
        "INSERT INTO flags (id, kind, evidence_key, evidence, year, state, raised_at) \
         VALUES ('f-1', 'origin_mismatch', 'k-1', '{{}}', 2026, 'confirmed', '2026-01-01 00:00:00+00:00'); \
         INSERT INTO flag_reversals (flag_id, entry_id, reversal_entry_id, amount_fen, reason) \
         VALUES ('f-1', '{old}', '{reversal}', -1400, 'origin')"
    );
    for stmt in sql.split("; ") {
        app.db().execute_unprepared(stmt).await.unwrap();
    }
    scan(&app).await;
    assert_eq!(alert_of(&app, &p).await.expect("still open")["level"], "yellow");
}
