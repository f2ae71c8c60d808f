//! Writing what the scan decided: opening alerts in batches, raising one,
//! resolving one (also by hand), each with its event, matches and emails.
use super::evaluate::{Evaluation, Signal};
use super::matching::{MatchedBuyer, Matcher};
use super::queries::{self, NewAlert, NewEvent};
use super::{notifications, stored};
use crate::auth::Caller;
use crate::domain::{AlertEventKind, AlertId, AlertLevel};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use std::collections::HashMap;

/// A product whose alert opens or rises, with its evaluation and new level.
pub(super) struct Opening {
    pub signal: Signal,
    pub eval: Evaluation,
    pub level: AlertLevel,
}

fn to_json<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(AppError::internal)
}

/// The (user, organisation) of an actor, as stored.
pub(super) fn actor(c: &Caller) -> (String, String) {
    (c.user_id.to_string(), c.org_id.to_string())
}

/// Opens alerts for a batch of products in a few multi-row statements: the alerts
/// (a racing scan's alert wins and this one is skipped), their events, matches,
/// backlog reports, and the notifications of the alerts actually inserted.
/// Returns how many were opened.
pub(super) async fn open_batch(
    conn: &impl ConnectionTrait,
    m: &Matcher,
    items: &[Opening],
    at: DateTime<Utc>,
) -> AppResult<i64> {
    if items.is_empty() {
        return Ok(0);
    }
    let mut rows = Vec::with_capacity(items.len());
    let mut by_id: HashMap<AlertId, (usize, Vec<MatchedBuyer>)> = HashMap::new();
    for (i, o) in items.iter().enumerate() {
        let id = AlertId::new();
        let matched = m.rank(&o.signal.origin_county_code, o.signal.category);
        rows.push(NewAlert {
            id,
            signal: &o.signal,
            eval: &o.eval,
            level: o.level,
            reasons: to_json(&o.eval.reasons)?,
            matched: to_json(&matched)?,
        });
        by_id.insert(id, (i, matched));
    }
    let mut inserted = Vec::new();
    for id in queries::insert_alerts(conn, &rows, at).await? {
        let id: AlertId = stored(&id, "alert id")?;
        if let Some((i, matched)) = by_id.remove(&id) {
            inserted.push((id, i, matched));
        }
    }
    if inserted.is_empty() {
        return Ok(0);
    }
    let events = inserted
        .iter()
        .map(|(id, i, _)| NewEvent {
            alert_id: *id,
            kind: AlertEventKind::Opened,
            from: None,
            to: Some(items[*i].level),
            actor: None,
            note: Some(items[*i].eval.codes()),
        })
        .collect();
    queries::insert_events(conn, events, at).await?;
    let mut matches: Vec<(AlertId, &MatchedBuyer)> = Vec::new();
    for (id, _, matched) in &inserted {
        matches.extend(matched.iter().map(|b| (*id, b)));
    }
    queries::insert_matches(conn, &matches).await?;
    // Open backlog reports of these products now belong to their alert.
    queries::attach_open_reports(conn).await?;
    let opened: Vec<(AlertId, &Opening, &[MatchedBuyer])> = inserted
        .iter()
        .map(|(id, i, matched)| (*id, &items[*i], matched.as_slice()))
        .collect();
    notifications::notify_all(conn, m, &opened, at).await?;
    Ok(inserted.len() as i64)
}

/// Raises an unresolved alert from `from` to the opening's level; false when a
/// racing scan did it first or the alert was resolved meanwhile.
pub(super) async fn raise_alert(
    conn: &impl ConnectionTrait,
    m: &Matcher,
    id: AlertId,
    from: AlertLevel,
    o: &Opening,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let matched = m.rank(&o.signal.origin_county_code, o.signal.category);
    let row = NewAlert {
        id,
        signal: &o.signal,
        eval: &o.eval,
        level: o.level,
        reasons: to_json(&o.eval.reasons)?,
        matched: to_json(&matched)?,
    };
    if !queries::raise(conn, &row, at).await? {
        return Ok(false);
    }
    queries::replace_matches(conn, id, &matched).await?;
    let event = NewEvent {
        alert_id: id,
        kind: AlertEventKind::Raised,
        from: Some(from),
        to: Some(o.level),
        actor: None,
        note: Some(o.eval.codes()),
    };
    queries::insert_events(conn, vec![event], at).await?;
    notifications::notify_all(conn, m, &[(id, o, matched.as_slice())], at).await?;
    Ok(true)
}

/// Resolves an unresolved alert (by the scan when `by` is none) and closes the product's
/// backlog reports it weighed; false when it already was resolved.
pub(super) async fn resolve_alert(
    conn: &impl ConnectionTrait,
    id: AlertId,
    by: Option<&Caller>,
    note: &str,
    weighed: queries::Weighed<'_>,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    if !queries::resolve(conn, id, by.map(|c| c.user_id.to_string()), note, at).await? {
        return Ok(false);
    }
    let event = NewEvent {
        alert_id: id,
        kind: AlertEventKind::Resolved,
        from: None,
        to: None,
        actor: by.map(actor),
        note: Some(note.to_string()),
    };
    queries::insert_events(conn, vec![event], at).await?;
    queries::close_reports_of(conn, id, weighed, at).await?;
    Ok(true)
}
