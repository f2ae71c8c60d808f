//! The signals read off the ledger, each one set-based query over the window's entries:
//! `price_outlier`, `year_end_spike`, `related_parties`.
use super::queries::{ids, Known, Window, Q};
use super::scan::Thresholds;
use super::{yuan, Raised};
use crate::domain::{FlagKind, LedgerKind};
use crate::error::AppResult;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde_json::json;

/// A certified median of a category and unit, as twice the median in fen (exact for an even count).
#[derive(Debug, Clone)]
pub(super) struct Median {
    pub category: String,
    pub unit: String,
    pub twice_median_fen: i64,
    pub compared_with: usize,
}

#[derive(Debug, FromQueryResult)]
struct Outlier {
    id: String,
    buyer_org_id: String,
    supplier_org_id: String,
    product_id: String,
    order_line_id: String,
    year: i32,
    amount_fen: i64,
    quantity_milli: i64,
    category: String,
    unit: String,
    twice_median: i64,
}

/// Credits priced outside [low %, high %] of the certified median of their category and unit.
pub(super) async fn price_outliers(
    conn: &impl ConnectionTrait,
    w: Window,
    medians: &[Median],
    t: &Thresholds,
    known: &Known,
) -> AppResult<Vec<Raised>> {
    if medians.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::default();
    let values: Vec<String> = medians
        .iter()
        .map(|m| {
            format!(
                "({}, {}, {})",
                q.bind(m.category.clone()),
                q.bind(m.unit.clone()),
                q.bind(m.twice_median_fen)
            )
        })
        .collect();
    let credit = q.bind(LedgerKind::Credit);
    let (low, high) = (q.bind(t.price_low_pct), q.bind(t.price_high_pct));
    let (above, below) = (q.bind(1.000_001f64), q.bind(0.999_999f64));
    let kg = q.bind(crate::domain::Unit::Kg.as_str());
    let filter = w.filter(&mut q, "e");
    // A weighed entry is priced per kg: its kg stand for its quantity, the kg median for its unit.
    // price = amount * 1000 / quantity; median = twice / 2: price < low% * median
    // <=> amount * 200000 < low * twice * quantity (and so for high), in exact arithmetic; a
    // floating-point test with a margin first keeps the exact one to the few candidates.
    let text = format!(
        "WITH m (category, unit, twice_median) AS (VALUES {}) \
         SELECT e.id, e.buyer_org_id, e.supplier_org_id, e.product_id, e.order_line_id, e.year, e.amount_fen, \
                COALESCE(e.weight_kg_milli, e.quantity_milli) AS quantity_milli, m.category, m.unit, m.twice_median \
         FROM ledger_entries e JOIN products p ON p.id = e.product_id \
         JOIN m ON m.category = e.category \
           AND m.unit = CASE WHEN e.weight_kg_milli IS NULL THEN p.unit ELSE {kg} END \
         WHERE e.kind = {credit} AND COALESCE(e.weight_kg_milli, e.quantity_milli) > 0 AND {filter} \
           AND (CAST(e.amount_fen AS DOUBLE PRECISION) * 200000 < {above} * {low} * m.twice_median * COALESCE(e.weight_kg_milli, e.quantity_milli) \
             OR CAST(e.amount_fen AS DOUBLE PRECISION) * 200000 > {below} * {high} * m.twice_median * COALESCE(e.weight_kg_milli, e.quantity_milli)) \
           AND (CAST(e.amount_fen AS NUMERIC) * 200000 < CAST({low} AS NUMERIC) * m.twice_median * COALESCE(e.weight_kg_milli, e.quantity_milli) \
             OR CAST(e.amount_fen AS NUMERIC) * 200000 > CAST({high} AS NUMERIC) * m.twice_median * COALESCE(e.weight_kg_milli, e.quantity_milli))",
        values.join(", ")
    );
    let rows = Outlier::find_by_statement(q.build(conn, &text)).all(conn).await?;
    Ok(rows
        .into_iter()
        .filter(|r| !known.contains(&(FlagKind::PriceOutlier, r.id.clone())))
        .map(|r| {
            let price = Decimal::new(r.amount_fen, 2) * Decimal::from(1000) / Decimal::from(r.quantity_milli);
            let median = Decimal::new(r.twice_median, 2) / Decimal::TWO;
            let ratio = price.checked_div(median).map(|x| x.round_dp(2).to_string());
            let n = medians
                .iter()
                .find(|m| m.category == r.category && m.unit == r.unit)
                .map_or(0, |m| m.compared_with);
            Raised {
                kind: FlagKind::PriceOutlier,
                key: r.id.clone(),
                evidence: json!({
                    "entry_ids": [r.id],
                    "order_line_id": r.order_line_id,
                    "product_id": r.product_id,
                    "category": r.category,
                    "unit": r.unit,
                    "amount": yuan(r.amount_fen),
                    "unit_price": price.round_dp(2).to_string(),
                    "median_price": median.round_dp(3).normalize().to_string(),
                    "ratio": ratio,
                    "compared_with": n,
                    "bounds_pct": [t.price_low_pct, t.price_high_pct],
                }),
                buyer: Some(r.buyer_org_id),
                supplier: Some(r.supplier_org_id),
                year: r.year,
            }
        })
        .collect())
}

#[derive(Debug, FromQueryResult)]
struct Year {
    year: i32,
}

/// The years the window's entries fall in.
pub(super) async fn years(conn: &impl ConnectionTrait, w: Window) -> AppResult<Vec<i32>> {
    let mut q = Q::default();
    let filter = w.filter(&mut q, "e");
    let text = format!("SELECT DISTINCT e.year FROM ledger_entries e WHERE {filter} ORDER BY e.year");
    Ok(Year::find_by_statement(q.build(conn, &text))
        .all(conn)
        .await?
        .into_iter()
        .map(|y| y.year)
        .collect())
}

#[derive(Debug, FromQueryResult)]
struct Spike {
    buyer_org_id: String,
    window_fen: i64,
    entries: i64,
    target_fen: i64,
}

/// Buyers whose net credit in the last days of `year` is above half their target (approved
/// plan, else quota), among the buyers with entries in the window.
pub(super) async fn year_end_spikes(
    conn: &impl ConnectionTrait,
    w: Window,
    year: i32,
    t: &Thresholds,
    known: &Known,
) -> AppResult<Vec<Raised>> {
    let Some(from) = t.year_end_from(year) else {
        return Ok(Vec::new());
    };
    let mut q = Q::default();
    let (y, at, month) = (
        q.bind(year),
        q.bind(from),
        q.bind(crate::services::clock::year_month(from).1 as i32),
    );
    let filter = w.filter(&mut q, "n");
    let targets = crate::services::credit::targets_sql(&y);
    // The window's totals of every buyer first (read by the year-and-month index, materialised
    // so that the planner does not probe the ledger buyer by buyer), then the buyers the window
    // touched and their targets.
    let text = format!(
        "WITH w AS MATERIALIZED ( \
           SELECT e.buyer_org_id, CAST(SUM(e.amount_fen) AS BIGINT) AS window_fen, COUNT(*) AS entries \
           FROM ledger_entries e WHERE e.year = {y} AND e.month >= {month} AND e.occurred_at >= {at} \
           GROUP BY e.buyer_org_id) \
         SELECT x.buyer_org_id, x.window_fen, x.entries, x.target_fen FROM ( \
           SELECT w.buyer_org_id, w.window_fen, w.entries, CAST(COALESCE(t.target_fen, 0) AS BIGINT) AS target_fen \
           FROM w LEFT JOIN ({targets}) t ON t.buyer_org_id = w.buyer_org_id WHERE w.buyer_org_id IN (SELECT n.buyer_org_id FROM ledger_entries n WHERE n.year = {y} AND {filter})) x \
         WHERE x.target_fen > 0 AND x.window_fen * 2 > x.target_fen"
    );
    let rows = Spike::find_by_statement(q.build(conn, &text)).all(conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let key = format!("{}:{year}", r.buyer_org_id);
        if known.contains(&(FlagKind::YearEndSpike, key.clone())) {
            continue;
        }
        let mut q = Q::default();
        let text = format!(
            "SELECT id FROM ledger_entries WHERE buyer_org_id = {} AND year = {} AND occurred_at >= {} AND kind = {} ORDER BY ins",
            q.bind(r.buyer_org_id.clone()),
            q.bind(year),
            q.bind(from),
            q.bind(LedgerKind::Credit)
        );
        let entry_ids = ids(conn, q.build(conn, &text)).await?;
        out.push(Raised {
            kind: FlagKind::YearEndSpike,
            key,
            evidence: json!({
                "entry_ids": entry_ids,
                "year": year,
                "window_from": from,
                "window_days": t.year_end_days,
                "window_amount": yuan(r.window_fen),
                "window_entries": r.entries,
                "target": yuan(r.target_fen),
            }),
            buyer: Some(r.buyer_org_id),
            supplier: None,
            year,
        });
    }
    Ok(out)
}

#[derive(Debug, FromQueryResult)]
struct Related {
    buyer_org_id: String,
    supplier_org_id: String,
    year: i32,
    b_rep: Option<String>,
    s_rep: Option<String>,
    b_email: String,
    s_email: String,
    b_phone: Option<String>,
    s_phone: Option<String>,
    shared_user: i32,
}

/// Buyer and supplier pairs of the window's entries that share a legal representative, a contact
/// phone or email, or a user (a user's email of one is a user's or the contact email of the other).
/// The buyer is the credited one, and also whoever placed the order when that is another (a
/// contracted canteen's orders are credited to the unit it serves: the contractor and its
/// supplier are the pair to compare).
pub(super) async fn related_parties(conn: &impl ConnectionTrait, w: Window, known: &Known) -> AppResult<Vec<Raised>> {
    let mut q = Q::default();
    let filter = w.filter(&mut q, "e");
    let placed_by = w.filter(&mut q, "e");
    let text = format!(
        "SELECT * FROM ( \
           SELECT p.buyer_org_id, p.supplier_org_id, p.year, \
             TRIM(b.legal_representative) AS b_rep, TRIM(s.legal_representative) AS s_rep, \
             LOWER(TRIM(b.contact_email)) AS b_email, LOWER(TRIM(s.contact_email)) AS s_email, \
             TRIM(b.contact_phone) AS b_phone, TRIM(s.contact_phone) AS s_phone, \
             CASE WHEN EXISTS (SELECT 1 FROM users u WHERE \
                    (u.org_id = b.id AND (LOWER(u.email) = LOWER(TRIM(s.contact_email)) \
                       OR LOWER(u.email) IN (SELECT LOWER(v.email) FROM users v WHERE v.org_id = s.id))) \
                    OR (u.org_id = s.id AND LOWER(u.email) = LOWER(TRIM(b.contact_email)))) \
                  THEN 1 ELSE 0 END AS shared_user \
           FROM (SELECT pr.buyer_org_id, pr.supplier_org_id, MAX(pr.year) AS year FROM ( \
                   SELECT e.buyer_org_id, e.supplier_org_id, e.year FROM ledger_entries e WHERE {filter} \
                   UNION ALL \
                   SELECT so.buyer_org_id, e.supplier_org_id, e.year FROM ledger_entries e \
                   JOIN supplier_orders so ON so.id = e.supplier_order_id \
                   WHERE {placed_by} AND so.buyer_org_id <> e.buyer_org_id) pr \
                 GROUP BY pr.buyer_org_id, pr.supplier_org_id) p \
           JOIN organizations b ON b.id = p.buyer_org_id \
           JOIN organizations s ON s.id = p.supplier_org_id \
           WHERE b.id <> s.id) x \
         WHERE (x.b_rep IS NOT NULL AND x.b_rep <> '' AND x.b_rep = x.s_rep) \
            OR (x.b_email <> '' AND x.b_email = x.s_email) \
            OR (x.b_phone IS NOT NULL AND x.b_phone <> '' AND x.b_phone = x.s_phone) \
            OR x.shared_user = 1"
    );
    let rows = Related::find_by_statement(q.build(conn, &text)).all(conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let key = format!("{}:{}", r.buyer_org_id, r.supplier_org_id);
        if known.contains(&(FlagKind::RelatedParties, key.clone())) {
            continue;
        }
        let mut shared = Vec::new();
        let same =
            |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if !a.is_empty() && a == b);
        if same(&r.b_rep, &r.s_rep) {
            shared.push(json!({"legal_representative": r.b_rep}));
        }
        if !r.b_email.is_empty() && r.b_email == r.s_email {
            shared.push(json!({"contact_email": r.b_email}));
        }
        if same(&r.b_phone, &r.s_phone) {
            shared.push(json!({"contact_phone": r.b_phone}));
        }
        if r.shared_user == 1 {
            shared.push(
                json!({"user": "a user's email of one organisation is a user's or the contact email of the other"}),
            );
        }
        let mut q = Q::default();
        let b = q.bind(r.buyer_org_id.clone());
        let text = format!(
            "SELECT e.id FROM ledger_entries e LEFT JOIN supplier_orders so ON so.id = e.supplier_order_id \
             WHERE (e.buyer_org_id = {b} OR so.buyer_org_id = {b}) AND e.supplier_org_id = {} AND e.kind = {} \
             ORDER BY e.ins",
            q.bind(r.supplier_org_id.clone()),
            q.bind(LedgerKind::Credit)
        );
        let entry_ids = ids(conn, q.build(conn, &text)).await?;
        out.push(Raised {
            kind: FlagKind::RelatedParties,
            key,
            evidence: json!({"entry_ids": entry_ids, "shared": shared}),
            buyer: Some(r.buyer_org_id),
            supplier: Some(r.supplier_org_id),
            year: r.year,
        });
    }
    Ok(out)
}
