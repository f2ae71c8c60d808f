//! The scheduled pass (leader-locked, see `jobs`): flags supplier orders not delivered by
//! their `deliver_by` and emails their supplier once; reminds buyers of unpaid invoices on
//! the due date, 7 and 30 days after, each once.
use super::queries::{self, Open};
use crate::domain::{Money, ReminderStage};
use crate::error::{AppError, AppResult};
use crate::services::{now, outbox};
use crate::state::AppState;
use chrono::NaiveDate;
use sea_orm::TransactionTrait;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub flagged_late: usize,
    pub reminders: usize,
}

/// One pass for `day` (today, in the scheduled job). Safe to run again: lateness is flagged
/// and each reminder recorded with a conditional write, and its email queued in the same
/// transaction, so a second pass (or a second process) sends nothing twice.
pub async fn run_due(state: &AppState, day: NaiveDate) -> AppResult<RunSummary> {
    let mut sum = RunSummary::default();
    for o in queries::newly_late(&state.db, day).await? {
        let txn = state.db.begin().await?;
        if queries::mark_late(&txn, &o.id, now()).await? == 1 {
            let by = o.deliver_by.map(|d| d.to_string()).unwrap_or_default();
            outbox::enqueue_to_org(
                &txn,
                &o.supplier_org_id,
                &format!("Supplier order {} is late", o.id),
                &format!(
                    "Supplier order {} was due for delivery by {by} and is not delivered.\n\
                     The buyer may now cancel it, even if shipped. Lateness is kept on your record.\n",
                    o.id
                ),
            )
            .await?;
            sum.flagged_late += 1;
        }
        txn.commit().await?;
    }
    for o in queries::due_by(&state.db, day).await? {
        sum.reminders += remind(state, &o, day).await?;
    }
    Ok(sum)
}

/// The stages an unpaid supplier order due on `due` has reached on `day`, in order.
fn stages(due: NaiveDate, day: NaiveDate) -> Vec<ReminderStage> {
    let overdue = (day - due).num_days();
    let mut out = Vec::new();
    if overdue >= 0 {
        out.push(ReminderStage::Due);
    }
    if overdue >= 7 {
        out.push(ReminderStage::Overdue7);
    }
    if overdue >= 30 {
        out.push(ReminderStage::Overdue30);
    }
    out
}

/// Records each stage reached and not yet sent; emails the buyer once, for the furthest of
/// them (a pass that finds an order 30 days overdue does not send three emails).
async fn remind(state: &AppState, o: &Open, day: NaiveDate) -> AppResult<usize> {
    let Some(due) = o.due_on else { return Ok(0) };
    let txn = state.db.begin().await?;
    // Read again under the row's lock: a payment recorded since the list was read is not
    // reminded of, and the email names what is owed now.
    let owed = super::owed::lock_owed(&txn, &o.id).await?;
    if owed <= 0 {
        txn.commit().await?;
        return Ok(0);
    }
    let t = now();
    let mut newest = None;
    for stage in stages(due, day) {
        if queries::claim_reminder(&txn, &o.id, stage, t).await? == 1 {
            newest = Some(stage);
        }
    }
    let open = Money::from_minor(owed).map_err(AppError::internal)?;
    let overdue = (day - due).num_days();
    let Some(stage) = newest else {
        // The buyer was reminded already. The supervisor's reminder is tried on every pass
        // from 30 days on until one is sent: no finance office may have covered the buyer
        // when the buyer's 30-day reminder went out.
        let mut sent = 0;
        if overdue >= 30 {
            sent += super::supervision::remind_supervisor(&txn, o, &overdue_lead(o, open, due, overdue)).await?;
        }
        txn.commit().await?;
        return Ok(sent);
    };
    let (subject, lead) = match stage {
        ReminderStage::Due => (
            format!("Payment due today for supplier order {}", o.id),
            format!("Payment of {open} for supplier order {} is due today ({due}).", o.id),
        ),
        _ => (
            format!("Payment overdue {overdue} days for supplier order {}", o.id),
            overdue_lead(o, open, due, overdue),
        ),
    };
    let rule = if o.regulated {
        "\nThe supplier is a small or medium enterprise: 保障中小企业款项支付条例 requires payment within 30 days of delivery (at most 60 where the contract says so).\n"
    } else {
        "\n"
    };
    outbox::enqueue_to_org(&txn, &o.buyer_org_id, &subject, &format!("{lead}\n{rule}")).await?;
    let mut sent = 1;
    if stage == ReminderStage::Overdue30 {
        sent += super::supervision::remind_supervisor(&txn, o, &lead).await?;
    }
    txn.commit().await?;
    Ok(sent)
}

fn overdue_lead(o: &Open, open: Money, due: NaiveDate, overdue: i64) -> String {
    format!(
        "Payment of {open} for supplier order {} was due on {due} and is {overdue} days overdue.",
        o.id
    )
}
