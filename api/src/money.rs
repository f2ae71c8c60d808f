//! Exact money and quantities. Money: integer fen in the database, decimal
//! strings with two places in the API. Quantities: integer thousandths in the
//! database, decimal strings with up to three places in the API.
use crate::error::{AppError, AppResult};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// `"12.5"` -> 1250 fen. Refuses negatives and more than two decimal places.
pub fn to_fen(d: Decimal, field: &str) -> AppResult<i64> {
    let n = d.normalize();
    if n.is_sign_negative() && !n.is_zero() {
        return Err(AppError::field(field, "must not be negative"));
    }
    if n.scale() > 2 {
        return Err(AppError::field(field, "has more than two decimal places"));
    }
    n.checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|v| v.to_i64())
        .filter(|v| *v <= crate::domain::MAX_FEN)
        .ok_or_else(|| AppError::field(field, "is too large"))
}

/// 1250 -> `12.50`.
pub fn from_fen(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// `"100.5"` -> 100500 thousandths. Refuses negatives and more than three decimal places.
pub fn to_milli(d: Decimal, field: &str) -> AppResult<i64> {
    let n = d.normalize();
    if n.is_sign_negative() && !n.is_zero() {
        return Err(AppError::field(field, "must not be negative"));
    }
    if n.scale() > 3 {
        return Err(AppError::field(field, "has more than three decimal places"));
    }
    n.checked_mul(Decimal::ONE_THOUSAND)
        .and_then(|v| v.to_i64())
        .filter(|v| *v <= crate::domain::MAX_MILLI)
        .ok_or_else(|| AppError::field(field, "is too large"))
}

/// Like [`to_milli`] but the quantity must be above zero.
pub fn to_positive_milli(d: Decimal, field: &str) -> AppResult<i64> {
    let v = to_milli(d, field)?;
    if v == 0 {
        return Err(AppError::field(field, "must be greater than zero"));
    }
    Ok(v)
}

/// 100500 -> `100.5`.
pub fn from_milli(milli: i64) -> Decimal {
    Decimal::new(milli, 3).normalize()
}

/// Amount in fen of `qty_milli` units at `price_fen` per unit, rounded half away from zero.
pub fn line_amount_fen(price_fen: i64, qty_milli: i64) -> i64 {
    let num = price_fen as i128 * qty_milli as i128;
    let q = num / 1000;
    let r = num % 1000;
    let rounded = if r.abs() * 2 >= 1000 { q + num.signum() } else { q };
    rounded as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(to_fen(Decimal::from_str("12.5")?, "p").ok(), Some(1250));
        assert_eq!(from_fen(1250).to_string(), "12.50");
        assert!(to_fen(Decimal::from_str("1.005")?, "p").is_err());
        assert!(to_fen(Decimal::from_str("-1")?, "p").is_err());
        assert_eq!(to_milli(Decimal::from_str("100.5")?, "q").ok(), Some(100_500));
        assert_eq!(from_milli(100_500).to_string(), "100.5");
        assert!(to_milli(Decimal::from_str("0.0001")?, "q").is_err());
        assert_eq!(line_amount_fen(1250, 1500), 1875);
        assert_eq!(line_amount_fen(333, 1500), 500); // 499.5 -> 500
        Ok(())
    }
}
