//! Two first writes of one thing at once write it once: a quota (the other is told that
//! replacing it needs its ETag, 428) and a pairing (the other is a 409).
use crate::credit::this_year;
use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn concurrent_first_writes_of_a_quota_create_it_once() {
    let app = spawn_app().await;
    let y = this_year();
    for _ in 0..10 {
        let buyer = app.create_org("canteen", CHANGAN).await;
        let path = format!("/buyers/{}/quotas/{y}", buyer.org_id);
        let put = |budget: &'static str| {
            app.put(
                &path,
                buyer.t(),
                json!({"food_budget": budget, "reserved_share": "0.2"}),
            )
        };
        let (a, b) = tokio::join!(put("1000.00"), put("2000.00"));
        let mut codes = vec![a.status.as_u16(), b.status.as_u16()];
        codes.sort();
        assert_eq!(codes, vec![201, 428], "{} / {}", a.text, b.text);
        let q = app.get(&path, buyer.t()).await.expect(200);
        assert_eq!(q.json["version"], 1);
        let winner = if a.status.as_u16() == 201 { &a } else { &b };
        assert_eq!(q.json["food_budget"], winner.json["food_budget"]);
    }
}

#[tokio::test]
async fn concurrent_identical_pairings_are_created_once() {
    let app = spawn_app().await;
    for _ in 0..10 {
        let helper = app.create_org("government", CHANGAN).await;
        let body = json!({
            "kind": "east_west", "helper_org_id": helper.org_id, "helped_region_code": YANGYUAN,
            "year": this_year(), "purchase_target": "1000.00", "helped_sale_target": "500.00"
        });
        let post = || app.post("/pairings", Some(&app.admin_token), body.clone());
        let (a, b) = tokio::join!(post(), post());
        let mut codes = vec![a.status.as_u16(), b.status.as_u16()];
        codes.sort();
        assert_eq!(codes, vec![201, 409], "{} / {}", a.text, b.text);
    }
}
