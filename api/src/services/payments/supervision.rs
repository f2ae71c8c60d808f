//! The supervisor's side of payments: the 30-day reminder to the buyer's supervisor.
//! Until supervisors (finance offices) exist there is nobody to write to.
use super::queries::Open;
use crate::error::AppResult;
use sea_orm::ConnectionTrait;

/// Queues the 30-day reminder to the supervisor of the buyer's region, once (recorded as
/// `supervisor_30`). Returns the emails queued.
pub(super) async fn remind_supervisor(_conn: &impl ConnectionTrait, _o: &Open, _lead: &str) -> AppResult<usize> {
    Ok(0)
}
