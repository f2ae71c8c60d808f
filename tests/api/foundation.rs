//! Foundation: auth, organisations, users, regions, errors, health, docs.
use crate::helpers::*;

#[tokio::test]
async fn login_and_me() {
    let app = spawn_app().await;
    let r = app.get("/me", Some(&app.admin_token)).await.expect(200);
    assert_eq!(r.json["user"]["role"], "admin");
    assert_eq!(r.json["organization"]["kind"], "platform");
    assert!(r.header("x-request-id").is_some());
}
