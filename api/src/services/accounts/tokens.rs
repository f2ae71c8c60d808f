//! Login, refresh-token rotation and logout.
use super::{queries, LoginRequest, LogoutRequest, RefreshRequest, TokenPair};
use crate::auth::jwt::{Claims, TokenType};
use crate::auth::{password, Caller};
use crate::domain::OrgStatus;
use crate::error::{AppError, AppResult};
use crate::services::{new_id, now, organizations};
use crate::state::AppState;
use entity::{refresh_tokens, users};
use sea_orm::Set;
use std::time::Duration;

fn issue_pair(state: &AppState, user: &users::Model) -> AppResult<(TokenPair, Claims)> {
    let iat = chrono::Utc::now().timestamp();
    let s = &state.settings;
    let bad = || AppError::internal("stored user is invalid");
    let access = Claims {
        sub: user.id.parse().map_err(|_| bad())?,
        org: user.org_id.parse().map_err(|_| bad())?,
        role: crate::domain::Role::parse(&user.role).ok_or_else(bad)?,
        exp: iat + s.access_token_ttl_secs,
        iat,
        jti: new_id(),
        typ: TokenType::Access,
    };
    let refresh = Claims {
        exp: iat + s.refresh_token_ttl_secs,
        jti: new_id(),
        typ: TokenType::Refresh,
        ..access.clone()
    };
    let pair = TokenPair {
        access_token: state.jwt.issue(&access).map_err(AppError::internal)?,
        refresh_token: state.jwt.issue(&refresh).map_err(AppError::internal)?,
        expires_in: s.access_token_ttl_secs,
        token_type: "Bearer".into(),
    };
    Ok((pair, refresh))
}

async fn store_refresh(state: &AppState, claims: &Claims) -> AppResult<()> {
    let am = refresh_tokens::ActiveModel {
        jti: Set(claims.jti.clone()),
        user_id: Set(claims.sub.to_string()),
        expires_at: Set(chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(chrono::Utc::now)),
        revoked_at: Set(None),
        created_at: Set(now()),
    };
    Ok(queries::insert_refresh(&state.db, am).await?)
}

/// 403 unless the stored organisation is active.
pub(super) fn require_active(org: &entity::organizations::Model) -> AppResult<()> {
    if OrgStatus::Active == org.status {
        Ok(())
    } else {
        Err(AppError::Forbidden("your organisation is suspended".into()))
    }
}

fn login_keys(email: &str, client_ip: &str) -> (String, String) {
    (
        format!("login:fail:acct:{}", email.trim().to_lowercase()),
        format!("login:fail:ip:{client_ip}"),
    )
}

/// One failed-login allowance: how many failures it takes, how many are left, and the seconds
/// until the count starts afresh (the window when nothing has been counted yet).
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub quota: u64,
    pub remaining: u64,
    pub reset_secs: u64,
    pub window_secs: u64,
}

/// The failed-login allowances of an account and of a client address, as they stand now.
pub async fn login_allowances(state: &AppState, email: &str, client_ip: &str) -> (Allowance, Allowance) {
    let s = &state.settings;
    let (acct_key, ip_key) = login_keys(email, client_ip);
    let one = |(n, ttl): (u64, u64), quota: u64| Allowance {
        quota,
        remaining: quota.saturating_sub(n),
        reset_secs: if n == 0 || ttl == 0 { s.login_window_secs } else { ttl },
        window_secs: s.login_window_secs,
    };
    (
        one(state.cache.counter(&acct_key).await, s.login_max_failures_per_account),
        one(state.cache.counter(&ip_key).await, s.login_max_failures_per_ip),
    )
}

/// Failed logins are counted per account and per client address; successful
/// logins are not, so many users behind one address are never throttled.
pub async fn login(state: &AppState, body: LoginRequest, client_ip: &str) -> AppResult<TokenPair> {
    let email = body.email.trim().to_lowercase();
    let s = &state.settings;
    let (acct_key, ip_key) = login_keys(&email, client_ip);
    let (acct_n, acct_ttl) = state.cache.counter(&acct_key).await;
    let (ip_n, ip_ttl) = state.cache.counter(&ip_key).await;
    if acct_n >= s.login_max_failures_per_account {
        return Err(AppError::TooManyRequests { retry_after: acct_ttl });
    }
    if ip_n >= s.login_max_failures_per_ip {
        return Err(AppError::TooManyRequests { retry_after: ip_ttl });
    }
    let user = queries::user_by_email(&state.db, &email).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::dummy_hash().to_string());
    let pw = body.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if ok => u,
        _ => {
            let window = Duration::from_secs(s.login_window_secs);
            state.cache.incr_window(&acct_key, window).await;
            state.cache.incr_window(&ip_key, window).await;
            return Err(AppError::Unauthorized("wrong email or password".into()));
        }
    };
    require_active(&organizations::find(&state.db, &user.org_id).await?)?;
    state.cache.delete(&acct_key).await;
    let (pair, refresh) = issue_pair(state, &user)?;
    store_refresh(state, &refresh).await?;
    queries::touch_login(&state.db, user, now()).await?;
    Ok(pair)
}

/// Exchanges a refresh token for a new pair; the old refresh token is revoked (rotation),
/// so a stolen one that is used twice stops working.
pub async fn refresh(state: &AppState, body: RefreshRequest) -> AppResult<TokenPair> {
    let claims = state
        .jwt
        .verify(&body.refresh_token)
        .map_err(|_| AppError::Unauthorized("invalid or expired refresh token".into()))?;
    if claims.typ != TokenType::Refresh {
        return Err(AppError::Unauthorized("not a refresh token".into()));
    }
    let Some(stored) = queries::live_refresh(&state.db, &claims.jti).await? else {
        return Err(AppError::Unauthorized("refresh token has been revoked".into()));
    };
    let user_id = stored
        .user_id
        .parse()
        .map_err(|_| AppError::Unauthorized("user no longer exists".into()))?;
    let user = queries::user(&state.db, user_id)
        .await?
        .ok_or_else(|| AppError::Unauthorized("user no longer exists".into()))?;
    require_active(&organizations::find(&state.db, &user.org_id).await?)?;
    // Revoke first, conditionally: of two concurrent refreshes only one wins.
    if queries::revoke_refresh(&state.db, None, Some(&stored.jti), now()).await? != 1 {
        return Err(AppError::Unauthorized("refresh token has been revoked".into()));
    }
    let (pair, refresh) = issue_pair(state, &user)?;
    store_refresh(state, &refresh).await?;
    Ok(pair)
}

pub async fn logout(state: &AppState, caller: &Caller, body: LogoutRequest) -> AppResult<()> {
    let ttl = (caller.exp - chrono::Utc::now().timestamp()).max(1) as u64;
    state
        .cache
        .set(&format!("revoked:{}", caller.jti), "1", Duration::from_secs(ttl))
        .await;
    let only = body
        .refresh_token
        .and_then(|rt| state.jwt.verify(&rt).ok())
        .map(|c| c.jti);
    queries::revoke_refresh(&state.db, Some(caller.user()), only.as_deref(), now()).await?;
    Ok(())
}

pub async fn is_revoked(state: &AppState, jti: &str) -> bool {
    state.cache.get(&format!("revoked:{jti}")).await.is_some()
}
