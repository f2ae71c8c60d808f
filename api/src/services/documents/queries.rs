//! Every statement of the documents capability. States are bound from their enums.
use crate::domain::{DocumentStage, OrgStatus, ProductStatus};
use crate::error::AppResult;
use crate::services::sql;
use chrono::{DateTime, Utc};
use entity::{document_suspensions, products, supplier_documents};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

pub(super) async fn insert(
    conn: &impl ConnectionTrait,
    am: supplier_documents::ActiveModel,
) -> AppResult<supplier_documents::Model> {
    Ok(am.insert(conn).await?)
}

/// The licences of `org` (all of them when `None`), newest validity first.
pub(super) async fn licences(
    conn: &impl ConnectionTrait,
    org: Option<&str>,
) -> AppResult<Vec<supplier_documents::Model>> {
    let mut q = supplier_documents::Entity::find();
    if let Some(o) = org {
        q = q.filter(supplier_documents::Column::SupplierOrgId.eq(o));
    }
    Ok(q.order_by_asc(supplier_documents::Column::SupplierOrgId)
        .order_by_asc(supplier_documents::Column::Kind)
        .order_by_desc(supplier_documents::Column::ValidUntil)
        .order_by_desc(supplier_documents::Column::CreatedAt)
        .all(conn)
        .await?)
}

/// Products that carry live certificates (certified or under review), of `org` or of the
/// `county` when given.
pub(super) async fn live_products(
    conn: &impl ConnectionTrait,
    org: Option<&str>,
    county: Option<&str>,
) -> AppResult<Vec<products::Model>> {
    let mut q = products::Entity::find().filter(
        products::Column::Status.is_in([ProductStatus::Certified.as_str(), ProductStatus::PendingReview.as_str()]),
    );
    if let Some(o) = org {
        q = q.filter(products::Column::SupplierOrgId.eq(o));
    }
    if let Some(c) = county {
        q = q.filter(products::Column::OriginCountyCode.eq(c));
    }
    Ok(q.order_by_asc(products::Column::Id).all(conn).await?)
}

/// Which of `keys` have reached `stage`.
pub(super) async fn reached(
    conn: &impl ConnectionTrait,
    keys: &[String],
    stage: DocumentStage,
) -> AppResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(500) {
        let marks = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let mut values: Vec<sea_orm::Value> = vec![stage.into()];
        values.extend(chunk.iter().map(|k| k.clone().into()));
        let text =
            format!("SELECT document_key FROM document_reminders WHERE stage = $1 AND document_key IN ({marks})");
        for r in conn.query_all_raw(sql(conn, &text, values)).await? {
            out.push(r.try_get::<String>("", "document_key")?);
        }
    }
    Ok(out)
}

/// Runs an `INSERT ... ON CONFLICT DO NOTHING`; 1 when it inserted, 0 when the row was there.
async fn insert_once(conn: &impl ConnectionTrait, text: &str, values: Vec<sea_orm::Value>) -> AppResult<u64> {
    Ok(conn.execute_raw(sql(conn, text, values)).await?.rows_affected())
}

/// Records that `key` reached `stage`; 1 when this call did, 0 when it already had.
pub(super) async fn claim(
    conn: &impl ConnectionTrait,
    key: &str,
    stage: DocumentStage,
    at: DateTime<Utc>,
) -> AppResult<u64> {
    let text = "INSERT INTO document_reminders (document_key, stage, sent_at) VALUES ($1, $2, $3) \
         ON CONFLICT (document_key, stage) DO NOTHING";
    insert_once(conn, text, vec![key.into(), stage.into(), at.into()]).await
}

/// Sets the organisation's status from `from` to `to`; the rows changed.
pub(super) async fn set_org_status(
    conn: &impl ConnectionTrait,
    org: &str,
    from: OrgStatus,
    to: OrgStatus,
    at: DateTime<Utc>,
) -> AppResult<u64> {
    crate::services::organizations::queries::set_status_if(conn, org, from, to, at).await
}

/// Locks the organisation's row until the transaction ends: a licence's expiry and a
/// renewal of another licence of the same supplier are decided one after the other.
pub(super) async fn lock_org(conn: &impl ConnectionTrait, org: &str) -> AppResult<()> {
    let text = "UPDATE organizations SET status = status WHERE id = $1";
    conn.execute_raw(crate::services::sql(conn, text, vec![org.into()]))
        .await?;
    Ok(())
}

/// Records the suspension of `org` for the expired document `key`; 1 when newly recorded.
pub(super) async fn insert_suspension(
    conn: &impl ConnectionTrait,
    org: &str,
    key: &str,
    at: DateTime<Utc>,
) -> AppResult<u64> {
    let text = "INSERT INTO document_suspensions (supplier_org_id, document_key, suspended_at) VALUES ($1, $2, $3) \
         ON CONFLICT (supplier_org_id) DO NOTHING";
    insert_once(conn, text, vec![org.into(), key.into(), at.into()]).await
}

pub(super) async fn suspensions(
    conn: &impl ConnectionTrait,
    org: Option<&str>,
) -> AppResult<Vec<document_suspensions::Model>> {
    let mut q = document_suspensions::Entity::find();
    if let Some(o) = org {
        q = q.filter(document_suspensions::Column::SupplierOrgId.eq(o));
    }
    Ok(q.all(conn).await?)
}

/// Removes the suspension row of `org`; 1 when this call did.
pub(crate) async fn delete_suspension(conn: &impl ConnectionTrait, org: &str) -> AppResult<u64> {
    Ok(document_suspensions::Entity::delete_many()
        .filter(document_suspensions::Column::SupplierOrgId.eq(org))
        .exec(conn)
        .await?
        .rows_affected)
}
