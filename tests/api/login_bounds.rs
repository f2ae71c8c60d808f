//! A login names an e-mail of any length: one too long to be an address (no account has one)
//! is a 401 like any unknown address, on PostgreSQL too, where its throttle key once broke the
//! btree's row limit (a 500); the audit log records it cut to an address's length.
use crate::helpers::*;
use serde_json::json;

/// `n` characters that do not compress (PostgreSQL compresses a long index entry first).
fn noise(n: usize) -> String {
    let mut s = String::new();
    while s.len() < n {
        s.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    s.truncate(n);
    s
}

#[tokio::test]
async fn a_login_naming_a_very_long_address_is_401() {
    let app = spawn_app().await;
    for n in [255, 4_000, 12_000] {
        let email = format!("{}@x.test", noise(n));
        let p = app
            .post(
                "/auth/login",
                None,
                json!({"email": email, "password": "wrong-password"}),
            )
            .await
            .problem(401);
        assert!(
            p["detail"].as_str().unwrap_or("").contains("wrong email or password"),
            "{n}"
        );
    }
    // Counted like any address: the same long name is locked after the account's limit.
    let email = format!("{}@x.test", noise(4_000));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = app
            .post(
                "/auth/login",
                None,
                json!({"email": email, "password": "wrong-password"}),
            )
            .await;
        statuses.push(r.status.as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    // The audit log keeps each name cut to 254 characters and a mark.
    let log = app
        .get("/admin/audit-log?kind=login_failed&limit=100", Some(&app.admin_token))
        .await
        .expect(200);
    let names: Vec<&str> = log.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["email"].as_str())
        .collect();
    assert!(!names.is_empty());
    assert!(names.iter().all(|e| e.chars().count() <= 255), "{names:?}");
}
