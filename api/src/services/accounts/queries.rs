//! Every query of the accounts capability: users, sessions, refresh tokens, login counters
//! and the audit log.
use crate::domain::{AuditKind, OrgId, Role, UserId};
use crate::services::sql;
use entity::{audit_log, refresh_tokens, sessions, users};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

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

/// A page of an organisation's users, by id, after `cursor`.
pub async fn users_of(
    db: &impl ConnectionTrait,
    org: OrgId,
    cursor: Option<String>,
    limit: u64,
) -> Result<Vec<users::Model>, DbErr> {
    let mut q = users::Entity::find().filter(users::Column::OrgId.eq(org));
    if let Some(c) = cursor {
        q = q.filter(users::Column::Id.gt(c));
    }
    q.order_by_asc(users::Column::Id).limit(limit).all(db).await
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

/// Marks the user deactivated unless it already is. Returns whether it changed.
pub async fn deactivate_user(
    db: &impl ConnectionTrait,
    id: UserId,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let res = users::Entity::update_many()
        .col_expr(users::Column::DeactivatedAt, Expr::value(at))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::DeactivatedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_session(
    db: &impl ConnectionTrait,
    id: &str,
    user: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    sessions::ActiveModel {
        id: Set(id.to_string()),
        user_id: Set(user.to_string()),
        created_at: Set(at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// What a request's token needs checked in the database, in one query: the session's user,
/// whether the session is revoked, whether the user is deactivated, its organisation and the
/// organisation's stored status.
pub struct SessionState {
    pub user_id: String,
    pub org_id: String,
    pub revoked: bool,
    pub deactivated: bool,
    pub org_status: String,
}

pub async fn session_state(db: &impl ConnectionTrait, sid: &str) -> Result<Option<SessionState>, DbErr> {
    let stmt = sql(
        db,
        "SELECT s.user_id, u.org_id, o.status AS org_status, \
           CASE WHEN s.revoked_at IS NULL THEN 0 ELSE 1 END AS session_revoked, \
           CASE WHEN u.deactivated_at IS NULL THEN 0 ELSE 1 END AS user_deactivated \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id \
         WHERE s.id = $1",
        vec![sid.into()],
    );
    let Some(row) = db.query_one_raw(stmt).await? else {
        return Ok(None);
    };
    Ok(Some(SessionState {
        user_id: row.try_get("", "user_id")?,
        org_id: row.try_get("", "org_id")?,
        org_status: row.try_get("", "org_status")?,
        revoked: row.try_get::<i32>("", "session_revoked")? != 0,
        deactivated: row.try_get::<i32>("", "user_deactivated")? != 0,
    }))
}

/// Revokes the live sessions with id `sid`, or every live session of `user`, and their
/// refresh tokens. Returns how many sessions it revoked.
pub async fn revoke_sessions(
    db: &impl ConnectionTrait,
    sid: Option<&str>,
    user: Option<UserId>,
    reason: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let mut s = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(at))
        .col_expr(sessions::Column::RevokedReason, Expr::value(reason))
        .filter(sessions::Column::RevokedAt.is_null());
    let mut r = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(at))
        .filter(refresh_tokens::Column::RevokedAt.is_null());
    if let Some(id) = sid {
        s = s.filter(sessions::Column::Id.eq(id));
        r = r.filter(refresh_tokens::Column::FamilyId.eq(id));
    }
    if let Some(u) = user {
        s = s.filter(sessions::Column::UserId.eq(u));
        r = r.filter(refresh_tokens::Column::UserId.eq(u));
    }
    let n = s.exec(db).await?.rows_affected;
    r.exec(db).await?;
    Ok(n)
}

pub async fn insert_refresh(db: &impl ConnectionTrait, am: refresh_tokens::ActiveModel) -> Result<(), DbErr> {
    am.insert(db).await?;
    Ok(())
}

/// The refresh token `jti`, revoked or not.
pub async fn refresh_token(db: &impl ConnectionTrait, jti: &str) -> Result<Option<refresh_tokens::Model>, DbErr> {
    refresh_tokens::Entity::find_by_id(jti.to_string()).one(db).await
}

/// Spends the live refresh token `jti` (a rotation). False when it was not live: of two
/// concurrent rotations only one spends it.
pub async fn spend_refresh(
    db: &impl ConnectionTrait,
    jti: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let res = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(at))
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(at))
        .filter(refresh_tokens::Column::Jti.eq(jti))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Counts one login attempt against `key` unless `limit` are counted in a window that has
/// not ended (`now` and `ends`: Unix milliseconds; a new window ends at `ends`). One
/// statement: the count and the test are atomic on both backends. The new count, or `None`
/// when the attempt is refused.
pub async fn throttle_count(
    db: &impl ConnectionTrait,
    key: &str,
    ends: i64,
    now: i64,
    limit: i64,
) -> Result<Option<i64>, DbErr> {
    let stmt = sql(
        db,
        "INSERT INTO login_throttle (scope_key, failures, window_ends_ms) VALUES ($1, 1, $2) \
         ON CONFLICT (scope_key) DO UPDATE SET \
           failures = CASE WHEN login_throttle.window_ends_ms <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
           window_ends_ms = CASE WHEN login_throttle.window_ends_ms <= $3 THEN $2 ELSE login_throttle.window_ends_ms END \
         WHERE login_throttle.window_ends_ms <= $3 OR login_throttle.failures < $4 \
         RETURNING failures",
        vec![key.into(), ends.into(), now.into(), limit.into()],
    );
    match db.query_one_raw(stmt).await? {
        Some(row) => Ok(Some(row.try_get("", "failures")?)),
        None => Ok(None),
    }
}

/// Takes back one counted attempt.
pub async fn throttle_uncount(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let stmt = sql(
        db,
        "UPDATE login_throttle SET failures = failures - 1 WHERE scope_key = $1 AND failures > 0",
        vec![key.into()],
    );
    db.execute_raw(stmt).await?;
    Ok(())
}

/// Forgives every attempt counted against `key`.
pub async fn throttle_forgive(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let stmt = sql(
        db,
        "UPDATE login_throttle SET failures = 0 WHERE scope_key = $1",
        vec![key.into()],
    );
    db.execute_raw(stmt).await?;
    Ok(())
}

/// Deletes the counters whose window ended before `before` (Unix milliseconds).
pub async fn throttle_prune(db: &impl ConnectionTrait, before: i64) -> Result<(), DbErr> {
    let stmt = sql(
        db,
        "DELETE FROM login_throttle WHERE window_ends_ms < $1",
        vec![before.into()],
    );
    db.execute_raw(stmt).await?;
    Ok(())
}

/// (attempts counted, end of the window in Unix milliseconds) of `key`.
pub async fn throttle_read(db: &impl ConnectionTrait, key: &str) -> Result<Option<(i64, i64)>, DbErr> {
    let stmt = sql(
        db,
        "SELECT failures, window_ends_ms FROM login_throttle WHERE scope_key = $1",
        vec![key.into()],
    );
    match db.query_one_raw(stmt).await? {
        Some(row) => Ok(Some((row.try_get("", "failures")?, row.try_get("", "window_ends_ms")?))),
        None => Ok(None),
    }
}

/// A page of the audit log, newest first, before `cursor`.
pub async fn audit_page(
    db: &impl ConnectionTrait,
    kind: Option<AuditKind>,
    user: Option<UserId>,
    since: Option<chrono::DateTime<chrono::Utc>>,
    cursor: Option<String>,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DbErr> {
    let mut q = audit_log::Entity::find();
    if let Some(k) = kind {
        q = q.filter(audit_log::Column::Kind.eq(k));
    }
    if let Some(u) = user {
        q = q.filter(
            Condition::any()
                .add(audit_log::Column::ActorUserId.eq(u))
                .add(audit_log::Column::SubjectUserId.eq(u)),
        );
    }
    if let Some(t) = since {
        q = q.filter(audit_log::Column::OccurredAt.gte(t));
    }
    if let Some(c) = cursor {
        q = q.filter(audit_log::Column::Id.lt(c));
    }
    q.order_by_desc(audit_log::Column::Id).limit(limit).all(db).await
}

pub async fn insert_audit(db: &impl ConnectionTrait, am: audit_log::ActiveModel) -> Result<(), DbErr> {
    am.insert(db).await?;
    Ok(())
}
