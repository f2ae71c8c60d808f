//! The signals of every certified, unexpired product with stock in unexpired lots:
//! a few grouped queries, whatever the number of products.
use super::evaluate::Signal;
use super::{queries, saturating_qty, stored, SALES_WINDOW_DAYS};
use crate::domain::ProductId;
use crate::error::AppResult;
use crate::services::stock::get_sum;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, QueryResult};
use std::collections::HashMap;

fn opt_date(row: &QueryResult, col: &str) -> Option<NaiveDate> {
    if let Ok(v) = row.try_get::<Option<NaiveDate>>("", col) {
        return v;
    }
    row.try_get::<Option<String>>("", col)
        .ok()
        .flatten()
        .and_then(|s| NaiveDate::parse_from_str(s.get(..10).unwrap_or(&s), "%Y-%m-%d").ok())
}

fn opt_time(row: &QueryResult, col: &str) -> Option<DateTime<Utc>> {
    if let Ok(v) = row.try_get::<Option<DateTime<Utc>>>("", col) {
        return v;
    }
    row.try_get::<Option<String>>("", col).ok().flatten().and_then(|s| {
        DateTime::parse_from_rfc3339(&s)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f").map(|n| n.and_utc()))
            .ok()
    })
}

fn signal(row: &QueryResult, at: DateTime<Utc>) -> AppResult<Signal> {
    let day = crate::services::clock::local_date(at);
    let reserved: i64 = row.try_get("", "reserved_milli")?;
    let on_hand = get_sum(row, "on_hand")?;
    let sold = get_sum(row, "sold")?;
    let earliest = opt_date(row, "earliest");
    let last_sale = opt_time(row, "last_sale");
    let listed = opt_time(row, "certified_at")
        .or_else(|| opt_time(row, "created_at"))
        .unwrap_or(at);
    let days_since_last_sale = last_sale.map(|t| (at - t).num_days().max(0));
    let text = |col: &str| row.try_get::<String>("", col);
    Ok(Signal {
        product_id: stored(&text("id")?, "product id")?,
        product_name: text("name")?,
        category: stored(&text("category")?, "category")?,
        unit: stored(&text("unit")?, "unit")?,
        supplier_org_id: stored(&text("supplier_org_id")?, "organisation id")?,
        origin_region_code: text("origin_region_code")?,
        origin_county_code: text("origin_county_code")?,
        available: saturating_qty(on_hand.saturating_sub(reserved)),
        sold_window: saturating_qty(sold),
        days_to_expiry: earliest.map(|d| (d - day).num_days()),
        days_without_sale: days_since_last_sale.unwrap_or_else(|| (at - listed).num_days().max(0)),
        days_since_last_sale,
        reported: Default::default(),
    })
}

/// The open backlog reports a scan read, by product: the ones its resolutions close.
pub type ReportsRead = HashMap<ProductId, Vec<String>>;

/// Signals of every certified, unexpired product that has stock in unexpired lots.
pub async fn load_signals(conn: &impl ConnectionTrait, at: DateTime<Utc>) -> AppResult<Vec<Signal>> {
    Ok(signals_and_reports(conn, at).await?.0)
}

/// The signals, and the open backlog reports read to weigh them.
pub(super) async fn signals_and_reports(
    conn: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> AppResult<(Vec<Signal>, ReportsRead)> {
    let since = at - chrono::Duration::days(SALES_WINDOW_DAYS);
    let rows = queries::signal_rows(conn, crate::services::clock::local_date(at), since).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(signal(row, at)?);
    }
    // Open backlog reports, less what sold since each was made.
    let mut reported: HashMap<ProductId, i64> = HashMap::new();
    let mut read = ReportsRead::new();
    for row in queries::open_report_rows(conn, at).await? {
        let pid: ProductId = stored(&row.try_get::<String>("", "product_id")?, "product id")?;
        read.entry(pid).or_default().push(row.try_get::<String>("", "id")?);
        let q: i64 = row.try_get("", "quantity_milli")?;
        let sold_since = get_sum(&row, "sold_since")?;
        if sold_since < q {
            let e = reported.entry(pid).or_default();
            *e = e.saturating_add(q - sold_since);
        }
    }
    for s in out.iter_mut() {
        if let Some(q) = reported.get(&s.product_id) {
            s.reported = saturating_qty(*q);
        }
    }
    Ok((out, read))
}
