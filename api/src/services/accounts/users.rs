//! Creating, reading and deactivating users, and the caller's own account.
use super::audit::{self, Event};
use super::{queries, Me, NewUser, User};
use crate::auth::{password, Caller, Role};
use crate::domain::{AuditKind, OrgId, UserId};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{now, organizations, paginate, required_text, valid_email, PageParams};
use crate::state::AppState;
use entity::users;
use sea_orm::{Set, TransactionTrait};

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
        deactivated_at: Set(None),
    };
    let model = queries::insert_user(&state.db, am).await.map_err(|e| {
        if e.to_string().to_lowercase().contains("unique") {
            AppError::Conflict("a user with this email exists".into())
        } else {
            e.into()
        }
    })?;
    if let Some(c) = caller {
        let e = Event {
            subject: model.id.parse().ok(),
            org: Some(org_id),
            email: Some(model.email.clone()),
            detail: format!("created with the {} role", model.role),
            ..Event::by(c)
        };
        audit::record(&state.db, AuditKind::UserCreated, e).await?;
    }
    model.try_into()
}

/// 404 unless the caller may see the user `id` of organisation `org_id`: the admin sees every
/// user, any other caller only itself (there are no organisation administrators).
pub async fn may_see(state: &AppState, caller: &Caller, org_id: OrgId, id: UserId) -> AppResult<users::Model> {
    if !caller.is(Role::Admin) && caller.user() != id {
        return Err(AppError::NotFound("user"));
    }
    match queries::user(&state.db, id).await? {
        Some(u) if org_id == u.org_id => Ok(u),
        _ => Err(AppError::NotFound("user")),
    }
}

pub async fn get_user(state: &AppState, caller: &Caller, org_id: OrgId, id: UserId) -> AppResult<User> {
    may_see(state, caller, org_id, id).await?.try_into()
}

/// 403 unless the caller may list the users of an organisation (the admin); 404 when the
/// organisation does not exist.
pub async fn may_list(state: &AppState, caller: &Caller, org_id: OrgId) -> AppResult<()> {
    caller.require(&[Role::Admin])?;
    organizations::find(&state.db, org_id).await?;
    Ok(())
}

/// The users of an organisation, by id (admin).
pub async fn list_users(
    state: &AppState,
    caller: &Caller,
    org_id: OrgId,
    page: &PageParams,
) -> AppResult<(Vec<User>, Option<String>)> {
    may_list(state, caller, org_id).await?;
    let limit = page.limit()?;
    let rows = queries::users_of(&state.db, org_id, page.cursor()?, limit + 1).await?;
    let (rows, next) = paginate(rows, limit, |u| u.id.clone());
    let items = rows.into_iter().map(User::try_from).collect::<AppResult<Vec<_>>>()?;
    Ok((items, next))
}

/// Deactivates a user (admin): it can no longer log in, and every session it has is revoked at
/// once, in every process. The admin cannot deactivate itself.
pub async fn deactivate(state: &AppState, caller: &Caller, org_id: OrgId, id: UserId) -> AppResult<User> {
    caller.require(&[Role::Admin])?;
    let user = may_see(state, caller, org_id, id).await?;
    if caller.user() == id {
        return Err(AppError::Conflict("you cannot deactivate yourself".into()));
    }
    let at = now();
    let txn = state.db.begin().await?;
    if !queries::deactivate_user(&txn, id, at).await? {
        return Err(AppError::Conflict("the user is already deactivated".into()));
    }
    let revoked = queries::revoke_sessions(&txn, None, Some(id), "user deactivated", at).await?;
    let e = Event {
        subject: Some(id),
        org: Some(org_id),
        email: Some(user.email.clone()),
        detail: format!("{revoked} session(s) revoked"),
        ..Event::by(caller)
    };
    audit::record(&txn, AuditKind::UserDeactivated, e).await?;
    txn.commit().await?;
    queries::user(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("user"))?
        .try_into()
}
