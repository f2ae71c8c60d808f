//! The web console at `/console/`: static files from `api/console/`, built into the binary at
//! compile time (no CDN, no Node at run time). Each file is answered with its content type, a
//! strong `ETag` (a digest of its bytes; `If-None-Match` naming it is 304) and `Cache-Control:
//! no-cache`, so a browser revalidates and a new binary's files are seen at once. The app's
//! `Compress` middleware gzips or brotlis them. Not part of the API: the pages call `/api/v1`
//! with the same tokens as any client, and the API alone decides what each caller may do.
use actix_web::http::header;
use actix_web::{guard, web, HttpRequest, HttpResponse};
use std::sync::OnceLock;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $ct:expr) => {
        Asset {
            path: $path,
            content_type: $ct,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the console; a file added under `api/console/` is served once listed here.
static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/main.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/i18n.js", JS),
    asset!("js/chart.js", JS),
    asset!("js/verify.js", JS),
    asset!("js/pages/login.js", JS),
    asset!("js/pages/progress.js", JS),
    asset!("js/pages/ledger.js", JS),
    asset!("js/pages/alerts.js", JS),
    asset!("js/pages/certification.js", JS),
    asset!("js/pages/deliveries.js", JS),
    asset!("js/pages/shipment.js", JS),
    asset!("js/pages/trace.js", JS),
    asset!("js/pages/flags.js", JS),
    asset!("vendor/noble-ed25519.js", JS),
    asset!("vendor/noble-ed25519.LICENSE", "text/plain; charset=utf-8"),
];

/// Each file's strong ETag, in the order of [`ASSETS`], computed once.
fn etags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        use sha2::{Digest, Sha256};
        ASSETS
            .iter()
            .map(|a| format!("\"{}\"", hex::encode(&Sha256::digest(a.body)[..12])))
            .collect()
    })
}

/// Where the console keeps its pages: scripts, styles and the API on this origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn file(req: HttpRequest, tail: web::Path<String>) -> HttpResponse {
    let wanted = match tail.as_str() {
        "" => "index.html",
        t => t,
    };
    let Some(i) = ASSETS.iter().position(|a| a.path == wanted) else {
        use actix_web::ResponseError;
        return crate::error::AppError::NotFound("console file").error_response();
    };
    let (asset, tag) = (&ASSETS[i], &etags()[i]);
    let hit = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::conventions::representation::none_match_hits(v, tag));
    let mut resp = if hit {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, tag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP));
    if hit {
        return resp.finish();
    }
    resp.insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.body)
}

/// `/console` and everything under `/console/` (GET and HEAD).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let read = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.route(
        "/console",
        read().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/console/"))
                .finish()
        }),
    )
    .route("/console/{tail:.*}", read().to(file));
}
