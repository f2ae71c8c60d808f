//! Products, their certification by the county office of their origin, lots and stock.
//!
//! Status: `draft → pending_review → certified | rejected`, `rejected → pending_review`,
//! `certified → revoked`. A certified product whose `valid_until` has passed is reported
//! as `expired` on every read (computed, so no job has to run first) and is never
//! orderable nor in the catalogue. Every transition is a row in `product_events`.
//!
//! Transitions are single conditional UPDATEs (`... WHERE status = 'pending_review'`),
//! so two concurrent certifications give one success and one 409 on both backends.
use super::{new_id, now, paginate, sql, today, PageParams};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{from_fen, from_milli, to_fen, to_milli, to_positive_milli};
use crate::state::AppState;
use entity::{lots, organizations, product_events, products};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const CATEGORIES: [&str; 13] = [
    "grain",
    "vegetables",
    "fruit",
    "meat",
    "eggs",
    "dairy",
    "aquatic",
    "edible_fungi",
    "tea",
    "oils",
    "herbs",
    "processed_food",
    "handicrafts",
];
pub const UNITS: [&str; 6] = ["kg", "jin", "box", "piece", "bag", "bottle"];
pub const CERTIFICATE_KINDS: [&str; 4] = ["green_food", "organic", "geographical_indication", "other"];
pub const STATUSES: [&str; 6] = ["draft", "pending_review", "certified", "rejected", "revoked", "expired"];

/// A quality certificate carried by a product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// green_food | organic | geographical_indication | other
    pub kind: String,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<chrono::NaiveDate>,
    pub valid_until: chrono::NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub name: String,
    /// grain | vegetables | fruit | meat | eggs | dairy | aquatic | edible_fungi | tea | oils | herbs |
    /// processed_food | handicrafts
    pub category: String,
    /// kg | jin | box | piece | bag | bottle
    pub unit: String,
    /// Unit price, at most two decimal places.
    #[schema(value_type = String, example = "12.50")]
    pub price: Decimal,
    /// Smallest quantity per order, up to three decimal places.
    #[schema(value_type = String, example = "10")]
    pub min_order_qty: Decimal,
    /// A county, township or village inside a poverty or deep-poverty county.
    pub origin_region_code: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub shelf_life_days: Option<i32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub supply_capacity_per_month: Option<Decimal>,
    #[serde(default)]
    pub certificates: Vec<Certificate>,
    #[serde(default)]
    pub poor_households_linked: Option<i32>,
    #[serde(default)]
    pub benefit_mechanism: Option<String>,
}

/// A partial update: only the fields given change.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub category: Option<String>,
    pub unit: Option<String>,
    #[schema(value_type = Option<String>)]
    pub price: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub min_order_qty: Option<Decimal>,
    pub origin_region_code: Option<String>,
    pub description: Option<String>,
    pub shelf_life_days: Option<i32>,
    #[schema(value_type = Option<String>)]
    pub supply_capacity_per_month: Option<Decimal>,
    pub certificates: Option<Vec<Certificate>>,
    pub poor_households_linked: Option<i32>,
    pub benefit_mechanism: Option<String>,
}

/// How a pending product's price compares with certified products of the same category and unit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceCheck {
    /// Median unit price of certified, unexpired products of the same category and unit (null when none).
    #[schema(value_type = Option<String>)]
    pub median_price: Option<Decimal>,
    /// This product's price divided by the median, two places.
    #[schema(value_type = Option<String>)]
    pub ratio: Option<Decimal>,
    /// Number of certified products compared with.
    pub compared_with: usize,
    /// True when the price is more than 30% above the median.
    pub price_flag: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    pub id: String,
    pub supplier_org_id: String,
    pub name: String,
    pub category: String,
    pub unit: String,
    #[schema(value_type = String)]
    pub price: Decimal,
    #[schema(value_type = String)]
    pub min_order_qty: Decimal,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub description: String,
    pub shelf_life_days: Option<i32>,
    #[schema(value_type = Option<String>)]
    pub supply_capacity_per_month: Option<Decimal>,
    pub certificates: Vec<Certificate>,
    pub poor_households_linked: i32,
    pub benefit_mechanism: String,
    /// draft | pending_review | certified | rejected | revoked | expired
    pub status: String,
    pub certificate_number: Option<String>,
    pub certified_by: Option<String>,
    pub certified_at: Option<chrono::DateTime<chrono::Utc>>,
    pub valid_until: Option<chrono::NaiveDate>,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// In a certifier's queue: the price compared with certified products.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_check: Option<PriceCheck>,
}

crate::page_type!(ProductPage, Product);

/// The status to report: a certified product past `valid_until` is `expired`.
pub fn effective_status(m: &products::Model) -> &str {
    if m.status == "certified" && m.valid_until.map(|v| v < today()).unwrap_or(false) {
        "expired"
    } else {
        m.status.as_str()
    }
}

/// True when buyers may order the product now: certified, unexpired, its supplier active.
pub async fn is_orderable(conn: &impl ConnectionTrait, m: &products::Model) -> AppResult<bool> {
    if effective_status(m) != "certified" {
        return Ok(false);
    }
    let org = organizations::Entity::find_by_id(m.supplier_org_id.clone())
        .one(conn)
        .await?;
    Ok(org.map(|o| o.status == "active").unwrap_or(false))
}

fn parse_certificates(text: &str) -> Vec<Certificate> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Product {
    pub fn from_model(m: products::Model) -> Product {
        let status = effective_status(&m).to_string();
        Product {
            certificates: parse_certificates(&m.certificates),
            price: from_fen(m.price_fen),
            min_order_qty: from_milli(m.min_order_qty_milli),
            supply_capacity_per_month: m.supply_capacity_per_month_milli.map(from_milli),
            id: m.id,
            supplier_org_id: m.supplier_org_id,
            name: m.name,
            category: m.category,
            unit: m.unit,
            origin_region_code: m.origin_region_code,
            origin_county_code: m.origin_county_code,
            description: m.description,
            shelf_life_days: m.shelf_life_days,
            poor_households_linked: m.poor_households_linked,
            benefit_mechanism: m.benefit_mechanism,
            status,
            certificate_number: m.certificate_number,
            certified_by: m.certified_by,
            certified_at: m.certified_at,
            valid_until: m.valid_until,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            price_check: None,
        }
    }
}

/// The lowercased text that `q` searches (name and description).
pub fn search_text(name: &str, description: &str) -> String {
    format!("{} {}", name.trim(), description.trim()).to_lowercase()
}

fn check_certificates(errors: &mut Vec<FieldError>, field: &str, certs: &[Certificate]) {
    if certs.len() > 20 {
        errors.push(FieldError::new(field, "at most 20 certificates"));
    }
    let today = today();
    for (i, c) in certs.iter().enumerate() {
        if !CERTIFICATE_KINDS.contains(&c.kind.as_str()) {
            errors.push(FieldError::new(
                format!("{field}[{i}].kind"),
                "must be one of green_food, organic, geographical_indication, other",
            ));
        }
        super::required_text(errors, &format!("{field}[{i}].number"), &c.number, 100);
        if c.valid_until < today {
            errors.push(FieldError::new(
                format!("{field}[{i}].valid_until"),
                "the certificate has already expired",
            ));
        }
        if let Some(issued) = c.issued_on {
            if issued > today {
                errors.push(FieldError::new(format!("{field}[{i}].issued_on"), "is in the future"));
            } else if issued > c.valid_until {
                errors.push(FieldError::new(
                    format!("{field}[{i}].issued_on"),
                    "must not be after valid_until",
                ));
            }
        }
    }
}

fn check_optional_text(errors: &mut Vec<FieldError>, field: &str, value: Option<&str>, max: usize) {
    if let Some(v) = value {
        if v.chars().count() > max {
            errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        }
    }
}

fn collect<T>(errors: &mut Vec<FieldError>, r: AppResult<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(AppError::Validation { errors: e, .. }) => {
            errors.extend(e);
            None
        }
        Err(_) => None,
    }
}

/// Checks an origin: an existing county, township or village in a poverty or deep-poverty
/// county. Returns the county code.
async fn check_origin(
    conn: &impl ConnectionTrait,
    errors: &mut Vec<FieldError>,
    code: &str,
) -> AppResult<Option<String>> {
    let county = super::regions::county_of(conn, code).await?;
    match county {
        Some(c) if c.poverty_status == "poverty" || c.poverty_status == "deep_poverty" => Ok(Some(c.code)),
        Some(_) => {
            errors.push(FieldError::new(
                "origin_region_code",
                "the origin must lie in a poverty or deep-poverty county",
            ));
            Ok(None)
        }
        None => {
            errors.push(FieldError::new(
                "origin_region_code",
                "must be an existing county, township or village",
            ));
            Ok(None)
        }
    }
}

fn check_price(errors: &mut Vec<FieldError>, price: Decimal) -> Option<i64> {
    let fen = collect(errors, to_fen(price, "price"))?;
    if fen == 0 {
        errors.push(FieldError::new("price", "must be greater than zero"));
        return None;
    }
    Some(fen)
}

fn check_shelf_life(errors: &mut Vec<FieldError>, v: Option<i32>) {
    if let Some(d) = v {
        if !(1..=3650).contains(&d) {
            errors.push(FieldError::new("shelf_life_days", "must be between 1 and 3650"));
        }
    }
}

fn check_households(errors: &mut Vec<FieldError>, v: Option<i32>) {
    if let Some(n) = v {
        if n < 0 {
            errors.push(FieldError::new("poor_households_linked", "must not be negative"));
        }
    }
}

async fn record_event(
    conn: &impl ConnectionTrait,
    product_id: &str,
    from: Option<&str>,
    to: &str,
    caller: Option<&Caller>,
    reason: Option<&str>,
) -> AppResult<()> {
    product_events::ActiveModel {
        id: Set(new_id()),
        product_id: Set(product_id.to_string()),
        from_status: Set(from.map(str::to_string)),
        to_status: Set(to.to_string()),
        actor_user_id: Set(caller.map(|c| c.user_id.clone())),
        actor_org_id: Set(caller.map(|c| c.org_id.clone())),
        reason: Set(reason.map(str::to_string)),
        occurred_at: Set(now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn create(state: &AppState, caller: &Caller, body: NewProduct) -> AppResult<Product> {
    caller.require(&[Role::Supplier])?;
    let db = &state.db;
    let mut errors = Vec::new();
    super::required_text(&mut errors, "name", &body.name, 200);
    if !CATEGORIES.contains(&body.category.as_str()) {
        errors.push(FieldError::new(
            "category",
            format!("unknown category; one of {}", CATEGORIES.join(", ")),
        ));
    }
    if !UNITS.contains(&body.unit.as_str()) {
        errors.push(FieldError::new(
            "unit",
            format!("unknown unit; one of {}", UNITS.join(", ")),
        ));
    }
    let price = check_price(&mut errors, body.price);
    let min_qty = collect(&mut errors, to_positive_milli(body.min_order_qty, "min_order_qty"));
    let capacity = match body.supply_capacity_per_month {
        Some(d) => collect(&mut errors, to_milli(d, "supply_capacity_per_month")).map(Some),
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
    AppError::check(errors)?;
    let (Some(price), Some(min_qty), Some(capacity), Some(county)) = (price, min_qty, capacity, county) else {
        return Err(AppError::internal("validation passed without values"));
    };
    let name = body.name.trim().to_string();
    let description = body.description.unwrap_or_default().trim().to_string();
    let certs = serde_json::to_string(&body.certificates).map_err(AppError::internal)?;
    let t = now();
    let txn = db.begin().await?;
    let model = products::ActiveModel {
        id: Set(new_id()),
        supplier_org_id: Set(caller.org_id.clone()),
        search_text: Set(search_text(&name, &description)),
        name: Set(name),
        category: Set(body.category),
        unit: Set(body.unit),
        price_fen: Set(price),
        min_order_qty_milli: Set(min_qty),
        origin_region_code: Set(body.origin_region_code),
        origin_county_code: Set(county),
        description: Set(description),
        shelf_life_days: Set(body.shelf_life_days),
        supply_capacity_per_month_milli: Set(capacity),
        certificates: Set(certs),
        poor_households_linked: Set(body.poor_households_linked.unwrap_or(0)),
        benefit_mechanism: Set(body.benefit_mechanism.unwrap_or_default().trim().to_string()),
        status: Set("draft".into()),
        certificate_number: Set(None),
        certified_by: Set(None),
        certified_at: Set(None),
        valid_until: Set(None),
        reserved_milli: Set(0),
        version: Set(1),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(&txn)
    .await?;
    record_event(&txn, &model.id, None, "draft", Some(caller), None).await?;
    txn.commit().await?;
    Ok(Product::from_model(model))
}

pub async fn find(conn: &impl ConnectionTrait, id: &str) -> AppResult<products::Model> {
    products::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("product"))
}

/// The county a certifier's office covers (its organisation's region).
async fn certifier_county(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<String> {
    Ok(super::organizations::find(conn, &caller.org_id).await?.region_code)
}

/// Loads a product the caller may see, else 404.
pub async fn visible(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> AppResult<products::Model> {
    let m = find(conn, id).await?;
    let ok = match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Supplier => m.supplier_org_id == caller.org_id,
        Role::Certifier => m.origin_county_code == certifier_county(conn, caller).await?,
        Role::Buyer => is_orderable(conn, &m).await?,
    };
    if ok {
        Ok(m)
    } else {
        Err(AppError::NotFound("product"))
    }
}

/// A product the caller's organisation supplies (403 for other roles, 404 for other suppliers).
async fn own(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> AppResult<products::Model> {
    caller.require(&[Role::Supplier])?;
    let m = find(conn, id).await?;
    if m.supplier_org_id != caller.org_id {
        return Err(AppError::NotFound("product"));
    }
    Ok(m)
}

/// A product of the certifier's county (403 for other roles, 404 for other counties).
async fn in_county(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> AppResult<products::Model> {
    caller.require(&[Role::Certifier])?;
    let m = find(conn, id).await?;
    if m.origin_county_code != certifier_county(conn, caller).await? {
        return Err(AppError::NotFound("product"));
    }
    Ok(m)
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> AppResult<Product> {
    Ok(Product::from_model(visible(&state.db, caller, id).await?))
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: &str,
    if_match: &str,
    patch: ProductPatch,
) -> AppResult<Product> {
    let db = &state.db;
    let current = own(db, caller, id).await?;
    if if_match != current.version.to_string() {
        return Err(AppError::PreconditionFailed);
    }
    let mut errors = Vec::new();
    if let Some(n) = &patch.name {
        super::required_text(&mut errors, "name", n, 200);
    }
    if let Some(c) = &patch.category {
        if !CATEGORIES.contains(&c.as_str()) {
            errors.push(FieldError::new(
                "category",
                format!("unknown category; one of {}", CATEGORIES.join(", ")),
            ));
        }
    }
    if let Some(u) = &patch.unit {
        if !UNITS.contains(&u.as_str()) {
            errors.push(FieldError::new(
                "unit",
                format!("unknown unit; one of {}", UNITS.join(", ")),
            ));
        }
    }
    let price = patch.price.map(|p| check_price(&mut errors, p));
    let min_qty = patch
        .min_order_qty
        .map(|q| collect(&mut errors, to_positive_milli(q, "min_order_qty")));
    let capacity = patch
        .supply_capacity_per_month
        .map(|q| collect(&mut errors, to_milli(q, "supply_capacity_per_month")));
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
    AppError::check(errors)?;
    if current.status == "revoked" {
        return Err(AppError::Conflict("a revoked product cannot be edited".into()));
    }
    let certs_json = match &patch.certificates {
        Some(c) => Some(serde_json::to_string(c).map_err(AppError::internal)?),
        None => None,
    };
    // Does the edit touch what the certification vouched for?
    let new_price = price.flatten();
    let price_changed = new_price.map(|p| p != current.price_fen).unwrap_or(false);
    let origin_changed = patch
        .origin_region_code
        .as_ref()
        .map(|o| *o != current.origin_region_code)
        .unwrap_or(false);
    let certs_changed = certs_json
        .as_ref()
        .map(|c| parse_certificates(c) != parse_certificates(&current.certificates))
        .unwrap_or(false);
    let recertify = current.status == "certified" && (price_changed || origin_changed || certs_changed);

    let mut am: products::ActiveModel = current.clone().into();
    let name = patch
        .name
        .as_ref()
        .map(|n| n.trim().to_string())
        .unwrap_or(current.name.clone());
    let description = patch
        .description
        .as_ref()
        .map(|d| d.trim().to_string())
        .unwrap_or(current.description.clone());
    am.search_text = Set(search_text(&name, &description));
    am.name = Set(name);
    am.description = Set(description);
    if let Some(c) = patch.category {
        am.category = Set(c);
    }
    if let Some(u) = patch.unit {
        am.unit = Set(u);
    }
    if let Some(p) = new_price {
        am.price_fen = Set(p);
    }
    if let Some(Some(q)) = min_qty {
        am.min_order_qty_milli = Set(q);
    }
    if let Some(Some(c)) = capacity {
        am.supply_capacity_per_month_milli = Set(Some(c));
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
    if recertify {
        am.status = Set("pending_review".into());
        am.certificate_number = Set(None);
        am.certified_by = Set(None);
        am.certified_at = Set(None);
        am.valid_until = Set(None);
    }
    am.version = Set(current.version + 1);
    am.updated_at = Set(now());
    am.id = sea_orm::ActiveValue::Unchanged(current.id.clone());

    let txn = db.begin().await?;
    let res = products::Entity::update_many()
        .set(am)
        .filter(products::Column::Id.eq(current.id.clone()))
        .filter(products::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::PreconditionFailed);
    }
    if recertify {
        let mut what = Vec::new();
        if price_changed {
            what.push("price");
        }
        if origin_changed {
            what.push("origin");
        }
        if certs_changed {
            what.push("certificates");
        }
        let reason = format!("edited {}; certification must be reviewed again", what.join(", "));
        record_event(
            &txn,
            &current.id,
            Some(effective_status(&current)),
            "pending_review",
            Some(caller),
            Some(&reason),
        )
        .await?;
    }
    let model = find(&txn, &current.id).await?;
    txn.commit().await?;
    if current.status == "certified" {
        state.cache.bump_generation("catalog").await;
    }
    Ok(Product::from_model(model))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    /// draft | pending_review | certified | rejected | revoked | expired
    pub status: Option<String>,
    pub category: Option<String>,
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &ProductFilter,
    page: &PageParams,
) -> AppResult<(Vec<Product>, Option<String>)> {
    caller.require(&[Role::Supplier, Role::Certifier, Role::Admin, Role::Evaluator])?;
    let db = &state.db;
    let limit = page.limit()?;
    let mut q = products::Entity::find();
    match caller.role {
        Role::Supplier => q = q.filter(products::Column::SupplierOrgId.eq(caller.org_id.clone())),
        Role::Certifier => {
            q = q.filter(products::Column::OriginCountyCode.eq(certifier_county(db, caller).await?));
        }
        _ => {}
    }
    if let Some(s) = &f.status {
        let t = today();
        match s.as_str() {
            "certified" => {
                q = q
                    .filter(products::Column::Status.eq("certified"))
                    .filter(products::Column::ValidUntil.gte(t));
            }
            "expired" => {
                q = q
                    .filter(products::Column::Status.eq("certified"))
                    .filter(products::Column::ValidUntil.lt(t));
            }
            other if STATUSES.contains(&other) => q = q.filter(products::Column::Status.eq(other)),
            _ => {
                return Err(AppError::field(
                    "status",
                    format!("must be one of {}", STATUSES.join(", ")),
                ))
            }
        }
    }
    if let Some(c) = &f.category {
        if !CATEGORIES.contains(&c.as_str()) {
            return Err(AppError::field("category", "unknown category"));
        }
        q = q.filter(products::Column::Category.eq(c.clone()));
    }
    if let Some(c) = page.cursor()? {
        q = q.filter(products::Column::Id.lt(c));
    }
    let rows = q.order_by_desc(products::Column::Id).limit(limit + 1).all(db).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let mut items: Vec<Product> = rows.into_iter().map(Product::from_model).collect();
    if matches!(caller.role, Role::Certifier | Role::Admin) {
        let mut medians: std::collections::HashMap<(String, String), (Option<Decimal>, usize)> =
            std::collections::HashMap::new();
        for p in items.iter_mut().filter(|p| p.status == "pending_review") {
            let key = (p.category.clone(), p.unit.clone());
            if !medians.contains_key(&key) {
                let m = median_price(db, &p.category, &p.unit).await?;
                medians.insert(key.clone(), m);
            }
            let (median, n) = medians.get(&key).cloned().unwrap_or((None, 0));
            p.price_check = Some(price_check(p.price, median, n));
        }
    }
    Ok((items, next))
}

/// Median unit price of certified, unexpired products of a category and unit, and how many there are.
pub async fn median_price(
    conn: &impl ConnectionTrait,
    category: &str,
    unit: &str,
) -> AppResult<(Option<Decimal>, usize)> {
    let rows = conn
        .query_all_raw(sql(
            conn,
            "SELECT price_fen FROM products WHERE category = $1 AND unit = $2 AND status = 'certified' \
             AND valid_until >= $3 ORDER BY price_fen",
            vec![category.into(), unit.into(), today().into()],
        ))
        .await?;
    let mut prices = Vec::with_capacity(rows.len());
    for r in rows {
        prices.push(r.try_get::<i64>("", "price_fen")?);
    }
    let n = prices.len();
    if n == 0 {
        return Ok((None, 0));
    }
    let median = if n % 2 == 1 {
        from_fen(prices[n / 2])
    } else {
        (from_fen(prices[n / 2 - 1]) + from_fen(prices[n / 2])) / Decimal::TWO
    };
    Ok((Some(median), n))
}

pub fn price_check(price: Decimal, median: Option<Decimal>, n: usize) -> PriceCheck {
    match median {
        Some(m) if !m.is_zero() => {
            let mut ratio = (price / m).round_dp(2);
            ratio.rescale(2);
            let mut median = m.round_dp(2);
            median.rescale(2);
            PriceCheck {
                median_price: Some(median),
                ratio: Some(ratio),
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

/// `{reason}` of a reject or revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Certify {
    /// The last day the certification is valid; after it the product is `expired`.
    pub valid_until: chrono::NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
}

/// Moves `id` from one of `from` to `to` with one conditional UPDATE plus `extra`
/// assignments; 409 when the product is no longer in one of `from`.
#[allow(clippy::too_many_arguments)]
async fn transition(
    state: &AppState,
    caller: &Caller,
    current: &products::Model,
    from: &[&str],
    to: &str,
    extra: &str,
    extra_values: Vec<sea_orm::Value>,
    reason: Option<&str>,
) -> AppResult<products::Model> {
    let shown = effective_status(current);
    if !from.contains(&shown) {
        return Err(AppError::Conflict(format!("a {shown} product cannot become {to}")));
    }
    // `expired` is stored as `certified`: match the stored status and, for expiry, the date.
    let stored: Vec<&str> = from
        .iter()
        .map(|s| if *s == "expired" { "certified" } else { *s })
        .collect();
    let n = extra_values.len();
    let status_params: Vec<String> = (0..stored.len()).map(|i| format!("${}", n + 4 + i)).collect();
    let mut values = extra_values;
    values.push(to.into());
    values.push(now().into());
    values.push(current.id.clone().into());
    for s in &stored {
        values.push((*s).into());
    }
    let mut where_extra = String::new();
    if from.contains(&"certified") && !from.contains(&"expired") {
        values.push(today().into());
        where_extra = format!(" AND (status <> 'certified' OR valid_until >= ${})", values.len());
    } else if from.contains(&"expired") && !from.contains(&"certified") {
        values.push(today().into());
        where_extra = format!(" AND (status <> 'certified' OR valid_until < ${})", values.len());
    }
    let text = format!(
        "UPDATE products SET {extra}status = ${}, updated_at = ${}, version = version + 1 WHERE id = ${} AND status IN ({}){where_extra}",
        n + 1,
        n + 2,
        n + 3,
        status_params.join(", ")
    );
    let txn = state.db.begin().await?;
    let res = txn.execute_raw(sql(&txn, &text, values)).await?;
    if res.rows_affected() != 1 {
        return Err(AppError::Conflict(format!(
            "the product changed meanwhile and cannot become {to}"
        )));
    }
    record_event(&txn, &current.id, Some(shown), to, Some(caller), reason).await?;
    let model = find(&txn, &current.id).await?;
    txn.commit().await?;
    Ok(model)
}

fn required_reason(reason: &str) -> AppResult<String> {
    let mut errors = Vec::new();
    super::required_text(&mut errors, "reason", reason, 2000);
    AppError::check(errors)?;
    Ok(reason.trim().to_string())
}

pub async fn submit(state: &AppState, caller: &Caller, id: &str) -> AppResult<Product> {
    let current = own(&state.db, caller, id).await?;
    let m = transition(
        state,
        caller,
        &current,
        &["draft", "rejected", "expired"],
        "pending_review",
        "",
        vec![],
        None,
    )
    .await?;
    Ok(Product::from_model(m))
}

/// A certificate number: `{county}-{year}-{8 random hex}`, unique by the column's constraint.
fn certificate_number(county: &str) -> String {
    let r = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("FP{county}{}{}", chrono::Utc::now().format("%Y"), &r[..10])
}

pub async fn certify(state: &AppState, caller: &Caller, id: &str, body: Certify) -> AppResult<Product> {
    let current = in_county(&state.db, caller, id).await?;
    let mut errors = Vec::new();
    if body.valid_until <= today() {
        errors.push(FieldError::new("valid_until", "must be after today"));
    } else if body.valid_until > today() + chrono::Days::new(5 * 366) {
        errors.push(FieldError::new("valid_until", "must be within five years"));
    }
    check_optional_text(&mut errors, "note", body.note.as_deref(), 2000);
    AppError::check(errors)?;
    let number = certificate_number(&current.origin_county_code);
    let m = transition(
        state,
        caller,
        &current,
        &["pending_review"],
        "certified",
        "certificate_number = $1, certified_by = $2, certified_at = $3, valid_until = $4, ",
        vec![
            number.into(),
            caller.user_id.clone().into(),
            now().into(),
            body.valid_until.into(),
        ],
        body.note.as_deref().map(str::trim).filter(|s| !s.is_empty()),
    )
    .await?;
    state.cache.bump_generation("catalog").await;
    Ok(Product::from_model(m))
}

pub async fn reject(state: &AppState, caller: &Caller, id: &str, body: Reason) -> AppResult<Product> {
    let current = in_county(&state.db, caller, id).await?;
    let reason = required_reason(&body.reason)?;
    let m = transition(
        state,
        caller,
        &current,
        &["pending_review"],
        "rejected",
        "",
        vec![],
        Some(&reason),
    )
    .await?;
    Ok(Product::from_model(m))
}

pub async fn revoke(state: &AppState, caller: &Caller, id: &str, body: Reason) -> AppResult<Product> {
    let current = in_county(&state.db, caller, id).await?;
    let reason = required_reason(&body.reason)?;
    let m = transition(
        state,
        caller,
        &current,
        &["certified", "expired"],
        "revoked",
        "",
        vec![],
        Some(&reason),
    )
    .await?;
    state.cache.bump_generation("catalog").await;
    Ok(Product::from_model(m))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductEvent {
    pub id: String,
    pub product_id: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_user_id: Option<String>,
    pub actor_org_id: Option<String>,
    pub reason: Option<String>,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(ProductEventPage, ProductEvent);

pub async fn events(
    state: &AppState,
    caller: &Caller,
    id: &str,
    page: &PageParams,
) -> AppResult<(Vec<ProductEvent>, Option<String>)> {
    let p = visible(&state.db, caller, id).await?;
    let limit = page.limit()?;
    let mut q = product_events::Entity::find().filter(product_events::Column::ProductId.eq(p.id.clone()));
    if let Some(c) = page.cursor()? {
        q = q.filter(product_events::Column::Id.gt(c));
    }
    let rows = q
        .order_by_asc(product_events::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let mut items: Vec<ProductEvent> = rows
        .into_iter()
        .map(|e| ProductEvent {
            id: e.id,
            product_id: e.product_id,
            from_status: e.from_status,
            to_status: e.to_status,
            actor_user_id: e.actor_user_id,
            actor_org_id: e.actor_org_id,
            reason: e.reason,
            occurred_at: e.occurred_at,
        })
        .collect();
    // Expiry is computed, not written: show it as the last event once it happened.
    if next.is_none() && effective_status(&p) == "expired" {
        if let Some(v) = p.valid_until {
            let at = v
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
                .unwrap_or(p.updated_at);
            items.push(ProductEvent {
                id: format!("{}-expired", p.id),
                product_id: p.id.clone(),
                from_status: Some("certified".into()),
                to_status: "expired".into(),
                actor_user_id: None,
                actor_org_id: None,
                reason: Some(format!("certification valid until {v}")),
                occurred_at: at,
            });
        }
    }
    Ok((items, next))
}

// ---------------------------------------------------------------- lots and stock

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLot {
    #[schema(value_type = String, example = "500")]
    pub quantity: Decimal,
    #[serde(default)]
    pub harvested_on: Option<chrono::NaiveDate>,
    pub best_before: chrono::NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lot {
    pub id: String,
    pub product_id: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub remaining: Decimal,
    pub harvested_on: Option<chrono::NaiveDate>,
    pub best_before: chrono::NaiveDate,
    /// True when best-before has passed: the lot no longer counts as available.
    pub expired: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(LotPage, Lot);

impl From<lots::Model> for Lot {
    fn from(l: lots::Model) -> Self {
        Lot {
            expired: l.best_before < today(),
            id: l.id,
            product_id: l.product_id,
            quantity: from_milli(l.quantity_milli),
            remaining: from_milli(l.remaining_milli),
            harvested_on: l.harvested_on,
            best_before: l.best_before,
            created_at: l.created_at,
        }
    }
}

pub async fn add_lot(state: &AppState, caller: &Caller, id: &str, body: NewLot) -> AppResult<Lot> {
    let db = &state.db;
    let p = own(db, caller, id).await?;
    let mut errors = Vec::new();
    let qty = collect(&mut errors, to_positive_milli(body.quantity, "quantity"));
    let t = today();
    if body.best_before < t {
        errors.push(FieldError::new("best_before", "is already past"));
    }
    if let Some(h) = body.harvested_on {
        if h > t {
            errors.push(FieldError::new("harvested_on", "is in the future"));
        } else if h > body.best_before {
            errors.push(FieldError::new("harvested_on", "must not be after best_before"));
        }
    }
    AppError::check(errors)?;
    let Some(qty) = qty else {
        return Err(AppError::internal("validation passed without a quantity"));
    };
    if p.status == "revoked" {
        return Err(AppError::Conflict("a revoked product takes no new lots".into()));
    }
    let txn = db.begin().await?;
    let lot = lots::ActiveModel {
        id: Set(new_id()),
        product_id: Set(p.id.clone()),
        quantity_milli: Set(qty),
        remaining_milli: Set(qty),
        harvested_on: Set(body.harvested_on),
        best_before: Set(body.best_before),
        created_at: Set(now()),
    }
    .insert(&txn)
    .await?;
    super::stock::record_movement(
        &txn,
        &p.id,
        Some(&lot.id),
        qty,
        "lot",
        None,
        None,
        Some(&caller.user_id),
    )
    .await?;
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    Ok(lot.into())
}

pub async fn list_lots(
    state: &AppState,
    caller: &Caller,
    id: &str,
    page: &PageParams,
) -> AppResult<(Vec<Lot>, Option<String>)> {
    let p = visible(&state.db, caller, id).await?;
    let limit = page.limit()?;
    let mut q = lots::Entity::find().filter(lots::Column::ProductId.eq(p.id));
    if let Some(c) = page.cursor()? {
        q = q.filter(lots::Column::Id.gt(c));
    }
    let rows = q.order_by_asc(lots::Column::Id).limit(limit + 1).all(&state.db).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((rows.into_iter().map(Lot::from).collect(), next))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub product_id: String,
    /// In lots not past best-before.
    #[schema(value_type = String)]
    pub on_hand: Decimal,
    /// Held by open orders.
    #[schema(value_type = String)]
    pub reserved: Decimal,
    /// on_hand - reserved (never below zero).
    #[schema(value_type = String)]
    pub available: Decimal,
    /// Left in lots past best-before (not available).
    #[schema(value_type = String)]
    pub expired: Decimal,
}

async fn stock_view(conn: &impl ConnectionTrait, id: &str) -> AppResult<StockView> {
    let s = super::stock::stock_of(conn, id).await?;
    Ok(StockView {
        product_id: id.to_string(),
        on_hand: from_milli(s.on_hand_milli),
        reserved: from_milli(s.reserved_milli),
        available: from_milli(s.available_milli),
        expired: from_milli(s.expired_milli),
    })
}

pub async fn stock(state: &AppState, caller: &Caller, id: &str) -> AppResult<StockView> {
    let p = visible(&state.db, caller, id).await?;
    stock_view(&state.db, &p.id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    /// Signed, up to three places: negative for spoilage or loss, positive for stock found.
    #[schema(value_type = String, example = "-12.5")]
    pub quantity: Decimal,
    pub reason: String,
    /// The lot adjusted; required for a positive adjustment. A negative one without it takes
    /// from the lots soonest to expire first.
    #[serde(default)]
    pub lot_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockMovement {
    pub id: String,
    pub lot_id: Option<String>,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub kind: String,
    pub reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentResult {
    pub movements: Vec<StockMovement>,
    pub stock: StockView,
}

pub async fn adjust_stock(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: StockAdjustment,
) -> AppResult<AdjustmentResult> {
    let db = &state.db;
    let p = own(db, caller, id).await?;
    let mut errors = Vec::new();
    let magnitude = collect(&mut errors, to_milli(body.quantity.abs(), "quantity"));
    if magnitude == Some(0) {
        errors.push(FieldError::new("quantity", "must not be zero"));
    }
    super::required_text(&mut errors, "reason", &body.reason, 2000);
    let positive = body.quantity > Decimal::ZERO;
    if positive && body.lot_id.is_none() {
        errors.push(FieldError::new(
            "lot_id",
            "is required to add stock (name the lot it belongs to)",
        ));
    }
    let lot = match &body.lot_id {
        Some(l) => {
            let lot = lots::Entity::find_by_id(l.clone()).one(db).await?;
            match lot {
                Some(lot) if lot.product_id == p.id => Some(lot),
                _ => {
                    errors.push(FieldError::new("lot_id", "no such lot of this product"));
                    None
                }
            }
        }
        None => None,
    };
    AppError::check(errors)?;
    let Some(qty) = magnitude else {
        return Err(AppError::internal("validation passed without a quantity"));
    };
    let reason = body.reason.trim().to_string();
    let kind = "adjustment";
    let txn = db.begin().await?;
    let started = now();
    match (&lot, positive) {
        (Some(lot), true) => {
            txn.execute_raw(sql(
                &txn,
                "UPDATE lots SET remaining_milli = remaining_milli + $1 WHERE id = $2",
                vec![qty.into(), lot.id.clone().into()],
            ))
            .await?;
            super::stock::record_movement(
                &txn,
                &p.id,
                Some(&lot.id),
                qty,
                kind,
                Some(&reason),
                None,
                Some(&caller.user_id),
            )
            .await?;
        }
        (Some(lot), false) => {
            let res = txn
                .execute_raw(sql(
                    &txn,
                    "UPDATE lots SET remaining_milli = remaining_milli - $1 WHERE id = $2 AND remaining_milli >= $1",
                    vec![qty.into(), lot.id.clone().into()],
                ))
                .await?;
            if res.rows_affected() != 1 {
                return Err(AppError::Conflict(format!(
                    "the lot holds less than {}; stock never goes below zero",
                    from_milli(qty)
                )));
            }
            super::stock::record_movement(
                &txn,
                &p.id,
                Some(&lot.id),
                -qty,
                kind,
                Some(&reason),
                None,
                Some(&caller.user_id),
            )
            .await?;
        }
        (None, _) => {
            let left = super::stock::consume(&txn, &p.id, qty, kind, None, Some(&caller.user_id)).await?;
            if left > 0 {
                return Err(AppError::Conflict(format!(
                    "only {} is in stock; stock never goes below zero",
                    from_milli(qty - left)
                )));
            }
            txn.execute_raw(sql(
                &txn,
                "UPDATE stock_movements SET reason = $1 WHERE product_id = $2 AND kind = $3 AND reason IS NULL AND created_at >= $4",
                vec![reason.clone().into(), p.id.clone().into(), kind.into(), started.into()],
            ))
            .await?;
        }
    }
    let movements = entity::stock_movements::Entity::find()
        .filter(entity::stock_movements::Column::ProductId.eq(p.id.clone()))
        .filter(entity::stock_movements::Column::CreatedAt.gte(started))
        .filter(entity::stock_movements::Column::Kind.eq(kind))
        .order_by_asc(entity::stock_movements::Column::Id)
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| StockMovement {
            id: m.id,
            lot_id: m.lot_id,
            quantity: from_milli(m.delta_milli),
            kind: m.kind,
            reason: m.reason,
            created_at: m.created_at,
        })
        .collect();
    let stock = stock_view(&txn, &p.id).await?;
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    Ok(AdjustmentResult { movements, stock })
}
