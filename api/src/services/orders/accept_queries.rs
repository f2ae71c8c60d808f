//! Statements of acceptance that join what it would otherwise read in two round trips:
//! the lines with their weight rows, and what a ledger entry needs of its products (their
//! category and origin, with the region row of the origin county code).
use crate::domain::SupplierOrderStatus;
use crate::error::AppResult;
use crate::services::sql;
use crate::services::writes::{self, Writes};
use entity::{order_line_weights as olw, order_lines, orders, organizations, supplier_orders};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Value};

/// A supplier order with its order (never changed after it is placed), in one statement.
pub(super) async fn supplier_order_with_order(
    conn: &impl ConnectionTrait,
    id: String,
) -> AppResult<Option<(supplier_orders::Model, Option<orders::Model>)>> {
    let order_of: sea_orm::RelationDef = supplier_orders::Entity::belongs_to(orders::Entity)
        .from(supplier_orders::Column::OrderId)
        .to(orders::Column::Id)
        .into();
    Ok(supplier_orders::Entity::find_by_id(id)
        .join(sea_orm::JoinType::LeftJoin, order_of)
        .select_also(orders::Entity)
        .one(conn)
        .await?)
}

/// The lines of a supplier order by id, with the weight rows of the weighed ones (in the
/// same order), in one statement.
pub(super) async fn lines_with_weights(
    conn: &impl ConnectionTrait,
    so_id: &str,
) -> AppResult<(Vec<order_lines::Model>, Vec<olw::Model>)> {
    let weight_of: sea_orm::RelationDef = order_lines::Entity::belongs_to(olw::Entity)
        .from(order_lines::Column::Id)
        .to(olw::Column::OrderLineId)
        .into();
    let pairs = order_lines::Entity::find()
        .join(sea_orm::JoinType::LeftJoin, weight_of)
        .select_also(olw::Entity)
        .filter(order_lines::Column::SupplierOrderId.eq(so_id))
        .order_by_asc(order_lines::Column::Id)
        .all(conn)
        .await?;
    let mut lines = Vec::with_capacity(pairs.len());
    let mut weights = Vec::new();
    for (l, w) in pairs {
        lines.push(l);
        weights.extend(w);
    }
    Ok((lines, weights))
}

/// What a ledger entry takes from a product, with the region row of its origin county code.
pub(super) struct ProductOrigin {
    pub id: String,
    pub category: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub county: Option<RegionStep>,
}

/// What climbing a region to its county needs of its row.
pub(super) struct RegionStep {
    pub level: String,
    pub parent_code: Option<String>,
    pub poverty_status: String,
}

/// The products with their origin's region row, in one statement.
pub(super) async fn product_origins(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<Vec<ProductOrigin>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let rows = conn
        .query_all_raw(sql(
            conn,
            &format!(
                "SELECT p.id, p.category, p.origin_region_code, p.origin_county_code, r.level AS r_level, \
                 r.parent_code AS r_parent_code, r.poverty_status AS r_poverty_status \
                 FROM products p LEFT JOIN regions r ON r.code = p.origin_county_code WHERE p.id IN ({})",
                marks.join(", ")
            ),
            ids.into_iter().map(Value::from).collect(),
        ))
        .await?;
    rows.iter()
        .map(|r| {
            let level: Option<String> = r.try_get("", "r_level")?;
            let county = match level {
                Some(level) => Some(RegionStep {
                    level,
                    parent_code: r.try_get("", "r_parent_code")?,
                    poverty_status: r.try_get("", "r_poverty_status")?,
                }),
                None => None,
            };
            Ok(ProductOrigin {
                id: r.try_get("", "id")?,
                category: r.try_get("", "category")?,
                origin_region_code: r.try_get("", "origin_region_code")?,
                origin_county_code: r.try_get("", "origin_county_code")?,
                county,
            })
        })
        .collect()
}

/// Sets the time of acceptance (and of the last change) of supplier order `so_id`, deferred to
/// the statement that follows: the transaction changed its row already (its new status).
pub(super) fn set_accepted_at(writes: &mut Writes, so_id: &str, t: chrono::DateTime<chrono::Utc>) {
    writes.update_owned_query(
        sea_orm::sea_query::Query::update()
            .table(supplier_orders::Entity)
            .value(supplier_orders::Column::AcceptedAt, Some(t))
            .value(supplier_orders::Column::UpdatedAt, t)
            .and_where(supplier_orders::Column::Id.eq(so_id)),
    );
}

/// Marks a delivered supplier order accepted (at `at` when given; else the caller sets the
/// time later) and reads the organisations `org_ids`: the rows changed (0 or 1) and the
/// organisations, in one statement on PostgreSQL.
pub(super) async fn set_accepted_reading_orgs(
    conn: &impl ConnectionTrait,
    id: &str,
    invoice_number: &str,
    note: Option<String>,
    at: Option<chrono::DateTime<chrono::Utc>>,
    org_ids: Vec<String>,
) -> AppResult<(usize, Vec<organizations::Model>)> {
    let mut update = supplier_orders::Entity::update_many();
    if let Some(t) = at {
        update = update
            .col_expr(supplier_orders::Column::AcceptedAt, Expr::value(Some(t)))
            .col_expr(supplier_orders::Column::UpdatedAt, Expr::value(t));
    }
    let update = update
        .col_expr(
            supplier_orders::Column::Status,
            Expr::value(SupplierOrderStatus::Accepted.as_str()),
        )
        .col_expr(
            supplier_orders::Column::InvoiceNumber,
            Expr::value(Some(invoice_number.to_string())),
        )
        .col_expr(supplier_orders::Column::AcceptanceNote, Expr::value(note.clone()))
        .col_expr(supplier_orders::Column::StatusNote, Expr::value(note))
        .filter(supplier_orders::Column::Id.eq(id))
        .filter(
            supplier_orders::Column::Status.is_in(
                SupplierOrderStatus::sources_of(SupplierOrderStatus::Accepted)
                    .iter()
                    .map(|s| s.as_str()),
            ),
        )
        .into_query()
        .returning_col(supplier_orders::Column::Id)
        .to_owned();
    let write = conn.get_database_backend().build(&update);
    Ok(writes::write_then_read(conn, write, "organizations", org_ids).await?)
}
