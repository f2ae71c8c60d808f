//! Unsold-produce alerts (滞销预警) and the emergency response (应急处置, 集中采购).
//!
//! Signals per product are computed set-based (a handful of grouped queries over
//! every certified product with stock, never one query per product):
//! - available: remaining stock of lots not past best-before, minus reservations;
//! - average daily sales: net accepted ledger quantity of the last 28 days ÷ 28;
//! - days of cover: available ÷ that average (none = infinite when nothing sold);
//! - days to expiry: to the earliest best-before among lots still holding stock;
//! - days since the last sale (or since the product was listed, when never sold);
//! - the supplier's open backlog reports (`POST /products/{id}/unsold-reports`).
//!
//! Rules per category turn signals into a level: `yellow < orange < red`.
//! Days-of-cover thresholds rise with the level (`yellow_days < orange_days <
//! red_days`): a stock lasting longer than `red_days` at the current pace is red.
//! No sale for `no_sales_days` is orange. Stock that cannot be sold at the
//! current pace before its best-before, when that is within `expiry_window_days`,
//! is red. A manual backlog report opens at least a yellow alert.
//!
//! The scan opens an alert (at most one unresolved per product: enforced in code
//! and by the partial unique index `ux_alerts_open_product`), raises it when
//! things get worse (never lowers it), and resolves it when every signal is back
//! under every threshold. Each change runs in a conditional statement, so two
//! scans racing each other change each alert once. On opening and on each raise
//! the matched buyers are written to `alert_matches` (what a buyer's view of
//! alerts reads) and, with the county office(s) of the origin county, emailed
//! through the outbox in the same transaction, once per alert, level and
//! recipient (`alert_notifications` has that primary key).
//!
//! Layout: `rules` (thresholds), `evaluate` (pure: signals → level), `signals`
//! and `matching` (loaded once per scan), `scan` (what changes), `changes`
//! (writing an open, a raise, a resolve), `notifications` (emails), `listing`
//! (reading, visibility), `respond` (acknowledge, resolve), `unsold` (backlog
//! reports), `pledge`; every SQL statement is in `queries`.
mod changes;
mod evaluate;
mod listing;
mod matching;
mod notifications;
mod pledge;
mod queries;
mod respond;
mod rules;
mod scan;
mod signals;
mod unsold;

pub use evaluate::{evaluate, AlertReasonDetail, Evaluation, Signal};
pub use listing::{events, get, list, may_see, Alert, AlertEvent, AlertEventPage, AlertFilter, AlertPage, Pledge};
pub use matching::{MatchedBuyer, Matcher};
pub use pledge::{list_pledges, may_pledge, pledge, NewPledge, PledgeList, PledgeResult};
pub use respond::{act, may_act, AlertAction};
pub use rules::{list_rules, put_rule, AlertRule, AlertRuleList, PutAlertRule, Rule};
pub use scan::{scan, scan_at, scan_now, ScanSummary};
pub use signals::load_signals;
pub use unsold::{
    get_report, list_reports, may_read_reports, report_unsold, NewUnsoldReport, UnsoldReport, UnsoldReportPage,
};

use crate::domain::Quantity;
use crate::error::{AppError, AppResult};

/// The window of the average daily sales.
pub const SALES_WINDOW_DAYS: i64 = 28;

/// A value read back from a column holding a domain type's text: anything else
/// is a corrupt row, not the caller's fault.
fn stored<T: std::str::FromStr>(s: &str, what: &str) -> AppResult<T> {
    s.parse()
        .map_err(|_| AppError::internal(format!("stored {what} {s:?} is not valid")))
}

fn stored_opt<T: std::str::FromStr>(s: Option<String>, what: &str) -> AppResult<Option<T>> {
    s.map(|s| stored(&s, what)).transpose()
}

/// A stored quantity in thousandths.
fn stored_qty(milli: i64, what: &str) -> AppResult<Quantity> {
    Quantity::from_minor(milli).map_err(|e| AppError::internal(format!("stored {what}: {e}")))
}

/// A computed quantity (a sum of stock or sales), kept within the bound: signals
/// saturate rather than fail a scan.
fn saturating_qty(milli: i64) -> Quantity {
    Quantity::from_minor(milli.clamp(0, Quantity::MAX)).unwrap_or_default()
}
