//! Supervision of budget units by finance offices (财政部门): the region a supervisor
//! covers, which units lie in it, their yearly plans' progress against the calendar.
//!
//! A supervisor (role `supervisor`, organisation kind `finance_office`) sees every
//! organisation whose region is its own or lies under it (by the regions' parent
//! chain), and nothing outside it: anything else is 404, as everywhere.
mod correct;
mod counties;
mod export;
mod notices;
mod org_set;
pub mod queries;
mod rankings;
mod scope;
mod units;
mod units_queries;

pub use correct::{correct, Correction, NewCorrection};
pub use counties::{counties, CountiesPage, CountiesQuery, CountyFigures};
pub use export::{counties_csv, counties_xlsx, units_csv_chunks, units_xlsx};
pub use notices::{send_monthly, NoticesSent};
pub use org_set::OrgSet;
pub use scope::{in_scope, may_supervise, org_in_scope, region_of, scope_orgs, RegionScope};
pub use units::{units, RegionProgress, UnitProgress, UnitsQuery, UnitsReport};
