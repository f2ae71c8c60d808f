//! Users, login, sessions, token refresh and revocation, login rate limits, the audit log.
pub mod audit;
pub(crate) mod queries;
mod throttle;
mod tokens;
mod users;

pub use audit::{AuditEntry, AuditFilter, AuditPage};
pub use tokens::{check_session, login, login_allowances, logout, refresh, Allowance};
pub use users::{create_user, deactivate, get_user, list_users, may_list, may_see, me};

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
    /// Also end the session of this refresh token (another login of the caller's); the
    /// caller's own session always ends.
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
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Set once the user is deactivated: it can no longer log in and its tokens are refused.
    pub deactivated_at: Option<chrono::DateTime<chrono::Utc>>,
}

crate::page_type!(UserPage, User);

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
            last_login_at: m.last_login_at,
            deactivated_at: m.deactivated_at,
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
