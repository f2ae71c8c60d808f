//! Weights in kg, exact to the gram (thousandths of a kg), for products sold
//! `pieces_by_weight`: a piece has a nominal weight, a delivered line an actual one.
//!
//! The one rounding rule of weighed amounts: the line's amount is
//! `actual kg x price per kg`, computed exactly in fen x grams and then rounded
//! **half up to the fen on the line total** (never per piece, never per kg), the
//! same rule as [`Money::line_amount`].
use super::*;

amount_type!(
    /// A weight in kg with at most three decimal places (grams), never negative.
    Weight, places = 3, signed = false, bound = MAX_MILLI, bound_text = "1000000000",
    example = "101.25", pattern = "^[0-9]+(\\.[0-9]{1,3})?$", format = format_trimmed, unit = "kg"
);

/// The largest nominal weight of one piece a product may state, in kg.
pub const MAX_NOMINAL_KG: i64 = 5_000;
/// An actual weight above this many times the nominal weight of the pieces is refused
/// as a typing error, whatever the tolerance.
pub const SANITY_FACTOR: i64 = 3;

impl Weight {
    /// The weight of `pieces` pieces of `per_piece` each: exact for whole pieces; a
    /// fraction of a piece rounds half up to the gram.
    pub fn of_pieces(per_piece: Weight, pieces: Quantity) -> Result<Weight, AmountError> {
        let num = i128::from(per_piece.0) * i128::from(pieces.0);
        let rounded = (num + 500) / 1000;
        i64::try_from(rounded)
            .map_err(|_| AmountError::TooLarge { max: "1000000000" })
            .and_then(Weight::from_minor)
    }

    /// Whether this weight lies within `percent` % of `expected`, both bounds included.
    pub fn within_tolerance(self, expected: Weight, percent: u8) -> bool {
        let diff = (i128::from(self.0) - i128::from(expected.0)).abs();
        diff * 100 <= i128::from(expected.0) * i128::from(percent)
    }

    /// Whether this weight is above [`SANITY_FACTOR`] times `expected`.
    pub fn beyond_sanity(self, expected: Weight) -> bool {
        i128::from(self.0) > i128::from(expected.0) * i128::from(SANITY_FACTOR)
    }

    /// Whether this is a sensible nominal weight of one piece: above zero, at most
    /// [`MAX_NOMINAL_KG`].
    pub fn is_sensible_nominal(self) -> bool {
        self.0 > 0 && self.0 <= MAX_NOMINAL_KG * 1000
    }
}

impl Money {
    /// The amount of `weight` kg at `price_per_kg`: exact, then half up to the fen on the
    /// line total (the module's one rounding rule).
    pub fn weighed_amount(price_per_kg: Money, weight: Weight) -> Result<Money, AmountError> {
        // Both are thousandths under the same bound: the arithmetic is `line_amount`'s.
        Money::line_amount(price_per_kg, Quantity(weight.0))
    }

    /// The share of this amount that `part` of `whole` carries, half up to the fen (for
    /// returning some of the pieces of a weighed line: taken by difference of cumulative
    /// shares, the returns of a line add up to its amount exactly).
    pub fn pro_rata(self, part: Quantity, whole: Quantity) -> Result<Money, AmountError> {
        pro_rata(self.0, part, whole)
            .ok_or(AmountError::TooLarge { max: "100000000000.00" })
            .and_then(Money::from_minor)
    }
}

impl Weight {
    /// The share of this weight that `part` of `whole` pieces carry, half up to the gram (the
    /// weight of returned pieces, by difference of cumulative shares as for their amount).
    pub fn pro_rata(self, part: Quantity, whole: Quantity) -> Result<Weight, AmountError> {
        pro_rata(self.0, part, whole)
            .ok_or(AmountError::TooLarge { max: "1000000000" })
            .and_then(Weight::from_minor)
    }
}

/// `v x part / whole`, half up; `None` when `whole` is zero or the result leaves `i64`.
fn pro_rata(v: i64, part: Quantity, whole: Quantity) -> Option<i64> {
    if whole.0 == 0 {
        return None;
    }
    let num = i128::from(v) * i128::from(part.0);
    let (q, r) = (num / i128::from(whole.0), num % i128::from(whole.0));
    i64::try_from(if r * 2 >= i128::from(whole.0) { q + 1 } else { q }).ok()
}

#[cfg(test)]
mod tests;
