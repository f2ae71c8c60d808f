//! Every query of the organisations capability.
use crate::domain::{OrgKind, OrgStatus};
use entity::organizations;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub async fn find(db: &impl ConnectionTrait, id: String) -> Result<Option<organizations::Model>, DbErr> {
    organizations::Entity::find_by_id(id).one(db).await
}

pub async fn find_by_credit_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<organizations::Model>, DbErr> {
    organizations::Entity::find()
        .filter(organizations::Column::CreditCode.eq(code))
        .one(db)
        .await
}

/// The first organisation of `kind` (the platform, at start-up).
pub async fn first_of_kind(db: &impl ConnectionTrait, kind: OrgKind) -> Result<Option<organizations::Model>, DbErr> {
    organizations::Entity::find()
        .filter(organizations::Column::Kind.eq(kind))
        .one(db)
        .await
}

pub async fn find_by_name(db: &impl ConnectionTrait, name: &str) -> Result<Option<organizations::Model>, DbErr> {
    organizations::Entity::find()
        .filter(organizations::Column::Name.eq(name))
        .one(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    sea_orm::PaginatorTrait::count(organizations::Entity::find(), db).await
}

pub async fn insert(db: &impl ConnectionTrait, am: organizations::ActiveModel) -> Result<organizations::Model, DbErr> {
    am.insert(db).await
}

/// What a list may be narrowed to.
pub struct Scope {
    /// Only this organisation and its children; `None`: every organisation.
    pub within: Option<String>,
    pub kind: Option<OrgKind>,
    pub status: Option<OrgStatus>,
}

/// One page of organisations, newest first, before `cursor`.
pub async fn page(
    db: &impl ConnectionTrait,
    scope: Scope,
    cursor: Option<String>,
    limit: u64,
) -> Result<Vec<organizations::Model>, DbErr> {
    let mut q = organizations::Entity::find();
    if let Some(org) = scope.within {
        q = q.filter(
            Condition::any()
                .add(organizations::Column::Id.eq(org.clone()))
                .add(organizations::Column::ParentOrgId.eq(org)),
        );
    }
    if let Some(k) = scope.kind {
        q = q.filter(organizations::Column::Kind.eq(k));
    }
    if let Some(s) = scope.status {
        q = q.filter(organizations::Column::Status.eq(s));
    }
    if let Some(c) = cursor {
        q = q.filter(organizations::Column::Id.lt(c));
    }
    q.order_by_desc(organizations::Column::Id).limit(limit).all(db).await
}

/// The ids of the children of `parent`.
pub async fn children(db: &impl ConnectionTrait, parent: String) -> Result<Vec<String>, DbErr> {
    organizations::Entity::find()
        .select_only()
        .column(organizations::Column::Id)
        .filter(organizations::Column::ParentOrgId.eq(parent))
        .into_tuple()
        .all(db)
        .await
}

/// Sets the fields the `related_parties` fraud signal compares (each only when given; empty clears it).
pub async fn set_related_party_fields(
    conn: &impl ConnectionTrait,
    id: &str,
    legal_representative: &Option<String>,
    contact_phone: &Option<String>,
) -> Result<(), DbErr> {
    for (col, v) in [
        ("legal_representative", legal_representative),
        ("contact_phone", contact_phone),
    ] {
        if v.is_some() {
            let value = super::related_party_value(v);
            let st = crate::services::sql(
                conn,
                &format!("UPDATE organizations SET {col} = $1 WHERE id = $2"),
                vec![value.into(), id.into()],
            );
            conn.execute_raw(st).await?;
        }
    }
    Ok(())
}

/// Moves `org` from `from` to `to`; 0 when it was not `from` (someone changed it meanwhile).
pub async fn set_status_if(
    conn: &impl ConnectionTrait,
    org: &str,
    from: OrgStatus,
    to: OrgStatus,
    at: chrono::DateTime<chrono::Utc>,
) -> crate::error::AppResult<u64> {
    use sea_orm::sea_query::Expr;
    Ok(organizations::Entity::update_many()
        .col_expr(organizations::Column::Status, Expr::value(to.as_str()))
        .col_expr(organizations::Column::UpdatedAt, Expr::value(at))
        .filter(organizations::Column::Id.eq(org))
        .filter(organizations::Column::Status.eq(from))
        .exec(conn)
        .await?
        .rows_affected)
}
