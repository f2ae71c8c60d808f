//! Every query of the regions capability.
use crate::domain::{PovertyStatus, RegionLevel};
use entity::regions;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub async fn find(db: &impl ConnectionTrait, code: &str) -> Result<Option<regions::Model>, DbErr> {
    regions::Entity::find_by_id(code.to_string()).one(db).await
}

/// One page of regions by code, after `cursor`, `limit` rows at most.
pub async fn page(
    db: &impl ConnectionTrait,
    level: Option<RegionLevel>,
    parent: Option<&str>,
    poverty_status: Option<PovertyStatus>,
    cursor: Option<String>,
    limit: u64,
) -> Result<Vec<regions::Model>, DbErr> {
    let mut q = regions::Entity::find();
    if let Some(l) = level {
        q = q.filter(regions::Column::Level.eq(l));
    }
    if let Some(p) = parent {
        q = q.filter(regions::Column::ParentCode.eq(p));
    }
    if let Some(s) = poverty_status {
        q = q.filter(regions::Column::PovertyStatus.eq(s));
    }
    if let Some(c) = cursor {
        q = q.filter(regions::Column::Code.gt(c));
    }
    q.order_by_asc(regions::Column::Code).limit(limit).all(db).await
}

/// Whether any region names `code` as its parent.
pub async fn has_children(db: &impl ConnectionTrait, code: &str) -> Result<bool, DbErr> {
    Ok(regions::Entity::find()
        .filter(regions::Column::ParentCode.eq(code))
        .limit(1)
        .one(db)
        .await?
        .is_some())
}

/// The advisory lock key that serialises changes of the region tree.
const TREE_LOCK: i64 = 0x7265_6769_6F6E; // "region"

/// Holds off every other change of the region tree until the transaction ends. Regions
/// change rarely, by an admin: one at a time costs nothing.
pub async fn hold_tree(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    crate::services::hold(txn, TREE_LOCK).await
}

/// Holds off changes of the region tree (not each other) until the transaction ends: taken by
/// those who write a row naming a county, with the county checked again under it.
pub async fn hold_tree_shared(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    crate::services::hold_shared(txn, TREE_LOCK).await
}

/// Inserts the region, or replaces the one with its code.
pub async fn save(db: &impl ConnectionTrait, am: regions::ActiveModel, exists: bool) -> Result<regions::Model, DbErr> {
    if exists {
        am.update(db).await
    } else {
        am.insert(db).await
    }
}

/// The codes of the regions whose parent is one of `parents`.
pub async fn children_of(db: &impl ConnectionTrait, parents: Vec<String>) -> Result<Vec<String>, DbErr> {
    regions::Entity::find()
        .select_only()
        .column(regions::Column::Code)
        .filter(regions::Column::ParentCode.is_in(parents))
        .into_tuple()
        .all(db)
        .await
}

/// Locks region `code` if it is still at version `at`; the rows matched (1, or 0 when it
/// changed since).
pub(super) async fn lock_version(
    conn: &impl ConnectionTrait,
    code: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    let res = regions::Entity::update_many()
        .col_expr(
            regions::Column::UpdatedAt,
            sea_orm::sea_query::Expr::col(regions::Column::UpdatedAt),
        )
        .filter(regions::Column::Code.eq(code))
        .filter(regions::Column::UpdatedAt.eq(at))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Whether a product's origin county, an organisation's region or a pairing's helped region
/// names the county `code` (which then may not be re-filed at another level).
pub(super) async fn county_in_use(conn: &impl ConnectionTrait, code: &str) -> Result<bool, DbErr> {
    let stmt = sea_orm::Statement::from_sql_and_values(
        conn.get_database_backend(),
        "SELECT EXISTS (SELECT 1 FROM products WHERE origin_county_code = $1) \
         OR EXISTS (SELECT 1 FROM organizations WHERE region_code = $1) \
         OR EXISTS (SELECT 1 FROM pairings WHERE helped_region_code = $1) AS used",
        [code.into()],
    );
    Ok(match conn.query_one_raw(stmt).await? {
        Some(r) => r.try_get::<bool>("", "used")?,
        None => false,
    })
}
