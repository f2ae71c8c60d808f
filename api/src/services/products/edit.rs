//! Listing a product (supplier) and editing it. An edit of what a certification vouched
//! for (name, unit, category, price, origin, certificates) sends a certified product back
//! to review; free text (description, benefit mechanism) and supply figures do not.
use super::access::own;
use super::events::record_event;
use super::validate::{
    check_certificates, check_households, check_optional_text, check_origin, check_positive, check_price,
    check_shelf_life, held_origin,
};
use super::{find, parse_certificates, queries, search_text, stored_status, Certificate, Field, Product};
use crate::auth::{Caller, Role};
use crate::domain::{Money, ProductCategory, ProductId, ProductStatus, Quantity, SaleMode, Unit, Weight};
use crate::error::{AppError, AppResult};
use crate::services::{now, required_text, weight};
use crate::state::AppState;
use entity::products;
use sea_orm::{Set, TransactionTrait};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub name: String,
    #[schema(value_type = ProductCategory)]
    pub category: Field<ProductCategory>,
    #[schema(value_type = Unit)]
    pub unit: Field<Unit>,
    /// Unit price, at most two decimal places, above zero.
    #[schema(value_type = Money, example = "12.50")]
    pub price: Field<Money>,
    /// Smallest quantity per order, up to three decimal places, above zero.
    #[schema(value_type = Quantity, example = "10")]
    pub min_order_qty: Field<Quantity>,
    /// A county, township or village inside a poverty or deep-poverty county.
    pub origin_region_code: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub shelf_life_days: Option<i32>,
    #[serde(default)]
    #[schema(value_type = Option<Quantity>)]
    pub supply_capacity_per_month: Option<Field<Quantity>>,
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    #[serde(default)]
    pub poor_households_linked: Option<i32>,
    #[serde(default)]
    pub benefit_mechanism: Option<String>,
    /// `per_unit` (default) or `pieces_by_weight`: unit `piece`, `price` per kg.
    #[serde(default)]
    #[schema(value_type = Option<SaleMode>)]
    pub sale_mode: Option<Field<SaleMode>>,
    /// For `pieces_by_weight`: the nominal weight of one piece in kg (above 0, at most 5000).
    #[serde(default)]
    #[schema(value_type = Option<Weight>, example = "100")]
    pub nominal_weight_kg: Option<Field<Weight>>,
    /// For `pieces_by_weight`: the tolerance around the nominal weight, in percent (0 to 100).
    #[serde(default)]
    #[schema(value_type = Option<i32>, example = 15)]
    pub weight_tolerance: Option<Field<i64>>,
}

/// A partial update: only the fields given change.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub name: Option<String>,
    #[schema(value_type = Option<ProductCategory>)]
    pub category: Option<Field<ProductCategory>>,
    #[schema(value_type = Option<Unit>)]
    pub unit: Option<Field<Unit>>,
    #[schema(value_type = Option<Money>)]
    pub price: Option<Field<Money>>,
    #[schema(value_type = Option<Quantity>)]
    pub min_order_qty: Option<Field<Quantity>>,
    pub origin_region_code: Option<String>,
    pub description: Option<String>,
    pub shelf_life_days: Option<i32>,
    #[schema(value_type = Option<Quantity>)]
    pub supply_capacity_per_month: Option<Field<Quantity>>,
    pub certificates: Option<Vec<Certificate>>,
    pub poor_households_linked: Option<i32>,
    pub benefit_mechanism: Option<String>,
    #[schema(value_type = Option<SaleMode>)]
    pub sale_mode: Option<Field<SaleMode>>,
    #[schema(value_type = Option<Weight>)]
    pub nominal_weight_kg: Option<Field<Weight>>,
    #[schema(value_type = Option<i32>)]
    pub weight_tolerance: Option<Field<i64>>,
}

pub async fn create(state: &AppState, caller: &Caller, body: NewProduct) -> AppResult<Product> {
    caller.require(&[Role::Supplier])?;
    let db = &state.db;
    let mut errors = Vec::new();
    required_text(&mut errors, "name", &body.name, 200);
    let category = body.category.take(&mut errors, "category");
    let unit = body.unit.take(&mut errors, "unit");
    let price = body.price.take(&mut errors, "price");
    let price = check_price(&mut errors, price);
    let min_qty = body.min_order_qty.take(&mut errors, "min_order_qty");
    let min_qty = check_positive(&mut errors, "min_order_qty", min_qty);
    let capacity = match body.supply_capacity_per_month {
        Some(f) => f.take(&mut errors, "supply_capacity_per_month").map(Some),
        None => Some(None),
    };
    check_optional_text(&mut errors, "description", body.description.as_deref(), 4000);
    check_optional_text(
        &mut errors,
        "benefit_mechanism",
        body.benefit_mechanism.as_deref(),
        4000,
    );
    check_shelf_life(&mut errors, body.shelf_life_days);
    check_households(&mut errors, body.poor_households_linked);
    check_certificates(&mut errors, "certificates", &body.certificates);
    let county = check_origin(db, &mut errors, &body.origin_region_code).await?;
    let terms = weight::check_new(
        &mut errors,
        unit,
        weighed_fields(body.sale_mode, body.nominal_weight_kg, body.weight_tolerance),
    );
    AppError::check(errors)?;
    let (Some(category), Some(unit), Some(price), Some(min_qty), Some(capacity), Some(_), Some(terms)) =
        (category, unit, price, min_qty, capacity, county, terms)
    else {
        return Err(AppError::internal("validation passed without values"));
    };
    let name = body.name.trim().to_string();
    let description = body.description.unwrap_or_default().trim().to_string();
    let certs = serde_json::to_string(&body.certificates).map_err(AppError::internal)?;
    let t = now();
    let txn = db.begin().await?;
    // The origin's county checked again with the region tree held still.
    let county = held_origin(&txn, &body.origin_region_code).await?;
    // Read in the transaction that writes it, the category's setting held still meanwhile.
    let required = crate::services::compliance::category_requires(&txn, category).await?;
    let model = queries::insert_product(
        &txn,
        products::ActiveModel {
            id: Set(ProductId::new().to_string()),
            supplier_org_id: Set(caller.org_id.to_string()),
            search_text: Set(search_text(&name, &description)),
            name: Set(name),
            category: Set(category.as_str().to_string()),
            unit: Set(unit.as_str().to_string()),
            price_fen: Set(price.minor()),
            min_order_qty_milli: Set(min_qty.minor()),
            origin_region_code: Set(body.origin_region_code),
            origin_county_code: Set(county),
            description: Set(description),
            shelf_life_days: Set(body.shelf_life_days),
            supply_capacity_per_month_milli: Set(capacity.map(Quantity::minor)),
            certificates: Set(certs),
            poor_households_linked: Set(body.poor_households_linked.unwrap_or(0)),
            benefit_mechanism: Set(body.benefit_mechanism.unwrap_or_default().trim().to_string()),
            status: Set(ProductStatus::Draft.as_str().to_string()),
            certificate_number: Set(None),
            certified_by: Set(None),
            certified_at: Set(None),
            valid_until: Set(None),
            reserved_milli: Set(0),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
            sale_mode: Set(terms.sale_mode.as_str().to_string()),
            nominal_weight_milli: Set(terms.nominal_weight.map(Weight::minor)),
            weight_tolerance_pct: Set(terms.tolerance_pct),
            compliance_certificate_required: Set(required),
            ..Default::default()
        },
    )
    .await?;
    record_event(&txn, &model.id, None, ProductStatus::Draft, Some(caller), None).await?;
    txn.commit().await?;
    Product::from_model(model)
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    if_match: &str,
    patch: ProductPatch,
) -> AppResult<Product> {
    let db = &state.db;
    let current = own(db, caller, id).await?;
    if if_match != "*" && if_match != current.version.to_string() {
        return Err(AppError::PreconditionFailed);
    }
    let mut errors = Vec::new();
    if let Some(n) = &patch.name {
        required_text(&mut errors, "name", n, 200);
    }
    let category = patch.category.map(|c| c.take(&mut errors, "category"));
    let unit = patch.unit.map(|u| u.take(&mut errors, "unit"));
    let price = patch.price.map(|p| {
        let p = p.take(&mut errors, "price");
        check_price(&mut errors, p)
    });
    let min_qty = patch.min_order_qty.map(|q| {
        let q = q.take(&mut errors, "min_order_qty");
        check_positive(&mut errors, "min_order_qty", q)
    });
    let capacity = patch
        .supply_capacity_per_month
        .map(|q| q.take(&mut errors, "supply_capacity_per_month"));
    check_optional_text(&mut errors, "description", patch.description.as_deref(), 4000);
    check_optional_text(
        &mut errors,
        "benefit_mechanism",
        patch.benefit_mechanism.as_deref(),
        4000,
    );
    check_shelf_life(&mut errors, patch.shelf_life_days);
    check_households(&mut errors, patch.poor_households_linked);
    if let Some(c) = &patch.certificates {
        check_certificates(&mut errors, "certificates", c);
    }
    let county = match &patch.origin_region_code {
        Some(code) => check_origin(db, &mut errors, code).await?,
        None => None,
    };
    let terms = weight::check_patch(
        &mut errors,
        &current,
        unit.flatten(),
        weighed_fields(patch.sale_mode, patch.nominal_weight_kg, patch.weight_tolerance),
    )?;
    AppError::check(errors)?;
    let terms = terms.ok_or_else(|| AppError::internal("weight terms passed without values"))?;
    let weight_changed = terms != weight::WeightTerms::of(&current)?;
    let stored = stored_status(&current)?;
    if stored == ProductStatus::Revoked {
        return Err(AppError::Conflict("a revoked product cannot be edited".into()));
    }
    let certs_json = match &patch.certificates {
        Some(c) => Some(serde_json::to_string(c).map_err(AppError::internal)?),
        None => None,
    };
    // Does the edit touch what the certification vouched for?
    let new_name = patch.name.as_ref().map(|n| n.trim().to_string());
    let name_changed = new_name.as_ref().is_some_and(|n| *n != current.name);
    let new_category = category.flatten();
    let category_changed = new_category.is_some_and(|c| c != current.category);
    let new_unit = unit.flatten();
    let unit_changed = new_unit.is_some_and(|u| u != current.unit);
    let new_price = price.flatten();
    let price_changed = new_price.map(|p| p.minor() != current.price_fen).unwrap_or(false);
    let new_origin = patch.origin_region_code.clone();
    let origin_changed = patch
        .origin_region_code
        .as_ref()
        .map(|o| *o != current.origin_region_code)
        .unwrap_or(false);
    let certs_changed = certs_json
        .as_ref()
        .map(|c| parse_certificates(c) != parse_certificates(&current.certificates))
        .unwrap_or(false);
    let shown = super::effective_status(&current)?;
    let vouched: Vec<&str> = [
        (name_changed, "name"),
        (unit_changed, "unit"),
        (category_changed, "category"),
        (price_changed, "price"),
        (origin_changed, "origin"),
        (certs_changed, "certificates"),
        (weight_changed, "weight terms"),
    ]
    .into_iter()
    .filter_map(|(changed, what)| changed.then_some(what))
    .collect();
    let recertify =
        stored == ProductStatus::Certified && shown.can_become(ProductStatus::PendingReview) && !vouched.is_empty();
    // Under review the supplier may still edit (a lapsed certificate is renewed so), but the
    // history shows it, and the county office's certify names the version it reviewed.
    let edited_in_review = stored == ProductStatus::PendingReview && !vouched.is_empty();

    let mut am: products::ActiveModel = current.clone().into();
    let name = new_name.unwrap_or(current.name.clone());
    let description = patch
        .description
        .as_ref()
        .map(|d| d.trim().to_string())
        .unwrap_or(current.description.clone());
    am.search_text = Set(search_text(&name, &description));
    am.name = Set(name);
    am.description = Set(description);
    if let Some(c) = new_category {
        am.category = Set(c.as_str().to_string());
    }
    if let Some(u) = new_unit {
        am.unit = Set(u.as_str().to_string());
    }
    if let Some(p) = new_price {
        am.price_fen = Set(p.minor());
    }
    if let Some(Some(q)) = min_qty {
        am.min_order_qty_milli = Set(q.minor());
    }
    if let Some(Some(c)) = capacity {
        am.supply_capacity_per_month_milli = Set(Some(c.minor()));
    }
    if let Some(code) = patch.origin_region_code {
        am.origin_region_code = Set(code);
    }
    if let Some(c) = county {
        am.origin_county_code = Set(c);
    }
    if let Some(s) = patch.shelf_life_days {
        am.shelf_life_days = Set(Some(s));
    }
    if let Some(c) = certs_json {
        am.certificates = Set(c);
    }
    if let Some(n) = patch.poor_households_linked {
        am.poor_households_linked = Set(n);
    }
    if let Some(b) = patch.benefit_mechanism {
        am.benefit_mechanism = Set(b.trim().to_string());
    }
    am.sale_mode = Set(terms.sale_mode.as_str().to_string());
    am.nominal_weight_milli = Set(terms.nominal_weight.map(Weight::minor));
    am.weight_tolerance_pct = Set(terms.tolerance_pct);
    if recertify {
        am.status = Set(ProductStatus::PendingReview.as_str().to_string());
        am.certificate_number = Set(None);
        am.certified_by = Set(None);
        am.certified_at = Set(None);
        am.valid_until = Set(None);
    }
    am.version = Set(current.version + 1);
    am.updated_at = Set(now());
    am.id = sea_orm::ActiveValue::Unchanged(current.id.clone());

    let txn = db.begin().await?;
    if origin_changed {
        // Before the category's lock and the product's row (see `held_origin`).
        if let Some(code) = &new_origin {
            am.origin_county_code = Set(held_origin(&txn, code).await?);
        }
    }
    if let Some(c) = new_category.filter(|_| category_changed) {
        // Before the product's row is written (see `compliance::hold_category`).
        crate::services::compliance::hold_category(&txn, c).await?;
    }
    if queries::update_if_version(&txn, am, &current.id, current.version).await? != 1 {
        return Err(AppError::PreconditionFailed);
    }
    if category_changed {
        crate::services::compliance::refresh_product(&txn, &current.id).await?;
    }
    if recertify || edited_in_review {
        let reason = if recertify {
            format!("edited {}; certification must be reviewed again", vouched.join(", "))
        } else {
            format!("edited {} during review", vouched.join(", "))
        };
        record_event(
            &txn,
            &current.id,
            Some(shown),
            ProductStatus::PendingReview,
            Some(caller),
            Some(&reason),
        )
        .await?;
    }
    let model = find(&txn, id).await?;
    txn.commit().await?;
    if stored == ProductStatus::Certified {
        state.cache.bump_generation("catalog").await;
    }
    Product::from_model(model)
}

fn weighed_fields(
    sale_mode: Option<Field<SaleMode>>,
    nominal_weight_kg: Option<Field<Weight>>,
    weight_tolerance: Option<Field<i64>>,
) -> weight::Given {
    weight::Given {
        sale_mode,
        nominal_weight_kg,
        weight_tolerance,
    }
}
