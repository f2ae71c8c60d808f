//! Reading alerts within the caller's scope, their history and pledges; backlog
//! reports and pledges written.
use crate::domain::{AlertId, ProductId};
use crate::error::AppResult;
use crate::services::alerts::listing::AlertFilter;
use crate::services::sql;
use entity::{alert_events, alert_matches, alerts, pledges, products, unsold_reports};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

/// The alerts a caller may see.
pub enum Scope {
    All,
    /// Those of the organisation's products.
    Supplier(String),
    /// Those the organisation is matched to (`alert_matches`) or pledged on.
    Buyer(String),
    /// Those of the origin county.
    County(String),
}

fn scoped(q: Select<alerts::Entity>, scope: &Scope) -> Select<alerts::Entity> {
    use alerts::Column as C;
    match scope {
        Scope::All => q,
        Scope::Supplier(org) => q.filter(C::SupplierOrgId.eq(org.as_str())),
        Scope::County(code) => q.filter(C::OriginCountyCode.eq(code.as_str())),
        // Matched now, or pledged: a raise re-ranks the matches, and a buyer who pledged keeps
        // the alert, its own pledge and the pledge's replay (a new pledge needs a match:
        // `is_matched`). One subquery (a UNION), which the planner can still join.
        Scope::Buyer(org) => q.filter(
            C::Id.in_subquery(
                Query::select()
                    .column(alert_matches::Column::AlertId)
                    .from(alert_matches::Entity)
                    .and_where(alert_matches::Column::BuyerOrgId.eq(org.as_str()))
                    .union(
                        sea_orm::sea_query::UnionType::Distinct,
                        Query::select()
                            .column(pledges::Column::AlertId)
                            .from(pledges::Entity)
                            .and_where(pledges::Column::BuyerOrgId.eq(org.as_str()))
                            .to_owned(),
                    )
                    .to_owned(),
            ),
        ),
    }
}

/// A page of alerts, newest first, `limit + 1` rows to tell whether more follow.
pub async fn find_alerts(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    f: &AlertFilter,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<alerts::Model>> {
    use alerts::Column as C;
    let mut q = scoped(alerts::Entity::find(), scope);
    if let Some(s) = f.status {
        q = q.filter(C::Status.eq(s));
    }
    if let Some(l) = f.level {
        q = q.filter(C::Level.eq(l));
    }
    if let Some(c) = &f.county {
        q = q.filter(C::OriginCountyCode.eq(c.as_str()));
    }
    if let Some(c) = f.category {
        q = q.filter(C::Category.eq(c));
    }
    if let Some(c) = cursor {
        q = q.filter(C::Id.lt(c));
    }
    Ok(q.order_by_desc(C::Id).limit(limit + 1).all(conn).await?)
}

pub async fn find_alert(conn: &impl ConnectionTrait, scope: &Scope, id: AlertId) -> AppResult<Option<alerts::Model>> {
    Ok(scoped(alerts::Entity::find_by_id(id.to_string()), scope)
        .one(conn)
        .await?)
}

/// A page of an alert's events, oldest first, `limit + 1` rows; with `pledges_of`, the
/// pledges of that organisation only (a buyer does not see another's pledge).
pub async fn event_rows(
    conn: &impl ConnectionTrait,
    id: AlertId,
    pledges_of: Option<&str>,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<alert_events::Model>> {
    use alert_events::Column as C;
    let mut q = alert_events::Entity::find().filter(C::AlertId.eq(id));
    if let Some(org) = pledges_of {
        q = q.filter(
            sea_orm::Condition::any()
                .add(C::Kind.ne(crate::domain::AlertEventKind::Pledged.as_str()))
                .add(C::ActorOrgId.eq(org)),
        );
    }
    if let Some(c) = cursor {
        q = q.filter(C::Id.gt(c));
    }
    Ok(q.order_by_asc(C::Id).limit(limit + 1).all(conn).await?)
}

/// The pledges on these alerts, oldest first.
pub async fn pledges_of(conn: &impl ConnectionTrait, ids: &[String]) -> AppResult<Vec<pledges::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(pledges::Entity::find()
        .filter(pledges::Column::AlertId.is_in(ids.to_vec()))
        .order_by_asc(pledges::Column::Id)
        .all(conn)
        .await?)
}

/// Of these orders, those whose supplier orders were all cancelled or rejected.
pub async fn cancelled_or_rejected(
    conn: &impl ConnectionTrait,
    orders: &[String],
) -> AppResult<std::collections::HashSet<String>> {
    use crate::domain::SupplierOrderStatus as S;
    let mut out = std::collections::HashSet::new();
    for chunk in orders.chunks(500) {
        let rows: Vec<(String, String)> = entity::supplier_orders::Entity::find()
            .select_only()
            .column(entity::supplier_orders::Column::OrderId)
            .column(entity::supplier_orders::Column::Status)
            .filter(entity::supplier_orders::Column::OrderId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        let mut live = std::collections::HashSet::new();
        let mut seen = std::collections::HashSet::new();
        for (order, status) in rows {
            if status != S::Cancelled.as_str() && status != S::Rejected.as_str() {
                live.insert(order.clone());
            }
            seen.insert(order);
        }
        out.extend(seen.into_iter().filter(|o| !live.contains(o)));
    }
    Ok(out)
}

pub async fn pledge_of_order(conn: &impl ConnectionTrait, order: &str) -> AppResult<Option<pledges::Model>> {
    Ok(pledges::Entity::find()
        .filter(pledges::Column::OrderId.eq(order))
        .one(conn)
        .await?)
}

/// Whether `org` is among the buyers the alert is matched to now.
pub async fn is_matched(conn: &impl ConnectionTrait, alert_id: &str, org: &str) -> AppResult<bool> {
    Ok(alert_matches::Entity::find()
        .filter(alert_matches::Column::AlertId.eq(alert_id))
        .filter(alert_matches::Column::BuyerOrgId.eq(org))
        .one(conn)
        .await?
        .is_some())
}

/// The alert's status, its row held against a resolution until the transaction ends (`None`
/// when there is no such alert): a pledge is made on an alert still unresolved when it lands.
pub async fn status_held(conn: &impl ConnectionTrait, alert_id: &str) -> AppResult<Option<String>> {
    Ok(alerts::Entity::find_by_id(alert_id.to_string())
        .lock_shared()
        .one(conn)
        .await?
        .map(|a| a.status))
}

/// Records a pledge, keyed by its order: false when that order's pledge exists.
pub async fn insert_pledge(conn: &impl ConnectionTrait, p: pledges::Model) -> AppResult<bool> {
    let res = conn
        .execute_raw(sql(
            conn,
            "INSERT INTO pledges (id, alert_id, buyer_org_id, buyer_user_id, quantity_milli, order_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            vec![
                p.id.into(),
                p.alert_id.into(),
                p.buyer_org_id.into(),
                p.buyer_user_id.into(),
                p.quantity_milli.into(),
                p.order_id.into(),
                p.created_at.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn find_product(conn: &impl ConnectionTrait, id: ProductId) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id.to_string()).one(conn).await?)
}

pub async fn insert_report(conn: &impl ConnectionTrait, r: unsold_reports::Model) -> AppResult<unsold_reports::Model> {
    let am = unsold_reports::ActiveModel::from(r).reset_all();
    Ok(am.insert(conn).await?)
}

/// One backlog report of a product.
pub async fn find_report(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
    id: crate::domain::UnsoldReportId,
) -> AppResult<Option<unsold_reports::Model>> {
    Ok(unsold_reports::Entity::find_by_id(id.to_string())
        .filter(unsold_reports::Column::ProductId.eq(product_id.to_string()))
        .one(conn)
        .await?)
}

/// `limit + 1` backlog reports of a product after the cursor, oldest first.
pub async fn reports_page(
    conn: &impl ConnectionTrait,
    product_id: ProductId,
    after: Option<String>,
    limit: u64,
) -> AppResult<Vec<unsold_reports::Model>> {
    let mut q = unsold_reports::Entity::find().filter(unsold_reports::Column::ProductId.eq(product_id.to_string()));
    if let Some(c) = after {
        q = q.filter(unsold_reports::Column::Id.gt(c));
    }
    Ok(q.order_by_asc(unsold_reports::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?)
}
