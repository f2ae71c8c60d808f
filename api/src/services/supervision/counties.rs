//! `GET /supervision/{year}/counties`: for each poverty county in the caller's region (every
//! one for admin and evaluators), the certified products listed in the catalogue, the
//! suppliers listing them, and the sales of its produce credited this year (net of returns,
//! from the ledger). Counties with no certified product are listed too, with zeros and
//! `no_certified_product: true`. Paged by county code.
use super::queries;
use super::units::covered;
use crate::auth::Caller;
use crate::domain::{PovertyStatus, SignedMoney};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::credit::{check_year, net};
use crate::services::{paginate, stored, today, PageParams};
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountiesQuery {
    /// Only counties in this region (within the caller's).
    pub region: Option<String>,
    /// json (default, paged), csv or xlsx (every county of the scope, unpaged).
    pub format: Option<crate::domain::ReportFormat>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountyFigures {
    pub region_code: String,
    pub name: String,
    pub poverty_status: PovertyStatus,
    /// Certified products of the county listed in the catalogue today (certified, valid,
    /// of an active supplier).
    pub certified_products: u64,
    /// Active suppliers listing at least one of those products.
    pub suppliers_active: u64,
    /// Net sales of the county's produce credited in the year (credits less returns).
    pub credited: SignedMoney,
    /// Ledger entries of the year behind `credited`.
    pub entries: u64,
    /// No certified product of the county is listed.
    pub no_certified_product: bool,
}

/// A page of the counties list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountiesPage {
    pub year: i32,
    /// The region covered (null: every region, for admin and evaluators).
    pub region_code: Option<String>,
    pub items: Vec<CountyFigures>,
    pub next_cursor: Option<String>,
}

/// One page of the counties (every county when `page` is `None`).
pub async fn counties(
    state: &AppState,
    caller: &Caller,
    year: i32,
    q: CountiesQuery,
    page: Option<&PageParams>,
) -> AppResult<CountiesPage> {
    let mut errors: Vec<FieldError> = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check(errors)?;
    let region = covered(state, caller, q.region).await?;
    let (limit, cursor) = match page {
        Some(p) => (Some(p.limit()?), p.cursor()?),
        None => (None, None),
    };
    let db = &state.db;
    let rows = queries::poverty_counties(db, region.as_deref(), cursor.as_deref(), limit.map(|l| l + 1)).await?;
    let (rows, next_cursor) = match limit {
        Some(l) => paginate(rows, l, |r| r.code.clone()),
        None => (rows, None),
    };
    let codes: Vec<String> = rows.iter().map(|r| r.code.clone()).collect();
    let listed = queries::listed_by_county(db, &codes, today()).await?;
    let credited = queries::credited_by_county(db, year, &codes).await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let items = rows
        .into_iter()
        .map(|r| {
            let (products, suppliers) = listed.get(&r.code).copied().unwrap_or((0, 0));
            let (amt, n) = credited.get(&r.code).copied().unwrap_or((0, 0));
            Ok(CountyFigures {
                poverty_status: stored(&r.poverty_status)?,
                certified_products: count(products),
                suppliers_active: count(suppliers),
                credited: net(amt, "credited amount")?,
                entries: count(n),
                no_certified_product: products == 0,
                region_code: r.code,
                name: r.name,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(CountiesPage {
        year,
        region_code: region,
        items,
        next_cursor,
    })
}
