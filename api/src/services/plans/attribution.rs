//! Attribution: the budget unit an order's credit goes to. A `canteen_contractor`'s orders
//! are credited to the one unit whose approved plan of the year names it (`contracted_canteen`);
//! a contractor named by no approved plan (or by several) keeps its own credit. A draft or a
//! filing under review redirects nothing: a unit could otherwise name any contractor of its
//! region and take its credit (or, naming one that already serves another unit, take that
//! unit's) before its supervisor had looked.
use super::queries;
use crate::domain::OrgKind;
use crate::error::AppResult;
use crate::services::organizations;
use sea_orm::ConnectionTrait;

/// The organisation credited for an order of `buyer` accepted in budget year `year` (the
/// year of the acceptance's instant, the year its entries count in).
pub async fn credited_buyer(conn: &impl ConnectionTrait, buyer: &str, year: i32) -> AppResult<String> {
    let org = organizations::queries::find(conn, buyer.to_string()).await?;
    credited_buyer_of(conn, buyer, org.as_ref(), year).await
}

/// As [`credited_buyer`], with the buyer's organisation already read (`None`: not found).
pub async fn credited_buyer_of(
    conn: &impl ConnectionTrait,
    buyer: &str,
    org: Option<&entity::organizations::Model>,
    year: i32,
) -> AppResult<String> {
    let Some(org) = org else {
        return Ok(buyer.to_string());
    };
    if organizations::kind_of(org)? != OrgKind::CanteenContractor {
        return Ok(buyer.to_string());
    }
    let mut served = queries::served_by_contractor(conn, buyer, year).await?;
    Ok(match (served.pop(), served.is_empty()) {
        (Some(unit), true) => unit,
        _ => buyer.to_string(),
    })
}
