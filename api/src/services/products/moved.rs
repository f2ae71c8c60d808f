//! A township or village moved to another county (`PUT /regions/{code}`) takes its products
//! with it: their `origin_county_code` follows the tree, and with it the county office that
//! certifies them, the catalogue's county and the county and poverty status their credits are
//! written with. A certified product whose county changed goes back to review by the office
//! of its new county, which never vouched for it.
use super::lapse::lapse;
use crate::error::AppResult;
use crate::services::now;
use entity::products;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

/// Sets the county of the products whose origin is one of `origins` to `county`; returns how
/// many changed county.
pub async fn follow_county(conn: &impl ConnectionTrait, origins: Vec<String>, county: &str) -> AppResult<u64> {
    let mut changed = 0;
    for chunk in origins.chunks(500) {
        let moved: Vec<(String, String)> = products::Entity::find()
            .select_only()
            .column(products::Column::Id)
            .column(products::Column::OriginCountyCode)
            .filter(products::Column::OriginRegionCode.is_in(chunk.to_vec()))
            .filter(products::Column::OriginCountyCode.ne(county))
            .into_tuple()
            .all(conn)
            .await?;
        if moved.is_empty() {
            continue;
        }
        let ids: Vec<String> = moved.iter().map(|(id, _)| id.clone()).collect();
        products::Entity::update_many()
            .col_expr(products::Column::OriginCountyCode, Expr::value(county))
            .col_expr(products::Column::UpdatedAt, Expr::value(now()))
            .col_expr(products::Column::Version, Expr::col(products::Column::Version).add(1))
            .filter(products::Column::Id.is_in(ids.clone()))
            .exec(conn)
            .await?;
        // A lot that stated the product's old county states its new one (else the origin
        // signal would flag a lot that told the truth). After the products' update: a lot
        // being recorded holds its product's share lock, so that update waited for it, and
        // this statement sees it.
        for (id, old) in &moved {
            let st = crate::services::sql(
                conn,
                "UPDATE lots SET origin_county_code = $1 WHERE product_id = $2 AND origin_county_code = $3",
                vec![county.into(), id.as_str().into(), old.as_str().into()],
            );
            conn.execute_raw(st).await?;
        }

        let reason = format!("its origin now lies in county {county}; that county's office must review it");
        for id in &ids {
            lapse(conn, id, &reason).await?;
        }
        changed += ids.len() as u64;
    }
    Ok(changed)
}
