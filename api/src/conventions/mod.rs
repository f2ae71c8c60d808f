//! HTTP conventions applied to every route in one place (middleware), so handlers
//! need not repeat them: `X-Request-Id` (carried or generated, in the log span, in
//! problems as `instance`), CORS for configured origins, and, in [`representation`],
//! `Link: rel="next"` on lists and `ETag`/`If-None-Match` on reads.
pub mod representation;

use crate::config::Settings;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (stored in the request's extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request whose response is being built, when there is one.
pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The `instance` of a problem: which occurrence it is, named by the request id
/// the client sent or was given in `X-Request-Id`.
pub fn problem_instance() -> Option<String> {
    current_request_id().map(|id| format!("urn:request:{id}"))
}

/// A client's id is carried when it is a sane token: 1 to 128 of `[A-Za-z0-9._-]`.
fn sane(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn incoming(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(REQUEST_ID)?.to_str().ok()?.trim();
    sane(v).then(|| v.to_string())
}

/// Outermost middleware but compression: takes or makes the request id, keeps it
/// while the response is built (problems read it), and returns it on every response.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = incoming(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let value = HeaderValue::from_str(&id).ok();
    let out = CURRENT
        .scope(id, async move {
            match next.call(req).await {
                Ok(res) => Ok(as_problem(res.map_into_boxed_body()).await),
                // An error that left the inner middleware unanswered is rendered here,
                // while the id is known, so that its problem carries it too.
                Err(e) => {
                    let resp = e.as_response_error().error_response();
                    Err((e, resp))
                }
            }
        })
        .await;
    match out {
        Ok(mut res) => {
            if let Some(v) = value {
                res.headers_mut().insert(REQUEST_ID, v);
            }
            Ok(res)
        }
        Err((e, mut resp)) => {
            if let Some(v) = value {
                resp.headers_mut().insert(REQUEST_ID, v);
            }
            Err(actix_web::error::InternalError::from_response(e.to_string(), resp).into())
        }
    }
}

/// An error answered in text by something other than `AppError` (a refused CORS preflight, a
/// framework error) becomes problem+json too, with its text as the detail, so that every error a client
/// sees has the same shape and an `instance`.
async fn as_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    // A JSON body (a problem, or `/readyz`'s report of what is down) is already meant for a client.
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/") && ct.contains("json"));
    if status.as_u16() < 400 || is_json {
        return res;
    }
    let (request, response) = res.into_parts();
    let (head, payload) = response.into_parts();
    let text = actix_web::body::to_bytes_limited(payload, 4096)
        .await
        .ok()
        .and_then(Result::ok)
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("Error");
    let problem = crate::error::Problem {
        type_: "about:blank".into(),
        title: reason.into(),
        status: status.as_u16(),
        detail: if text.is_empty() { reason.to_lowercase() } else { text },
        errors: Vec::new(),
        instance: problem_instance(),
    };
    let mut out = actix_web::HttpResponse::build(status);
    for (name, value) in head.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.append_header((name.clone(), value.clone()));
        }
    }
    out.insert_header((header::CONTENT_TYPE, "application/problem+json"));
    ServiceResponse::new(request, out.json(problem))
}

/// The request's log span, named by the same request id as the response.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "other".into());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.uri().path(),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            request_id = %id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// CORS for the configured origins only; preflights answered, other origins get no CORS headers
/// (and are not refused: non-browser clients send any `Origin`).
pub fn cors(settings: &Settings) -> actix_cors::Cors {
    let mut c = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allow_any_header()
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::LINK,
            header::RETRY_AFTER,
            REQUEST_ID,
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in settings.cors_origins() {
        c = c.allowed_origin(&origin);
    }
    c
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::test as at;
    use actix_web::{middleware, web, App, HttpResponse};
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b); // ok: test code
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    /// What is logged while a request is served names the request id the client sees.
    #[actix_web::test]
    async fn the_log_span_carries_the_request_id() {
        let buf = Buf::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buf.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = at::init_service(
            App::new()
                .wrap(tracing_actix_web::TracingLogger::<RequestSpan>::new())
                .wrap(middleware::from_fn(request_id))
                .route(
                    "/x",
                    web::get().to(|| async {
                        tracing::info!("handling");
                        HttpResponse::Ok().finish()
                    }),
                ),
        )
        .await;
        let req = at::TestRequest::get()
            .uri("/x")
            .insert_header(("X-Request-Id", "trace-7"))
            .to_request();
        let res = at::call_service(&app, req).await;
        assert_eq!(res.headers().get(REQUEST_ID).unwrap(), "trace-7"); // ok: test code
        let req = at::TestRequest::get().uri("/x").to_request();
        let res = at::call_service(&app, req).await;
        let made = res.headers().get(REQUEST_ID).unwrap().to_str().unwrap().to_string(); // ok: test code
        let logged = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap(); // ok: test code
        let lines: Vec<&str> = logged.lines().filter(|l| l.contains("handling")).collect();
        assert_eq!(lines.len(), 2, "{logged}");
        assert!(lines[0].contains("request_id=trace-7"), "{logged}");
        assert!(lines[1].contains(&format!("request_id={made}")), "{logged}");
    }

    #[test]
    fn request_ids_are_tokens() {
        assert!(sane("abc-123_X.y"));
        assert!(sane(&"a".repeat(128)));
        assert!(!sane(""));
        assert!(!sane(&"a".repeat(129)));
        assert!(!sane("a b"));
        assert!(!sane("a\"b"));
        assert!(!sane("ü"));
    }
}
