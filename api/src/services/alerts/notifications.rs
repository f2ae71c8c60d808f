//! The emails of an alert opening or rising: once per alert, level and recipient
//! (`alert_notifications`), queued in the outbox in the caller's transaction.
use super::changes::Opening;
use super::matching::{MatchedBuyer, Matcher};
use super::queries;
use crate::config::PublicUrl;
use crate::domain::{AlertId, AlertLevel, OrgId, Quantity, Unit};
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

fn qty(q: Quantity, unit: Unit) -> String {
    format!("{q} {unit}")
}

/// The subject and body of an alert's email; its link starts with `links` when known.
pub(super) fn message(alert_id: AlertId, o: &Opening, links: Option<&PublicUrl>) -> (String, String) {
    let (s, level) = (&o.signal, o.level);
    let subject = format!(
        "[{}] unsold-produce alert: {} from county {}",
        level.as_str().to_uppercase(),
        s.product_name,
        s.origin_county_code
    );
    let mut body = format!(
        "Alert {alert_id} is {level} for the product {} ({}, {}) from county {}.\n\nAvailable: {}\nAverage daily sales (28 days): {}\n\nReasons:\n",
        s.product_name,
        s.product_id,
        s.category,
        s.origin_county_code,
        qty(s.available, s.unit),
        qty(o.eval.avg_daily, s.unit),
    );
    for r in &o.eval.reasons {
        body.push_str(&format!("- {}: {}\n", r.code, r.detail));
    }
    let alert = format!("/api/v1/alerts/{alert_id}");
    let link = links.map_or_else(|| alert.clone(), |b| b.join(&alert));
    body.push_str(&format!(
        "\nThe alert: {link}\nPledge a purchase with POST {link}/pledges.\n"
    ));
    (subject, body)
}

/// Records the notifications of these alerts at their level and queues the
/// emails of those newly recorded (a recipient told of this level before is skipped).
pub(super) async fn notify_all(
    conn: &impl ConnectionTrait,
    m: &Matcher,
    alerts: &[(AlertId, &Opening, &[MatchedBuyer])],
    at: DateTime<Utc>,
) -> AppResult<()> {
    let mut pending: HashMap<(String, String), (String, String, String)> = HashMap::new();
    let mut rows: Vec<(AlertId, AlertLevel, String)> = Vec::new();
    for (id, o, matched) in alerts {
        let (subject, body) = message(*id, o, m.links.as_ref());
        let recipients: Vec<(OrgId, String)> = m.recipients(&o.signal.origin_county_code, matched);
        for (org, email) in recipients {
            let key = (id.to_string(), org.to_string());
            if pending.contains_key(&key) {
                continue;
            }
            rows.push((*id, o.level, org.to_string()));
            pending.insert(key, (email, subject.clone(), body.clone()));
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let mut mails = Vec::with_capacity(rows.len());
    for key in queries::insert_notifications(conn, &rows, at).await? {
        if let Some(mail) = pending.remove(&key) {
            mails.push(mail);
        }
    }
    crate::services::outbox::enqueue_many(conn, &mails).await
}
