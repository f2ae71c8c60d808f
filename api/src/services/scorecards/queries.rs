//! Every statement of the scorecards. Figures are grouped by supplier so that a catalogue
//! page's summaries take one statement each, whatever the number of suppliers on it.
use crate::error::AppResult;
use crate::services::{sql, stock::get_sum};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Value};
use std::collections::HashMap;

/// A year's bounds, as days and as instants.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn year(y: i32) -> Option<Window> {
        let from_day = NaiveDate::from_ymd_opt(y, 1, 1)?;
        let to_day = NaiveDate::from_ymd_opt(y + 1, 1, 1)?;
        Some(Window {
            from_day,
            to_day,
            // The budget year of the business calendar (China time).
            from: crate::services::clock::start_of(from_day)?,
            to: crate::services::clock::start_of(to_day)?,
        })
    }
}

/// `$first, $first+1, …` for `n` values.
fn marks(first: usize, n: usize) -> String {
    (0..n).map(|i| format!("${}", first + i)).collect::<Vec<_>>().join(", ")
}

/// Runs `text` (whose `{orgs}` is replaced by the supplier ids' placeholders after `head`)
/// and returns each row's supplier and its `cols`, summed as integers.
async fn per_supplier(
    conn: &impl ConnectionTrait,
    text: &str,
    head: Vec<Value>,
    orgs: &[String],
    cols: &[&str],
) -> AppResult<HashMap<String, Vec<i64>>> {
    let mut out = HashMap::new();
    if orgs.is_empty() {
        return Ok(out);
    }
    let text = text.replace("{orgs}", &marks(head.len() + 1, orgs.len()));
    let mut values = head;
    values.extend(orgs.iter().map(|o| o.clone().into()));
    for r in conn.query_all_raw(sql(conn, &text, values)).await? {
        let org: String = r.try_get("", "org")?;
        let figures = cols.iter().map(|c| get_sum(&r, c)).collect::<AppResult<Vec<_>>>()?;
        out.insert(org, figures);
    }
    Ok(out)
}

/// Supplier orders delivered in the window, and those flagged late in it that were never
/// delivered: `[delivered, on time, missed]` (on time: delivered by the buyer's `deliver_by`,
/// or no deadline set; missed: past `deliver_by` undelivered, cancelled since or not). A
/// supplier that never delivers a late order does not keep a clean record by it.
pub(super) async fn deliveries(
    conn: &impl ConnectionTrait,
    orgs: &[String],
    w: Window,
) -> AppResult<HashMap<String, Vec<i64>>> {
    let text = "SELECT so.supplier_org_id AS org, \
         SUM(CASE WHEN t.delivered_on IS NULL THEN 0 ELSE 1 END) AS delivered, \
         SUM(CASE WHEN t.delivered_on IS NOT NULL AND (t.deliver_by IS NULL OR t.delivered_on <= t.deliver_by) \
         THEN 1 ELSE 0 END) AS on_time, \
         SUM(CASE WHEN t.delivered_on IS NULL THEN 1 ELSE 0 END) AS missed \
         FROM supplier_order_terms t JOIN supplier_orders so ON so.id = t.supplier_order_id \
         WHERE ((t.delivered_on >= $1 AND t.delivered_on < $2) \
         OR (t.delivered_on IS NULL AND t.late_at >= $3 AND t.late_at < $4)) AND so.supplier_org_id IN ({orgs}) \
         GROUP BY so.supplier_org_id";
    let head = vec![w.from_day.into(), w.to_day.into(), w.from.into(), w.to.into()];
    per_supplier(conn, text, head, orgs, &["delivered", "on_time", "missed"]).await
}

/// Lines of supplier orders accepted in the window: `[ordered, accepted, returned]` in
/// thousandths of their units.
pub(super) async fn acceptance(
    conn: &impl ConnectionTrait,
    orgs: &[String],
    w: Window,
) -> AppResult<HashMap<String, Vec<i64>>> {
    let text = "SELECT so.supplier_org_id AS org, SUM(l.quantity_milli) AS ordered, \
         SUM(COALESCE(l.accepted_quantity_milli, 0)) AS accepted, SUM(l.returned_quantity_milli) AS returned \
         FROM order_lines l JOIN supplier_orders so ON so.id = l.supplier_order_id \
         WHERE so.accepted_at >= $1 AND so.accepted_at < $2 AND so.supplier_org_id IN ({orgs}) \
         GROUP BY so.supplier_org_id";
    let head = vec![w.from.into(), w.to.into()];
    per_supplier(conn, text, head, orgs, &["ordered", "accepted", "returned"]).await
}

/// Ratings given in the window: `[count, sum of scores]`.
pub(super) async fn ratings(
    conn: &impl ConnectionTrait,
    orgs: &[String],
    w: Window,
) -> AppResult<HashMap<String, Vec<i64>>> {
    let text = "SELECT supplier_org_id AS org, COUNT(*) AS n, SUM(score) AS total FROM supplier_ratings \
         WHERE created_at >= $1 AND created_at < $2 AND supplier_org_id IN ({orgs}) GROUP BY supplier_org_id";
    let head = vec![w.from.into(), w.to.into()];
    per_supplier(conn, text, head, orgs, &["n", "total"]).await
}

/// A supplier order as the confirmation figures need it.
#[derive(Debug)]
pub(super) struct Received {
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

async fn received_rows(conn: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> AppResult<Vec<Received>> {
    let mut out = Vec::new();
    for r in conn.query_all_raw(sql(conn, text, values)).await? {
        out.push(Received {
            status: r.try_get("", "status")?,
            created_at: r.try_get("", "created_at")?,
            confirmed_at: r.try_get("", "confirmed_at")?,
        });
    }
    Ok(out)
}

/// The supplier orders the supplier received in the window, with when each was confirmed.
pub(super) async fn received(conn: &impl ConnectionTrait, org: &str, w: Window) -> AppResult<Vec<Received>> {
    let text = "SELECT so.status, so.created_at, c.confirmed_at FROM supplier_orders so \
         LEFT JOIN supplier_order_confirmations c ON c.supplier_order_id = so.id \
         WHERE so.supplier_org_id = $1 AND so.created_at >= $2 AND so.created_at < $3";
    received_rows(conn, text, vec![org.into(), w.from.into(), w.to.into()]).await
}

/// The supplier orders placed in the window by buyers pledging against the supplier's
/// unsold-produce alerts.
pub(super) async fn pledged(conn: &impl ConnectionTrait, org: &str, w: Window) -> AppResult<Vec<Received>> {
    let text = "SELECT so.status, so.created_at, c.confirmed_at FROM pledges p \
         JOIN supplier_orders so ON so.order_id = p.order_id \
         LEFT JOIN supplier_order_confirmations c ON c.supplier_order_id = so.id \
         WHERE so.supplier_org_id = $1 AND p.created_at >= $2 AND p.created_at < $3";
    received_rows(conn, text, vec![org.into(), w.from.into(), w.to.into()]).await
}

/// Records when a supplier order was confirmed (once).
pub(super) async fn confirmed(conn: &impl ConnectionTrait, so: &str, at: DateTime<Utc>) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        "INSERT INTO supplier_order_confirmations (supplier_order_id, confirmed_at) VALUES ($1, $2) \
         ON CONFLICT (supplier_order_id) DO NOTHING",
        vec![so.into(), at.into()],
    ))
    .await?;
    Ok(())
}
