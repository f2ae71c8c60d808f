//! Which categories require a 合格证 by default (`GET /categories`, `PUT /categories/{code}`),
//! and a product's own setting against its category's (the certifier of its county).
use super::queries;
use crate::auth::{Caller, Role};
use crate::domain::{ProductCategory, ProductId};
use crate::error::{AppError, AppResult};
use crate::services::products::{self, Product};
use crate::state::AppState;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A product category and whether its products need a 合格证 per lot by default.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategorySetting {
    pub code: ProductCategory,
    pub requires_compliance_certificate: bool,
    /// When the admin last changed it (null: never).
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategorySetting>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutCategory {
    pub requires_compliance_certificate: bool,
}

/// The certifier's setting for one product.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementPatch {
    /// true or false: this product's own requirement; null (or absent): its category's.
    #[serde(default)]
    pub requires_compliance_certificate: Option<bool>,
}

/// Every category, in the vocabulary's order (any signed-in caller).
pub async fn list_categories(state: &AppState, _caller: &Caller) -> AppResult<CategoryList> {
    let rows = queries::category_rows(&state.db).await?;
    let items = ProductCategory::ALL
        .iter()
        .map(|c| {
            let row = rows.iter().find(|r| r.code == c.as_str());
            CategorySetting {
                code: *c,
                requires_compliance_certificate: row.is_some_and(|r| r.requires_compliance_certificate),
                updated_at: row.and_then(|r| r.updated_at),
            }
        })
        .collect();
    Ok(CategoryList { items })
}

/// The admin sets a category's default; products that follow it, and their lots without a
/// certificate, change with it in the same transaction.
pub async fn put_category(
    state: &AppState,
    caller: &Caller,
    code: &str,
    body: PutCategory,
) -> AppResult<CategorySetting> {
    caller.require(&[Role::Admin])?;
    let category: ProductCategory = code.parse().map_err(|_| AppError::NotFound("category"))?;
    let txn = state.db.begin().await?;
    queries::switch_category(&txn, category).await?;
    let row = queries::upsert_category(&txn, category, body.requires_compliance_certificate).await?;
    queries::refresh_category(&txn, category, body.requires_compliance_certificate).await?;
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    Ok(CategorySetting {
        code: category,
        requires_compliance_certificate: row.requires_compliance_certificate,
        updated_at: row.updated_at,
    })
}

/// Whether products of `category` need a certificate by default. In a transaction that writes
/// a product with this value, the setting is held still until it ends (see
/// `queries::hold_category`).
pub async fn category_requires(conn: &impl ConnectionTrait, category: ProductCategory) -> AppResult<bool> {
    queries::hold_category(conn, category).await?;
    Ok(queries::category_rows(conn)
        .await?
        .iter()
        .any(|r| r.code == category.as_str() && r.requires_compliance_certificate))
}

/// Recomputes a product's effective requirement (its own setting, else its category's) and
/// re-flags its lots without a certificate. Runs in the caller's transaction.
pub async fn refresh_product(conn: &impl ConnectionTrait, product_id: &str) -> AppResult<()> {
    queries::refresh_product(conn, product_id).await
}

/// Holds the category's 合格证 setting still until the transaction ends; take it before writing
/// a product row whose value follows the category (see `queries::hold_category`).
pub async fn hold_category(conn: &impl ConnectionTrait, category: ProductCategory) -> AppResult<()> {
    queries::hold_category(conn, category).await
}

/// The certifier of the product's county sets its own requirement (or null: its category's).
pub async fn set_requirement(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    body: RequirementPatch,
) -> AppResult<Product> {
    products::may_certify(state, caller, id).await?;
    let txn = state.db.begin().await?;
    // Before the product's row is written (see `queries::hold_category`).
    queries::hold_category_of(&txn, &id.to_string()).await?;
    queries::set_override(&txn, &id.to_string(), body.requires_compliance_certificate).await?;
    queries::refresh_product(&txn, &id.to_string()).await?;
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    products::get(state, caller, id).await
}

/// The categories the regulation names (蔬菜 with cultivated edible fungi, 水果, 鲜蛋, 水产品).
pub const DEMO_REQUIRED: [ProductCategory; 5] = [
    ProductCategory::Vegetables,
    ProductCategory::EdibleFungi,
    ProductCategory::Fruit,
    ProductCategory::Eggs,
    ProductCategory::Aquatic,
];

/// Demo data: the regulation's categories require a 合格证, and the demo lots of their
/// products carry one (so that their stock stays available).
pub async fn seed_demo(state: &AppState) -> AppResult<()> {
    let txn = state.db.begin().await?;
    queries::certify_demo_lots(&txn, &DEMO_REQUIRED).await?;
    for c in DEMO_REQUIRED {
        queries::switch_category(&txn, c).await?;
        queries::upsert_category(&txn, c, true).await?;
        queries::refresh_category(&txn, c, true).await?;
    }
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    Ok(())
}
