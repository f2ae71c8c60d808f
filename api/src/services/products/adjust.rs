//! Stock adjustments (supplier): spoilage or loss (negative), stock found (positive,
//! into a named lot). Stock never goes below zero nor past the quantity bound, and a loss
//! never leaves less on hand than open orders have reserved (409 naming the reserved quantity),
//! nor takes from a lot what shipped orders not yet accepted hold in it. Writing off a named
//! expired or uncertified lot (not on hand) is allowed whatever is reserved.
//!
//! A loss first takes the product row's lock, so concurrent losses of one product (and
//! reservations and shipments, which lock the same row) are serialised; after the lots are
//! taken, the stock is read again under that lock before anything is committed.
use super::access::own;
use super::lots::{ensure_room, stock_view, StockView};
use super::{queries, stored, stored_amount, Field};
use crate::auth::Caller;
use crate::domain::{LotId, ProductId, Quantity, SignedQuantity, StockMovementId, StockMovementKind};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{new_id, required_text, stock as stock_svc, today};
use crate::state::AppState;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kind of the stock movements an adjustment writes.
const ADJUSTMENT: &str = "adjustment";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockAdjustment {
    /// Signed, up to three places: negative for spoilage or loss, positive for stock found.
    #[schema(value_type = SignedQuantity, example = "-12.5")]
    pub quantity: Field<SignedQuantity>,
    pub reason: String,
    /// The lot adjusted; required for a positive adjustment. A negative one without it takes
    /// from the lots soonest to expire first.
    #[serde(default)]
    #[schema(value_type = Option<LotId>)]
    pub lot_id: Option<Field<LotId>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockMovement {
    pub id: StockMovementId,
    pub lot_id: Option<LotId>,
    pub quantity: SignedQuantity,
    /// What moved the stock: `adjustment` here.
    pub kind: StockMovementKind,
    pub reason: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdjustmentResult {
    /// The movements this adjustment wrote (one per lot it took from or added to), and no other.
    pub movements: Vec<StockMovement>,
    pub stock: StockView,
}

fn movement(m: entity::stock_movements::Model) -> AppResult<StockMovement> {
    Ok(StockMovement {
        id: stored("movement id", &m.id)?,
        lot_id: m.lot_id.as_deref().map(|l| stored("lot id", l)).transpose()?,
        quantity: stored_amount("movement", SignedQuantity::from_minor(m.delta_milli))?,
        kind: stored("movement kind", &m.kind)?,
        reason: m.reason,
        created_at: m.created_at,
    })
}

pub async fn adjust_stock(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    body: StockAdjustment,
) -> AppResult<AdjustmentResult> {
    let db = &state.db;
    let p = own(db, caller, id).await?;
    let mut errors = Vec::new();
    let signed = body.quantity.take(&mut errors, "quantity");
    if signed.is_some_and(|q| q.is_zero()) {
        errors.push(FieldError::new("quantity", "must not be zero"));
    } else if p.sale_mode == crate::domain::SaleMode::PiecesByWeight.as_str()
        && signed.is_some_and(|q| q.minor() % 1000 != 0)
    // signed: not a Quantity
    {
        errors.push(FieldError::new("quantity", crate::services::weight::WHOLE_PIECES));
    }
    required_text(&mut errors, "reason", &body.reason, 2000);
    let positive = signed.is_some_and(|q| q.minor() > 0);
    let lot_id = match body.lot_id {
        Some(f) => f.take(&mut errors, "lot_id").map(Some),
        None => Some(None),
    };
    if positive && matches!(lot_id, Some(None)) {
        errors.push(FieldError::new(
            "lot_id",
            "is required to add stock (name the lot it belongs to)",
        ));
    }
    let lot = match lot_id.flatten() {
        Some(l) => match queries::find_lot(db, l).await? {
            Some(lot) if lot.product_id == p.id => Some(lot),
            _ => {
                errors.push(FieldError::new("lot_id", "no such lot of this product"));
                None
            }
        },
        None => None,
    };
    AppError::check(errors)?;
    let Some(signed) = signed else {
        return Err(AppError::internal("validation passed without a quantity"));
    };
    // The bound is symmetric, so the magnitude of a signed quantity is a quantity.
    let qty = Quantity::from_minor(signed.minor().abs()).map_err(|e| AppError::amount("quantity", e))?;
    let reason = body.reason.trim().to_string();
    let txn = db.begin().await?;
    // A draft deleted meanwhile: 404, not a foreign-key failure.
    queries::find_for_share(&txn, &p.id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    // The movements this request writes carry its own id: the answer lists them, and only
    // them (a time window also caught a concurrent positive adjustment's, or those another
    // process wrote with its clock ahead).
    let tag = new_id();
    // A loss reads the stock only once it holds the product row: what it checks is what it changes.
    let before = if positive {
        None
    } else {
        stock_svc::lock_products(&txn, std::slice::from_ref(&p.id)).await?;
        Some(stock_svc::stock_of(&txn, &p.id).await?)
    };
    // A named lot not on hand (past best-before, or without its 合格证) as this transaction
    // finds it, having taken from it: its loss changes nothing on hand.
    let mut off_hand = false;
    match (&lot, positive) {
        (Some(lot), true) => {
            ensure_room(&txn, &p.id, qty).await?;
            if !queries::add_to_lot(&txn, &lot.id, qty).await? {
                return Err(AppError::Conflict(format!(
                    "the lot cannot hold {qty} more (at most {} in one lot)",
                    shown_max()
                )));
            }
            stock_svc::record_movement(
                &txn,
                &p.id,
                Some(&lot.id),
                qty.minor(),
                ADJUSTMENT,
                Some(&reason),
                Some(&tag),
                Some(&caller.user_id.to_string()),
            )
            .await?;
        }
        (Some(lot), false) => {
            if !queries::take_from_lot(&txn, &lot.id, qty).await? {
                return Err(AppError::Conflict(format!(
                    "the lot holds less than {qty}; stock never goes below zero"
                )));
            }
            // Goods shipped from the lot and not yet accepted stay in it for the acceptance.
            let held = crate::services::compliance::held_in_transit(&txn, &lot.id).await?;
            let taken = queries::find_lot(&txn, crate::services::stored(&lot.id)?).await?;
            let left = taken.as_ref().map_or(0, |l| l.remaining_milli);
            off_hand = taken.is_some_and(|l| l.best_before < today() || l.uncertified_batch);
            if left < held {
                let q = |m: i64| Quantity::from_minor(m.max(0)).unwrap_or(Quantity::ZERO);
                return Err(AppError::Conflict(format!(
                    "{} of this lot is shipped on orders not yet accepted: at most {} can be taken",
                    q(held),
                    q(left + qty.minor() - held)
                )));
            }
            stock_svc::record_movement(
                &txn,
                &p.id,
                Some(&lot.id),
                signed.minor(),
                ADJUSTMENT,
                Some(&reason),
                Some(&tag),
                Some(&caller.user_id.to_string()),
            )
            .await?;
        }
        (None, _) => {
            // Goods shipped and not yet accepted stay in their lots for the acceptance.
            let held = crate::services::compliance::held_in_transit_of_product(&txn, &p.id).await?;
            let left = stock_svc::consume(
                &txn,
                &p.id,
                qty.minor(),
                ADJUSTMENT,
                Some(&tag),
                Some(&caller.user_id.to_string()),
                &held,
            )
            .await?;
            if left > 0 {
                let taken = Quantity::from_minor(qty.minor() - left).unwrap_or(Quantity::ZERO);
                let shipped = if held.values().any(|h| *h > 0) {
                    " outside what shipped orders not yet accepted hold"
                } else {
                    ""
                };
                return Err(AppError::Conflict(format!(
                    "only {taken} is in stock{shipped}; stock never goes below zero"
                )));
            }
            queries::set_movement_reason(&txn, &p.id, &tag, &reason).await?;
        }
    }
    if let Some(before) = before {
        // Only a loss of what is on hand can leave less than is reserved: writing off a named
        // expired or uncertified lot changes nothing on hand, and is allowed even when on
        // hand is already below what is reserved (lots expired under open orders), short of
        // what shipped orders still hold in it (checked above). That is decided from the lot,
        // not by comparing on hand before and after: a positive adjustment of another lot
        // does not take the product's lock, and may commit between the two reads.
        let after = stock_svc::stock_of(&txn, &p.id).await?;
        if !off_hand && after.reserved_milli > after.on_hand_milli {
            return Err(below_reserved(qty, before));
        }
    }
    let movements = queries::movements_of(&txn, &p.id, &tag)
        .await?
        .into_iter()
        .map(movement)
        .collect::<AppResult<Vec<_>>>()?;
    let stock = stock_view(&txn, id).await?;
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    Ok(AdjustmentResult { movements, stock })
}

fn shown_max() -> Quantity {
    Quantity::from_minor(Quantity::MAX).unwrap_or(Quantity::ZERO)
}

/// 409 for a loss that would leave less on hand than is reserved, naming the reserved quantity.
fn below_reserved(qty: Quantity, before: stock_svc::Stock) -> AppError {
    let q = |milli: i64| Quantity::from_minor(milli.clamp(0, Quantity::MAX)).unwrap_or(Quantity::ZERO);
    AppError::Conflict(format!(
        "{} is reserved by open orders and {} is on hand: taking {qty} would leave less than is reserved \
         (at most {} can be taken; name the lot to write off an expired or uncertified one)",
        q(before.reserved_milli),
        q(before.on_hand_milli),
        q(before.available_milli),
    ))
}
