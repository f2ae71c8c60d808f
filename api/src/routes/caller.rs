//! The `Caller` extractor: bearer token -> verified caller whose organisation is active.
//! It lives with the routes because it needs the services (the session, the active
//! organisation); `auth` itself uses nothing above the domain.
//!
//! The token's signature, expiry and type are checked synchronously, before any
//! other extractor of the handler (such as the JSON body) can answer, so that a
//! bad token is always 401 and an evaluator's write is always 403, whatever the body.
use crate::auth::jwt::{Claims, TokenType};
use crate::auth::{Caller, Role};
use crate::error::AppError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{http::header, web, FromRequest, HttpRequest};
use futures_util::future::{ready, FutureExt, LocalBoxFuture};

impl FromRequest for Caller {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Caller, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return ready(Err(AppError::internal("application state missing"))).boxed_local();
        };
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string());
        let Some(token) = token else {
            return ready(Err(AppError::Unauthorized("missing bearer token".into()))).boxed_local();
        };
        let (claims, role) = match verify_access(&state, &token) {
            Ok(v) => v,
            Err(e) => return ready(Err(e)).boxed_local(),
        };
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        // Evaluators only read, except to log in and out and to decide on fraud signals.
        let p = req.path();
        let decides = p.starts_with("/api/v1/flags/") && (p.ends_with("/dismiss") || p.ends_with("/confirm"));
        if role == Role::Evaluator && !safe && !p.starts_with("/api/v1/auth/") && !decides {
            return ready(Err(AppError::Forbidden("evaluators have read-only access".into()))).boxed_local();
        }
        let addr = super::extract::client_ip(req);
        async move { finish(&state, claims, role, addr).await }.boxed_local()
    }
}

fn verify_access(state: &AppState, token: &str) -> Result<(Claims, Role), AppError> {
    let claims = state
        .jwt
        .verify(token)
        .map_err(|_| AppError::Unauthorized("invalid or expired token".into()))?;
    if claims.typ != TokenType::Access {
        return Err(AppError::Unauthorized("not an access token".into()));
    }
    let role = claims.role;
    Ok((claims, role))
}

/// Verifies an access token and that its user and organisation may still act.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Caller, AppError> {
    let (claims, role) = verify_access(state, token)?;
    finish(state, claims, role, String::new()).await
}

/// The checks that need the database (one query): the session is not revoked, the user not
/// deactivated, the organisation active.
async fn finish(state: &AppState, claims: Claims, role: Role, addr: String) -> Result<Caller, AppError> {
    crate::services::accounts::check_session(state, &claims).await?;
    Ok(Caller::new(claims.sub, claims.org, role, claims.jti, claims.exp).with_session(claims.sid, addr))
}
