//! Every query of the accounts capability: users and refresh tokens.
use crate::domain::{Role, UserId};
use entity::{refresh_tokens, users};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set};

pub async fn user(db: &impl ConnectionTrait, id: UserId) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id.to_string()).one(db).await
}

pub async fn user_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn count_with_role(db: &impl ConnectionTrait, role: Role) -> Result<u64, DbErr> {
    users::Entity::find()
        .filter(users::Column::Role.eq(role))
        .count(db)
        .await
}

pub async fn insert_user(db: &impl ConnectionTrait, am: users::ActiveModel) -> Result<users::Model, DbErr> {
    am.insert(db).await
}

pub async fn touch_login(
    db: &impl ConnectionTrait,
    user: users::Model,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let mut am: users::ActiveModel = user.into();
    am.last_login_at = Set(Some(at));
    am.update(db).await?;
    Ok(())
}

pub async fn insert_refresh(db: &impl ConnectionTrait, am: refresh_tokens::ActiveModel) -> Result<(), DbErr> {
    am.insert(db).await?;
    Ok(())
}

/// The refresh token `jti`, unless it has been revoked.
pub async fn live_refresh(db: &impl ConnectionTrait, jti: &str) -> Result<Option<refresh_tokens::Model>, DbErr> {
    Ok(refresh_tokens::Entity::find_by_id(jti.to_string())
        .one(db)
        .await?
        .filter(|t| t.revoked_at.is_none()))
}

/// Revokes the live refresh tokens of `user`, or only `jti` among them. Returns how many.
pub async fn revoke_refresh(
    db: &impl ConnectionTrait,
    user: Option<UserId>,
    jti: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let mut q = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(at))
        .filter(refresh_tokens::Column::RevokedAt.is_null());
    if let Some(u) = user {
        q = q.filter(refresh_tokens::Column::UserId.eq(u));
    }
    if let Some(j) = jti {
        q = q.filter(refresh_tokens::Column::Jti.eq(j));
    }
    Ok(q.exec(db).await?.rows_affected)
}
