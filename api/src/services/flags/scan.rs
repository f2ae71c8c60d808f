//! The scan: sequences the ledger, then runs each signal over what is new since the
//! bookmark (or over everything), raises the flags not raised before and moves the bookmark.
use super::ledger_queries::{self as lq, Median};
use super::order_queries as oq;
use super::queries::{self, Window};
use super::Raised;
use crate::config::Settings;
use crate::domain::{FlagKind, ProductCategory, Unit};
use crate::error::AppResult;
use crate::services::{now, products};
use crate::state::AppState;
use chrono::{NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult};
use serde::Serialize;
use std::time::Instant;
use utoipa::ToSchema;

/// The signals' thresholds (settings `flag_*`, environment `ASSIST_FLAG_*`; README "Fraud signals").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// A price below this percentage of the certified median is an outlier (50).
    pub price_low_pct: i64,
    /// A price above this percentage of the certified median is an outlier (200).
    pub price_high_pct: i64,
    /// A round trip is a full return within this many days of acceptance (30) ...
    pub round_trip_days: i64,
    /// ... this many times or more between one pair in a year (2).
    pub round_trip_min: i64,
    /// The last days of the year a spike is measured over (30).
    pub year_end_days: i64,
    /// Order splitting: each order under this amount in fen (500000 = 5,000.00) ...
    pub review_threshold_fen: i64,
    /// ... and this many orders or more in one day (5).
    pub split_min_orders: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            price_low_pct: 50,
            price_high_pct: 200,
            round_trip_days: 30,
            round_trip_min: 2,
            year_end_days: 30,
            review_threshold_fen: 500_000,
            split_min_orders: 5,
        }
    }
}

impl Thresholds {
    pub fn from_settings(s: &Settings) -> Thresholds {
        Thresholds {
            price_low_pct: s.flag_price_low_pct,
            price_high_pct: s.flag_price_high_pct,
            round_trip_days: s.flag_round_trip_days,
            round_trip_min: s.flag_round_trip_min,
            year_end_days: s.flag_year_end_days.get(),
            review_threshold_fen: s.flag_review_threshold_fen,
            split_min_orders: s.flag_split_min_orders,
        }
    }

    /// The start of the last `year_end_days` days of `year` (local midnight, China time), never
    /// before 1 January of `year`: 366 days before the next year of a common year is 31 December
    /// of the year before, whose month would have narrowed the window to December.
    pub fn year_end_from(&self, year: i32) -> Option<chrono::DateTime<Utc>> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1)?;
        let next = NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?;
        let days = u64::try_from(self.year_end_days.clamp(1, 366)).ok()?;
        let from = next.checked_sub_days(chrono::Days::new(days))?.max(first);
        crate::services::clock::start_of(from)
    }
}

/// What one scan did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagScanSummary {
    pub full: bool,
    /// The ledger positions looked at: after `from_seq`, up to `to_seq`.
    pub from_seq: i64,
    pub to_seq: i64,
    /// Cases found that were not flagged before, and flags newly raised (fewer only when a
    /// concurrent scan raised some first).
    pub found: usize,
    pub raised: u64,
    /// Reversals appended for credits that came under a flag after it was confirmed (a split's
    /// supplier order accepted later, a later sale from a lot of false origin, a later trade
    /// between related parties).
    pub reapplied: u64,
    /// Each signal: the cases it found and how long it took.
    pub signals: Vec<SignalRun>,
}

/// One signal's part of a scan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignalRun {
    pub kind: FlagKind,
    pub found: usize,
    pub ms: u64,
}

/// The scheduled job's work: sequence the ledger (so every committed entry has a position),
/// then scan incrementally, or fully with `full`.
pub async fn run(state: &AppState, full: bool) -> AppResult<FlagScanSummary> {
    crate::services::ledger::sequence(state).await?;
    let mut summary = scan(&state.db, &Thresholds::from_settings(&state.settings), full).await?;
    summary.reapplied = super::reversal::reapply_confirmed(&state.db).await?;
    Ok(summary)
}

/// `POST /flags/scan` (admin): a scan now, full with `full`.
pub async fn run_now(state: &AppState, caller: &crate::auth::Caller, full: bool) -> AppResult<FlagScanSummary> {
    caller.require(&[crate::auth::Role::Admin])?;
    run(state, full).await
}

#[derive(Debug, FromQueryResult)]
struct Pair {
    category: String,
    unit: String,
}

/// The certified median of each category and unit that has certified products (the same median
/// as the certification price check, `products::median_price`).
async fn medians(conn: &impl ConnectionTrait) -> AppResult<Vec<Median>> {
    let st = crate::services::sql(
        conn,
        "SELECT DISTINCT category, CASE WHEN sale_mode = $2 THEN $3 ELSE unit END AS unit FROM products WHERE status = $1",
        vec![
            crate::domain::ProductStatus::Certified.into(),
            crate::domain::SaleMode::PiecesByWeight.as_str().into(),
            Unit::Kg.as_str().into(),
        ],
    );
    let mut out = Vec::new();
    for p in Pair::find_by_statement(st).all(conn).await? {
        let (Some(c), Some(u)) = (ProductCategory::parse(&p.category), Unit::parse(&p.unit)) else {
            continue;
        };
        let (Some(m), n) = products::median_price(conn, c, u).await? else {
            continue;
        };
        let twice = (m * rust_decimal::Decimal::from(200)).round();
        if let Ok(twice_median_fen) = i64::try_from(twice) {
            out.push(Median {
                category: p.category,
                unit: p.unit,
                twice_median_fen,
                compared_with: n,
            });
        }
    }
    Ok(out)
}

/// One scan over the database, without sequencing (the benchmark calls this directly).
pub async fn scan(db: &DatabaseConnection, t_: &Thresholds, full: bool) -> AppResult<FlagScanSummary> {
    let started = now();
    let mark = queries::bookmark(db).await?;
    let top = queries::top_position(db).await?;
    let (window, since) = if full || mark.last_at.is_none() {
        (Window::Full, None)
    } else {
        // Orders and lots: a margin before the last run covers transactions that were still open.
        let since = mark.last_at.map(|at| at - chrono::Duration::hours(1));
        (queries::positions(db, mark.last_seq, top).await?, since)
    };
    let mut found = Vec::new();
    let mut signals = Vec::new();
    let mut took = |kind: FlagKind, t: Instant, cases: Vec<Raised>| {
        signals.push(SignalRun {
            kind,
            found: cases.len(),
            ms: t.elapsed().as_millis() as u64,
        });
        found.extend(cases);
    };
    let known = queries::known(db).await?;
    let t = Instant::now();
    let medians = medians(db).await?;
    took(
        FlagKind::PriceOutlier,
        t,
        lq::price_outliers(db, window, &medians, t_, &known).await?,
    );
    let t = Instant::now();
    let mut spikes = Vec::new();
    for year in lq::years(db, window).await? {
        spikes.extend(lq::year_end_spikes(db, window, year, t_, &known).await?);
    }
    took(FlagKind::YearEndSpike, t, spikes);
    let t = Instant::now();
    took(
        FlagKind::RelatedParties,
        t,
        lq::related_parties(db, window, &known).await?,
    );
    let t = Instant::now();
    took(FlagKind::RoundTrip, t, oq::round_trips(db, since, t_, &known).await?);
    let t = Instant::now();
    took(
        FlagKind::OrderSplitting,
        t,
        oq::order_splits(db, since, t_, &known).await?,
    );
    let t = Instant::now();
    took(
        FlagKind::OriginMismatch,
        t,
        oq::origin_mismatches(db, since, &known).await?,
    );
    let raised = queries::raise(db, &found).await?;
    queries::save_bookmark(db, top, started).await?;
    Ok(FlagScanSummary {
        full: window == Window::Full,
        from_seq: match window {
            Window::Full => 0,
            Window::Positions { after, .. } => after,
        },
        to_seq: top,
        found: found.len(),
        raised,
        reapplied: 0,
        signals,
    })
}
