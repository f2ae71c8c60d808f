//! What the scan and the response write to alerts, their history, matches and notifications.
use super::{ph, Time};
use crate::domain::{AlertEventKind, AlertId, AlertLevel, AlertStatus, UnsoldReportStatus};
use crate::error::AppResult;
use crate::services::alerts::evaluate::{Evaluation, Signal};
use crate::services::alerts::matching::MatchedBuyer;
use crate::services::{new_id, sql};
use entity::{alert_events, alert_matches, alerts, unsold_reports};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value};

/// One alert to open.
pub struct NewAlert<'a> {
    pub id: AlertId,
    pub signal: &'a Signal,
    pub eval: &'a Evaluation,
    pub level: AlertLevel,
    pub reasons: String,
    pub matched: String,
}

fn days(d: Option<i64>) -> Option<i32> {
    d.map(|d| d.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// Inserts the alerts in one statement, skipping a product that already has an
/// unresolved alert (a racing scan's wins); returns the ids actually inserted.
pub async fn insert_alerts(conn: &impl ConnectionTrait, items: &[NewAlert<'_>], at: Time) -> AppResult<Vec<String>> {
    let mut text = String::from(
        "INSERT INTO alerts (id, product_id, supplier_org_id, origin_region_code, origin_county_code, category, level, level_rank, \
         status, reasons, available_milli, avg_daily_sales_milli, days_of_cover, days_to_expiry, days_since_last_sale, matched_buyers, \
         opened_at, updated_at) VALUES ",
    );
    let mut values: Vec<Value> = Vec::with_capacity(items.len() * 16 + 2);
    let t = ph(&mut values, at);
    let open = ph(&mut values, AlertStatus::Open);
    for (i, a) in items.iter().enumerate() {
        let s = a.signal;
        let cols = [
            ph(&mut values, a.id),
            ph(&mut values, s.product_id),
            ph(&mut values, s.supplier_org_id),
            ph(&mut values, s.origin_region_code.clone()),
            ph(&mut values, s.origin_county_code.clone()),
            ph(&mut values, s.category),
            ph(&mut values, a.level),
            ph(&mut values, a.level.rank()),
            open.clone(),
            ph(&mut values, a.reasons.clone()),
            ph(&mut values, s.available),
            ph(&mut values, a.eval.avg_daily),
            ph(&mut values, days(a.eval.days_of_cover)),
            ph(&mut values, days(s.days_to_expiry)),
            ph(&mut values, days(s.days_since_last_sale)),
            ph(&mut values, a.matched.clone()),
            t.clone(),
            t.clone(),
        ];
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("({})", cols.join(", ")));
    }
    text.push_str(" ON CONFLICT DO NOTHING RETURNING id");
    let rows = conn.query_all_raw(sql(conn, &text, values)).await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", "id").map_err(Into::into))
        .collect()
}

/// Raises an unresolved alert to `level` (only upwards) with fresh figures; false
/// when it is resolved or already that high (a racing scan raised it). A raise
/// puts an acknowledged alert back to `open`: things got worse since.
pub async fn raise(conn: &impl ConnectionTrait, a: &NewAlert<'_>, at: Time) -> AppResult<bool> {
    use alerts::Column as C;
    let res = alerts::Entity::update_many()
        .set(alerts::ActiveModel {
            level: Set(a.level.as_str().into()),
            level_rank: Set(a.level.rank()),
            status: Set(AlertStatus::Open.as_str().into()),
            reasons: Set(a.reasons.clone()),
            available_milli: Set(a.signal.available.minor()),
            avg_daily_sales_milli: Set(a.eval.avg_daily.minor()),
            days_of_cover: Set(days(a.eval.days_of_cover)),
            days_to_expiry: Set(days(a.signal.days_to_expiry)),
            days_since_last_sale: Set(days(a.signal.days_since_last_sale)),
            matched_buyers: Set(a.matched.clone()),
            updated_at: Set(at),
            ..Default::default()
        })
        .filter(C::Id.eq(a.id))
        .filter(C::Status.is_in(AlertStatus::unresolved()))
        .filter(C::LevelRank.lt(a.level.rank()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Resolves an unresolved alert; false when it already was.
pub async fn resolve(
    conn: &impl ConnectionTrait,
    id: AlertId,
    by: Option<String>,
    note: &str,
    at: Time,
) -> AppResult<bool> {
    use alerts::Column as C;
    let res = alerts::Entity::update_many()
        .set(alerts::ActiveModel {
            status: Set(AlertStatus::Resolved.as_str().into()),
            resolved_at: Set(Some(at)),
            resolved_by: Set(by),
            resolution_note: Set(Some(note.to_string())),
            updated_at: Set(at),
            ..Default::default()
        })
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in(AlertStatus::sources_of(AlertStatus::Resolved)))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Acknowledges an open alert; false when it is not open.
pub async fn acknowledge(conn: &impl ConnectionTrait, id: AlertId, by: String, at: Time) -> AppResult<bool> {
    use alerts::Column as C;
    let res = alerts::Entity::update_many()
        .set(alerts::ActiveModel {
            status: Set(AlertStatus::Acknowledged.as_str().into()),
            acknowledged_at: Set(Some(at)),
            acknowledged_by: Set(Some(by)),
            updated_at: Set(at),
            ..Default::default()
        })
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in(AlertStatus::sources_of(AlertStatus::Acknowledged)))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Replaces the buyers an alert is matched to (the relation a buyer's view reads).
pub async fn replace_matches(conn: &impl ConnectionTrait, id: AlertId, matched: &[MatchedBuyer]) -> AppResult<()> {
    alert_matches::Entity::delete_many()
        .filter(alert_matches::Column::AlertId.eq(id))
        .exec(conn)
        .await?;
    let rows: Vec<(AlertId, &MatchedBuyer)> = matched.iter().map(|m| (id, m)).collect();
    insert_matches(conn, &rows).await
}

pub async fn insert_matches(conn: &impl ConnectionTrait, rows: &[(AlertId, &MatchedBuyer)]) -> AppResult<()> {
    let models: Vec<alert_matches::ActiveModel> = rows
        .iter()
        .map(|(id, m)| alert_matches::ActiveModel {
            alert_id: Set(id.to_string()),
            buyer_org_id: Set(m.org_id.to_string()),
            match_rank: Set(m.rank),
        })
        .collect();
    for chunk in models.chunks(500) {
        alert_matches::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }
    Ok(())
}

/// One entry of an alert's history.
pub struct NewEvent {
    pub alert_id: AlertId,
    pub kind: AlertEventKind,
    pub from: Option<AlertLevel>,
    pub to: Option<AlertLevel>,
    /// (user, organisation); none for the scan.
    pub actor: Option<(String, String)>,
    pub note: Option<String>,
}

pub async fn insert_events(conn: &impl ConnectionTrait, events: Vec<NewEvent>, at: Time) -> AppResult<()> {
    let models: Vec<alert_events::ActiveModel> = events
        .into_iter()
        .map(|e| {
            let (user, org) = e.actor.unzip();
            alert_events::ActiveModel {
                id: Set(new_id()),
                alert_id: Set(e.alert_id.to_string()),
                kind: Set(e.kind.as_str().into()),
                from_level: Set(e.from.map(|l| l.as_str().into())),
                to_level: Set(e.to.map(|l| l.as_str().into())),
                actor_user_id: Set(user),
                actor_org_id: Set(org),
                note: Set(e.note),
                occurred_at: Set(at),
            }
        })
        .collect();
    for chunk in models.chunks(500) {
        alert_events::Entity::insert_many(chunk.to_vec()).exec(conn).await?;
    }
    Ok(())
}

/// Open backlog reports without an alert now belong to their product's unresolved alert.
pub async fn attach_open_reports(conn: &impl ConnectionTrait) -> AppResult<()> {
    let (resolved, open) = (AlertStatus::Resolved, UnsoldReportStatus::Open);
    conn.execute_raw(sql(
        conn,
        "UPDATE unsold_reports SET alert_id = (SELECT a.id FROM alerts a WHERE a.product_id = unsold_reports.product_id \
         AND a.status <> $1) WHERE status = $2 AND alert_id IS NULL",
        vec![resolved.into(), open.into()],
    ))
    .await?;
    Ok(())
}

/// Which open backlog reports a resolution closes.
#[derive(Clone, Copy)]
pub enum Weighed<'a> {
    /// Those of the alert's product made by `at` (a person's resolution).
    MadeBy(Time),
    /// Exactly these, the reports a scan read and weighed: one filed, or committed, after the
    /// scan read them stays open for the next scan.
    Only(&'a [String]),
}

/// Closes the alert's product's open backlog reports that `weighed` names.
pub async fn close_reports_of(
    conn: &impl ConnectionTrait,
    id: AlertId,
    weighed: Weighed<'_>,
    at: Time,
) -> AppResult<()> {
    use unsold_reports::Column as C;
    let which = match weighed {
        Weighed::MadeBy(t) => C::CreatedAt.lte(t),
        Weighed::Only([]) => return Ok(()),
        Weighed::Only(ids) => C::Id.is_in(ids.iter().cloned()),
    };
    unsold_reports::Entity::update_many()
        .col_expr(C::Status, Expr::value(UnsoldReportStatus::Closed.as_str()))
        .col_expr(C::ClosedAt, Expr::value(at))
        .filter(C::Status.eq(UnsoldReportStatus::Open))
        .filter(which)
        .filter(
            C::ProductId.in_subquery(
                Query::select()
                    .column(alerts::Column::ProductId)
                    .from(alerts::Entity)
                    .and_where(alerts::Column::Id.eq(id))
                    .to_owned(),
            ),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// Records (alert, level, recipient) notifications, skipping those already made;
/// returns the (alert id, recipient) pairs newly recorded.
pub async fn insert_notifications(
    conn: &impl ConnectionTrait,
    rows: &[(AlertId, AlertLevel, String)],
    at: Time,
) -> AppResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in rows.chunks(500) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3 + 1);
        let t = ph(&mut values, at);
        let mut tuples = Vec::with_capacity(chunk.len());
        for (id, level, org) in chunk {
            let (a, l, o) = (
                ph(&mut values, *id),
                ph(&mut values, *level),
                ph(&mut values, org.clone()),
            );
            tuples.push(format!("({a}, {l}, {o}, {t})"));
        }
        let text = format!(
            "INSERT INTO alert_notifications (alert_id, level, recipient_org_id, created_at) VALUES {} \
             ON CONFLICT DO NOTHING RETURNING alert_id, recipient_org_id",
            tuples.join(", ")
        );
        for row in conn.query_all_raw(sql(conn, &text, values)).await? {
            out.push((row.try_get("", "alert_id")?, row.try_get("", "recipient_org_id")?));
        }
    }
    Ok(out)
}
