//! The monthly notices: each laggard budget unit is told why it lags, and each finance office
//! gets a summary of its region's laggards, once per month (a `supervision_notices` row per
//! month and organisation, written with the emails in one transaction).
use super::units::units_in;
use crate::domain::OrgKind;
use crate::error::AppResult;
use crate::services::{now, organizations, outbox};
use crate::state::AppState;
use entity::supervision_notices;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct NoticesSent {
    /// Laggard units told this run.
    pub units: usize,
    /// Supervisors sent a summary this run.
    pub summaries: usize,
}

/// Claims the month's notice of `org`: true the first time only.
async fn claim(conn: &impl ConnectionTrait, year: i32, month: i32, org: &str) -> AppResult<bool> {
    let r = supervision_notices::Entity::insert(supervision_notices::ActiveModel {
        year: Set(year),
        month: Set(month),
        org_id: Set(org.to_string()),
        sent_at: Set(now()),
    })
    .on_conflict(
        OnConflict::columns([
            supervision_notices::Column::Year,
            supervision_notices::Column::Month,
            supervision_notices::Column::OrgId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(r == 1)
}

/// Sends this month's notices that are not sent yet. A unit's pace is judged as of the start
/// of the month (the months gone by), not of the hour the job runs: the first run of January,
/// minutes after midnight, would otherwise tell every unit of the new year it lags.
pub async fn send_monthly(state: &AppState) -> AppResult<NoticesSent> {
    let (year, month) = crate::services::clock::year_month(now());
    let month_start = chrono::NaiveDate::from_ymd_opt(year, month, 1)
        .ok_or_else(|| crate::error::AppError::internal("the month has no first day"))?;
    let pace_at = crate::services::clock::start_of(month_start)
        .ok_or_else(|| crate::error::AppError::internal("the month's start is out of range"))?;
    let month = month as i32;
    let offices = entity::organizations::Entity::find()
        .filter(entity::organizations::Column::Kind.eq(OrgKind::FinanceOffice))
        .all(&state.db)
        .await?;
    let mut sent = NoticesSent::default();
    for office in offices {
        if organizations::status_of(&office)? != crate::domain::OrgStatus::Active {
            continue;
        }
        let report = units_in(&state.db, year, Some(office.region_code.clone()), None, pace_at).await?;
        let laggards: Vec<_> = report.units.iter().filter(|u| !u.laggard_reasons.is_empty()).collect();
        let txn = state.db.begin().await?;
        let mut lines = Vec::new();
        for u in &laggards {
            let reasons = u
                .laggard_reasons
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            lines.push(format!("- {} ({}): {reasons}", u.name, u.org_id));
            if claim(&txn, year, month, &u.org_id.to_string()).await? {
                let body = format!(
                    "Your reserved-share progress for {year} lags behind the calendar: {reasons}.\n\
                     Target: {}; credited: {}; expected by {month_start}: {}.\n",
                    u.target
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| "no approved plan".into()),
                    u.credited,
                    u.expected_by_today.map(|m| m.to_string()).unwrap_or_else(|| "-".into()),
                );
                outbox::enqueue_to_org(
                    &txn,
                    u.org_id,
                    &format!("Reserved share {year}: behind the calendar"),
                    &body,
                )
                .await?;
                sent.units += 1;
            }
        }
        if !laggards.is_empty() && claim(&txn, year, month, &office.id).await? {
            let body = format!(
                "{} of {} budget units in your region lag behind for {year}:\n{}\n",
                laggards.len(),
                report.units.len(),
                lines.join("\n")
            );
            outbox::enqueue(
                &txn,
                &office.contact_email,
                &format!("Laggard budget units {year}-{month:02}"),
                &body,
            )
            .await?;
            sent.summaries += 1;
        }
        txn.commit().await?;
    }
    Ok(sent)
}
