//! The job leader lock's one statement.
use entity::job_locks;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

/// Takes the lock row of job `name` for `holder` unless a holder at least as
/// late has it: an upsert whose update only applies when `holder` sorts later.
/// True when this call took it.
pub async fn take_lock(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let row = job_locks::ActiveModel {
        name: Set(name.to_string()),
        holder: Set(holder.to_string()),
        locked_until: Set(at),
    };
    let later = Expr::col((job_locks::Entity, job_locks::Column::Holder))
        .lt(Expr::col((Alias::new("excluded"), job_locks::Column::Holder)));
    let on_conflict = OnConflict::column(job_locks::Column::Name)
        .update_columns([job_locks::Column::Holder, job_locks::Column::LockedUntil])
        .action_and_where(later)
        .to_owned();
    let rows = job_locks::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(db)
        .await?;
    Ok(rows == 1)
}

/// Takes or renews the lease of job `name` for `me` until `until`: when free, expired or
/// already `me`'s. True when `me` holds it.
pub async fn take_lease(
    db: &impl ConnectionTrait,
    name: &str,
    me: &str,
    at: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let row = job_locks::ActiveModel {
        name: Set(name.to_string()),
        holder: Set(me.to_string()),
        locked_until: Set(until),
    };
    let free = Expr::col((job_locks::Entity, job_locks::Column::Holder))
        .eq(me)
        .or(Expr::col((job_locks::Entity, job_locks::Column::LockedUntil)).lt(at));
    let on_conflict = OnConflict::column(job_locks::Column::Name)
        .update_columns([job_locks::Column::Holder, job_locks::Column::LockedUntil])
        .action_and_where(free)
        .to_owned();
    let rows = job_locks::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(db)
        .await?;
    Ok(rows == 1)
}
