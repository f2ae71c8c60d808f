//! A supervisor's region is read as a subquery, not as a list of its organisations' ids:
//! a province-wide finance office over 65,536 budget units reads its ledger, flags, reports
//! and ageing report (a bound list stops at 65,535 values on PostgreSQL, 32,766 on SQLite).
use crate::credit::{append, this_year};
use crate::helpers::*;
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn a_supervisor_over_65536_organisations_reads_every_scoped_list() {
    let app = spawn_app().await;
    let supervisor = app.create_org("finance_office", CHANGAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let outside = app.create_org("canteen", YANGYUAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    for b in [&buyer.org_id, &outside.org_id] {
        append(
            &app,
            b,
            &supplier.org_id,
            YANGYUAN,
            "deep_poverty",
            "purchase",
            12_345,
            None,
        )
        .await;
    }
    app.db()
        .execute_unprepared(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 65536) \
             INSERT INTO organizations (id, name, kind, region_code, contact_email, credit_code, status, \
             budget_unit, created_at, updated_at) \
             SELECT 'o' || CAST(i AS TEXT), 'unit', 'canteen', '{CHANGAN}', 'u@x.test', 'c' || CAST(i AS TEXT), \
             'active', TRUE, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00' FROM n"
        ))
        .await
        .unwrap();
    for path in [
        "/ledger".to_string(),
        "/flags".to_string(),
        "/flags?format=csv".to_string(),
        "/payments/ageing".to_string(),
        format!("/reports/summary?year={}&group_by=buyer", this_year()),
    ] {
        let r = app.get(&path, supervisor.t()).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    // The scope still narrows to the region: its buyer's entry, not the other one.
    let r = app.get("/ledger", supervisor.t()).await.expect(200);
    let items = r.json["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", r.text);
    assert_eq!(items[0]["buyer_org_id"], buyer.org_id.as_str());
    let r = app
        .get(
            &format!("/reports/summary?year={}&group_by=buyer", this_year()),
            supervisor.t(),
        )
        .await
        .expect(200);
    assert_eq!(r.json["rows"].as_array().map(Vec::len), Some(1), "{}", r.text);
}
