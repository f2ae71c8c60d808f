//! Reports for evaluators and each organisation's own slice: yearly ledger
//! totals grouped by buyer, supplier, county, pairing or month, split by credit
//! category and by origin poverty status, as JSON, CSV or XLSX; and the OCDS 1.1
//! release package of the year's accepted supplier orders.
//!
//! Every figure is one SQL GROUP BY at request time (no cache): unscoped groupings
//! by buyer, supplier, county and month read `ledger_rollup` (folded in by the
//! ledger's sequencer per batch) plus the entries not yet folded; scoped slices and pairings read
//! `ledger_entries` through its indexes. Either way a report reflects every append
//! that returned before it was asked for. The SQL of the folder is in [`queries`].
mod export;
mod ocds;
pub mod queries;
mod summary;

pub use export::{filename, to_csv, to_xlsx, AMOUNT_HEADINGS};
pub use ocds::{may_export_ocds, ocds, OcdsQuery, OCID_PREFIX};
pub use queries::{rollup_sql, summary_sql, summary_values};
pub use summary::{parse_query, summary, RankingRow, Summary, SummaryQuery, SummaryRow};
