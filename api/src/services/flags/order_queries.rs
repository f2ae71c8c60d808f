//! The signals read off the orders and lots: `round_trip`, `order_splitting`, `origin_mismatch`.
//! Incremental runs look at what changed since `since` (a margin before the last run).
use super::queries::{day_of, Known, Q};
use super::scan::Thresholds;
use super::{yuan, Raised};
use crate::domain::{FlagKind, LedgerKind, SupplierOrderStatus};
use crate::error::AppResult;
use crate::services::clock;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde_json::json;
use std::collections::BTreeMap;

/// The supplier orders some split flag of this buyer and supplier already names: grouped under
/// another day (orders split across a UTC day before the business calendar, or an offset
/// changed), they are not flagged twice.
async fn already_in_splits(
    conn: &impl ConnectionTrait,
    buyer: &str,
    supplier: &str,
) -> AppResult<std::collections::HashSet<String>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let evidence: Vec<String> = entity::flags::Entity::find()
        .select_only()
        .column(entity::flags::Column::Evidence)
        .filter(entity::flags::Column::Kind.eq(FlagKind::OrderSplitting.as_str()))
        .filter(entity::flags::Column::BuyerOrgId.eq(buyer))
        .filter(entity::flags::Column::SupplierOrgId.eq(supplier))
        .into_tuple()
        .all(conn)
        .await?;
    let mut named = std::collections::HashSet::new();
    for e in evidence {
        let v: serde_json::Value = serde_json::from_str(&e).unwrap_or_default();
        for id in v["supplier_order_ids"].as_array().into_iter().flatten() {
            if let Some(id) = id.as_str() {
                named.insert(id.to_string());
            }
        }
    }
    Ok(named)
}

#[derive(Debug, FromQueryResult)]
struct SplitOrder {
    id: String,
    total_fen: i64,
}

/// The credit entries of some supplier orders.
pub(super) async fn credits_of(conn: &impl ConnectionTrait, orders: &[String]) -> AppResult<Vec<String>> {
    Ok(credits_where(conn, "supplier_order_id", orders)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

#[derive(Debug, FromQueryResult)]
pub(super) struct LineCredit {
    pub id: String,
    pub order_line_id: String,
}

/// The credit entries whose `column` is one of `keys`, with their line, in ledger order.
async fn credits_where(conn: &impl ConnectionTrait, column: &str, keys: &[String]) -> AppResult<Vec<LineCredit>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(500) {
        let mut q = Q::default();
        let list: Vec<String> = chunk.iter().map(|id| q.bind(id.clone())).collect();
        let text = format!(
            "SELECT id, order_line_id FROM ledger_entries WHERE kind = {} AND {column} IN ({}) ORDER BY ins",
            q.bind(LedgerKind::Credit),
            list.join(", ")
        );
        out.extend(LineCredit::find_by_statement(q.build(conn, &text)).all(conn).await?);
    }
    Ok(out)
}

/// A shipped-lot row of a line that a lot gave an accepted part of ([`lot_lines`]).
#[derive(Debug, FromQueryResult)]
pub(super) struct LineLot {
    pub order_line_id: String,
    pub lot_id: String,
    /// What the buyer accepted from this row's lot (0 before acceptance or when refused).
    pub accepted_milli: i64,
    /// What the buyer accepted of the whole line.
    pub line_accepted_milli: i64,
}

/// Every shipped-lot row of the lines lot `lot` gave an accepted part of (not only the lot's
/// own rows: its part is cut among them), with each line's accepted quantity, by line then
/// row id. Through the supplier orders (indexed on `shipment_lots`), then kept to the lines.
pub(super) async fn lot_lines(conn: &impl ConnectionTrait, lot: &str) -> AppResult<Vec<LineLot>> {
    let mut q = Q::default();
    let lot_mark = q.bind(lot.to_string());
    let text = format!(
        "SELECT sl.order_line_id, sl.lot_id, COALESCE(sl.accepted_milli, 0) AS accepted_milli, \
           COALESCE(ol.accepted_quantity_milli, 0) AS line_accepted_milli \
         FROM shipment_lots sl JOIN order_lines ol ON ol.id = sl.order_line_id \
         WHERE sl.supplier_order_id IN \
           (SELECT s.supplier_order_id FROM shipment_lots s WHERE s.lot_id = {lot_mark} AND s.accepted_milli > 0) \
         ORDER BY sl.order_line_id, sl.id"
    );
    let rows = LineLot::find_by_statement(q.build(conn, &text)).all(conn).await?;
    let lines: std::collections::HashSet<String> = rows
        .iter()
        .filter(|r| r.lot_id == lot && r.accepted_milli > 0)
        .map(|r| r.order_line_id.clone())
        .collect();
    Ok(rows.into_iter().filter(|r| lines.contains(&r.order_line_id)).collect())
}

/// The credit entries of some order lines (each holder's of a shared canteen's line, and a
/// supervisor's correction's), with their line.
pub(super) async fn credits_of_lines(conn: &impl ConnectionTrait, lines: &[String]) -> AppResult<Vec<LineCredit>> {
    credits_where(conn, "order_line_id", lines).await
}

#[derive(Debug, FromQueryResult)]
struct Returned {
    id: String,
    buyer_org_id: String,
    supplier_org_id: String,
    total_fen: i64,
    accepted_at: DateTime<Utc>,
    last_return_at: Option<DateTime<Utc>>,
}

/// Pairs with two or more supplier orders in a year accepted and then fully returned within
/// the window (30 days by default).
pub(super) async fn round_trips(
    conn: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
    t: &Thresholds,
    known: &Known,
) -> AppResult<Vec<Raised>> {
    let mut q = Q::default();
    let recent = match since {
        None => "1 = 1".to_string(),
        Some(s) => format!(
            "so.buyer_org_id IN (SELECT so2.buyer_org_id FROM order_returns r2 \
             JOIN supplier_orders so2 ON so2.id = r2.supplier_order_id WHERE r2.created_at >= {})",
            q.bind(s)
        ),
    };
    let text = format!(
        "SELECT so.id, so.buyer_org_id, so.supplier_org_id, so.total_fen, so.accepted_at, \
           (SELECT MAX(r.created_at) FROM order_returns r WHERE r.supplier_order_id = so.id) AS last_return_at \
         FROM supplier_orders so \
         WHERE so.accepted_at IS NOT NULL AND {recent} \
           AND EXISTS (SELECT 1 FROM order_lines l WHERE l.supplier_order_id = so.id AND l.accepted_quantity_milli > 0) \
           AND NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.supplier_order_id = so.id \
                           AND COALESCE(l.accepted_quantity_milli, 0) > l.returned_quantity_milli) \
         ORDER BY so.accepted_at"
    );
    let rows = Returned::find_by_statement(q.build(conn, &text)).all(conn).await?;
    let window = chrono::Duration::days(t.round_trip_days);
    let mut pairs: BTreeMap<(String, String, i32), Vec<Returned>> = BTreeMap::new();
    for r in rows {
        if r.last_return_at.is_some_and(|at| at - r.accepted_at <= window) {
            let key = (
                r.buyer_org_id.clone(),
                r.supplier_org_id.clone(),
                clock::year(r.accepted_at),
            );
            pairs.entry(key).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    for ((buyer, supplier, year), trips) in pairs {
        let key = format!("{buyer}:{supplier}:{year}");
        if (trips.len() as i64) < t.round_trip_min || known.contains(&(FlagKind::RoundTrip, key.clone())) {
            continue;
        }
        let orders: Vec<String> = trips.iter().map(|r| r.id.clone()).collect();
        let entry_ids = credits_of(conn, &orders).await?;
        let detail: Vec<_> = trips
            .iter()
            .map(|r| json!({"supplier_order_id": r.id, "amount": yuan(r.total_fen), "accepted_at": r.accepted_at, "returned_at": r.last_return_at}))
            .collect();
        out.push(Raised {
            kind: FlagKind::RoundTrip,
            key,
            evidence: json!({"entry_ids": entry_ids, "orders": detail, "within_days": t.round_trip_days}),
            buyer: Some(buyer),
            supplier: Some(supplier),
            year,
        });
    }
    Ok(out)
}

#[derive(Debug, FromQueryResult)]
struct Split {
    buyer_org_id: String,
    supplier_org_id: String,
    day: String,
}

/// Days with `split_min_orders` or more supplier orders between one buyer and one supplier, each
/// under the review threshold and together above it.
pub(super) async fn order_splits(
    conn: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
    t: &Thresholds,
    known: &Known,
) -> AppResult<Vec<Raised>> {
    let day = day_of(conn, "so.created_at");
    let mut q = Q::default();
    let thr = q.bind(t.review_threshold_fen);
    let (rejected, cancelled) = (
        q.bind(SupplierOrderStatus::Rejected),
        q.bind(SupplierOrderStatus::Cancelled),
    );
    let recent = match since {
        None => "1 = 1".to_string(),
        Some(s) => format!("{day} >= {}", q.bind(clock::local_date(s).to_string())),
    };
    let min = q.bind(t.split_min_orders);
    let text = format!(
        "SELECT so.buyer_org_id, so.supplier_org_id, {day} AS day, COUNT(*) AS orders, \
           CAST(SUM(so.total_fen) AS BIGINT) AS total_fen \
         FROM supplier_orders so \
         WHERE so.total_fen < {thr} AND so.status NOT IN ({rejected}, {cancelled}) AND {recent} \
         GROUP BY so.buyer_org_id, so.supplier_org_id, {day} \
         HAVING COUNT(*) >= {min} AND SUM(so.total_fen) > {thr}"
    );
    let rows = Split::find_by_statement(q.build(conn, &text)).all(conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let key = format!("{}:{}:{}", r.buyer_org_id, r.supplier_org_id, r.day);
        if known.contains(&(FlagKind::OrderSplitting, key.clone())) {
            continue;
        }
        let mut q = Q::default();
        let text = format!(
            "SELECT so.id, so.total_fen FROM supplier_orders so WHERE so.buyer_org_id = {} AND so.supplier_org_id = {} \
             AND {day} = {} AND so.total_fen < {} AND so.status NOT IN ({}, {}) ORDER BY so.id",
            q.bind(r.buyer_org_id.clone()),
            q.bind(r.supplier_org_id.clone()),
            q.bind(r.day.clone()),
            q.bind(t.review_threshold_fen),
            q.bind(SupplierOrderStatus::Rejected),
            q.bind(SupplierOrderStatus::Cancelled),
        );
        // The orders no split flag names yet, checked again against the thresholds.
        let named = already_in_splits(conn, &r.buyer_org_id, &r.supplier_org_id).await?;
        let new: Vec<SplitOrder> = SplitOrder::find_by_statement(q.build(conn, &text))
            .all(conn)
            .await?
            .into_iter()
            .filter(|o| !named.contains(&o.id))
            .collect();
        let total_fen: i64 = new.iter().map(|o| o.total_fen).fold(0i64, i64::saturating_add);
        if (new.len() as i64) < t.split_min_orders || total_fen <= t.review_threshold_fen {
            continue;
        }
        let orders: Vec<String> = new.into_iter().map(|o| o.id).collect();
        let entry_ids = credits_of(conn, &orders).await?;
        let year = r.day.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        out.push(Raised {
            kind: FlagKind::OrderSplitting,
            key,
            evidence: json!({
                "entry_ids": entry_ids,
                "supplier_order_ids": orders,
                "day": r.day,
                "orders": orders.len(),
                "total": yuan(total_fen),
                "review_threshold": yuan(t.review_threshold_fen),
            }),
            buyer: Some(r.buyer_org_id),
            supplier: Some(r.supplier_org_id),
            year,
        });
    }
    Ok(out)
}

#[derive(Debug, FromQueryResult)]
struct Mismatch {
    id: String,
    product_id: String,
    supplier_org_id: String,
    lot_county: String,
    product_county: String,
    created_at: DateTime<Utc>,
}

/// Lots whose stated origin county is not their product's certified origin county.
pub(super) async fn origin_mismatches(
    conn: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
    known: &Known,
) -> AppResult<Vec<Raised>> {
    let mut q = Q::default();
    let recent = match since {
        None => "1 = 1".to_string(),
        Some(s) => format!("l.created_at >= {}", q.bind(s)),
    };
    let text = format!(
        "SELECT l.id, l.product_id, p.supplier_org_id, l.origin_county_code AS lot_county, \
           p.origin_county_code AS product_county, l.created_at \
         FROM lots l JOIN products p ON p.id = l.product_id \
         WHERE l.origin_county_code IS NOT NULL AND l.origin_county_code <> p.origin_county_code AND {recent}"
    );
    let rows = Mismatch::find_by_statement(q.build(conn, &text)).all(conn).await?;
    Ok(rows
        .into_iter()
        .filter(|r| !known.contains(&(FlagKind::OriginMismatch, r.id.clone())))
        .map(|r| Raised {
            kind: FlagKind::OriginMismatch,
            key: r.id.clone(),
            evidence: json!({
                "entry_ids": [],
                "lot_id": r.id,
                "product_id": r.product_id,
                "lot_origin_county_code": r.lot_county,
                "certified_origin_county_code": r.product_county,
            }),
            buyer: None,
            supplier: Some(r.supplier_org_id),
            year: clock::year(r.created_at),
        })
        .collect())
}
