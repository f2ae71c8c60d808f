//! Settings: secrets hidden from Debug, the public URL and CORS origins parsed.
use super::*;

#[test]
fn debug_hides_every_secret() {
    let s = Settings {
        database_url: Some("postgres://app:db-pass-1234@db/assist".into()),
        redis_url: Some("redis://:redis-pass-5678@cache:6379".into()),
        smtp_url: Some("smtp://mailer:smtp-pass-9012@mail:25".into()),
        jwt_secret: Some("jwt-secret-jwt-secret-jwt-secret-3456".into()),
        admin_email: Some("root@example.org".into()),
        admin_password: Some("admin-pass-7890".into()),
        ..Settings::default()
    };
    let debug = format!("{s:?}");
    for secret in [
        "db-pass-1234",
        "redis-pass-5678",
        "smtp-pass-9012",
        "jwt-secret",
        "admin-pass-7890",
    ] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("Secret([redacted])"));
    assert!(debug.contains("root@example.org"));
}

#[test]
fn public_url_is_checked_trimmed_and_defaults_to_the_bind_address() {
    let ok = |raw: &str| PublicUrl::try_from(raw.to_string()).map(|u| u.to_string());
    assert_eq!(
        ok("https://market.example.org/").as_deref(),
        Ok("https://market.example.org")
    );
    assert_eq!(
        ok("http://10.0.0.1:8080/assist").as_deref(),
        Ok("http://10.0.0.1:8080/assist")
    );
    for bad in [
        "",
        "market.example.org",
        "ftp://x.example",
        "https://x.example/?a=1",
        "https://x.example/#f",
    ] {
        assert!(ok(bad).is_err(), "{bad}");
    }
    assert_eq!(Settings::default().public_url().as_str(), "http://127.0.0.1:8080");
    let s = Settings {
        bind: "0.0.0.0:9000".into(),
        ..Settings::default()
    };
    assert_eq!(s.public_url().join("/api/v1"), "http://127.0.0.1:9000/api/v1");
    // From the environment, a bad value names the setting.
    let raw: figment::value::Value = "not a url".parse().unwrap_or_else(|e| match e {});
    let err = Figment::from(Serialized::defaults(Settings::default()))
        .merge(Serialized::default("public_url", raw))
        .extract::<Settings>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("ASSIST_PUBLIC_URL"), "{err}");
}

/// `ASSIST_CORS_ORIGINS=https://a.example,https://b.example` reaches the setting as written
/// (figment reads an environment value as text unless it is a number, bool, array or map).
#[test]
fn cors_origins_come_from_a_comma_separated_value() {
    let raw: figment::value::Value = "https://a.example, http://b.example:8080/"
        .parse()
        .unwrap_or_else(|e| match e {});
    let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
        .merge(Serialized::default("cors_origins", raw))
        .extract()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.cors_origins(), ["https://a.example", "http://b.example:8080"]);
    s.validate().unwrap_or_else(|e| panic!("{e}"));
    assert!(Settings::default().cors_origins().is_empty());
    for bad in ["*", "a.example", "https://a.example/path", "ftp://a.example"] {
        let s = Settings {
            cors_origins: bad.into(),
            ..Settings::default()
        };
        assert!(s.validate().is_err(), "{bad}");
    }
}
