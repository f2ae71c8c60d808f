//! Weighed order lines: the estimate at placement, the copy of the product's terms, and
//! the actual weight checked and recorded at acceptance.
use super::terms::WeightTerms;
use super::{queries, weight};
use crate::domain::{Money, OrderLineId, Quantity, Weight};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::writes::Writes;
use entity::{order_line_weights, order_lines, products, supplier_orders};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

/// The amount of an order line at placement: `qty x price` for a product sold per unit;
/// for one sold `pieces_by_weight`, whole pieces only and `pieces x nominal kg x price per
/// kg`, half up to the fen. `Err` is the refusal of the line's quantity.
pub fn estimate(product: &products::Model, price: Money, qty: Quantity) -> AppResult<Result<Money, String>> {
    let amount = match WeightTerms::of(product)?.weighed() {
        None => Money::line_amount(price, qty),
        Some(_) if !super::is_whole(qty) => return Ok(Err(super::WHOLE_PIECES.into())),
        Some((nominal, _)) => Weight::of_pieces(nominal, qty).and_then(|w| Money::weighed_amount(price, w)),
    };
    Ok(amount.map_err(|e| format!("at this price, the line's amount {e}")))
}

/// Copies the nominal weight and tolerance of each weighed line's product, in the order's
/// transaction (one statement whatever the number of lines).
pub fn snapshot(
    writes: &mut Writes,
    lines: &[order_lines::Model],
    products: &[&products::Model],
) -> AppResult<Vec<order_line_weights::Model>> {
    let by_id: HashMap<&str, &products::Model> = products.iter().map(|p| (p.id.as_str(), *p)).collect();
    let mut rows = Vec::new();
    for l in lines {
        let Some(p) = by_id.get(l.product_id.as_str()) else {
            continue;
        };
        if let Some((nominal, pct)) = WeightTerms::of(p)?.weighed() {
            rows.push(order_line_weights::Model {
                order_line_id: l.id.clone(),
                supplier_order_id: l.supplier_order_id.clone(),
                nominal_weight_milli: nominal.minor(),
                weight_tolerance_pct: i32::from(pct),
                actual_weight_milli: None,
                actual_amount_fen: None,
                deviation_accepted: false,
                weighed_at: None,
            });
        }
    }
    queries::insert_many(writes, rows.clone());
    Ok(rows)
}

/// One line of an acceptance body, as the weight check needs it.
pub struct WeighIn {
    pub line_id: OrderLineId,
    pub accepted: Quantity,
    pub actual_weight: Option<Weight>,
}

/// A weighed line's outcome: its weight (0 when no piece was accepted) and amount.
#[derive(Debug, Clone, Copy)]
pub struct Weighed {
    pub weight: Weight,
    pub amount: Money,
    pub outside_tolerance: bool,
}

/// Checks the actual weights of an acceptance against the weighed lines of a supplier
/// order (`lines`, with `found`, their weight rows as read with them); refusals go to
/// `errors` under `lines[i].actual_weight`. Returns the outcome per weighed line id, and
/// the weight rows.
pub fn check_acceptance(
    found: Vec<order_line_weights::Model>,
    lines: &[order_lines::Model],
    body: &[WeighIn],
    accept_deviation: bool,
    errors: &mut Vec<FieldError>,
) -> AppResult<(HashMap<String, Weighed>, Vec<order_line_weights::Model>)> {
    let rows: HashMap<&str, &order_line_weights::Model> = found.iter().map(|r| (r.order_line_id.as_str(), r)).collect();
    let mut out = HashMap::new();
    for (i, b) in body.iter().enumerate() {
        let field = format!("lines[{i}].actual_weight");
        let Some(line) = lines.iter().find(|l| b.line_id == l.id) else {
            continue;
        };
        let Some(row) = rows.get(line.id.as_str()) else {
            if b.actual_weight.is_some() {
                errors.push(FieldError::new(
                    field,
                    "is only for a line of a product sold pieces_by_weight",
                ));
            }
            continue;
        };
        if b.accepted.is_zero() {
            match b.actual_weight {
                Some(_) => errors.push(FieldError::new(field, "must be omitted when no piece is accepted")),
                None => {
                    out.insert(
                        line.id.clone(),
                        Weighed {
                            weight: Weight::ZERO,
                            amount: Money::ZERO,
                            outside_tolerance: false,
                        },
                    );
                }
            }
            continue;
        }
        let Some(actual) = b.actual_weight else {
            errors.push(FieldError::new(
                field,
                "is required: the actual weight in kg of the accepted pieces",
            ));
            continue;
        };
        if !super::is_whole(b.accepted) {
            // The pieces' error is reported on accepted_quantity.
            errors.push(FieldError::new(
                format!("lines[{i}].accepted_quantity"),
                super::WHOLE_PIECES,
            ));
            continue;
        }
        if actual.is_zero() {
            errors.push(FieldError::new(field, "must be greater than zero"));
            continue;
        }
        if b.accepted.minor() > line.quantity_milli {
            // More pieces than ordered: refused on accepted_quantity by the caller; nothing to weigh.
            continue;
        }
        let nominal = weight(row.nominal_weight_milli)?;
        let Ok(expected) = Weight::of_pieces(nominal, b.accepted) else {
            errors.push(FieldError::new(
                format!("lines[{i}].accepted_quantity"),
                format!("is too many pieces of {nominal} kg to weigh"),
            ));
            continue;
        };
        if actual.beyond_sanity(expected) {
            errors.push(FieldError::new(
                field,
                format!(
                    "is more than {} times the nominal weight of the accepted pieces ({expected} kg)",
                    crate::domain::amount::SANITY_FACTOR
                ),
            ));
            continue;
        }
        let pct = u8::try_from(row.weight_tolerance_pct).map_err(AppError::internal)?;
        let outside = !actual.within_tolerance(expected, pct);
        if outside && !accept_deviation {
            errors.push(FieldError::new(
                field,
                format!(
                    "{actual} kg is outside the tolerance of {pct}% around {expected} kg ({} pieces of {nominal} kg); \
                     set accept_weight_deviation to true to accept it",
                    b.accepted
                ),
            ));
            continue;
        }
        let price = Money::from_minor(line.unit_price_fen).map_err(AppError::internal)?;
        match Money::weighed_amount(price, actual) {
            Ok(amount) => {
                out.insert(
                    line.id.clone(),
                    Weighed {
                        weight: actual,
                        amount,
                        outside_tolerance: outside,
                    },
                );
            }
            Err(e) => errors.push(FieldError::new(field, format!("at this price, the line's amount {e}"))),
        }
    }
    Ok((out, found))
}

/// Refuses an acceptance that would take the actual amounts of its order's weighed lines past
/// the largest amount: an order shows their sum (`weighed.actual_amount`), while placement
/// bounds only the estimate and acceptance each supplier order's payable, and actual weights
/// may pass the nominal ones. 422 on the `actual_weight` of each line weighed here; `so` is the
/// supplier order accepted, `weighed` what [`check_acceptance`] gave. No query when nothing
/// weighed here has an amount.
pub async fn check_order_total(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    body: &[WeighIn],
    weighed: &HashMap<String, Weighed>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    let here = weighed.values().map(|w| w.amount);
    if here.clone().all(Money::is_zero) {
        return Ok(());
    }
    let stored = queries::actual_amounts_of_order(conn, &so.order_id, &so.id).await?;
    let stored: Vec<Money> = stored
        .into_iter()
        .map(|f| Money::from_minor(f).map_err(AppError::internal))
        .collect::<AppResult<_>>()?;
    let others = Money::checked_sum(stored);
    let total = others.and_then(|o| Money::checked_sum(here).and_then(|h| o.checked_add(h)));
    if total.is_ok() {
        return Ok(());
    }
    let largest = Money::from_minor(Money::MAX).map_err(AppError::internal)?;
    let others = others.unwrap_or(largest);
    for (i, b) in body.iter().enumerate() {
        if weighed.get(&b.line_id.to_string()).is_some_and(|w| !w.amount.is_zero()) {
            errors.push(FieldError::new(
                format!("lines[{i}].actual_weight"),
                format!(
                    "would take the actual amounts of this order's weighed lines past the largest amount \
                     ({}): its other supplier orders were accepted for {others} of them",
                    largest
                ),
            ));
        }
    }
    Ok(())
}

/// Records the accepted weights and amounts, in the acceptance's transaction (two
/// statements whatever the number of lines).
pub async fn record_actuals(
    conn: &impl ConnectionTrait,
    weighed: &HashMap<String, Weighed>,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    if weighed.is_empty() {
        return Ok(());
    }
    let rows = queries::by_lines(conn, weighed.keys().cloned().collect()).await?;
    let rows = with_actuals(rows, weighed, at)
        .into_iter()
        .filter(|r| weighed.contains_key(&r.order_line_id))
        .collect();
    queries::replace(conn, rows).await
}

/// The weight rows `rows` as [`record_actuals`] leaves them (the weighed ones with their
/// actual weight and amount, the others as they are).
pub fn with_actuals(
    rows: Vec<order_line_weights::Model>,
    weighed: &HashMap<String, Weighed>,
    at: chrono::DateTime<chrono::Utc>,
) -> Vec<order_line_weights::Model> {
    rows.into_iter()
        .map(|r| match weighed.get(&r.order_line_id) {
            Some(w) => order_line_weights::Model {
                actual_weight_milli: Some(w.weight.minor()),
                actual_amount_fen: Some(w.amount.minor()),
                deviation_accepted: w.outside_tolerance,
                weighed_at: Some(at),
                ..r
            },
            None => r,
        })
        .collect()
}
