//! Products, their certification by the county office of their origin, lots and stock.
//!
//! Status: `draft → pending_review → certified | rejected`, `rejected → pending_review`,
//! `certified → revoked` (the rules are [`ProductStatus::can_become`]). A certified product
//! whose `valid_until` has passed is reported as `expired` on every read (computed, so no
//! job has to run first) and is never orderable nor in the catalogue. Every transition is
//! a row in `product_events`.
//!
//! Transitions are single conditional UPDATEs (`... WHERE status IN (<sources bound from
//! the enum>)`), so two concurrent certifications give one success and one 409 on both backends.
//!
//! Files: `edit` (create, update), `access` (who may see what), `listing` (lists and the
//! certifier's price check), `certification` (submit, certify, reject, revoke), `events`,
//! `lots` (lots and the stock view), `adjust` (stock adjustments), `withdraw` (deleting a
//! draft), `validate` (field checks), and `queries` (every statement of the folder).
mod access;
mod adjust;
mod certification;
mod edit;
mod events;
mod field;
mod lapse;
mod listing;
mod lots;
mod moved;
mod queries;
mod validate;
mod withdraw;

pub use access::{find, get, may_certify, may_supply, visible};
pub use adjust::{adjust_stock, AdjustmentResult, StockAdjustment, StockMovement};
pub use certification::{certify, reject, revoke, submit, Certify, Reason};
pub use edit::{create, update, NewProduct, ProductPatch};
pub use events::{events, ProductEvent, ProductEventPage};
pub use field::Field;
pub use lapse::lapse;
pub use listing::{list, may_list, median_price, price_check, ProductFilter};
pub use lots::{add_lot, get_lot, list_lots, stock, Lot, LotPage, NewLot, StockView};
pub use moved::follow_county;
pub use withdraw::delete;

use super::today;
use crate::domain::{
    CertificateKind, Money, OrgId, OrgStatus, ProductCategory, ProductId, ProductStatus, Quantity, SaleMode, Unit,
    UserId, Weight,
};
use crate::error::{AppError, AppResult};
use entity::products;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The category names, for modules that still take a list (computed from [`ProductCategory`]).
pub const CATEGORIES: [&str; ProductCategory::ALL.len()] = {
    let mut names = [""; ProductCategory::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = ProductCategory::ALL[i].as_str();
        i += 1;
    }
    names
};

/// A quality certificate carried by a product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub kind: CertificateKind,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::domain::day::de_opt")]
    pub issued_on: Option<chrono::NaiveDate>,
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub valid_until: chrono::NaiveDate,
}

/// How a pending product's price compares with certified products of the same category and unit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceCheck {
    /// Median unit price of certified, unexpired products of the same category and unit (null when none).
    pub median_price: Option<Money>,
    /// This product's price divided by the median, as a decimal string with two places ("1.33").
    pub ratio: Option<String>,
    /// Number of certified products compared with.
    pub compared_with: usize,
    /// True when the price is more than 30% above the median.
    pub price_flag: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    pub id: ProductId,
    pub supplier_org_id: OrgId,
    pub name: String,
    pub category: ProductCategory,
    pub unit: Unit,
    pub price: Money,
    pub min_order_qty: Quantity,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub description: String,
    pub shelf_life_days: Option<i32>,
    pub supply_capacity_per_month: Option<Quantity>,
    pub certificates: Vec<Certificate>,
    pub poor_households_linked: i32,
    pub benefit_mechanism: String,
    pub status: ProductStatus,
    /// `per_unit`, or `pieces_by_weight` (unit `piece`, `price` per kg of the actual weight).
    pub sale_mode: SaleMode,
    /// For `pieces_by_weight`: the nominal weight of one piece, in kg.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nominal_weight_kg: Option<Weight>,
    /// For `pieces_by_weight`: the tolerance around the nominal weight, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_tolerance: Option<i32>,
    pub certificate_number: Option<String>,
    pub certified_by: Option<UserId>,
    pub certified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub valid_until: Option<chrono::NaiveDate>,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The county office's own setting for this product (null: its category's default).
    pub requires_compliance_certificate: Option<bool>,
    /// Whether each lot needs a 合格证 (the setting above, else the category's default).
    pub compliance_certificate_required: bool,
    /// In a certifier's queue: the price compared with certified products.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_check: Option<PriceCheck>,
}

crate::page_type!(ProductPage, Product);

/// A stored value read back into its domain type; a value that does not parse is a
/// fault of the data, not of the request.
pub(crate) fn stored<T: std::str::FromStr>(what: &str, text: &str) -> AppResult<T> {
    text.parse()
        .map_err(|_| AppError::internal(format!("the stored {what} {text:?} is not valid")))
}

/// A stored amount in its smallest unit read back into its domain type.
pub(crate) fn stored_amount<T>(what: &str, r: Result<T, crate::domain::AmountError>) -> AppResult<T> {
    r.map_err(|e| AppError::internal(format!("the stored {what} is out of bounds: {e}")))
}

/// The status as stored (`expired` is never stored).
pub fn stored_status(m: &products::Model) -> AppResult<ProductStatus> {
    stored("product status", &m.status)
}

/// The status to report: a certified product past `valid_until` is `expired`.
pub fn effective_status(m: &products::Model) -> AppResult<ProductStatus> {
    let s = stored_status(m)?;
    Ok(
        if s == ProductStatus::Certified && m.valid_until.map(|v| v < today()).unwrap_or(false) {
            ProductStatus::Expired
        } else {
            s
        },
    )
}

/// True when buyers may order the product now: certified, unexpired, its supplier active.
pub async fn is_orderable(conn: &impl ConnectionTrait, m: &products::Model) -> AppResult<bool> {
    if effective_status(m)? != ProductStatus::Certified {
        return Ok(false);
    }
    let status = queries::org_status(conn, &m.supplier_org_id).await?;
    Ok(status.map(|s| s == OrgStatus::Active).unwrap_or(false))
}

fn parse_certificates(text: &str) -> Vec<Certificate> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Product {
    pub fn from_model(m: products::Model) -> AppResult<Product> {
        let status = effective_status(&m)?;
        let terms = crate::services::weight::WeightTerms::of(&m)?;
        Ok(Product {
            sale_mode: terms.sale_mode,
            nominal_weight_kg: terms.nominal_weight,
            weight_tolerance: terms.tolerance_pct,
            certificates: parse_certificates(&m.certificates),
            price: stored_amount("price", Money::from_minor(m.price_fen))?,
            min_order_qty: stored_amount("min_order_qty", Quantity::from_minor(m.min_order_qty_milli))?,
            supply_capacity_per_month: m
                .supply_capacity_per_month_milli
                .map(|v| stored_amount("supply capacity", Quantity::from_minor(v)))
                .transpose()?,
            id: stored("product id", &m.id)?,
            supplier_org_id: stored("organisation id", &m.supplier_org_id)?,
            name: m.name,
            category: stored("category", &m.category)?,
            unit: stored("unit", &m.unit)?,
            origin_region_code: m.origin_region_code,
            origin_county_code: m.origin_county_code,
            description: m.description,
            shelf_life_days: m.shelf_life_days,
            poor_households_linked: m.poor_households_linked,
            benefit_mechanism: m.benefit_mechanism,
            status,
            certificate_number: m.certificate_number,
            certified_by: m.certified_by.as_deref().map(|u| stored("user id", u)).transpose()?,
            certified_at: m.certified_at,
            valid_until: m.valid_until,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            requires_compliance_certificate: m.requires_compliance_certificate,
            compliance_certificate_required: m.compliance_certificate_required,
            price_check: None,
        })
    }
}

/// The lowercased text that `q` searches (name and description).
pub fn search_text(name: &str, description: &str) -> String {
    format!("{} {}", name.trim(), description.trim()).to_lowercase()
}
