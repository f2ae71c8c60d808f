//! Supplier scorecards: a year of a supplier's orders, deliveries, acceptance, returns,
//! ratings, response to unsold-produce pledges and valid documents; each figure with the
//! counts behind it. The full card is for the supplier itself, buyers, evaluators and
//! admin; a summary (delivery on time, acceptance rate, rating) goes on each catalogue item.
//!
//! What counts, per figure (the year is the budget year of the business calendar,
//! China time by default: `services::clock`):
//! - `orders_received`: supplier orders created in the year.
//! - `confirmed_within_48h`: of those, confirmed within 48 hours of being placed; the
//!   denominator leaves out orders cancelled by the buyer before any confirmation and orders
//!   still waiting less than 48 hours. Confirmation times are recorded from migration 180 on
//!   (`supplier_order_confirmations`); an order confirmed before it counts as not within 48 h.
//! - `delivered_on_time`: supplier orders delivered in the year by the buyer's `deliver_by`
//!   (on time when none was set) ÷ those delivered in the year and those flagged late in the
//!   year that were never delivered (cancelled, or still on the way).
//! - `acceptance`: accepted ÷ ordered quantity, over the lines of supplier orders accepted in
//!   the year; `returns`: returned ÷ accepted over the same lines.
//! - `rating`: ratings given in the year: their count, sum and average.
//! - `pledge_response`: supplier orders from pledges made in the year against the supplier's
//!   alerts that it confirmed (same denominator rule as `confirmed_within_48h`).
//! - `certificates_valid`: its current licences and its live products' certificates valid
//!   today ÷ all of them.
mod queries;
mod summary;

pub use summary::{attach_summaries, SupplierSummary};

use crate::auth::{Caller, Role};
use crate::domain::{OrgId, Quantity, Share, SupplierOrderStatus};
use crate::error::{AppError, AppResult};
use crate::services::{documents, now, stored, today};
use crate::state::AppState;
use chrono::Datelike;
use queries::{Received, Window};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A rate of counts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CountRatio {
    pub numerator: i64,
    pub denominator: i64,
    /// numerator ÷ denominator (null when the denominator is 0), rounded half up to six places.
    pub rate: Option<Share>,
}

/// A rate of quantities (thousandths of the products' units, summed).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct QuantityRatio {
    pub numerator: Quantity,
    pub denominator: Quantity,
    pub rate: Option<Share>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RatingFigure {
    pub count: i64,
    /// The sum of the scores (1 to 5 each).
    pub sum: i64,
    /// sum ÷ count with two decimals, rounded half up ("4.50"); null without ratings.
    pub average: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Scorecard {
    pub supplier_org_id: OrgId,
    pub year: i32,
    pub orders_received: i64,
    pub confirmed_within_48h: CountRatio,
    /// Delivered by the deadline ÷ delivered, and flagged late and never delivered, in the year.
    pub delivered_on_time: CountRatio,
    pub acceptance: QuantityRatio,
    pub returns: QuantityRatio,
    pub rating: RatingFigure,
    pub pledge_response: CountRatio,
    pub certificates_valid: CountRatio,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// The calendar year (2000 to 2100; default this year).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// `n ÷ d` as a share, rounded half up; `None` when `d` is 0; at most 1.
pub(crate) fn share(n: i64, d: i64) -> Option<Share> {
    if d <= 0 {
        return None;
    }
    let ppm = (i128::from(n.max(0)) * 1_000_000 + i128::from(d) / 2) / i128::from(d);
    Share::from_minor(ppm.min(1_000_000) as i64).ok()
}

pub(crate) fn ratio(n: i64, d: i64) -> CountRatio {
    CountRatio {
        numerator: n,
        denominator: d,
        rate: share(n, d),
    }
}

fn quantities(n: i64, d: i64) -> AppResult<QuantityRatio> {
    let q = |v: i64| Quantity::from_minor(v.clamp(0, Quantity::MAX)).map_err(AppError::internal);
    Ok(QuantityRatio {
        numerator: q(n)?,
        denominator: q(d)?,
        rate: share(n, d),
    })
}

pub(crate) fn rating(count: i64, sum: i64) -> RatingFigure {
    let average = (count > 0).then(|| {
        let hundredths = (i128::from(sum) * 100 + i128::from(count) / 2) / i128::from(count);
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    });
    RatingFigure { count, sum, average }
}

/// Confirmed within `hours` of placing ÷ orders that were the supplier's to answer.
fn answered(rows: &[Received], hours: Option<i64>) -> AppResult<CountRatio> {
    let t = now();
    let day = chrono::Duration::hours(48);
    let (mut n, mut d) = (0, 0);
    for r in rows {
        let status: SupplierOrderStatus = stored(&r.status)?;
        if r.confirmed_at.is_none() && (status == SupplierOrderStatus::Cancelled || t - r.created_at < day) {
            continue;
        }
        d += 1;
        if r.confirmed_at
            .is_some_and(|c| hours.is_none_or(|h| c - r.created_at <= chrono::Duration::hours(h)))
        {
            n += 1;
        }
    }
    Ok(ratio(n, d))
}

/// Who may read a supplier's full scorecard: itself (another supplier's is 404), buyers,
/// evaluators and admin. An id that is not a supplier organisation is 404.
pub async fn may_read(state: &AppState, caller: &Caller, id: OrgId) -> AppResult<()> {
    caller.require(&[Role::Supplier, Role::Buyer, Role::Evaluator, Role::Admin])?;
    documents::supplier_named(&state.db, caller, id).await.map(drop)
}

pub async fn scorecard(state: &AppState, caller: &Caller, id: OrgId, q: &ScorecardQuery) -> AppResult<Scorecard> {
    let year = q.year.unwrap_or_else(|| today().year());
    if !(2000..=2100).contains(&year) {
        return Err(AppError::query_param("year", "must be between 2000 and 2100"));
    }
    may_read(state, caller, id).await?;
    compute(&state.db, id, year).await
}

/// The scorecard of supplier `id` for `year`.
pub async fn compute(conn: &impl ConnectionTrait, id: OrgId, year: i32) -> AppResult<Scorecard> {
    let w = Window::year(year).ok_or_else(|| AppError::query_param("year", "is not a year"))?;
    let org = id.to_string();
    let orgs = [org.clone()];
    let received = queries::received(conn, &org, w).await?;
    let pick = |m: std::collections::HashMap<String, Vec<i64>>, n: usize| m.get(&org).cloned().unwrap_or(vec![0; n]);
    let delivered = pick(queries::deliveries(conn, &orgs, w).await?, 3);
    let accepted = pick(queries::acceptance(conn, &orgs, w).await?, 3);
    let rated = pick(queries::ratings(conn, &orgs, w).await?, 2);
    let pledged = queries::pledged(conn, &org, w).await?;
    let (valid, total) = documents::valid_counts(conn, &org, today()).await?;
    Ok(Scorecard {
        supplier_org_id: id,
        year,
        orders_received: received.len() as i64,
        confirmed_within_48h: answered(&received, Some(48))?,
        delivered_on_time: ratio(delivered[1], delivered[0].saturating_add(delivered[2])),
        acceptance: quantities(accepted[1], accepted[0])?,
        returns: quantities(accepted[2], accepted[1])?,
        rating: rating(rated[0], rated[1]),
        pledge_response: answered(&pledged, None)?,
        certificates_valid: ratio(valid, total),
    })
}

/// Called by the supplier-order lifecycle in the transition's transaction: remembers when
/// an order was confirmed.
pub async fn after_transition(conn: &impl ConnectionTrait, so_id: &str, to: SupplierOrderStatus) -> AppResult<()> {
    if to == SupplierOrderStatus::Confirmed {
        queries::confirmed(conn, so_id, now()).await?;
    }
    Ok(())
}
