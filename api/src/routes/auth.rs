//! Login, refresh, logout, me.
use super::extract::{client_ip, Body};
use crate::auth::Caller;
use crate::error::AppError;
use crate::services::accounts::{self, LoginRequest, LogoutRequest, Me, RefreshRequest, TokenPair};
use crate::state::AppState;
use actix_web::{get, post, web, HttpRequest, HttpResponse};

/// Log in with email and password.
#[utoipa::path(operation_id = "login", tag = "auth", request_body(content = LoginRequest, example = json!({"email": "buyer@demo.assist", "password": "demo-pass-2026"})), responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "Wrong email or password"),
    (status = 403, description = "The organisation is suspended"),
    (status = 429, description = "Too many failed attempts; see Retry-After")))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let pair = accounts::login(&state, body.0, &client_ip(&req)).await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// Exchange a refresh token for a new token pair (the old refresh token stops working).
#[utoipa::path(operation_id = "refreshTokens", tag = "auth", request_body = RefreshRequest, responses((status = 200, body = TokenPair), (status = 401)))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: Body<RefreshRequest>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(accounts::refresh(&state, body.0).await?))
}

/// Revoke the access token in use (and the user's refresh tokens).
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
