//! Product lists: a supplier's own, a certifier's county (pending products carry a
//! price check against the certified median), or all (admin, evaluator).
use super::access::certifier_county;
use super::{queries, Product};
use crate::auth::{Caller, Role};
use crate::domain::{Money, ProductCategory, ProductStatus, Unit};
use crate::error::AppResult;
use crate::services::{paginate, PageParams};
use crate::state::AppState;
use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;

use super::PriceCheck;

#[derive(Debug, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    #[param(inline)]
    pub status: Option<ProductStatus>,
    #[param(inline)]
    pub category: Option<ProductCategory>,
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &ProductFilter,
    page: &PageParams,
) -> AppResult<(Vec<Product>, Option<String>)> {
    may_list(caller)?;
    let db = &state.db;
    let limit = page.limit()?;
    let scope = queries::ListScope {
        supplier_org_id: (caller.role == Role::Supplier).then(|| caller.org_id.to_string()),
        county_code: match caller.role {
            Role::Certifier => Some(certifier_county(db, caller).await?),
            _ => None,
        },
        status: f.status,
        category: f.category,
        before: page.cursor()?,
        limit,
    };
    let rows = queries::list(db, &scope).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let mut items = rows
        .into_iter()
        .map(Product::from_model)
        .collect::<AppResult<Vec<_>>>()?;
    if matches!(caller.role, Role::Certifier | Role::Admin) {
        let mut medians: HashMap<(ProductCategory, Unit), (Option<Decimal>, usize)> = HashMap::new();
        for p in items.iter_mut().filter(|p| p.status == ProductStatus::PendingReview) {
            // A product sold by weight is priced per kg: compared with the kg median.
            let unit = if p.sale_mode == crate::domain::SaleMode::PiecesByWeight {
                Unit::Kg
            } else {
                p.unit
            };
            let key = (p.category, unit);
            let (median, n) = match medians.get(&key) {
                Some(m) => *m,
                None => {
                    let m = median_price(db, p.category, unit).await?;
                    medians.insert(key, m);
                    m
                }
            };
            p.price_check = Some(price_check(p.price, median, n));
        }
    }
    Ok((items, next))
}

/// Median unit price (yuan) of certified, unexpired products of a category and unit, and how many there are.
pub async fn median_price(
    conn: &impl ConnectionTrait,
    category: ProductCategory,
    unit: Unit,
) -> AppResult<(Option<Decimal>, usize)> {
    let prices = queries::certified_prices(conn, category.as_str(), unit.as_str()).await?;
    let n = prices.len();
    if n == 0 {
        return Ok((None, 0));
    }
    let yuan = |fen: i64| Decimal::new(fen, 2);
    let median = if n % 2 == 1 {
        yuan(prices[n / 2])
    } else {
        (yuan(prices[n / 2 - 1]) + yuan(prices[n / 2])) / Decimal::TWO
    };
    Ok((Some(median), n))
}

pub fn price_check(price: Money, median: Option<Decimal>, n: usize) -> PriceCheck {
    let price = price.to_decimal();
    match median {
        Some(m) if !m.is_zero() => {
            let mut ratio = (price / m).round_dp(2);
            ratio.rescale(2);
            let mut median = m.round_dp(2);
            median.rescale(2);
            PriceCheck {
                // The median of amounts rounded to the fen is itself an amount.
                median_price: Money::parse(&median.to_string()).ok(),
                ratio: Some(ratio.to_string()),
                compared_with: n,
                price_flag: price * Decimal::from(10) > m * Decimal::from(13),
            }
        }
        _ => PriceCheck {
            median_price: None,
            ratio: None,
            compared_with: n,
            price_flag: false,
        },
    }
}

/// Who may list products, checked before the query is read: authorise, then validate.
pub fn may_list(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Supplier, Role::Certifier, Role::Admin, Role::Evaluator])
}
