//! Consumption-assistance credit read from the ledger: yearly buyer quotas
//! (预留份额) and their floors, pairings (结对帮扶) with their progress, and yearly
//! reconciliation statements (每年对账) that both sides confirm and that are then locked.
//!
//! Every figure is a SQL aggregate over `ledger_entries` (net: credits are
//! positive, reversals negative), so it reflects every append that returned
//! before the request. The SQL of the folder is in [`queries`].
mod input;
mod pairings;
pub mod queries;
mod quotas;
mod reconciliation_queries;
mod reconciliations;
mod targets;

pub use input::{take_opt, Field, Param};
pub use pairings::{
    create_pairing, find_pairing, get_pairing, list_pairings, pairing_progress, CategoryProgress, NewPairing, Pairing,
    PairingFilter, PairingPage, PairingProgress,
};
pub use queries::{split_sums, sum_of};
pub use quotas::{
    credited, elapsed_ppm, floor_of, get_floor, get_quota, may_set_quota, put_floor, put_quota, Floor, PutFloor,
    PutQuota, Quota, QuotaSaved, DEFAULT_FLOOR_PPM,
};
pub use reconciliations::{
    confirm, create_reconciliation, get_reconciliation, list_reconciliations, may_reconcile, Adjustments, LedgerRange,
    NewReconciliation, Reconciliation, ReconciliationPage,
};
pub use targets::targets_sql;

use crate::domain::{AmountError, SignedMoney};
use crate::error::{AppError, AppResult, FieldError};
use rust_decimal::Decimal;
use std::fmt;
use std::str::FromStr;

pub fn check_year(errors: &mut Vec<FieldError>, field: &str, year: i32) {
    if !(2000..=2100).contains(&year) {
        errors.push(FieldError::new(field, "must be a year between 2000 and 2100"));
    }
}

/// A stored id read back into its domain type (stored ids are written from the same type).
pub fn stored_id<T: FromStr>(s: &str) -> AppResult<T> {
    s.parse()
        .map_err(|_| AppError::internal(format!("stored id {s:?} is not a uuid")))
}

/// A net ledger amount read from the database. Past the bound it is a state of the
/// ledger the figure cannot show (409), never a wrap.
pub fn net(fen: i64, what: &str) -> AppResult<SignedMoney> {
    SignedMoney::from_minor(fen).map_err(|e| too_large(what, e))
}

/// The 409 for a figure of the ledger that is past the bound of money.
pub fn too_large(what: &str, e: AmountError) -> AppError {
    AppError::Conflict(format!("the {what} {e}"))
}

/// Net amounts (fen) of a set of buyers for a year, split by credit category.
#[derive(Debug, Default, Clone, Copy)]
pub struct Split {
    pub purchase_fen: i64,
    pub helped_sale_fen: i64,
    pub purchase_count: i64,
    pub helped_sale_count: i64,
}

impl Split {
    /// Both categories; past i64 is a 409 (the ledger is past what money can show).
    pub fn total(&self) -> AppResult<i64> {
        self.purchase_fen
            .checked_add(self.helped_sale_fen)
            .ok_or_else(|| AppError::Conflict("the ledger total is out of range".into()))
    }
}

/// Extra conditions of [`split_sums`].
#[derive(Debug, Default, Clone)]
pub struct SplitFilter<'a> {
    pub county: Option<&'a str>,
    pub max_seq: Option<i64>,
    /// Reversals appended after this seq that touch credits of the year (adjustments).
    pub reversals_after: Option<i64>,
}

/// A ratio with four decimal places (`"0.4767"`; 1 is 100%): progress against a
/// target (may exceed 1) or the fraction of a year elapsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ratio(Decimal);

impl Ratio {
    /// `num / den` with four places, rounded half away from zero (1 when `den` is 0).
    pub fn of(num: i64, den: i64) -> Ratio {
        if den <= 0 {
            return Ratio(Decimal::new(10000, 4));
        }
        let (n, d) = (i128::from(num), i128::from(den));
        let scaled = (n.abs() * 10000 * 2 + d) / (d * 2);
        let scaled = if num < 0 { -scaled } else { scaled };
        // |scaled| ≤ i64::MAX × 10⁴ < 2⁹⁶: always fits a decimal.
        Ratio(Decimal::try_from_i128_with_scale(scaled, 4).unwrap_or(Decimal::MAX))
    }

    /// Parts per million, to four places.
    pub fn of_ppm(ppm: i64) -> Ratio {
        Ratio(Decimal::new(ppm, 6).round_dp(4))
    }

    pub fn to_decimal(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl serde::Serialize for Ratio {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl utoipa::PartialSchema for Ratio {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^-?[0-9]+\\.[0-9]{4}$"))
            .description(Some("A ratio as a decimal string with four places; 1 is 100%"))
            .examples(["0.4767"])
            .into()
    }
}

impl utoipa::ToSchema for Ratio {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_half_away_from_zero() {
        assert_eq!(Ratio::of(1, 3).to_string(), "0.3333");
        assert_eq!(Ratio::of(2, 3).to_string(), "0.6667");
        assert_eq!(Ratio::of(-2, 3).to_string(), "-0.6667");
        assert_eq!(Ratio::of(5, 0).to_string(), "1.0000");
        assert!(Ratio::of(i64::MAX, 1).to_decimal() > Decimal::ZERO);
        assert_eq!(Ratio::of_ppm(1_000_000).to_string(), "1.0000");
        assert_eq!(Ratio::of_ppm(0).to_string(), "0.0000");
    }
}
