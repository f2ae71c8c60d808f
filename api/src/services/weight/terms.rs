//! The weight terms of a product: its sale mode, the nominal weight of one piece and the
//! tolerance, checked at creation and on every edit (an edit is checked merged with what
//! is stored, so that a weighed product cannot lose its unit `piece` by a later edit).
use crate::domain::amount::MAX_NOMINAL_KG;
use crate::domain::{SaleMode, Unit, Weight};
use crate::error::{AppResult, FieldError};
use crate::services::products::{stored_amount, Field};
use entity::products;

/// What is stored on the product: its mode and, when weighed, the nominal weight and tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightTerms {
    pub sale_mode: SaleMode,
    pub nominal_weight: Option<Weight>,
    pub tolerance_pct: Option<i32>,
}

impl WeightTerms {
    pub const PER_UNIT: WeightTerms = WeightTerms {
        sale_mode: SaleMode::PerUnit,
        nominal_weight: None,
        tolerance_pct: None,
    };

    /// The terms stored on a product row.
    pub fn of(m: &products::Model) -> AppResult<WeightTerms> {
        Ok(WeightTerms {
            sale_mode: crate::services::stored(&m.sale_mode)?,
            nominal_weight: m
                .nominal_weight_milli
                .map(|g| stored_amount("nominal weight", Weight::from_minor(g)))
                .transpose()?,
            tolerance_pct: m.weight_tolerance_pct,
        })
    }

    /// The nominal weight and tolerance of a weighed product (`None` when sold per unit).
    pub fn weighed(&self) -> Option<(Weight, u8)> {
        match (self.sale_mode, self.nominal_weight, self.tolerance_pct) {
            (SaleMode::PiecesByWeight, Some(w), Some(t)) => u8::try_from(t).ok().map(|t| (w, t)),
            _ => None,
        }
    }
}

/// The three body fields, each optional.
pub struct Given {
    pub sale_mode: Option<Field<SaleMode>>,
    pub nominal_weight_kg: Option<Field<Weight>>,
    pub weight_tolerance: Option<Field<i64>>,
}

/// The terms of a new product with this unit (`None` when the unit itself was refused).
/// Refusals go to `errors`.
pub fn check_new(errors: &mut Vec<FieldError>, unit: Option<Unit>, given: Given) -> Option<WeightTerms> {
    merge(errors, unit, WeightTerms::PER_UNIT, given)
}

/// The terms after an edit of `current` (with the edit's unit when it gives one).
pub fn check_patch(
    errors: &mut Vec<FieldError>,
    current: &products::Model,
    new_unit: Option<Unit>,
    given: Given,
) -> AppResult<Option<WeightTerms>> {
    let unit = match new_unit {
        Some(u) => Some(u),
        None => Some(crate::services::stored(&current.unit)?),
    };
    Ok(merge(errors, unit, WeightTerms::of(current)?, given))
}

fn merge(errors: &mut Vec<FieldError>, unit: Option<Unit>, base: WeightTerms, given: Given) -> Option<WeightTerms> {
    let before = errors.len();
    let mode = match given.sale_mode {
        Some(f) => f.take(errors, "sale_mode"),
        None => Some(base.sale_mode),
    };
    let nominal = given.nominal_weight_kg.map(|f| f.take(errors, "nominal_weight_kg"));
    let tolerance = given.weight_tolerance.map(|f| f.take(errors, "weight_tolerance"));
    let mode = mode?;
    if mode == SaleMode::PerUnit {
        for (given, field) in [
            (nominal.is_some(), "nominal_weight_kg"),
            (tolerance.is_some(), "weight_tolerance"),
        ] {
            if given {
                errors.push(FieldError::new(field, "is only for a product sold pieces_by_weight"));
            }
        }
        return (errors.len() == before).then_some(WeightTerms::PER_UNIT);
    }
    if unit.is_some_and(|u| u != Unit::Piece) {
        errors.push(FieldError::new(
            "unit",
            "must be piece for a product sold pieces_by_weight (its price is per kg)",
        ));
    }
    // `Some(None)`: given but refused (already reported).
    let nominal = match nominal {
        Some(n) => n,
        None => base.nominal_weight.or_else(|| {
            errors.push(FieldError::new(
                "nominal_weight_kg",
                "is required for a product sold pieces_by_weight",
            ));
            None
        }),
    };
    if let Some(w) = nominal.filter(|w| !w.is_sensible_nominal()) {
        errors.push(FieldError::new(
            "nominal_weight_kg",
            format!("must be above 0 and at most {MAX_NOMINAL_KG} kg per piece (not {w})"),
        ));
    }
    let tolerance = match tolerance {
        Some(t) => t,
        None => base.tolerance_pct.map(i64::from).or_else(|| {
            errors.push(FieldError::new(
                "weight_tolerance",
                "is required for a product sold pieces_by_weight (percent, 0 to 100)",
            ));
            None
        }),
    };
    if tolerance.is_some_and(|t| !(0..=100).contains(&t)) {
        errors.push(FieldError::new("weight_tolerance", "must be a percent from 0 to 100"));
    }
    if errors.len() != before {
        return None;
    }
    Some(WeightTerms {
        sale_mode: SaleMode::PiecesByWeight,
        nominal_weight: nominal,
        tolerance_pct: tolerance.and_then(|t| i32::try_from(t).ok()),
    })
}
