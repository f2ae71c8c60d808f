//! Fraud signals, with reasons (issue 14). A scan (`scan.rs`, run by `jobs::flags`) raises
//! `flags` on the ledger and the orders, each with its kind, its evidence (ids and figures)
//! and a state `open -> dismissed | confirmed`. One flag per (kind, evidence key): a re-run
//! raises nothing new. The scan is incremental (ledger positions and order times since the
//! last run) with a full scan on demand; each signal is one set-based query
//! (`ledger_queries.rs`, `order_queries.rs`) that returns only the cases it finds.
//! A confirmed flag reverses the entries it names out of the credit totals (`decide.rs`).
mod decide;
mod export;
mod ledger_queries;
mod listing;
mod order_queries;
mod queries;
mod reversal;
mod scan;

pub use decide::{decide, may_decide, Decision};
pub use export::{flags_csv, flags_xlsx};
pub use listing::{get, list, may_read, FlagQuery};
pub use queries::Window;
pub use reversal::flag_reversals_among;
pub use scan::{run, run_now, scan, FlagScanSummary, Thresholds};

use crate::domain::{FlagKind, FlagState, OrgId};
use serde::Serialize;
use utoipa::ToSchema;

/// A fraud signal and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Flag {
    pub id: crate::domain::FlagId,
    pub kind: FlagKind,
    pub state: FlagState,
    /// The ids and figures behind the flag (`entry_ids`: the ledger entries it names, if any).
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub buyer_org_id: Option<OrgId>,
    pub supplier_org_id: Option<OrgId>,
    pub year: i32,
    pub raised_at: chrono::DateTime<chrono::Utc>,
    /// The evaluator's note when dismissed or confirmed.
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    /// For a confirmed flag: the reversal entries that took the named entries out of the totals.
    pub reversals: Vec<FlagReversal>,
}

/// A reversal entry appended when a flag was confirmed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagReversal {
    /// The entry reversed.
    pub entry_id: String,
    pub reversal_entry_id: String,
    /// What was taken out of the totals: what its buyer still held of the entry's line, up to
    /// the entry's amount or, for a lot's flag (`origin_mismatch`), the lot's part of it.
    pub amount: crate::domain::Money,
    pub reason: String,
}

crate::page_type!(FlagPage, Flag);

/// An amount in fen as a yuan string with two places ("-12.30"), for evidence.
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// A case a signal found: what makes it unique and what shows it.
#[derive(Debug, Clone)]
pub(crate) struct Raised {
    pub kind: FlagKind,
    pub key: String,
    pub evidence: serde_json::Value,
    pub buyer: Option<String>,
    pub supplier: Option<String>,
    pub year: i32,
}
