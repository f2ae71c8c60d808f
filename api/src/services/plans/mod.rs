//! Yearly reserved-share plans (预留份额) of budget units: a unit (or its parent, the
//! 主管预算单位) writes and files its plan, the supervisor (finance office) of its region
//! approves or returns it; the approved plan is the unit's quota target. Declarations
//! (`no_canteen`, `shared_canteen`, `contracted_canteen`) stand in for or beside a budget.
//! The year's filing deadline, floor and monthly pace weights are the admin's settings.
//!
//! Every change is kept in `plan_events` (the history); the row in `plans` is the current
//! content. Transitions are conditional updates on `(version, status)`, so two concurrent
//! approvals apply once.
mod access;
mod approval;
mod attribution;
mod input;
pub mod queries;
mod seeded;
mod settings;
mod shared;
mod view;
mod write;

pub use access::{may_read, may_review, may_review_plan, may_write};
pub use approval::approve;
pub use attribution::{credited_buyer, credited_buyer_of};
pub use input::{ApprovePlan, Member, PutPlan, ReturnPlan};
pub use seeded::{seed_history, Step};
pub use settings::{get_settings, pace_fraction_ppm, put_settings, settings_of, PlanSettings, PutPlanSettings};
pub use shared::{first_per_line, largest_remainder, proportional, split_shared_in, traced_parts};
pub use view::{effective_target, get_plan, history, Plan, PlanEvent, PlanEventPage};
pub use write::{file, put_plan, return_plan, PlanSaved};
