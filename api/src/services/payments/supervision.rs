//! The supervisor's side of payments: the 30-day reminder to the finance office that
//! supervises the buyer (the nearest one up the buyer's region chain).
use super::queries::{self, Open};
use crate::domain::ReminderStage;
use crate::error::AppResult;
use crate::services::{now, organizations, outbox, regions};
use sea_orm::ConnectionTrait;

/// Queues the 30-day reminder to the supervisor of a budget-unit buyer's region, once
/// (recorded as `supervisor_30`). Returns the emails queued (0 when no finance office covers
/// the buyer, or the buyer is no budget unit).
pub(super) async fn remind_supervisor(conn: &impl ConnectionTrait, o: &Open, lead: &str) -> AppResult<usize> {
    let buyer = organizations::find(conn, &o.buyer_org_id).await?;
    if !buyer.budget_unit {
        return Ok(0);
    }
    let mut code = Some(buyer.region_code.clone());
    let mut office = None;
    // A region chain is at most five levels deep; the bound guards against a cycle in the data.
    for _ in 0..8 {
        let Some(c) = code else { break };
        if let Some(f) = queries::finance_office_of(conn, &c).await? {
            office = Some(f);
            break;
        }
        code = regions::find(conn, &c).await?.and_then(|r| r.parent_code);
    }
    let Some(office) = office else { return Ok(0) };
    if queries::claim_reminder(conn, &o.id, ReminderStage::Supervisor30, now()).await? != 1 {
        return Ok(0);
    }
    outbox::enqueue(
        conn,
        &office.contact_email,
        &format!("{} is 30 days late paying supplier order {}", buyer.name, o.id),
        &format!(
            "{lead}\n\nThe buyer, {}, is a budget unit in your region.\n",
            buyer.name
        ),
    )
    .await?;
    Ok(1)
}
