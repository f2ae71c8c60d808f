//! The `Caller` extractor: bearer token -> verified caller whose organisation is active.
use super::{Caller, Role};
use crate::error::AppError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{http::header, web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Caller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::internal("application state missing"))?;
            let token = token.ok_or_else(|| AppError::Unauthorized("missing bearer token".into()))?;
            authenticate(&state, &token).await
        })
    }
}

/// Verifies an access token and that its user and organisation may still act.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, AppError> {
    let claims = state
        .jwt
        .verify(token)
        .map_err(|_| AppError::Unauthorized("invalid or expired token".into()))?;
    if claims.typ != "access" {
        return Err(AppError::Unauthorized("not an access token".into()));
    }
    let role = Role::parse(&claims.role).ok_or_else(|| AppError::Unauthorized("invalid token".into()))?;
    if crate::services::accounts::is_revoked(state, &claims.jti).await {
        return Err(AppError::Unauthorized("token has been revoked".into()));
    }
    crate::services::accounts::ensure_active(state, &claims.sub, &claims.org).await?;
    Ok(Caller {
        user_id: claims.sub,
        org_id: claims.org,
        role,
        jti: claims.jti,
        exp: claims.exp,
    })
}
