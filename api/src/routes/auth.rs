//! Login, refresh, logout, me.
use super::extract::{client_ip, Body};
use crate::auth::Caller;
use crate::error::AppError;
use crate::services::accounts::{self, LoginRequest, LogoutRequest, Me, RefreshRequest, TokenPair};
use crate::state::AppState;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

/// Token responses are never stored by a cache (RFC 6749 5.1).
fn no_store() -> (actix_web::http::header::HeaderName, &'static str) {
    (actix_web::http::header::CACHE_CONTROL, "no-store")
}

/// Log in with email and password.
#[utoipa::path(operation_id = "login", tag = "auth", request_body(content = LoginRequest, example = json!({"email": "buyer@demo.assist", "password": "demo-pass-2026"})), responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "Wrong email or password"),
    (status = 403, description = "The organisation is suspended, or the user is deactivated"),
    (status = 429, description = "Too many failed attempts; see Retry-After")))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let email = body.0.email.clone();
    let ip = client_ip(&req);
    let mut resp = match accounts::login(&state, body.0, &ip).await {
        Ok(pair) => HttpResponse::Ok().insert_header(no_store()).json(pair),
        Err(e) => actix_web::ResponseError::error_response(&e),
    };
    rate_limit_headers(&mut resp, accounts::login_allowances(&state, &email, &ip).await?);
    Ok(resp)
}

/// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-09) of the failed-login
/// allowances: per account and per client address.
fn rate_limit_headers(resp: &mut HttpResponse, (account, address): (accounts::Allowance, accounts::Allowance)) {
    use actix_web::http::header::{HeaderName, HeaderValue};
    let items = [("account", account), ("address", address)];
    let policy = items
        .iter()
        .map(|(name, a)| format!("\"{name}\";q={};w={}", a.quota, a.window_secs))
        .collect::<Vec<_>>()
        .join(", ");
    let state = items
        .iter()
        .map(|(name, a)| format!("\"{name}\";r={};t={}", a.remaining, a.reset_secs))
        .collect::<Vec<_>>()
        .join(", ");
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
}

/// Exchange a refresh token for a new token pair of the same session (the old refresh token is
/// spent). A spent refresh token presented again is taken as stolen: the whole session (every
/// token descended from that login) is revoked, the answer is 401, and the audit log records it.
#[utoipa::path(operation_id = "refreshTokens", tag = "auth", request_body = RefreshRequest, responses((status = 200, body = TokenPair), (status = 401), (status = 403, description = "The organisation is suspended, or the user is deactivated")))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let pair = accounts::refresh(&state, body.0, &client_ip(&req)).await?;
    Ok(HttpResponse::Ok().insert_header(no_store()).json(pair))
}

/// End the caller's session: the access token in use and every token of the same login stop
/// working at once, in every process.
#[utoipa::path(operation_id = "logout", tag = "auth", request_body(content = Option<LogoutRequest>), responses((status = 204)))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, caller: Caller, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let req: LogoutRequest = if body.iter().all(|b| b.is_ascii_whitespace()) {
        LogoutRequest::default()
    } else {
        super::extract::parse_json(&body)?
    };
    accounts::logout(&state, &caller, req).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's user and organisation.
#[utoipa::path(operation_id = "getMe", tag = "auth", responses((status = 200, body = Me)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(accounts::me(&state, &caller).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(refresh).service(logout).service(me);
}
