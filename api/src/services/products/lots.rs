//! Lots (harvests with a best-before) and the stock view of a product. Stock arithmetic
//! itself lives in `services::stock`.
use super::access::{own, visible};
use super::{queries, stored, stored_amount, stored_status};
use crate::auth::Caller;
use crate::domain::{LotId, ProductId, ProductStatus, Quantity};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::compliance::{self, ComplianceCertificate};
use crate::services::{now, paginate, stock as stock_svc, today, PageParams};
use crate::state::AppState;
use entity::lots;
use sea_orm::{ConnectionTrait, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kind of the stock movement that records a new lot.
const LOT_MOVEMENT: &str = "lot";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLot {
    /// Above zero.
    #[schema(example = "500")]
    pub quantity: Quantity,
    #[serde(default)]
    #[serde(deserialize_with = "crate::domain::day::de_opt")]
    pub harvested_on: Option<chrono::NaiveDate>,
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub best_before: chrono::NaiveDate,
    /// The batch's 合格证. A lot of a product that requires one and arrives without it is
    /// recorded but flagged `uncertified_batch` (not available) until it is recorded
    /// (`PUT /lots/{id}/compliance-certificate`).
    #[serde(default)]
    pub compliance_certificate: Option<ComplianceCertificate>,
    /// The county (6-digit code) the lot says it comes from; compared with the product's certified
    /// origin by the `origin_mismatch` fraud signal.
    #[serde(default)]
    pub origin_county_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lot {
    pub id: LotId,
    pub product_id: ProductId,
    pub quantity: Quantity,
    pub remaining: Quantity,
    pub harvested_on: Option<chrono::NaiveDate>,
    pub best_before: chrono::NaiveDate,
    /// True when best-before has passed: the lot no longer counts as available.
    pub expired: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub compliance_certificate: Option<ComplianceCertificate>,
    /// The product requires a 合格证 and this lot has none: it is not available stock.
    pub uncertified_batch: bool,
}

crate::page_type!(LotPage, Lot);

impl Lot {
    pub(crate) fn from_model(l: lots::Model) -> AppResult<Lot> {
        Ok(Lot {
            compliance_certificate: ComplianceCertificate::of_lot(&l),
            uncertified_batch: l.uncertified_batch,
            expired: l.best_before < today(),
            id: stored("lot id", &l.id)?,
            product_id: stored("product id", &l.product_id)?,
            quantity: stored_amount("lot quantity", Quantity::from_minor(l.quantity_milli))?,
            remaining: stored_amount("lot remaining", Quantity::from_minor(l.remaining_milli))?,
            harvested_on: l.harvested_on,
            best_before: l.best_before,
            created_at: l.created_at,
        })
    }
}

pub async fn add_lot(state: &AppState, caller: &Caller, id: ProductId, body: NewLot) -> AppResult<Lot> {
    let db = &state.db;
    let p = own(db, caller, id).await?;
    let mut errors = Vec::new();
    if body.quantity.is_zero() {
        errors.push(FieldError::new("quantity", "must be greater than zero"));
    }
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
    // A product sold by weight is stocked, ordered and accepted in whole pieces.
    if p.sale_mode == crate::domain::SaleMode::PiecesByWeight.as_str() && body.quantity.minor() % 1000 != 0 {
        errors.push(FieldError::new("quantity", "must be a whole number of pieces"));
    }
    errors.extend(compliance::check_certificate(&body.compliance_certificate));
    if let Some(c) = &body.origin_county_code {
        let county = crate::services::regions::find(db, c).await?;
        if county.is_none_or(|r| r.level != crate::domain::RegionLevel::County.as_str()) {
            errors.push(FieldError::new("origin_county_code", "is not a known county"));
        }
    }
    AppError::check(errors)?;
    if stored_status(&p)? == ProductStatus::Revoked {
        return Err(AppError::Conflict("a revoked product takes no new lots".into()));
    }
    let qty = body.quantity;
    let txn = db.begin().await?;
    // A draft deleted meanwhile: 404, not a foreign-key failure. The requirement of a 合格证 is
    // read under the lock, not from the read before the transaction: a category changed
    // meanwhile would leave the lot unflagged and its goods sellable.
    let p = queries::find_for_new_lot(&txn, &p.id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    ensure_room(&txn, &p.id, qty).await?;
    let mut am = lots::ActiveModel {
        id: Set(LotId::new().to_string()),
        product_id: Set(p.id.clone()),
        quantity_milli: Set(qty.minor()),
        remaining_milli: Set(qty.minor()),
        harvested_on: Set(body.harvested_on),
        best_before: Set(body.best_before),
        created_at: Set(now()),
        ..Default::default()
    };
    compliance::flag_for_new_lot(&mut am, &p, body.compliance_certificate);
    let lot = queries::insert_lot(&txn, am).await?;
    if let Some(c) = &body.origin_county_code {
        queries::set_lot_origin(&txn, &lot.id, c).await?;
    }
    stock_svc::record_movement(
        &txn,
        &p.id,
        Some(&lot.id),
        qty.minor(),
        LOT_MOVEMENT,
        None,
        None,
        Some(&caller.user_id.to_string()),
    )
    .await?;
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    Lot::from_model(lot)
}

pub async fn list_lots(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    page: &PageParams,
) -> AppResult<(Vec<Lot>, Option<String>)> {
    let p = visible(&state.db, caller, id).await?;
    let limit = page.limit()?;
    let rows = queries::lots_page(&state.db, &p.id, page.cursor()?, limit).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((rows.into_iter().map(Lot::from_model).collect::<AppResult<_>>()?, next))
}

/// One lot of a product the caller may see (404 when it is not this product's).
pub async fn get_lot(state: &AppState, caller: &Caller, id: ProductId, lot: LotId) -> AppResult<Lot> {
    let p = visible(&state.db, caller, id).await?;
    queries::find_lot(&state.db, lot)
        .await?
        .filter(|l| l.product_id == p.id)
        .ok_or(AppError::NotFound("lot"))
        .and_then(Lot::from_model)
}

/// 409 unless the product's lots can take `qty` more without passing the quantity bound
/// (a state of the product, like stock that never goes below zero).
pub(super) async fn ensure_room(conn: &impl ConnectionTrait, product_id: &str, qty: Quantity) -> AppResult<()> {
    let s = stock_svc::stock_of(conn, product_id).await?;
    let held = Quantity::from_minor(
        s.on_hand_milli
            .saturating_add(s.expired_milli)
            .saturating_add(s.uncertified_milli),
    );
    if held.and_then(|h| h.checked_add(qty)).is_err() {
        return Err(AppError::Conflict(format!(
            "the product's lots cannot hold {qty} more: stock is at most {} units",
            Quantity::from_minor(Quantity::MAX).unwrap_or(Quantity::ZERO)
        )));
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub product_id: ProductId,
    /// In lots not past best-before.
    pub on_hand: Quantity,
    /// Held by open orders.
    pub reserved: Quantity,
    /// on_hand - reserved (never below zero).
    pub available: Quantity,
    /// Left in lots past best-before (not available).
    pub expired: Quantity,
    /// Left in lots flagged `uncertified_batch` (not available until their 合格证 is recorded).
    pub uncertified: Quantity,
}

/// A stock figure as a quantity. Sums over many lots are shown at most at the bound.
fn shown(milli: i64) -> Quantity {
    Quantity::from_minor(milli.clamp(0, Quantity::MAX)).unwrap_or(Quantity::ZERO)
}

pub(super) async fn stock_view(conn: &impl ConnectionTrait, id: ProductId) -> AppResult<StockView> {
    let s = stock_svc::stock_of(conn, &id.to_string()).await?;
    Ok(StockView {
        product_id: id,
        on_hand: shown(s.on_hand_milli),
        reserved: shown(s.reserved_milli),
        available: shown(s.available_milli),
        expired: shown(s.expired_milli),
        uncertified: shown(s.uncertified_milli),
    })
}

pub async fn stock(state: &AppState, caller: &Caller, id: ProductId) -> AppResult<StockView> {
    visible(&state.db, caller, id).await?;
    stock_view(&state.db, id).await
}
