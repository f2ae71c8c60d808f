//! The year's plan settings (admin): filing deadline (default 31 March), the floor of the
//! reserved share (the same value as `/quota-floors/{year}`) and the monthly pace weights.
use super::queries;
use crate::auth::{Caller, Role};
use crate::domain::Share;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::credit::{self, check_year, elapsed_ppm, Field};
use crate::state::AppState;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanSettings {
    pub year: i32,
    /// The last day to file the year's plan; a plan filed after it is marked `late`.
    pub filing_deadline: NaiveDate,
    /// The lowest reserved share a plan may have without an explanation.
    pub min_share: Share,
    /// Twelve monthly weights of the pace curve; empty for a straight line over the year.
    pub pace_weights: Vec<u32>,
}

/// Each field is optional: what is not sent keeps its current value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutPlanSettings {
    #[schema(value_type = Option<NaiveDate>)]
    pub filing_deadline: Option<Field<NaiveDate>>,
    #[schema(value_type = Option<Share>)]
    pub min_share: Option<Field<Share>>,
    /// Twelve non-negative monthly weights, not all zero; `[]` for a straight line.
    #[schema(value_type = Option<Vec<u32>>)]
    pub pace_weights: Option<Field<Vec<u32>>>,
}

fn default_deadline(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 3, 31).unwrap_or_default()
}

/// The settings of a year (defaults where the admin set none).
pub async fn settings_of(conn: &impl ConnectionTrait, year: i32) -> AppResult<PlanSettings> {
    let (min_share, _) = credit::floor_of(conn, year).await?;
    let (filing_deadline, pace_weights) = match queries::settings(conn, year).await? {
        Some(s) => (
            s.filing_deadline,
            serde_json::from_str(&s.pace_weights).map_err(AppError::internal)?,
        ),
        None => (default_deadline(year), Vec::new()),
    };
    Ok(PlanSettings {
        year,
        filing_deadline,
        min_share,
        pace_weights,
    })
}

pub async fn get_settings(state: &AppState, year: i32) -> AppResult<PlanSettings> {
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check(errors)?;
    settings_of(&state.db, year).await
}

pub async fn put_settings(
    state: &AppState,
    caller: &Caller,
    year: i32,
    body: PutPlanSettings,
) -> AppResult<PlanSettings> {
    caller.require(&[Role::Admin])?;
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    let deadline = body.filing_deadline.map(|f| f.take(&mut errors, "filing_deadline"));
    let share = body.min_share.map(|f| f.take(&mut errors, "min_share"));
    let weights = body.pace_weights.map(|f| f.take(&mut errors, "pace_weights"));
    if let Some(Some(d)) = deadline {
        if d.year() != year {
            errors.push(FieldError::new("filing_deadline", "must be a day of the plan's year"));
        }
    }
    if let Some(Some(w)) = &weights {
        let sum: u64 = w.iter().map(|v| u64::from(*v)).sum();
        if !w.is_empty() && (w.len() != 12 || sum == 0 || w.iter().any(|v| *v > 1_000_000)) {
            errors.push(FieldError::new(
                "pace_weights",
                "must be twelve monthly weights (0 to 1000000), not all zero, or [] for a straight line",
            ));
        }
    }
    AppError::check(errors)?;
    let current = settings_of(&state.db, year).await?;
    let deadline = deadline.flatten().unwrap_or(current.filing_deadline);
    let weights = weights.flatten().unwrap_or(current.pace_weights);
    let text = serde_json::to_string(&weights).map_err(AppError::internal)?;
    queries::save_settings(&state.db, year, deadline, text).await?;
    if let Some(Some(s)) = share {
        credit::queries::set_floor(&state.db, year, s).await?;
    }
    settings_of(&state.db, year).await
}

/// The fraction (millionths) of the year's target expected by `at` on the pace curve:
/// a straight line without weights, else the weights of the months past plus the elapsed
/// part of the current month's.
pub fn pace_fraction_ppm(s: &PlanSettings, at: DateTime<Utc>) -> i64 {
    if s.pace_weights.len() != 12 {
        return elapsed_ppm(s.year, at);
    }
    let total: i128 = s.pace_weights.iter().map(|w| i128::from(*w)).sum();
    if total == 0 {
        return elapsed_ppm(s.year, at);
    }
    // Months of the business calendar (China time), as the ledger counts them.
    let day = crate::services::clock::local_date(at);
    if day.year() < s.year {
        return 0;
    }
    if day.year() > s.year {
        return 1_000_000;
    }
    let m = day.month0() as usize;
    let past: i128 = s.pace_weights[..m].iter().map(|w| i128::from(*w)).sum();
    let start = NaiveDate::from_ymd_opt(s.year, day.month(), 1);
    let next = if day.month() == 12 {
        NaiveDate::from_ymd_opt(s.year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(s.year, day.month() + 1, 1)
    };
    let start = start.and_then(crate::services::clock::start_of);
    let next = next.and_then(crate::services::clock::start_of);
    let (Some(start), Some(next)) = (start, next) else {
        return elapsed_ppm(s.year, at);
    };
    let len = i128::from((next - start).num_seconds().max(1));
    let done = i128::from((at - start).num_seconds().max(0));
    // Scaled before dividing: the current month's part rises through the month, not in
    // whole weight units.
    let cur = i128::from(s.pace_weights[m]) * done;
    i64::try_from((past * len + cur) * 1_000_000 / (total * len)).unwrap_or(1_000_000)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod pace_tests {
    use super::*;

    #[test]
    fn the_curve_rises_through_the_month() {
        let s = PlanSettings {
            year: 2026,
            filing_deadline: NaiveDate::from_ymd_opt(2026, 3, 31).expect("date"), // ok: test-only, a valid constant date
            min_share: crate::domain::Share::ONE,
            pace_weights: vec![1; 12],
        };
        // Instants of the business calendar, whatever its offset.
        let local = |m: u32, d: u32| {
            let day = NaiveDate::from_ymd_opt(2026, m, d).expect("date"); // ok: test-only, a valid constant date
            crate::services::clock::start_of(day).expect("instant") // ok: test-only, a valid constant date
        };
        let mid_jan = local(1, 16) + chrono::Duration::hours(12);
        let ppm = pace_fraction_ppm(&s, mid_jan);
        // Half of January is half a twelfth: 41,666 ppm, not 0.
        assert!((41_000..42_500).contains(&ppm), "{ppm}");
        assert_eq!(pace_fraction_ppm(&s, local(2, 1)), 83_333);
    }
}
