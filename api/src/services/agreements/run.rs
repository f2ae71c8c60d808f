//! The standing-order generator: every due period of every active agreement gets one
//! order, placed in the same transaction as the period's run row.
use super::{lines_of, queries, RunSummary, Shortfall};
use crate::auth::{Caller, Role};
use crate::domain::{AgreementPeriod, AgreementRunStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::orders::{self, IdempotencyKey, NewOrder, NewOrderLine, OrderSource, Purchaser};
use crate::services::{new_id, now, outbox, stored, today};
use crate::state::AppState;
use entity::agreements;
use sea_orm::TransactionTrait;
use std::collections::HashMap;

/// The first day of period `n` (0-based) of `a`.
fn period_start(a: &agreements::Model, n: u32) -> Option<chrono::NaiveDate> {
    if AgreementPeriod::parse(&a.every) == Some(AgreementPeriod::Week) {
        a.starts_on.checked_add_days(chrono::Days::new(7 * u64::from(n)))
    } else {
        a.starts_on.checked_add_months(chrono::Months::new(n))
    }
}

/// The periods of `a` that have started by `upto` (first days, in order), leaving out those
/// that had ended before it was approved (business day of `approved_at`): an agreement
/// approved late starts with the period under way, not with an order for every week missed.
pub fn due_periods(a: &agreements::Model, upto: chrono::NaiveDate) -> Vec<chrono::NaiveDate> {
    let last = upto.min(a.ends_on);
    let approved_on = a.approved_at.map(crate::services::clock::local_date);
    let mut out = Vec::new();
    for n in 0u32..2000 {
        match period_start(a, n) {
            Some(s) if s <= last => {
                let ended_before = match (approved_on, period_start(a, n + 1)) {
                    (Some(on), Some(next)) => next <= on,
                    _ => false,
                };
                if !ended_before {
                    out.push(s);
                }
            }
            _ => break,
        }
    }
    out
}

/// Places every due period's order of every active agreement (admin trigger and scheduled job).
pub async fn run_due(state: &AppState) -> AppResult<RunSummary> {
    let db = &state.db;
    let today = today();
    let active = queries::active_started(db, today).await?;
    let mut done: HashMap<String, Vec<String>> = HashMap::new();
    for r in queries::runs_of(db, active.iter().map(|a| a.id.clone()).collect()).await? {
        done.entry(r.agreement_id).or_default().push(r.period);
    }
    let mut sum = RunSummary::default();
    for a in active {
        let done = done.remove(&a.id).unwrap_or_default();
        for start in due_periods(&a, today) {
            let period = start.to_string();
            if done.contains(&period) {
                sum.skipped += 1;
                continue;
            }
            run_period(state, &a, start, &period, &mut sum).await?;
        }
    }
    Ok(sum)
}

/// One period: the order and its run row commit together; a refusal of the order
/// (stock short, product no longer orderable) records a shortfall instead.
async fn run_period(
    state: &AppState,
    a: &agreements::Model,
    start: chrono::NaiveDate,
    period: &str,
    sum: &mut RunSummary,
) -> AppResult<()> {
    let db = &state.db;
    let purchaser = Purchaser {
        org_id: stored(&a.buyer_org_id)?,
        user_id: a.created_by.as_deref().and_then(|u| u.parse().ok()),
    };
    let req = NewOrder {
        lines: lines_of(a)?
            .into_iter()
            .map(|l| NewOrderLine {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect(),
        credit_category: stored(&a.credit_category)?,
        pairing_id: a.pairing_id.as_deref().map(stored).transpose()?,
        deliver_to: a.deliver_to.clone(),
        // A period placed after it started (approved late, or the job was down) is due now.
        requested_date: start.max(today()),
        payment_terms: None,
        deliver_by: None,
    };
    let key = IdempotencyKey::parse(&format!("agreement:{}:{}", a.id, period))?;
    let source = OrderSource::Agreement {
        agreement_id: stored(&a.id)?,
        period: period.to_string(),
    };
    let txn = db.begin().await?;
    // Still active, and stays so until this commits: a cancellation that came after the list
    // was read waits for this period, or this period sees it and places nothing.
    if !queries::lock_active(&txn, &a.id).await? {
        txn.rollback().await?;
        sum.skipped += 1;
        return Ok(());
    }
    match orders::place_order(&txn, &purchaser, req, &key, source).await {
        Ok(placed) => {
            let order_id = placed.order().id.to_string();
            let recorded = queries::insert_run(
                &txn,
                new_id(),
                &a.id,
                period,
                AgreementRunStatus::Placed,
                Some(order_id),
                None,
                now(),
            )
            .await?;
            if recorded == 0 && !placed.is_replay() {
                // Another run recorded this period first: its outcome stands, this order goes.
                txn.rollback().await?;
                sum.skipped += 1;
                return Ok(());
            }
            txn.commit().await?;
            if placed.is_replay() {
                sum.skipped += 1;
            } else {
                orders::stock_changed(state).await;
                sum.placed += 1;
            }
        }
        Err(AppError::Validation { errors, .. }) => {
            txn.rollback().await?;
            record_shortfall(state, a, period, &errors, sum).await?;
        }
        Err(e) => {
            txn.rollback().await?;
            tracing::warn!(agreement = %a.id, period, error = %e, "standing order not placed; will retry");
        }
    }
    Ok(())
}

async fn record_shortfall(
    state: &AppState,
    a: &agreements::Model,
    period: &str,
    errors: &[FieldError],
    sum: &mut RunSummary,
) -> AppResult<()> {
    let shortfall: Vec<Shortfall> = errors
        .iter()
        .map(|e| Shortfall {
            field: e.field.clone(),
            message: e.message.clone(),
        })
        .collect();
    let text = serde_json::to_string(&shortfall).map_err(AppError::internal)?;
    let txn = state.db.begin().await?;
    let recorded = queries::insert_run(
        &txn,
        new_id(),
        &a.id,
        period,
        AgreementRunStatus::Shortfall,
        None,
        Some(text),
        now(),
    )
    .await?;
    if recorded == 1 {
        let mut body = format!(
            "The order of standing agreement {} for the period starting {} could not be placed:\n\n",
            a.id, period
        );
        for e in errors {
            body.push_str(&format!("- {}: {}\n", e.field, e.message));
        }
        outbox::enqueue_to_org(
            &txn,
            &a.buyer_org_id,
            &format!("Shortfall on standing agreement {} ({period})", a.id),
            &body,
        )
        .await?;
        sum.shortfalls += 1;
    } else {
        sum.skipped += 1;
    }
    txn.commit().await?;
    Ok(())
}

/// Runs the generator now (admin).
pub async fn run_now(state: &AppState, caller: &Caller) -> AppResult<RunSummary> {
    caller.require(&[Role::Admin])?;
    run_due(state).await
}
