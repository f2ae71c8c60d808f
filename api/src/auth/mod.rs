//! Authentication: password hashing, JWT issue/verify, and the caller extractor.
pub mod extract;
pub mod jwt;
pub mod password;

use crate::error::{AppError, AppResult};

pub use crate::domain::Role;

/// The authenticated caller: who, for which organisation, in which role.
/// Every handler that needs a login takes this; services scope by `org_id`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub org_id: String,
    pub role: Role,
    pub jti: String,
    pub exp: i64,
}

impl Caller {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "the {} role may not do this (allowed: {})",
                self.role.as_str(),
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            )))
        }
    }

    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }
}
