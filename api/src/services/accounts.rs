//! Users, login, token refresh and revocation, login rate limits.
use super::now;
use crate::auth::jwt::Claims;
use crate::auth::{password, Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::organizations::{self, role_for_kind, Organization};
use crate::state::AppState;
use entity::{refresh_tokens, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub token_type: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct LogoutRequest {
    /// Also revoke this refresh token; without it, every refresh token of the user is revoked.
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl User {
    fn from_model(m: users::Model) -> AppResult<User> {
        Ok(User {
            role: Role::parse(&m.role).ok_or_else(|| AppError::internal("stored role is unknown"))?,
            id: m.id,
            org_id: m.org_id,
            email: m.email,
            name: m.name,
            created_at: m.created_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub organization: Organization,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

fn issue_pair(state: &AppState, user: &users::Model) -> AppResult<(TokenPair, Claims)> {
    let iat = chrono::Utc::now().timestamp();
    let s = &state.settings;
    let access = Claims {
        sub: user.id.clone(),
        org: user.org_id.clone(),
        role: user.role.clone(),
        exp: iat + s.access_token_ttl_secs,
        iat,
        jti: super::new_id(),
        typ: "access".into(),
    };
    let refresh = Claims {
        exp: iat + s.refresh_token_ttl_secs,
        jti: super::new_id(),
        typ: "refresh".into(),
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
    refresh_tokens::ActiveModel {
        jti: Set(claims.jti.clone()),
        user_id: Set(claims.sub.clone()),
        expires_at: Set(chrono::DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(chrono::Utc::now)),
        revoked_at: Set(None),
        created_at: Set(now()),
    }
    .insert(&state.db)
    .await?;
    Ok(())
}

/// Failed logins are counted per account and per client address; successful
/// logins are not, so many users behind one address are never throttled.
pub async fn login(state: &AppState, body: LoginRequest, client_ip: &str) -> AppResult<TokenPair> {
    let email = body.email.trim().to_lowercase();
    let s = &state.settings;
    let acct_key = format!("login:fail:acct:{email}");
    let ip_key = format!("login:fail:ip:{client_ip}");
    let (acct_n, acct_ttl) = state.cache.counter(&acct_key).await;
    let (ip_n, ip_ttl) = state.cache.counter(&ip_key).await;
    if acct_n >= s.login_max_failures_per_account {
        return Err(AppError::TooManyRequests { retry_after: acct_ttl });
    }
    if ip_n >= s.login_max_failures_per_ip {
        return Err(AppError::TooManyRequests { retry_after: ip_ttl });
    }
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email.clone()))
        .one(&state.db)
        .await?;
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
    let org = organizations::find(&state.db, &user.org_id).await?;
    if org.status != "active" {
        return Err(AppError::Forbidden("your organisation is suspended".into()));
    }
    state.cache.delete(&acct_key).await;
    let (pair, refresh) = issue_pair(state, &user)?;
    store_refresh(state, &refresh).await?;
    let mut am: users::ActiveModel = user.into();
    am.last_login_at = Set(Some(now()));
    am.update(&state.db).await?;
    Ok(pair)
}

/// Exchanges a refresh token for a new pair; the old refresh token is revoked (rotation),
/// so a stolen one that is used twice stops working.
pub async fn refresh(state: &AppState, body: RefreshRequest) -> AppResult<TokenPair> {
    let claims = state
        .jwt
        .verify(&body.refresh_token)
        .map_err(|_| AppError::Unauthorized("invalid or expired refresh token".into()))?;
    if claims.typ != "refresh" {
        return Err(AppError::Unauthorized("not a refresh token".into()));
    }
    let stored = refresh_tokens::Entity::find_by_id(claims.jti.clone())
        .one(&state.db)
        .await?;
    let Some(stored) = stored.filter(|t| t.revoked_at.is_none()) else {
        return Err(AppError::Unauthorized("refresh token has been revoked".into()));
    };
    let user = users::Entity::find_by_id(stored.user_id.clone())
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::Unauthorized("user no longer exists".into()))?;
    let org = organizations::find(&state.db, &user.org_id).await?;
    if org.status != "active" {
        return Err(AppError::Forbidden("your organisation is suspended".into()));
    }
    // Revoke first, conditionally: of two concurrent refreshes only one wins.
    let res = refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(refresh_tokens::Column::Jti.eq(stored.jti.clone()))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&state.db)
        .await?;
    if res.rows_affected != 1 {
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
    let mut q = refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(refresh_tokens::Column::UserId.eq(caller.user_id.clone()))
        .filter(refresh_tokens::Column::RevokedAt.is_null());
    if let Some(rt) = body.refresh_token {
        if let Ok(c) = state.jwt.verify(&rt) {
            q = q.filter(refresh_tokens::Column::Jti.eq(c.jti));
        }
    }
    q.exec(&state.db).await?;
    Ok(())
}

pub async fn is_revoked(state: &AppState, jti: &str) -> bool {
    state.cache.get(&format!("revoked:{jti}")).await.is_some()
}

/// The user must still exist, belong to the organisation in the token, and that organisation must be active.
pub async fn ensure_active(state: &AppState, user_id: &str, org_id: &str) -> AppResult<()> {
    let user = users::Entity::find_by_id(user_id.to_string()).one(&state.db).await?;
    match user {
        Some(u) if u.org_id == org_id => {}
        _ => return Err(AppError::Unauthorized("user no longer exists".into())),
    }
    let org = organizations::find(&state.db, org_id)
        .await
        .map_err(|_| AppError::Unauthorized("organisation no longer exists".into()))?;
    if org.status != "active" {
        return Err(AppError::Forbidden("your organisation is suspended".into()));
    }
    Ok(())
}

pub async fn me(state: &AppState, caller: &Caller) -> AppResult<Me> {
    let user = users::Entity::find_by_id(caller.user_id.clone())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let org = organizations::find(&state.db, &caller.org_id).await?;
    Ok(Me {
        user: User::from_model(user)?,
        organization: org.into(),
    })
}

/// Creates a user; used by the admin route and by start-up/demo seeding (`caller` = None).
pub async fn create_user(state: &AppState, caller: Option<&Caller>, org_id: &str, body: NewUser) -> AppResult<User> {
    if let Some(c) = caller {
        c.require(&[Role::Admin])?;
    }
    let org = organizations::find(&state.db, org_id).await?;
    let mut errors = Vec::new();
    let email = body.email.trim().to_lowercase();
    if !super::valid_email(&email) {
        errors.push(FieldError::new("email", "is not an email address"));
    }
    super::required_text(&mut errors, "name", &body.name, 100);
    match Role::parse(&body.role) {
        None => errors.push(FieldError::new(
            "role",
            "must be one of admin, certifier, supplier, buyer, evaluator",
        )),
        Some(r) if Some(r) != role_for_kind(&org.kind) => errors.push(FieldError::new(
            "role",
            format!(
                "a user of a {} organisation must have the {} role",
                org.kind,
                role_for_kind(&org.kind).map(|r| r.as_str()).unwrap_or("?")
            ),
        )),
        Some(_) => {}
    }
    if body.password.chars().count() < 8 || body.password.len() > 256 {
        errors.push(FieldError::new("password", "must be 8 to 256 characters"));
    }
    AppError::check(errors)?;
    if users::Entity::find()
        .filter(users::Column::Email.eq(email.clone()))
        .one(&state.db)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict("a user with this email exists".into()));
    }
    let pw = body.password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let model = users::ActiveModel {
        id: Set(super::new_id()),
        org_id: Set(org.id),
        email: Set(email),
        name: Set(body.name.trim().to_string()),
        role: Set(body.role),
        password_hash: Set(hash),
        created_at: Set(now()),
        last_login_at: Set(None),
    }
    .insert(&state.db)
    .await
    .map_err(|e| {
        if e.to_string().to_lowercase().contains("unique") {
            AppError::Conflict("a user with this email exists".into())
        } else {
            e.into()
        }
    })?;
    User::from_model(model)
}
