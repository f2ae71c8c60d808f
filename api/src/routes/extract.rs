//! Request-side helpers for handlers: a JSON body extractor that names the bad
//! field, `If-Match`/`ETag`, `Idempotency-Key`, and `201 Created` responses.
use crate::error::{AppError, FieldError};
use crate::services::orders::IdempotencyKey;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A JSON request body. Wrong content type: 415; bad JSON: 400; a value of the
/// wrong shape: 422 naming the field path (`lines[0].quantity`).
pub struct Body<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::read(req, payload);
        Box::pin(async move { raw.await.json().map(Body) })
    }
}

/// A body as read: its bytes (or why they could not be read) and whether it was sent as JSON.
struct RawBody {
    bytes: Result<web::Bytes, AppError>,
    json: bool,
}

impl RawBody {
    fn read(req: &HttpRequest, payload: &mut Payload) -> impl std::future::Future<Output = RawBody> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .map(|m| m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
            .unwrap_or(false);
        let bytes = web::Bytes::from_request(req, payload);
        async move {
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest(format!("could not read the body: {e}"))
                }
            });
            RawBody { bytes, json }
        }
    }

    /// Wrong content type: 415; bad JSON: 400; a value of the wrong shape: 422.
    fn json<T: DeserializeOwned>(self) -> Result<T, AppError> {
        let bytes = self.bytes?;
        if !self.json {
            return Err(AppError::UnsupportedMediaType(
                "send the body as application/json".into(),
            ));
        }
        parse_json(&bytes)
    }
}

/// A JSON body read but not yet parsed: authorise, then validate. The handler checks
/// who may call it first (the role, then the visibility and ownership of the resource
/// named in the path), then opens the body with the outcome. A caller who may not call
/// the route is refused (401/403/404) whatever it sent, and never learns the body's
/// shape (415, 400 or 422 reach only a caller who may call it).
pub struct Guarded<T> {
    raw: RawBody,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Guarded<T> {
    /// The body, once `permit` (the authorisation) has passed; else the permit's error.
    pub fn open<P>(self, permit: Result<P, AppError>) -> Result<T, AppError> {
        permit?;
        self.raw.json()
    }

    /// As `open`, keeping what the permit gave (such as the request's `Idempotency-Key`).
    pub fn open_with<P>(self, permit: Result<P, AppError>) -> Result<(P, T), AppError> {
        let p = permit?;
        Ok((p, self.raw.json()?))
    }

    /// As `open_optional`, keeping what the permit gave (such as the resource it checked).
    pub fn open_optional_with<P>(self, permit: Result<P, AppError>) -> Result<(P, T), AppError>
    where
        T: Default,
    {
        let p = permit?;
        Ok((p, self.open_optional(Ok::<(), AppError>(()))?))
    }

    /// As `open`, for an optional body, whatever its content type: an empty one is `T::default()`.
    pub fn open_optional<P>(self, permit: Result<P, AppError>) -> Result<T, AppError>
    where
        T: Default,
    {
        permit?;
        let bytes = self.raw.bytes?;
        if bytes.iter().all(|c| c.is_ascii_whitespace()) {
            Ok(T::default())
        } else {
            parse_json(&bytes)
        }
    }
}

impl<T: 'static> FromRequest for Guarded<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let raw = RawBody::read(req, payload);
        Box::pin(async move {
            Ok(Guarded {
                raw: raw.await,
                of: std::marker::PhantomData,
            })
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // A NUL character can be stored by no database: refuse it before it gets that far.
    if has_nul_escape(bytes) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let mut errors = Vec::new();
            nul_fields(&value, "", &mut errors);
            AppError::check(errors)?;
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let msg = strip_position(&inner.to_string());
            let top = path == "." || path.is_empty();
            let field = match missing_field(&msg) {
                Some(name) if top => name,
                Some(name) => format!("{path}.{name}"),
                None if top => "body".to_string(),
                None => path,
            };
            AppError::Validation {
                detail: format!("{field}: {msg}"),
                errors: vec![FieldError::new(field, msg)],
            }
        } else if inner.is_eof() && bytes.iter().all(|b| b.is_ascii_whitespace()) {
            AppError::BadRequest("the request body is empty; send a JSON object".into())
        } else {
            AppError::BadRequest(format!("malformed JSON: {inner}"))
        }
    })
}

/// Whether the body holds a real `\u0000` escape, the only way JSON text can carry a NUL
/// (a raw NUL byte is not valid JSON). An escaped backslash followed by `u0000` (`\\u0000`)
/// is ordinary text: each escape is skipped whole, so only an odd run of backslashes counts.
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1..i + 6) == Some(b"u0000".as_slice()) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

const NUL_MESSAGE: &str = "text must not contain NUL characters";

/// Every field whose decoded text (value or key) holds a NUL, named by its path
/// (`lines[0].name`) as the deserialiser names a field of the wrong shape.
fn nul_fields(value: &serde_json::Value, path: &str, errors: &mut Vec<FieldError>) {
    let here = |p: &str| {
        if p.is_empty() {
            "body".to_string()
        } else {
            p.to_string()
        }
    };
    match value {
        serde_json::Value::String(s) if s.contains('\0') => errors.push(FieldError::new(here(path), NUL_MESSAGE)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_fields(item, &format!("{path}[{i}]"), errors);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                if key.contains('\0') {
                    errors.push(FieldError::new(here(path), NUL_MESSAGE));
                    continue;
                }
                let inner = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                nul_fields(item, &inner, errors);
            }
        }
        _ => {}
    }
}

/// serde says "missing field `name`" at the level of the enclosing object.
fn missing_field(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("missing field `")?;
    rest.find('`').map(|end| rest[..end].to_string())
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// The client address used for per-address limits: the peer, or, when the peer is one of
/// the configured reverse proxies (`ASSIST_TRUSTED_PROXIES`), the nearest address in its
/// `X-Forwarded-For` that is not a trusted proxy (read from the right: the left part is
/// whatever the client wrote). Nobody else's `X-Forwarded-For` is read.
pub fn client_ip(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let trusted = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|s| s.settings.trusted_proxies())
        .unwrap_or_default();
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded_client(&forwarded, &trusted).unwrap_or(peer).to_string()
}

/// The rightmost address of `forwarded` (as the proxies appended them) that is not one of
/// `trusted`; `None` when there is none or one is not an address.
fn forwarded_client(forwarded: &[&str], trusted: &[std::net::IpAddr]) -> Option<std::net::IpAddr> {
    for a in forwarded.iter().rev() {
        let ip: std::net::IpAddr = a.parse().ok()?;
        if !trusted.contains(&ip) {
            return Some(ip);
        }
    }
    None
}

/// `If-Match` of an update: 428 when missing. `*` (any current version) is passed on
/// as `"*"`, which the services take as a match whenever the resource exists.
pub fn if_match(req: &HttpRequest) -> Result<String, AppError> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().trim_start_matches("W/").trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .ok_or(AppError::PreconditionRequired)
}

/// `If-Match` of an action that may name the version it was decided on: `None` when absent.
pub fn optional_if_match(req: &HttpRequest) -> Option<String> {
    if_match(req).ok()
}

/// `Idempotency-Key` of an order-creating write: 400 when missing or unusable.
/// The one place the key is checked.
pub fn idempotency_key(req: &HttpRequest) -> Result<IdempotencyKey, AppError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().trim_matches('"').to_string())
        .ok_or_else(|| AppError::BadRequest("this request requires an Idempotency-Key header".into()))?;
    IdempotencyKey::parse(&key)
}

/// `Idempotency-Key` of a write that may carry one: `None` when absent, 400 when unusable.
pub fn optional_idempotency_key(req: &HttpRequest) -> Result<Option<IdempotencyKey>, AppError> {
    if req.headers().contains_key("Idempotency-Key") {
        idempotency_key(req).map(Some)
    } else {
        Ok(None)
    }
}

pub fn etag_value(tag: &str) -> String {
    format!("\"{tag}\"")
}

/// 200 with an `ETag` that changes whenever `body` does (a version bumped by every write
/// of everything in it), so that `If-None-Match` naming it is answered 304.
pub fn ok_with_etag<T: Serialize>(body: &T, tag: &str) -> HttpResponse {
    let mut resp = HttpResponse::Ok()
        .insert_header((header::ETAG, etag_value(tag)))
        .json(body);
    resp.extensions_mut()
        .insert(crate::conventions::representation::TagCoversBody);
    resp
}

/// 201 with `Location`.
pub fn created<T: Serialize>(body: &T, location: &str) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location.to_string()))
        .json(body)
}

/// A query string parsed into `T`: a value of the wrong shape (an amount out of its
/// grammar or bound, an unknown enum value, a number that is not one, a bad `%` escape)
/// is 400 problem+json naming the parameter in `errors`; the handler never sees it.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// A query string parsed into `T`, its error kept until the caller is authorised: as
/// `Guarded` for a body, a caller who may not read the route is refused (401/403/404)
/// whatever the query, and a malformed one is answered only to a caller who may.
pub struct GuardedQuery<T>(Result<T, AppError>);

impl<T> GuardedQuery<T> {
    /// The query, once `permit` (the authorisation) has passed; else the permit's error.
    pub fn open<P>(self, permit: Result<P, AppError>) -> Result<T, AppError> {
        permit?;
        self.0
    }

    /// The query of a route that any signed-in caller may read (its answer is scoped to the
    /// caller): `caller` was extracted, so the session, its user and its organisation passed.
    /// A plain [`Query`] beside `Caller` would answer a malformed query (ready at once) before
    /// the session's check (a database read) refused a revoked session or a suspended organisation.
    pub fn signed_in(self, _caller: &crate::auth::Caller) -> Result<T, AppError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for GuardedQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(GuardedQuery(parse_query(req.query_string()))))
    }
}

/// Parses a query string into `T`. Every failure is `AppError::BadQuery` (400) naming the
/// parameter: a `%` escape that is not two hex digits or not UTF-8 text, a NUL, a value
/// that is not of the parameter's type, a missing required parameter.
pub fn parse_query<T: DeserializeOwned>(qs: &str) -> Result<T, AppError> {
    malformed_query(qs)?;
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(qs.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = strip_position(&e.into_inner().to_string());
        let field = match missing_field(&msg) {
            Some(name) => name,
            None if path == "." || path.is_empty() => "query".to_string(),
            None => path,
        };
        AppError::query_param(field, msg)
    })
}

/// A query string that is not well-formed (`%` not followed by two hex digits, an escape that
/// decodes to no UTF-8 text, a NUL) is a 400 naming the parameter it is in.
fn malformed_query(qs: &str) -> Result<(), AppError> {
    for pair in qs.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name =
            || String::from_utf8_lossy(&percent_decode(key).unwrap_or_else(|| key.as_bytes().to_vec())).into_owned();
        for part in [key, value] {
            match percent_decode(part) {
                Some(bytes) if bytes.contains(&0) => {
                    return Err(AppError::query_param(name(), "must not contain NUL characters"))
                }
                Some(bytes) if std::str::from_utf8(&bytes).is_ok() => {}
                _ => {
                    return Err(AppError::query_param(
                        name(),
                        "is malformed: escape bytes as %XX (two hex digits) of UTF-8 text",
                    ))
                }
            }
        }
    }
    Ok(())
}

/// `+` is a space; `%XX` a byte; `None` when an escape is not two hex digits.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let text = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(text, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}
