//! Field checks shared by creation and edits. Each adds to a list of field errors so
//! that one 422 names every bad field.
use super::{queries, Certificate};
use crate::domain::{Money, PovertyStatus, Quantity};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{required_text, today};
use sea_orm::ConnectionTrait;

pub fn check_certificates(errors: &mut Vec<FieldError>, field: &str, certs: &[Certificate]) {
    if certs.len() > 20 {
        errors.push(FieldError::new(field, "at most 20 certificates"));
    }
    let today = today();
    for (i, c) in certs.iter().enumerate() {
        required_text(errors, &format!("{field}[{i}].number"), &c.number, 100);
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

pub fn check_optional_text(errors: &mut Vec<FieldError>, field: &str, value: Option<&str>, max: usize) {
    if let Some(v) = value {
        if v.chars().count() > max {
            errors.push(FieldError::new(field, format!("must be at most {max} characters")));
        }
    }
}

/// Checks an origin: an existing county, township or village in a poverty or deep-poverty
/// county. Returns the county code.
pub async fn check_origin(
    conn: &impl ConnectionTrait,
    errors: &mut Vec<FieldError>,
    code: &str,
) -> AppResult<Option<String>> {
    let county = queries::county_of(conn, code).await?;
    match county {
        Some((code, status))
            if matches!(
                PovertyStatus::parse(&status),
                Some(PovertyStatus::Poverty | PovertyStatus::DeepPoverty)
            ) =>
        {
            Ok(Some(code))
        }
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

/// The county of the origin `code`, checked again with the region tree held still until the
/// transaction ends (`regions::hold_tree_shared`), so that it is not re-filed as a township
/// before the product naming it commits. Taken before any other lock of the transaction.
pub async fn held_origin(txn: &impl ConnectionTrait, code: &str) -> AppResult<String> {
    crate::services::regions::hold_tree_shared(txn).await?;
    let mut errors = Vec::new();
    let county = check_origin(txn, &mut errors, code).await?;
    AppError::check(errors)?;
    county.ok_or_else(|| AppError::internal("an origin passed its check without a county"))
}

/// A unit price: above zero.
pub fn check_price(errors: &mut Vec<FieldError>, price: Option<Money>) -> Option<Money> {
    let price = price?;
    if price.is_zero() {
        errors.push(FieldError::new("price", "must be greater than zero"));
        return None;
    }
    Some(price)
}

/// A quantity that must be above zero.
pub fn check_positive(errors: &mut Vec<FieldError>, field: &str, qty: Option<Quantity>) -> Option<Quantity> {
    let qty = qty?;
    if qty.is_zero() {
        errors.push(FieldError::new(field, "must be greater than zero"));
        return None;
    }
    Some(qty)
}

pub fn check_shelf_life(errors: &mut Vec<FieldError>, v: Option<i32>) {
    if let Some(d) = v {
        if !(1..=3650).contains(&d) {
            errors.push(FieldError::new("shelf_life_days", "must be between 1 and 3650"));
        }
    }
}

pub fn check_households(errors: &mut Vec<FieldError>, v: Option<i32>) {
    if let Some(n) = v {
        if n < 0 {
            errors.push(FieldError::new("poor_households_linked", "must not be negative"));
        }
    }
}

/// `{reason}` of a reject, revoke or adjustment: trimmed, 1 to 2000 characters.
pub fn required_reason(reason: &str) -> AppResult<String> {
    let mut errors = Vec::new();
    required_text(&mut errors, "reason", reason, 2000);
    crate::error::AppError::check(errors)?;
    Ok(reason.trim().to_string())
}
