//! Statements of acceptance that join what it would otherwise read in several round trips:
//! the lines with their weight rows and what a ledger entry needs of their products (their
//! category and origin, with the region row of the origin county code), read before the
//! transaction; the products' part alone for a return.
use crate::error::AppResult;
use crate::services::sql;
use entity::{order_line_weights as olw, order_lines, orders, products, regions, supplier_orders};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Value,
};

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
/// same order) and what a ledger entry needs of their products (by product id, once each), in
/// one statement.
pub(super) async fn lines_with_weights(
    conn: &impl ConnectionTrait,
    so_id: &str,
) -> AppResult<(Vec<order_lines::Model>, Vec<olw::Model>, Vec<ProductOrigin>)> {
    let weight_of: sea_orm::RelationDef = order_lines::Entity::belongs_to(olw::Entity)
        .from(order_lines::Column::Id)
        .to(olw::Column::OrderLineId)
        .into();
    let product_of: sea_orm::RelationDef = order_lines::Entity::belongs_to(products::Entity)
        .from(order_lines::Column::ProductId)
        .to(products::Column::Id)
        .into();
    let origin_of: sea_orm::RelationDef = products::Entity::belongs_to(regions::Entity)
        .from(products::Column::OriginCountyCode)
        .to(regions::Column::Code)
        .into();
    // The lines' and weights' columns come prefixed (`A_`, `B_`); the product's and region's
    // as `product_origins` names them.
    let stmt = order_lines::Entity::find()
        .join(sea_orm::JoinType::LeftJoin, weight_of)
        .select_also(olw::Entity)
        .join(sea_orm::JoinType::LeftJoin, product_of)
        .join(sea_orm::JoinType::LeftJoin, origin_of)
        .column_as(products::Column::Id, "id")
        .column_as(products::Column::Category, "category")
        .column_as(products::Column::OriginRegionCode, "origin_region_code")
        .column_as(products::Column::OriginCountyCode, "origin_county_code")
        .column_as(regions::Column::Level, "r_level")
        .column_as(regions::Column::ParentCode, "r_parent_code")
        .column_as(regions::Column::PovertyStatus, "r_poverty_status")
        .filter(order_lines::Column::SupplierOrderId.eq(so_id))
        .order_by_asc(order_lines::Column::Id)
        .build(conn.get_database_backend());
    let rows = conn.query_all_raw(stmt).await?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut weights = Vec::new();
    let mut origins: Vec<ProductOrigin> = Vec::new();
    for r in &rows {
        lines.push(order_lines::Model::from_query_result(r, "A_")?);
        weights.extend(olw::Model::from_query_result_optional(r, "B_")?);
        if let Some(o) = origin_of_row(r)? {
            if !origins.iter().any(|k| k.id == o.id) {
                origins.push(o);
            }
        }
    }
    Ok((lines, weights, origins))
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
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(origin_of_row(r)?);
    }
    Ok(out)
}

/// A product's origin from a row that names its columns as [`product_origins`] does; `None`
/// when the row joined no product.
fn origin_of_row(r: &sea_orm::QueryResult) -> AppResult<Option<ProductOrigin>> {
    let Some(id) = r.try_get::<Option<String>>("", "id")? else {
        return Ok(None);
    };
    let level: Option<String> = r.try_get("", "r_level")?;
    let county = match level {
        Some(level) => Some(RegionStep {
            level,
            parent_code: r.try_get("", "r_parent_code")?,
            poverty_status: r.try_get("", "r_poverty_status")?,
        }),
        None => None,
    };
    Ok(Some(ProductOrigin {
        id,
        category: r.try_get("", "category")?,
        origin_region_code: r.try_get("", "origin_region_code")?,
        origin_county_code: r.try_get("", "origin_county_code")?,
        county,
    }))
}
