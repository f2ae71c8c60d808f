//! The public catalogue: certified, unexpired products of active suppliers.
//!
//! Pages are cached under a key made of the catalogue generation, today's date (so a
//! certification that expires at midnight leaves at once) and the normalised query.
//! Every change that can affect a page bumps the generation *after* its commit: a
//! page computed before the change can only land under the old generation, which no
//! reader asks for any more.
//!
//! The query parameters are typed (`Money`, the vocabularies), so a price out of the
//! grammar or bound or an unknown category is a 422 naming the parameter before any
//! arithmetic happens. The statement itself is in `queries`.
mod queries;

use super::products::Certificate;
use super::{today, PageParams};
use crate::domain::{Money, OrgId, PovertyStatus, ProductCategory, ProductId, Quantity, SaleMode, Unit, Weight};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// An optional query parameter read through `FromStr`; an empty value is no value.
fn optional_param<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Text searched in name and description: Chinese substrings or Latin words, any case.
    pub q: Option<String>,
    #[serde(default, deserialize_with = "optional_param")]
    #[param(inline)]
    pub category: Option<ProductCategory>,
    /// The origin county's code (6 digits).
    pub county: Option<String>,
    #[serde(default, deserialize_with = "optional_param")]
    #[param(inline)]
    pub poverty_status: Option<PovertyStatus>,
    /// Lowest unit price, e.g. `10.00`.
    #[serde(default, deserialize_with = "optional_param")]
    #[param(inline)]
    pub min_price: Option<Money>,
    /// Highest unit price, e.g. `88.00`.
    #[serde(default, deserialize_with = "optional_param")]
    #[param(inline)]
    pub max_price: Option<Money>,
}

/// Catalogue pages cached before sale modes existed read back as sold per unit.
fn per_unit() -> SaleMode {
    SaleMode::PerUnit
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CatalogItem {
    pub id: ProductId,
    pub name: String,
    pub category: ProductCategory,
    pub unit: Unit,
    /// Per kg when `sale_mode` is `pieces_by_weight` (ordered by the piece, paid by weight).
    pub price: Money,
    /// `per_unit`, or `pieces_by_weight` with the nominal weight and tolerance of a piece.
    #[serde(default = "per_unit")]
    pub sale_mode: SaleMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nominal_weight_kg: Option<Weight>,
    /// Percent either side of the nominal weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_tolerance: Option<i32>,
    pub min_order_qty: Quantity,
    pub description: String,
    pub supplier_org_id: OrgId,
    pub supplier_name: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub origin_county_name: String,
    pub origin_poverty_status: PovertyStatus,
    pub certificates: Vec<Certificate>,
    pub certificate_number: Option<String>,
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub valid_until: Option<chrono::NaiveDate>,
    /// Stock that can be ordered now (on hand in unexpired lots minus reservations).
    pub available: Quantity,
    /// The supplier's delivery on time, acceptance rate and rating this year.
    #[serde(default)]
    pub supplier_summary: Option<super::scorecards::SupplierSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CatalogPage {
    pub items: Vec<CatalogItem>,
    pub next_cursor: Option<String>,
}

/// A query checked and normalised: what the statement and the cache key are made of.
struct Checked {
    terms: Vec<String>,
    category: Option<ProductCategory>,
    county: Option<String>,
    poverty_status: Option<PovertyStatus>,
    min_price: Option<Money>,
    max_price: Option<Money>,
    limit: u64,
    cursor: Option<String>,
}

fn check(q: &CatalogQuery, page: &PageParams) -> AppResult<Checked> {
    let mut errors = Vec::new();
    let limit = match page.limit() {
        Ok(l) => l,
        Err(_) => {
            errors.push(FieldError::new("limit", "must be between 1 and 200"));
            50
        }
    };
    let cursor = match page.cursor() {
        Ok(c) => c,
        Err(_) => {
            errors.push(FieldError::new("cursor", "is not a cursor this service issued"));
            None
        }
    };
    let text = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    if text.chars().count() > 100 {
        errors.push(FieldError::new("q", "must be at most 100 characters"));
    }
    let terms: Vec<String> = text.split_whitespace().take(8).map(str::to_string).collect();
    let county = q.county.clone().filter(|c| !c.is_empty());
    if let Some(c) = &county {
        if c.len() != 6 || !c.chars().all(|ch| ch.is_ascii_digit()) {
            errors.push(FieldError::new("county", "must be a 6-digit county code"));
        }
    }
    AppError::check_query(errors)?;
    Ok(Checked {
        terms,
        category: q.category,
        county,
        poverty_status: q.poverty_status,
        min_price: q.min_price,
        max_price: q.max_price,
        limit,
        cursor,
    })
}

impl Checked {
    fn cache_key(&self, generation: &str) -> String {
        format!(
            "catalog:{generation}:{}:{}|{}|{}|{}|{}|{}|{}|{}",
            today(),
            self.terms.join(" "),
            self.category.map(|c| c.as_str()).unwrap_or(""),
            self.county.as_deref().unwrap_or(""),
            self.poverty_status.map(|s| s.as_str()).unwrap_or(""),
            self.min_price.map(|v| v.minor().to_string()).unwrap_or_default(),
            self.max_price.map(|v| v.minor().to_string()).unwrap_or_default(),
            self.limit,
            self.cursor.as_deref().unwrap_or(""),
        )
    }
}

/// One page of the catalogue, from the cache when it holds it.
pub async fn search(state: &AppState, q: &CatalogQuery, page: &PageParams) -> AppResult<CatalogPage> {
    let c = check(q, page)?;
    let generation = state.cache.generation("catalog").await;
    let key = c.cache_key(&generation);
    if let Some(hit) = state.cache.get(&key).await {
        if let Ok(mut page) = serde_json::from_str::<CatalogPage>(&hit) {
            // Belt and braces: a certification that lapsed since the page was cached is dropped.
            let t = today();
            page.items.retain(|i| i.valid_until.map(|v| v >= t).unwrap_or(false));
            return Ok(page);
        }
    }
    let mut page = queries::page(&state.db, &c).await?;
    super::scorecards::attach_summaries(&state.db, &mut page.items).await?;
    if let Ok(text) = serde_json::to_string(&page) {
        let ttl = Duration::from_secs(state.settings.cache_ttl_secs.max(1));
        state.cache.set(&key, &text, ttl).await;
    }
    Ok(page)
}

/// The same page straight from the database (the benchmark compares the two).
pub async fn search_uncached(state: &AppState, q: &CatalogQuery, page: &PageParams) -> AppResult<CatalogPage> {
    let c = check(q, page)?;
    let mut page = queries::page(&state.db, &c).await?;
    super::scorecards::attach_summaries(&state.db, &mut page.items).await?;
    Ok(page)
}
