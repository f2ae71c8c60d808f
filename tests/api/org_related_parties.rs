//! The fields the `related_parties` fraud signal compares can be recorded when an organisation
//! is created and read back by the admin, evaluators and the organisation itself; no one else
//! sees them. They could be set, but never read: the admin could not check what was compared.
use crate::helpers::*;
use assist_market::services::organizations::make_credit_code;
use serde_json::json;

#[tokio::test]
async fn related_party_fields_are_recorded_and_shown_to_those_who_check_them() {
    let app = spawn_app().await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let supervisor = app.create_org("finance_office", CHANGAN).await;
    let n = unique();
    let body = |rep: &str| {
        json!({
            "name": format!("canteen {n}"), "kind": "canteen", "region_code": CHANGAN,
            "contact_email": format!("c{n}@org.test"), "credit_code": make_credit_code(CHANGAN, n),
            "legal_representative": rep, "contact_phone": " 0311-7654321 ",
        })
    };
    // Too long: 422 naming the field, nothing written.
    let r = app
        .post("/organizations", Some(&app.admin_token), body(&"张".repeat(101)))
        .await;
    assert_eq!(r.fields(), vec!["legal_representative"], "{}", r.text);
    r.problem(422);
    let org = app
        .post("/organizations", Some(&app.admin_token), body("李红"))
        .await
        .expect(201);
    assert_eq!(org.json["legal_representative"], "李红");
    assert_eq!(org.json["contact_phone"], "0311-7654321");
    let id = org.json["id"].as_str().unwrap().to_string();
    let email = format!("buyer-{n}@user.test");
    app.post(
        &format!("/organizations/{id}/users"),
        Some(&app.admin_token),
        json!({"email": email, "name": "b", "role": "buyer", "password": PASSWORD}),
    )
    .await
    .expect(201);
    let own = app.login(&email, PASSWORD).await;
    let path = format!("/organizations/{id}");
    for token in [Some(app.admin_token.as_str()), evaluator.t(), Some(own.as_str())] {
        let r = app.get(&path, token).await.expect(200);
        assert_eq!(r.json["legal_representative"], "李红", "{}", r.text);
        assert_eq!(r.json["contact_phone"], "0311-7654321");
    }
    // The region's finance office sees the unit, not these fields.
    let r = app.get(&path, supervisor.t()).await.expect(200);
    assert!(r.json.get("legal_representative").is_none(), "{}", r.text);
    assert!(r.json.get("contact_phone").is_none());
    // Cleared with an empty value.
    let r = app
        .patch(&path, Some(&app.admin_token), json!({"contact_phone": ""}), Some("*"))
        .await
        .expect(200);
    assert!(r.json.get("contact_phone").is_none(), "{}", r.text);
    assert_eq!(r.json["legal_representative"], "李红");
}
