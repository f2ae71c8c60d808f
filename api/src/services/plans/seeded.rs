//! History rows for a plan written whole rather than through the routes (the demo data):
//! each step as the routes record it, with the plan as it stood after that step.
use super::queries;
use super::view::view;
use crate::domain::{PlanAction, PlanStatus};
use crate::error::{AppError, AppResult};
use crate::services::new_id;
use entity::{plan_events, plans};
use sea_orm::{ConnectionTrait, Set};

/// One step of a plan's history: what was done, the state it left, by whom.
pub struct Step {
    pub action: PlanAction,
    pub status: PlanStatus,
    pub reason: Option<String>,
    pub by_user_id: String,
    pub by_org_id: String,
}

/// Writes the history of `plan` (as stored after the last step, whose version is the number
/// of steps): one event per step, versions 1, 2, …, each with the plan as it then was.
pub async fn seed_history(conn: &impl ConnectionTrait, plan: &plans::Model, steps: Vec<Step>) -> AppResult<()> {
    for (i, s) in steps.into_iter().enumerate() {
        let mut m = plan.clone();
        m.version = i32::try_from(i + 1).map_err(AppError::internal)?;
        m.status = s.status.as_str().to_string();
        if s.status != PlanStatus::Approved {
            m.approved_at = None;
            m.approved_target_fen = None;
            m.approved_budget_fen = None;
            m.approved_share_ppm = None;
        }
        if s.status == PlanStatus::Draft {
            m.filed_at = None;
        }
        if s.status != PlanStatus::Returned {
            m.return_reason = None;
        }
        let at = m.filed_at.unwrap_or(m.created_at);
        let v = view(conn, m).await?;
        queries::add_event(
            conn,
            plan_events::ActiveModel {
                id: Set(new_id()),
                buyer_org_id: Set(plan.buyer_org_id.clone()),
                year: Set(plan.year),
                version: Set(v.version),
                action: Set(s.action.as_str().to_string()),
                status: Set(s.status.as_str().to_string()),
                by_user_id: Set(s.by_user_id),
                by_org_id: Set(s.by_org_id),
                reason: Set(s.reason),
                snapshot: Set(serde_json::to_string(&v).map_err(AppError::internal)?),
                at: Set(at),
            },
        )
        .await?;
    }
    Ok(())
}
