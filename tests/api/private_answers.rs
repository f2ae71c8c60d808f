//! An answer to a signed-in request is for its caller only: `Cache-Control: private, no-cache`
//! (an export: `private, no-store`), whatever its status, so that a shared cache in front of
//! the service never serves one organisation's answer to the next caller of the URL. Public
//! reads are left to their own headers.
use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn signed_in_answers_are_private_and_exports_are_not_stored() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let cc = |r: &Resp| r.header("cache-control");
    let me = app.get("/me", admin).await.expect(200);
    assert_eq!(cc(&me).as_deref(), Some("private, no-cache"));
    // The 304 of a repeated read says so too.
    let tag = me.header("etag").unwrap();
    let again = app
        .send(
            app.client
                .get(app.url("/me"))
                .bearer_auth(&app.admin_token)
                .header("If-None-Match", &tag),
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);
    assert_eq!(cc(&again).as_deref(), Some("private, no-cache"));
    // Refusals and writes too.
    let r = app
        .get(&format!("/organizations/{}", uuid::Uuid::now_v7()), admin)
        .await;
    assert_eq!(r.status.as_u16(), 404);
    assert_eq!(cc(&r).as_deref(), Some("private, no-cache"));
    let r = app.post("/regions", admin, json!({"junk": true})).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(cc(&r).as_deref(), Some("private, no-cache"));
    // An export is not kept at all.
    let y = chrono::Utc::now().format("%Y").to_string();
    for format in ["csv", "xlsx"] {
        let r = app
            .get(
                &format!("/reports/summary?year={y}&group_by=county&format={format}"),
                admin,
            )
            .await
            .expect(200);
        assert_eq!(cc(&r).as_deref(), Some("private, no-store"), "{format}");
    }
    // The tokens keep their own no-store; a public read is left alone.
    let login = app
        .post("/auth/login", None, json!({"email": ADMIN_EMAIL, "password": PASSWORD}))
        .await
        .expect(200);
    assert_eq!(cc(&login).as_deref(), Some("no-store"));
    let public = app.get("/ledger/checkpoint", None).await.expect(200);
    assert_ne!(cc(&public).as_deref(), Some("private, no-cache"));
}
