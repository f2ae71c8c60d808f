//! Authentication: password hashing, JWT issue/verify, and the `Caller` type.
//! It uses nothing above the domain; the request extractor that builds a
//! `Caller` from a bearer token lives with the routes (`routes::caller`).
pub mod jwt;
pub mod password;

use crate::error::{AppError, AppResult};

pub use crate::domain::Role;
use crate::domain::{OrgId, UserId};

/// The authenticated caller: who, for which organisation, in which role.
/// Every handler that needs a login takes this; services scope by `org_id`.
///
/// The string fields are kept while services still compare stored text with
/// them; new code uses the typed [`Caller::org`] and [`Caller::user`]. The
/// extractor refuses a token whose ids are not UUIDs, so both always parse.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub role: Role,
    pub jti: String,
    pub exp: i64,
    /// The session (login) of the token; empty for a caller not built from a token.
    pub sid: String,
    /// The client address the request came from, for the audit log.
    pub addr: String,
}

impl Caller {
    pub fn new(user: UserId, org: OrgId, role: Role, jti: String, exp: i64) -> Caller {
        Caller {
            user_id: user,
            org_id: org,
            role,
            jti,
            exp,
            sid: String::new(),
            addr: String::new(),
        }
    }

    /// The caller with its session id and client address.
    pub fn with_session(mut self, sid: String, addr: String) -> Caller {
        self.sid = sid;
        self.addr = addr;
        self
    }

    /// The caller's organisation.
    pub fn org(&self) -> OrgId {
        self.org_id
    }

    /// The calling user.
    pub fn user(&self) -> UserId {
        self.user_id
    }

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
