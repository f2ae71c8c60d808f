//! Creating users, the caller's own account, and whether a caller may still act.
use super::{queries, tokens::require_active, Me, NewUser, User};
use crate::auth::{password, Caller, Role};
use crate::domain::{OrgId, UserId};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{now, organizations, required_text, valid_email};
use crate::state::AppState;
use entity::users;
use sea_orm::Set;

/// The user must still exist, belong to the organisation in the token, and that organisation must be active.
pub async fn ensure_active(state: &AppState, user_id: UserId, org_id: OrgId) -> AppResult<()> {
    match queries::user(&state.db, user_id).await? {
        Some(u) if org_id == u.org_id => {}
        _ => return Err(AppError::Unauthorized("user no longer exists".into())),
    }
    let org = organizations::find(&state.db, org_id)
        .await
        .map_err(|_| AppError::Unauthorized("organisation no longer exists".into()))?;
    require_active(&org)
}

pub async fn me(state: &AppState, caller: &Caller) -> AppResult<Me> {
    let user = queries::user(&state.db, caller.user())
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let org = organizations::find(&state.db, caller.org()).await?;
    Ok(Me {
        user: user.try_into()?,
        organization: org.try_into()?,
    })
}

/// Creates a user; used by the admin route and by start-up/demo seeding (`caller` = None).
pub async fn create_user(state: &AppState, caller: Option<&Caller>, org_id: OrgId, body: NewUser) -> AppResult<User> {
    if let Some(c) = caller {
        c.require(&[Role::Admin])?;
    }
    let org = organizations::find(&state.db, org_id).await?;
    let kind = organizations::kind_of(&org)?;
    let mut errors = Vec::new();
    let email = body.email.trim().to_lowercase();
    if !valid_email(&email) {
        errors.push(FieldError::new("email", "is not an email address"));
    }
    required_text(&mut errors, "name", &body.name, 100);
    if body.role != kind.role() {
        errors.push(FieldError::new(
            "role",
            format!("a user of a {kind} organisation must have the {} role", kind.role()),
        ));
    }
    if body.password.chars().count() < 8 || body.password.len() > 256 {
        errors.push(FieldError::new("password", "must be 8 to 256 characters"));
    }
    AppError::check(errors)?;
    if queries::user_by_email(&state.db, &email).await?.is_some() {
        return Err(AppError::Conflict("a user with this email exists".into()));
    }
    let pw = body.password.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let am = users::ActiveModel {
        id: Set(UserId::new().to_string()),
        org_id: Set(org.id),
        email: Set(email),
        name: Set(body.name.trim().to_string()),
        role: Set(body.role.as_str().to_string()),
        password_hash: Set(hash),
        created_at: Set(now()),
        last_login_at: Set(None),
    };
    let model = queries::insert_user(&state.db, am).await.map_err(|e| {
        if e.to_string().to_lowercase().contains("unique") {
            AppError::Conflict("a user with this email exists".into())
        } else {
            e.into()
        }
    })?;
    model.try_into()
}
