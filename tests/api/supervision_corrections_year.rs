//! A supervisor's correction counts in the corrected entry's year and month: a December
//! credit corrected in January moves within December, in the reports (the sequencer's roll-up
//! and its not-yet-folded tail alike), and leaves the current year untouched.
use crate::helpers::*;
use crate::supervision::this_year;
use assist_market::services::ledger;
use chrono::{Datelike, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

/// A credit of 120.00 to `buyer` dated 20 December of `year`, with a valid leaf (written
/// straight into the table: the append path dates an entry now).
async fn december_credit(app: &TestApp, buyer: &str, supplier: &str, year: i32) -> entity::ledger_entries::Model {
    let product = uuid::Uuid::now_v7().to_string();
    let at = Utc.with_ymd_and_hms(year, 12, 20, 10, 0, 0).unwrap();
    let december = ledger::Period { year, month: 12 };
    let e = crate::flags::grain_entry(buyer, supplier, &product, 1_000, 12_000);
    let m = e.row(at, december, None, Default::default()).unwrap();
    let mut a = entity::ledger_entries::ActiveModel::from(m);
    a.ins = NotSet;
    a.insert(app.db()).await.unwrap()
}

/// (buyer -> total) of the year's buyer report and the total of December, as the admin reads them.
async fn year_figures(app: &TestApp, year: i32) -> (Vec<(String, String)>, Option<String>) {
    let admin = Some(app.admin_token.as_str());
    let r = app
        .get(&format!("/reports/summary?year={year}&group_by=buyer"), admin)
        .await
        .expect(200);
    let mut buyers: Vec<(String, String)> = r.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["total"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    buyers.sort();
    let m = app
        .get(&format!("/reports/summary?year={year}&group_by=month"), admin)
        .await
        .expect(200);
    let december = m.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "12")
        .map(|r: &Value| r["total"].as_str().unwrap().to_string());
    (buyers, december)
}

#[tokio::test]
async fn a_correction_of_last_years_credit_moves_it_within_that_year() {
    // No background sequencer: the test decides what the roll-up has folded.
    let app = spawn_app_with(|s| s.jobs_enabled = false).await;
    let (y, last) = (this_year(), this_year() - 1);
    let sup = app.create_org("finance_office", CHANGAN).await;
    let wrong = app.create_org("school", CHANGAN).await;
    let right = app.create_org("hospital", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let e = december_credit(&app, &wrong.org_id, &supplier.org_id, last).await;
    // Folded by the sequencer before the correction, as a past year's entry would be.
    assert_eq!(app.sequence().await, 1);
    let started = Utc::now();
    let r = app
        .post(
            "/supervision/corrections",
            sup.t(),
            json!({"entry_id": e.id, "to_org_id": right.org_id, "reason": "the hospital ordered"}),
        )
        .await
        .expect(201);
    // Both entries count in December of last year, and say when they were written.
    for key in ["reversal_entry_id", "credit_entry_id"] {
        let w = entity::ledger_entries::Entity::find()
            .filter(entity::ledger_entries::Column::Id.eq(r.json[key].as_str().unwrap()))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((w.year, w.month), (last, 12), "{key}");
        assert!(w.occurred_at >= started, "{key} is dated when it was written");
        assert_eq!(w.occurred_at.year(), Utc::now().year());
    }
    let want = {
        let mut v = vec![
            (wrong.org_id.clone(), "0.00".to_string()),
            (right.org_id.clone(), "120.00".to_string()),
        ];
        v.sort();
        v
    };
    // Read from the roll-up's tail (not folded yet), then from the roll-up itself.
    for folded in [false, true] {
        if folded {
            assert_eq!(app.sequence().await, 2, "the reversal and the new credit");
        }
        let (buyers, december) = year_figures(&app, last).await;
        assert_eq!(buyers, want, "folded: {folded}");
        assert_eq!(december.as_deref(), Some("120.00"), "folded: {folded}");
        let (buyers, december) = year_figures(&app, y).await;
        assert!(
            buyers.is_empty(),
            "this year is untouched (folded: {folded}): {buyers:?}"
        );
        assert_eq!(december, None);
    }
    // The supervision list of last year agrees; the ledger still verifies.
    let units = app
        .get(&format!("/supervision/{last}/units"), sup.t())
        .await
        .expect(200);
    assert_eq!(units.unit_credited(&right.org_id), "120.00");
    assert_eq!(units.unit_credited(&wrong.org_id), "0.00");
    let units = app.get(&format!("/supervision/{y}/units"), sup.t()).await.expect(200);
    assert_eq!(units.unit_credited(&right.org_id), "0.00");
    let v = app.get("/ledger/verify", Some(&app.admin_token)).await.expect(200);
    assert_eq!(v.json["ok"], true, "{}", v.text);
}
