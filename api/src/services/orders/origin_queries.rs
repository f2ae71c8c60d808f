//! The statement that reads what a ledger entry needs of its products: their category and
//! origin, with the region row of the origin county code, in one query.
use crate::error::AppResult;
use crate::services::sql;
use sea_orm::{ConnectionTrait, Value};

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
