//! Users, login, token refresh and revocation, login rate limits.
pub(crate) mod queries;
mod tokens;
mod users;

pub use tokens::{is_revoked, login, login_allowances, logout, refresh, Allowance};
pub use users::{create_user, ensure_active, me};

use crate::domain::{OrgId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::services::organizations::Organization;
use serde::{Deserialize, Serialize};
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
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<entity::users::Model> for User {
    type Error = AppError;

    fn try_from(m: entity::users::Model) -> AppResult<User> {
        let bad = |what: &str| AppError::internal(format!("stored user {what} is invalid"));
        Ok(User {
            id: m.id.parse().map_err(|_| bad("id"))?,
            org_id: m.org_id.parse().map_err(|_| bad("org_id"))?,
            role: Role::parse(&m.role).ok_or_else(|| bad("role"))?,
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
    /// Must be the role of the organisation's kind.
    pub role: Role,
    pub password: String,
}
