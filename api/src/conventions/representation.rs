//! What a successful JSON read answers besides its body, in one place for every route:
//! - a list (`{"items": [...], "next_cursor": "..."}`) gets an RFC 8288
//!   `Link: <same URL with cursor=next>; rel="next"`;
//! - every read gets an `ETag` (the handler's version tag when it set one, else a digest of
//!   the body), and `If-None-Match` naming it is answered `304 Not Modified`. A handler's
//!   tag answers 304 only when the handler says it covers the whole body ([`TagCoversBody`]):
//!   a version tag of a body with derived figures (a quota's progress) changes less often
//!   than the body, and a 304 for it would serve stale figures;
//! - every answer to a request that carried `Authorization` is `Cache-Control: private,
//!   no-cache` (an attachment, a CSV or XLSX export: `private, no-store`) unless its handler
//!   said otherwise: a shared cache in front of the service (a reverse proxy told to cache
//!   200s) must not keep one organisation's answer for the next caller of the URL, and a
//!   shared computer's browser must not keep an export on disk after its person logged out.
use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use sha2::{Digest, Sha256};

/// Set in a response's extensions by a handler whose `ETag` changes whenever its body does.
#[derive(Debug, Clone, Copy)]
pub struct TagCoversBody;

#[derive(serde::Deserialize)]
struct Page {
    next_cursor: Option<String>,
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

fn no_store(headers: &HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"))
}

/// The URL of the next page: the request's own path and query with `cursor` replaced.
pub fn next_link(path: &str, query: &str, cursor: &str) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k != "cursor" {
            q.append_pair(&k, &v);
        }
    }
    q.append_pair("cursor", cursor);
    format!("<{path}?{}>; rel=\"next\"", q.finish())
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, `*` matches any).
pub fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let mine = opaque(etag);
    if_none_match.split(',').any(|t| t.trim() == "*" || opaque(t) == mine)
}

/// Marks an answer to a signed-in request as for its caller only (see the module's notes).
fn mark_private(headers: &mut HeaderMap, signed_in: bool) {
    if !signed_in || headers.contains_key(header::CACHE_CONTROL) {
        return;
    }
    let attachment = headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("attachment"));
    let value = if attachment {
        "private, no-store"
    } else {
        "private, no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
}

fn digest_tag(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&d[..12]))
}

pub async fn representation(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let signed_in = req.headers().contains_key(header::AUTHORIZATION);
    if req.method() != Method::GET {
        let mut res = next.call(req).await?;
        mark_private(res.headers_mut(), signed_in);
        return Ok(res.map_into_boxed_body());
    }
    let path = req.path().to_string();
    let query = req.query_string().to_string();
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut res = next.call(req).await?;
    mark_private(res.headers_mut(), signed_in);
    if res.status() != StatusCode::OK || !is_json(res.headers()) || no_store(res.headers()) {
        return Ok(res.map_into_boxed_body());
    }
    let tag_covers_body = res.response().extensions().get::<TagCoversBody>().is_some();
    let (request, response) = res.into_parts();
    let (mut head, payload) = response.into_parts();
    let bytes = body::to_bytes(payload).await.map_err(|e| {
        let e: Box<dyn std::error::Error> = e.into();
        crate::error::AppError::internal(format!("reading a response body: {e}"))
    })?;
    if let Ok(Page {
        next_cursor: Some(cursor),
    }) = serde_json::from_slice::<Page>(&bytes)
    {
        if let Ok(v) = HeaderValue::from_str(&next_link(&path, &query, &cursor)) {
            head.headers_mut().insert(header::LINK, v);
        }
    }
    let etag = match head.headers().get(header::ETAG).and_then(|v| v.to_str().ok()) {
        Some(tag) if tag_covers_body => Some(tag.to_string()),
        Some(_) => None,
        None => {
            let tag = digest_tag(&bytes);
            if let Ok(v) = HeaderValue::from_str(&tag) {
                head.headers_mut().insert(header::ETAG, v);
            }
            Some(tag)
        }
    };
    let not_modified = match (&if_none_match, &etag) {
        (Some(inm), Some(etag)) => none_match_hits(inm, etag),
        _ => false,
    };
    if not_modified {
        let mut nm = HttpResponse::NotModified();
        for name in [header::ETAG, header::CACHE_CONTROL, header::VARY, header::LINK] {
            if let Some(v) = head.headers().get(&name) {
                nm.insert_header((name, v.clone()));
            }
        }
        return Ok(ServiceResponse::new(request, nm.finish()));
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_replaces_the_cursor_and_keeps_the_rest() {
        assert_eq!(
            next_link("/api/v1/catalog", "q=r%C3%BCbe&cursor=old&limit=2", "abc:1"),
            "</api/v1/catalog?q=r%C3%BCbe&limit=2&cursor=abc%3A1>; rel=\"next\""
        );
        assert_eq!(next_link("/x", "", "c"), "</x?cursor=c>; rel=\"next\"");
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(none_match_hits("\"3\"", "\"3\""));
        assert!(none_match_hits("W/\"3\", \"4\"", "\"3\""));
        assert!(none_match_hits("*", "\"3\""));
        assert!(!none_match_hits("\"4\"", "\"3\""));
    }
}
