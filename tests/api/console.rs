//! The web console's files: served from the binary under /console/ with their types and tags.
use crate::helpers::*;

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut rb = app.client.get(format!("{}{path}", app.addr));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    app.send(rb).await
}

#[tokio::test]
async fn the_console_is_served_from_the_binary() {
    let app = spawn_app().await;
    let index = get(&app, "/console/", &[]).await.expect(200);
    assert_eq!(
        index.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(index.text.contains("js/main.js"));
    assert_eq!(index.header("cache-control").as_deref(), Some("no-cache"));
    assert!(index
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    for (path, ty) in [
        ("/console/app.css", "text/css; charset=utf-8"),
        ("/console/js/verify.js", "text/javascript; charset=utf-8"),
        ("/console/vendor/noble-ed25519.js", "text/javascript; charset=utf-8"),
        ("/console/vendor/noble-ed25519.LICENSE", "text/plain; charset=utf-8"),
    ] {
        let r = get(&app, path, &[]).await.expect(200);
        assert_eq!(r.header("content-type").as_deref(), Some(ty), "{path}");
    }
    // The tag is the file's: naming it answers 304 with no body, another tag the file.
    let tag = index.header("etag").unwrap();
    let again = get(&app, "/console/index.html", &[("if-none-match", &tag)])
        .await
        .expect(304);
    assert!(again.text.is_empty());
    get(&app, "/console/", &[("if-none-match", "\"other\"")])
        .await
        .expect(200);
    // Compressed when asked for (the app's Compress middleware).
    let gz = get(&app, "/console/js/main.js", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    let moved = app
        .send(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(format!("{}/console", app.addr)),
        )
        .await
        .expect(308);
    assert_eq!(moved.header("location").as_deref(), Some("/console/"));
    // Nothing outside the list, and no way out of the folder.
    get(&app, "/console/missing.js", &[]).await.problem(404);
    get(&app, "/console/../Cargo.toml", &[]).await.expect(404);
    get(&app, "/console/%2e%2e/src/main.rs", &[]).await.problem(404);
}
