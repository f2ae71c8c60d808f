//! The public summary of a supplier on each catalogue item: this year's delivery on time,
//! acceptance rate and rating, three grouped statements per page whatever its suppliers.
use super::queries::{self, Window};
use super::{rating, share, RatingFigure};
use crate::domain::Share;
use crate::error::AppResult;
use crate::services::catalog::CatalogItem;
use crate::services::today;
use chrono::Datelike;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A supplier's year so far, as buyers see it in the catalogue (the full scorecard is at
/// `GET /suppliers/{id}/scorecard`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SupplierSummary {
    pub year: i32,
    /// Supplier orders delivered this year.
    pub deliveries: i64,
    /// Delivered by the buyer's deadline ÷ delivered, and flagged late and never delivered
    /// (null before either).
    pub on_time_delivery: Option<Share>,
    /// Accepted ÷ ordered quantity of the supplier orders accepted this year.
    pub acceptance_rate: Option<Share>,
    pub rating: RatingFigure,
}

/// Fills `supplier_summary` on each item.
pub async fn attach_summaries(conn: &impl ConnectionTrait, items: &mut [CatalogItem]) -> AppResult<()> {
    let mut orgs: Vec<String> = items.iter().map(|i| i.supplier_org_id.to_string()).collect();
    orgs.sort();
    orgs.dedup();
    if orgs.is_empty() {
        return Ok(());
    }
    let year = today().year();
    let Some(w) = Window::year(year) else { return Ok(()) };
    let delivered = queries::deliveries(conn, &orgs, w).await?;
    let accepted = queries::acceptance(conn, &orgs, w).await?;
    let rated = queries::ratings(conn, &orgs, w).await?;
    let get = |m: &std::collections::HashMap<String, Vec<i64>>, org: &str, i: usize| {
        m.get(org).and_then(|v| v.get(i).copied()).unwrap_or(0)
    };
    for item in items.iter_mut() {
        let org = item.supplier_org_id.to_string();
        item.supplier_summary = Some(SupplierSummary {
            year,
            deliveries: get(&delivered, &org, 0),
            on_time_delivery: share(
                get(&delivered, &org, 1),
                get(&delivered, &org, 0).saturating_add(get(&delivered, &org, 2)),
            ),
            acceptance_rate: share(get(&accepted, &org, 1), get(&accepted, &org, 0)),
            rating: rating(get(&rated, &org, 0), get(&rated, &org, 1)),
        });
    }
    Ok(())
}
