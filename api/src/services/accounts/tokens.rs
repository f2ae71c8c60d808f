//! Login, sessions, refresh-token rotation with reuse detection, and logout.
//!
//! Every login opens a session (a row in `sessions`); its access and refresh tokens carry the
//! session id (`sid`). Each request checks, in one database query, that the session is not
//! revoked, the user not deactivated and the organisation active, so revocation holds in every
//! process with the cache restarted or absent. A refresh token spent by a rotation and
//! presented again is taken as stolen: the whole session (every token descended from that
//! login) is revoked and the event audited.
use super::audit::{self, Event};
use super::throttle::{self, Counted};
use super::{queries, LoginRequest, LogoutRequest, RefreshRequest, TokenPair};
use crate::auth::jwt::{Claims, TokenType};
use crate::auth::{password, Caller};
use crate::domain::{AuditKind, OrgStatus, UserId};
use crate::error::{AppError, AppResult};
use crate::services::{new_id, now, organizations};
use crate::state::AppState;
use entity::{refresh_tokens, users};
use sea_orm::Set;

fn issue_pair(state: &AppState, user: &users::Model, sid: &str) -> AppResult<(TokenPair, Claims)> {
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
        sid: sid.to_string(),
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
        family_id: Set(Some(claims.sid.clone())),
        used_at: Set(None),
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
pub async fn login_allowances(state: &AppState, email: &str, client_ip: &str) -> AppResult<(Allowance, Allowance)> {
    let s = &state.settings;
    let (acct, ip) = throttle::keys(email, client_ip);
    Ok((
        throttle::allowance(state, &acct, s.login_max_failures_per_account).await?,
        throttle::allowance(state, &ip, s.login_max_failures_per_ip).await?,
    ))
}

/// Counts the attempt against the account, then the address, before the password is checked.
/// Returns the account's count after this attempt.
async fn count_attempt(state: &AppState, acct: &str, ip: &str) -> AppResult<u64> {
    let s = &state.settings;
    let n = match throttle::count(state, acct, s.login_max_failures_per_account).await? {
        Counted::Proceed(n) => n,
        Counted::Refused(retry_after) => return Err(AppError::TooManyRequests { retry_after }),
    };
    if let Counted::Refused(retry_after) = throttle::count(state, ip, s.login_max_failures_per_ip).await? {
        throttle::uncount(state, acct).await?;
        return Err(AppError::TooManyRequests { retry_after });
    }
    Ok(n)
}

/// The address a login named, as the audit log records it: cut to an e-mail's length, so that
/// an anonymous caller cannot fill the log with 256 KiB names.
fn as_recorded(email: &str) -> String {
    match email.char_indices().nth(crate::services::MAX_EMAIL_LEN) {
        Some((at, _)) => format!("{}…", &email[..at]),
        None => email.to_string(),
    }
}

/// Logs in. Failed logins are counted per account and per client address, each attempt
/// counted before its password is checked; a success forgives the attempt (and the account's
/// earlier failures), so many users behind one address are never throttled.
pub async fn login(state: &AppState, body: LoginRequest, client_ip: &str) -> AppResult<TokenPair> {
    let email = body.email.trim().to_lowercase();
    let (acct, ip) = throttle::keys(&email, client_ip);
    let count = count_attempt(state, &acct, &ip).await?;
    let user = queries::user_by_email(&state.db, &email).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::dummy_hash().to_string());
    let pw = body.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
        .await
        .unwrap_or(false);
    let subject = user.as_ref().and_then(|u| u.id.parse::<UserId>().ok());
    let event = |detail: &str| Event {
        subject,
        org: user.as_ref().and_then(|u| u.org_id.parse().ok()),
        email: Some(as_recorded(&email)),
        address: Some(client_ip.to_string()),
        detail: detail.to_string(),
        ..Event::default()
    };
    let Some(found) = user.as_ref().filter(|_| ok) else {
        audit::record(&state.db, AuditKind::LoginFailed, event("wrong email or password")).await?;
        if count >= state.settings.login_max_failures_per_account {
            let detail = format!("{count} failed logins: further attempts refused until the window ends");
            audit::record(&state.db, AuditKind::LoginLocked, event(&detail)).await?;
        }
        return Err(AppError::Unauthorized("wrong email or password".into()));
    };
    if found.deactivated_at.is_some() {
        audit::record(&state.db, AuditKind::LoginFailed, event("the user is deactivated")).await?;
        return Err(AppError::Forbidden("this user has been deactivated".into()));
    }
    if let Err(e) = require_active(&organizations::find(&state.db, &found.org_id).await?) {
        audit::record(
            &state.db,
            AuditKind::LoginFailed,
            event("the organisation is suspended"),
        )
        .await?;
        return Err(e);
    }
    throttle::forgive(state, &acct).await?;
    throttle::uncount(state, &ip).await?;
    let sid = new_id();
    queries::insert_session(&state.db, &sid, &found.id, now()).await?;
    let (pair, refresh) = issue_pair(state, found, &sid)?;
    store_refresh(state, &refresh).await?;
    audit::record(
        &state.db,
        AuditKind::LoginSucceeded,
        Event {
            actor: subject,
            ..event(&format!("session {sid}"))
        },
    )
    .await?;
    if let Some(u) = user {
        queries::touch_login(&state.db, u, now()).await?;
    }
    Ok(pair)
}

/// Revokes the whole session of a refresh token presented after it was spent, and audits it.
async fn reuse_detected(
    state: &AppState,
    stored: &refresh_tokens::Model,
    sid: &str,
    client_ip: &str,
) -> AppResult<AppError> {
    queries::revoke_sessions(&state.db, Some(sid), None, "refresh token reused", now()).await?;
    let e = Event {
        subject: stored.user_id.parse().ok(),
        address: Some(client_ip.to_string()),
        detail: format!(
            "refresh token {} presented after it was spent: session {sid} revoked",
            stored.jti
        ),
        ..Event::default()
    };
    audit::record(&state.db, AuditKind::RefreshReused, e).await?;
    Ok(AppError::Unauthorized(
        "refresh token reused: the session has been revoked".into(),
    ))
}

/// Exchanges a refresh token for a new pair of the same session; the old refresh token is spent
/// (rotation). A spent token presented again revokes the session: every token of that login.
pub async fn refresh(state: &AppState, body: RefreshRequest, client_ip: &str) -> AppResult<TokenPair> {
    let revoked = || AppError::Unauthorized("refresh token has been revoked".into());
    let claims = state
        .jwt
        .verify(&body.refresh_token)
        .map_err(|_| AppError::Unauthorized("invalid or expired refresh token".into()))?;
    if claims.typ != TokenType::Refresh {
        return Err(AppError::Unauthorized("not a refresh token".into()));
    }
    let Some(stored) = queries::refresh_token(&state.db, &claims.jti).await? else {
        return Err(revoked());
    };
    if stored.family_id.as_deref() != Some(claims.sid.as_str()) {
        return Err(revoked());
    }
    if stored.used_at.is_some() {
        return Err(reuse_detected(state, &stored, &claims.sid, client_ip).await?);
    }
    if stored.revoked_at.is_some() {
        return Err(revoked());
    }
    check_session(state, &claims).await?;
    let user = queries::user(&state.db, claims.sub).await?.ok_or_else(revoked)?;
    // Spend first, conditionally: of two concurrent rotations only one wins; the other is a reuse.
    if !queries::spend_refresh(&state.db, &stored.jti, now()).await? {
        return Err(reuse_detected(state, &stored, &claims.sid, client_ip).await?);
    }
    let (pair, refresh) = issue_pair(state, &user, &claims.sid)?;
    store_refresh(state, &refresh).await?;
    Ok(pair)
}

/// Ends the caller's session (every access and refresh token of that login) and, when a
/// refresh token of the caller's is given, the session it belongs to as well.
pub async fn logout(state: &AppState, caller: &Caller, body: LogoutRequest) -> AppResult<()> {
    let other = body
        .refresh_token
        .and_then(|rt| state.jwt.verify(&rt).ok())
        .filter(|c| c.sub == caller.user() && c.sid != caller.sid)
        .map(|c| c.sid);
    let at = now();
    for sid in std::iter::once(caller.sid.clone()).chain(other) {
        queries::revoke_sessions(&state.db, Some(&sid), Some(caller.user()), "logout", at).await?;
    }
    let e = Event {
        subject: Some(caller.user()),
        org: Some(caller.org()),
        detail: format!("session {} ended", caller.sid),
        ..Event::by(caller)
    };
    audit::record(&state.db, AuditKind::Logout, e).await
}

/// The checks of a token that need the database, in one query: its session is live, its user
/// exists, belongs to the token's organisation and is not deactivated, and the organisation
/// is active.
pub async fn check_session(state: &AppState, claims: &Claims) -> AppResult<()> {
    let gone = |what: &str| AppError::Unauthorized(what.to_string());
    let Some(s) = queries::session_state(&state.db, &claims.sid).await? else {
        return Err(gone("the session does not exist"));
    };
    if claims.sub != s.user_id || claims.org != s.org_id {
        return Err(gone("the token does not match its session"));
    }
    if s.revoked {
        return Err(gone("token has been revoked"));
    }
    if s.deactivated {
        return Err(gone("the user has been deactivated"));
    }
    if OrgStatus::Active != s.org_status {
        return Err(AppError::Forbidden("your organisation is suspended".into()));
    }
    Ok(())
}
