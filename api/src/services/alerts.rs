//! Unsold-produce alerts (滞销预警) and the emergency response (应急处置, 集中采购).
//!
//! Signals per product are computed set-based (a handful of grouped queries over
//! every certified product with stock, never one query per product):
//! - available: remaining stock of lots not past best-before, minus reservations;
//! - average daily sales: net accepted ledger quantity of the last 28 days ÷ 28;
//! - days of cover: available ÷ that average (none = infinite when nothing sold);
//! - days to expiry: to the earliest best-before among lots still holding stock;
//! - days since the last sale (or since the product was listed, when never sold);
//! - the supplier's open backlog reports (`POST /products/{id}/unsold-reports`).
//!
//! Rules per category turn signals into a level: `yellow < orange < red`.
//! Days-of-cover thresholds rise with the level (`yellow_days < orange_days <
//! red_days`): a stock lasting longer than `red_days` at the current pace is red.
//! No sale for `no_sales_days` is orange. Stock that cannot be sold at the
//! current pace before its best-before, when that is within `expiry_window_days`,
//! is red. A manual backlog report opens at least a yellow alert.
//!
//! The scan opens an alert (at most one open per product: enforced in code and by
//! the partial unique index `ux_alerts_open_product`), raises it when things get
//! worse (never lowers it), and resolves it when every signal is back under every
//! threshold. Each change runs in a conditional statement, so two scans racing
//! each other change each alert once. On opening and on each raise the matched
//! buyers and the county office(s) of the origin county are emailed through the
//! outbox in the same transaction, once per alert, level and recipient
//! (`alert_notifications` has that primary key).
use super::stock::get_sum;
use super::{new_id, now, paginate, sql, today, PageParams};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{from_fen, from_milli, to_positive_milli};
use crate::services::orders::{self, NewOrder, NewOrderLine, Order, OrderSource};
use crate::state::AppState;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, QueryResult, TransactionTrait, Value};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::{IntoParams, ToSchema};

/// Every product category has its own rule.
pub use super::products::CATEGORIES;

/// Used for a product whose category has no rule row.
const FALLBACK_RULE: Rule = Rule {
    yellow_days: 30,
    orange_days: 60,
    red_days: 90,
    no_sales_days: 21,
    expiry_window_days: 14,
};

/// The window of the average daily sales.
pub const SALES_WINDOW_DAYS: i64 = 28;
/// Changes written per transaction by the scan.
const CHUNK: usize = 200;
/// At most this many buyers from each of the quota and category lists.
const MATCH_PER_GROUP: usize = 10;

pub const LEVELS: [&str; 3] = ["yellow", "orange", "red"];
pub const STATUSES: [&str; 3] = ["open", "acknowledged", "resolved"];

pub fn level_name(rank: i32) -> &'static str {
    match rank {
        1 => "yellow",
        2 => "orange",
        3 => "red",
        _ => "none",
    }
}

// ---------------------------------------------------------------- rules

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub yellow_days: i64,
    pub orange_days: i64,
    pub red_days: i64,
    pub no_sales_days: i64,
    pub expiry_window_days: i64,
}

/// The thresholds of one product category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertRule {
    pub category: String,
    /// Days of cover from which the alert is yellow.
    pub yellow_days: i32,
    /// Days of cover from which the alert is orange (above `yellow_days`).
    pub orange_days: i32,
    /// Days of cover from which the alert is red (above `orange_days`).
    pub red_days: i32,
    /// Days without an accepted sale after which the alert is (at least) orange.
    pub no_sales_days: i32,
    /// Red when the earliest best-before is this close and the stock cannot be sold before it.
    pub expiry_window_days: i32,
    pub updated_at: DateTime<Utc>,
}

impl From<entity::alert_rules::Model> for AlertRule {
    fn from(m: entity::alert_rules::Model) -> Self {
        AlertRule {
            category: m.category,
            yellow_days: m.yellow_days,
            orange_days: m.orange_days,
            red_days: m.red_days,
            no_sales_days: m.no_sales_days,
            expiry_window_days: m.expiry_window_days,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertRuleList {
    pub items: Vec<AlertRule>,
}

/// `PUT /alert-rules/{category}`: every threshold, in days (0 to 3650).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutAlertRule {
    pub yellow_days: i64,
    pub orange_days: i64,
    pub red_days: i64,
    pub no_sales_days: i64,
    pub expiry_window_days: i64,
}

pub async fn list_rules(state: &AppState, _caller: &Caller) -> AppResult<AlertRuleList> {
    use sea_orm::{EntityTrait, QueryOrder};
    let rows = entity::alert_rules::Entity::find()
        .order_by_asc(entity::alert_rules::Column::Category)
        .all(&state.db)
        .await?;
    Ok(AlertRuleList {
        items: rows.into_iter().map(AlertRule::from).collect(),
    })
}

pub async fn put_rule(state: &AppState, caller: &Caller, category: &str, body: PutAlertRule) -> AppResult<AlertRule> {
    caller.require(&[Role::Admin])?;
    let mut errors = Vec::new();
    if !CATEGORIES.contains(&category) {
        errors.push(FieldError::new(
            "category",
            format!("unknown category; one of {}", CATEGORIES.join(", ")),
        ));
    }
    for (field, v) in [
        ("yellow_days", body.yellow_days),
        ("orange_days", body.orange_days),
        ("red_days", body.red_days),
        ("no_sales_days", body.no_sales_days),
        ("expiry_window_days", body.expiry_window_days),
    ] {
        if v < 0 {
            errors.push(FieldError::new(field, "must not be negative"));
        } else if v > 3650 {
            errors.push(FieldError::new(field, "must be at most 3650 days"));
        }
    }
    if body.yellow_days < 1 && body.yellow_days >= 0 {
        errors.push(FieldError::new("yellow_days", "must be at least 1"));
    }
    if body.no_sales_days < 1 && body.no_sales_days >= 0 {
        errors.push(FieldError::new("no_sales_days", "must be at least 1"));
    }
    if body.orange_days <= body.yellow_days {
        errors.push(FieldError::new(
            "orange_days",
            "must be greater than yellow_days (thresholds rise: yellow < orange < red days of cover)",
        ));
    }
    if body.red_days <= body.orange_days {
        errors.push(FieldError::new(
            "red_days",
            "must be greater than orange_days (thresholds rise: yellow < orange < red days of cover)",
        ));
    }
    AppError::check(errors)?;
    let db = &state.db;
    let t = now();
    db.execute_raw(sql(
        db,
        "INSERT INTO alert_rules (category, yellow_days, orange_days, red_days, no_sales_days, expiry_window_days, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7) \
         ON CONFLICT (category) DO UPDATE SET yellow_days = excluded.yellow_days, orange_days = excluded.orange_days, \
         red_days = excluded.red_days, no_sales_days = excluded.no_sales_days, expiry_window_days = excluded.expiry_window_days, \
         version = alert_rules.version + 1, updated_at = excluded.updated_at",
        vec![
            category.into(),
            (body.yellow_days as i32).into(),
            (body.orange_days as i32).into(),
            (body.red_days as i32).into(),
            (body.no_sales_days as i32).into(),
            (body.expiry_window_days as i32).into(),
            t.into(),
        ],
    ))
    .await?;
    use sea_orm::EntityTrait;
    let m = entity::alert_rules::Entity::find_by_id(category.to_string())
        .one(db)
        .await?
        .ok_or(AppError::NotFound("alert rule"))?;
    Ok(m.into())
}

async fn load_rules(conn: &impl ConnectionTrait) -> AppResult<HashMap<String, Rule>> {
    use sea_orm::EntityTrait;
    let rows = entity::alert_rules::Entity::find().all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            (
                m.category,
                Rule {
                    yellow_days: m.yellow_days as i64,
                    orange_days: m.orange_days as i64,
                    red_days: m.red_days as i64,
                    no_sales_days: m.no_sales_days as i64,
                    expiry_window_days: m.expiry_window_days as i64,
                },
            )
        })
        .collect())
}

// ---------------------------------------------------------------- signals and evaluation

/// The signals of one product at scan time.
#[derive(Debug, Clone, Default)]
pub struct Signal {
    pub product_id: String,
    pub product_name: String,
    pub category: String,
    pub supplier_org_id: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub unit: String,
    pub available_milli: i64,
    /// Net accepted quantity of the last 28 days.
    pub sold_window_milli: i64,
    pub days_to_expiry: Option<i64>,
    /// Days since the last sale, or since the product was listed when it never sold.
    pub days_without_sale: i64,
    pub days_since_last_sale: Option<i64>,
    /// Open backlog reports not yet sold since they were made.
    pub reported_milli: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Reason {
    /// days_of_cover | no_sales | expiry_risk | unsold_report
    pub code: String,
    pub detail: String,
}

/// What the rules make of a product's signals.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// 0 none, 1 yellow, 2 orange, 3 red.
    pub rank: i32,
    pub reasons: Vec<Reason>,
    pub days_of_cover: Option<i64>,
    pub avg_daily_milli: i64,
}

fn qty(milli: i64, unit: &str) -> String {
    if unit.is_empty() {
        from_milli(milli).to_string()
    } else {
        format!("{} {unit}", from_milli(milli))
    }
}

/// Applies a rule to a product's signals. Pure: unit-tested below.
pub fn evaluate(s: &Signal, r: &Rule) -> Evaluation {
    let sold = s.sold_window_milli.max(0);
    let avg_daily_milli = sold / SALES_WINDOW_DAYS;
    let days_of_cover = if sold > 0 {
        Some((s.available_milli as i128 * SALES_WINDOW_DAYS as i128 / sold as i128) as i64)
    } else {
        None
    };
    let mut rank = 0;
    let mut reasons = Vec::new();
    if s.available_milli <= 0 {
        return Evaluation {
            rank,
            reasons,
            days_of_cover,
            avg_daily_milli,
        };
    }
    if let Some(doc) = days_of_cover {
        let (lvl, threshold) = if doc >= r.red_days {
            (3, r.red_days)
        } else if doc >= r.orange_days {
            (2, r.orange_days)
        } else if doc >= r.yellow_days {
            (1, r.yellow_days)
        } else {
            (0, 0)
        };
        if lvl > 0 {
            rank = rank.max(lvl);
            reasons.push(Reason {
                code: "days_of_cover".into(),
                detail: format!(
                    "{} available last {doc} days at the 28-day average of {} a day ({} from {threshold} days)",
                    qty(s.available_milli, &s.unit),
                    qty(avg_daily_milli, &s.unit),
                    level_name(lvl)
                ),
            });
        }
    }
    if s.days_without_sale >= r.no_sales_days {
        rank = rank.max(2);
        reasons.push(Reason {
            code: "no_sales".into(),
            detail: match s.days_since_last_sale {
                Some(d) => format!("no accepted sale for {d} days (orange from {} days)", r.no_sales_days),
                None => format!(
                    "never sold in the {} days since it was listed (orange from {} days)",
                    s.days_without_sale, r.no_sales_days
                ),
            },
        });
    }
    if let Some(dte) = s.days_to_expiry {
        let cannot_sell = match days_of_cover {
            None => true,
            Some(doc) => doc > dte,
        };
        if dte <= r.expiry_window_days && cannot_sell {
            rank = 3;
            reasons.push(Reason {
                code: "expiry_risk".into(),
                detail: match days_of_cover {
                    None => format!(
                        "the earliest lot reaches its best-before in {dte} days (window {} days) and nothing sold in 28 days",
                        r.expiry_window_days
                    ),
                    Some(doc) => format!(
                        "the earliest lot reaches its best-before in {dte} days (window {} days) but the stock lasts {doc} days at the current pace",
                        r.expiry_window_days
                    ),
                },
            });
        }
    }
    if s.reported_milli > 0 {
        rank = rank.max(1);
        reasons.push(Reason {
            code: "unsold_report".into(),
            detail: format!(
                "the supplier reported {} unsold that has not sold since",
                qty(s.reported_milli, &s.unit)
            ),
        });
    }
    Evaluation {
        rank,
        reasons,
        days_of_cover,
        avg_daily_milli,
    }
}

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

/// Signals of every certified, unexpired product that has stock in unexpired lots.
/// Three grouped queries, whatever the number of products.
pub async fn load_signals(conn: &impl ConnectionTrait, at: DateTime<Utc>) -> AppResult<Vec<Signal>> {
    let day = at.date_naive();
    let since = at - chrono::Duration::days(SALES_WINDOW_DAYS);
    let rows = conn
        .query_all_raw(sql(
            conn,
            "SELECT p.id, p.name, p.category, p.unit, p.supplier_org_id, p.origin_region_code, p.origin_county_code, \
             p.reserved_milli, p.certified_at, p.created_at, s.on_hand, s.earliest, \
             COALESCE(l.sold, 0) AS sold, l.last_sale \
             FROM products p \
             JOIN (SELECT product_id, SUM(remaining_milli) AS on_hand, MIN(best_before) AS earliest FROM lots \
                   WHERE remaining_milli > 0 AND best_before >= $1 GROUP BY product_id) s ON s.product_id = p.id \
             LEFT JOIN (SELECT product_id, SUM(CASE WHEN occurred_at >= $2 THEN quantity_milli ELSE 0 END) AS sold, \
                   MAX(CASE WHEN kind = 'credit' THEN occurred_at END) AS last_sale FROM ledger_entries GROUP BY product_id) l \
                   ON l.product_id = p.id \
             WHERE p.status = 'certified' AND (p.valid_until IS NULL OR p.valid_until >= $1) \
             ORDER BY p.id",
            vec![day.into(), since.into()],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let reserved: i64 = row.try_get("", "reserved_milli")?;
        let on_hand = get_sum(&row, "on_hand")?;
        let sold = get_sum(&row, "sold")?;
        let earliest = opt_date(&row, "earliest");
        let last_sale = opt_time(&row, "last_sale");
        let listed = opt_time(&row, "certified_at")
            .or_else(|| opt_time(&row, "created_at"))
            .unwrap_or(at);
        let days_since_last_sale = last_sale.map(|t| (at - t).num_days().max(0));
        out.push(Signal {
            product_id: row.try_get("", "id")?,
            product_name: row.try_get("", "name")?,
            category: row.try_get("", "category")?,
            unit: row.try_get("", "unit")?,
            supplier_org_id: row.try_get("", "supplier_org_id")?,
            origin_region_code: row.try_get("", "origin_region_code")?,
            origin_county_code: row.try_get("", "origin_county_code")?,
            available_milli: (on_hand - reserved).max(0),
            sold_window_milli: sold,
            days_to_expiry: earliest.map(|d| (d - day).num_days()),
            days_without_sale: days_since_last_sale.unwrap_or_else(|| (at - listed).num_days().max(0)),
            days_since_last_sale,
            reported_milli: 0,
        });
    }
    // Open backlog reports, less what sold since each was made.
    let reports = conn
        .query_all_raw(sql(
            conn,
            "SELECT r.product_id, r.quantity_milli, \
             COALESCE((SELECT SUM(e.quantity_milli) FROM ledger_entries e WHERE e.product_id = r.product_id AND e.occurred_at >= r.created_at), 0) AS sold_since \
             FROM unsold_reports r WHERE r.status = 'open'",
            vec![],
        ))
        .await?;
    let mut reported: HashMap<String, i64> = HashMap::new();
    for row in reports {
        let pid: String = row.try_get("", "product_id")?;
        let q: i64 = row.try_get("", "quantity_milli")?;
        let sold_since = get_sum(&row, "sold_since")?;
        if sold_since < q {
            *reported.entry(pid).or_default() += q - sold_since;
        }
    }
    if !reported.is_empty() {
        for s in out.iter_mut() {
            if let Some(q) = reported.get(&s.product_id) {
                s.reported_milli = *q;
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- matching

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct MatchedBuyer {
    pub org_id: String,
    pub name: String,
    /// 1 is approached first.
    pub rank: i32,
    pub reason: String,
}

#[derive(Debug, Clone)]
struct BuyerInfo {
    name: String,
    email: String,
}

/// Everything matching needs, loaded once per scan with grouped queries.
pub struct Matcher {
    year: i32,
    buyers: HashMap<String, BuyerInfo>,
    /// county code -> (buyer, pairing kind)
    paired: HashMap<String, Vec<(String, String)>>,
    /// (buyer, target, credited), largest shortfall first, shortfall > 0 only.
    behind: Vec<(String, i64, i64)>,
    /// category -> (buyer, net quantity), largest first.
    bought: HashMap<String, Vec<(String, i64)>>,
    /// county code -> county office contact emails (org id, email).
    offices: HashMap<String, Vec<(String, String)>>,
}

impl Matcher {
    pub async fn load(conn: &impl ConnectionTrait, year: i32) -> AppResult<Matcher> {
        let mut buyers = HashMap::new();
        let mut offices: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let kinds = super::organizations::BUYER_KINDS;
        for row in conn
            .query_all_raw(sql(
                conn,
                "SELECT id, name, kind, region_code, contact_email FROM organizations WHERE status = 'active'",
                vec![],
            ))
            .await?
        {
            let id: String = row.try_get("", "id")?;
            let kind: String = row.try_get("", "kind")?;
            let email: String = row.try_get("", "contact_email")?;
            if kinds.contains(&kind.as_str()) {
                buyers.insert(
                    id,
                    BuyerInfo {
                        name: row.try_get("", "name")?,
                        email,
                    },
                );
            } else if kind == "county_office" {
                let region: String = row.try_get("", "region_code")?;
                let county = region.get(..6).unwrap_or(&region).to_string();
                offices.entry(county).or_default().push((id, email));
            }
        }
        let mut paired: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for row in conn
            .query_all_raw(sql(
                conn,
                "SELECT helper_org_id, helped_region_code, kind FROM pairings WHERE year = $1 ORDER BY created_at, id",
                vec![year.into()],
            ))
            .await?
        {
            let helper: String = row.try_get("", "helper_org_id")?;
            let region: String = row.try_get("", "helped_region_code")?;
            let kind: String = row.try_get("", "kind")?;
            if buyers.contains_key(&helper) {
                let list = paired.entry(region).or_default();
                if !list.iter().any(|(b, _)| b == &helper) {
                    list.push((helper, kind));
                }
            }
        }
        let mut behind = Vec::new();
        for row in conn
            .query_all_raw(sql(
                conn,
                "SELECT q.buyer_org_id, q.target_fen, \
                 COALESCE((SELECT SUM(e.amount_fen) FROM ledger_entries e JOIN organizations c ON c.id = e.buyer_org_id \
                   WHERE e.year = $1 AND (c.id = q.buyer_org_id OR c.parent_org_id = q.buyer_org_id)), 0) AS credited \
                 FROM quotas q WHERE q.year = $1",
                vec![year.into()],
            ))
            .await?
        {
            let b: String = row.try_get("", "buyer_org_id")?;
            let target: i64 = row.try_get("", "target_fen")?;
            let credited = get_sum(&row, "credited")?;
            if target > credited && buyers.contains_key(&b) {
                behind.push((b, target, credited));
            }
        }
        behind.sort_by(|a, b| (b.1 - b.2).cmp(&(a.1 - a.2)).then(a.0.cmp(&b.0)));
        let mut bought: HashMap<String, Vec<(String, i64)>> = HashMap::new();
        for row in conn
            .query_all_raw(sql(
                conn,
                "SELECT buyer_org_id, category, SUM(quantity_milli) AS qty FROM ledger_entries GROUP BY buyer_org_id, category",
                vec![],
            ))
            .await?
        {
            let b: String = row.try_get("", "buyer_org_id")?;
            let c: String = row.try_get("", "category")?;
            let q = get_sum(&row, "qty")?;
            if q > 0 && buyers.contains_key(&b) {
                bought.entry(c).or_default().push((b, q));
            }
        }
        for list in bought.values_mut() {
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        Ok(Matcher {
            year,
            buyers,
            paired,
            behind,
            bought,
            offices,
        })
    }

    /// Buyers to approach for a product of `category` from `county`, best first.
    pub fn rank(&self, county: &str, category: &str) -> Vec<MatchedBuyer> {
        let mut out: Vec<MatchedBuyer> = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |id: &str, reason: String, out: &mut Vec<MatchedBuyer>| {
            if seen.insert(id.to_string()) {
                if let Some(b) = self.buyers.get(id) {
                    out.push(MatchedBuyer {
                        org_id: id.to_string(),
                        name: b.name.clone(),
                        rank: out.len() as i32 + 1,
                        reason,
                    });
                }
            }
        };
        if let Some(list) = self.paired.get(county) {
            for (b, kind) in list {
                push(
                    b,
                    format!("paired with the origin county {county} in {} ({kind})", self.year),
                    &mut out,
                );
            }
        }
        for (b, target, credited) in self.behind.iter().take(MATCH_PER_GROUP) {
            push(
                b,
                format!(
                    "behind its {} quota: {} short of {} (credited {})",
                    self.year,
                    from_fen(target - credited),
                    from_fen(*target),
                    from_fen(*credited)
                ),
                &mut out,
            );
        }
        if let Some(list) = self.bought.get(category) {
            for (b, q) in list.iter().take(MATCH_PER_GROUP) {
                push(
                    b,
                    format!("bought {category} before ({} in total)", from_milli(*q)),
                    &mut out,
                );
            }
        }
        out
    }

    fn recipients(&self, county: &str, matched: &[MatchedBuyer]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = matched
            .iter()
            .filter_map(|m| self.buyers.get(&m.org_id).map(|b| (m.org_id.clone(), b.email.clone())))
            .collect();
        if let Some(list) = self.offices.get(county) {
            out.extend(list.iter().cloned());
        }
        out
    }
}

// ---------------------------------------------------------------- the scan

#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct ScanSummary {
    /// Products evaluated (certified, with stock).
    pub scanned: i64,
    pub opened: i64,
    pub raised: i64,
    pub resolved: i64,
}

#[derive(Debug, Clone)]
struct OpenAlert {
    id: String,
    rank: i32,
}

enum Change {
    Open(Signal, Evaluation),
    Raise(String, i32, Signal, Evaluation),
    Resolve(String, String),
}

/// One scan over every certified product with stock.
pub async fn scan(state: &AppState) -> AppResult<ScanSummary> {
    scan_at(&state.db, now()).await
}

/// The scan as of `at` (the benchmark and tests may pass another time).
pub async fn scan_at(db: &sea_orm::DatabaseConnection, at: DateTime<Utc>) -> AppResult<ScanSummary> {
    let rules = load_rules(db).await?;
    let signals = load_signals(db, at).await?;
    let mut open: HashMap<String, OpenAlert> = HashMap::new();
    for row in db
        .query_all_raw(sql(
            db,
            "SELECT id, product_id, level_rank FROM alerts WHERE status <> 'resolved'",
            vec![],
        ))
        .await?
    {
        let pid: String = row.try_get("", "product_id")?;
        open.insert(
            pid,
            OpenAlert {
                id: row.try_get("", "id")?,
                rank: row.try_get("", "level_rank")?,
            },
        );
    }
    let mut summary = ScanSummary {
        scanned: signals.len() as i64,
        ..Default::default()
    };
    let mut changes = Vec::new();
    let mut seen = HashSet::with_capacity(signals.len());
    for s in signals {
        let rule = rules.get(&s.category).copied().unwrap_or(FALLBACK_RULE);
        let ev = evaluate(&s, &rule);
        seen.insert(s.product_id.clone());
        match open.get(&s.product_id) {
            None if ev.rank > 0 => changes.push(Change::Open(s, ev)),
            Some(a) if ev.rank == 0 => changes.push(Change::Resolve(
                a.id.clone(),
                "resolved by the scan: every signal is back under its threshold".into(),
            )),
            Some(a) if ev.rank > a.rank => changes.push(Change::Raise(a.id.clone(), a.rank, s, ev)),
            _ => {}
        }
    }
    for (pid, a) in &open {
        if !seen.contains(pid) {
            changes.push(Change::Resolve(
                a.id.clone(),
                "resolved by the scan: no stock left to sell, or the product is no longer certified".into(),
            ));
        }
    }
    if changes.is_empty() {
        return Ok(summary);
    }
    let needs_matching = changes.iter().any(|c| !matches!(c, Change::Resolve(..)));
    let matcher = if needs_matching {
        Some(Matcher::load(db, at.year()).await?)
    } else {
        None
    };
    let mut iter = changes.into_iter().peekable();
    while iter.peek().is_some() {
        let chunk: Vec<Change> = iter.by_ref().take(CHUNK).collect();
        let txn = db.begin().await?;
        let mut opens = Vec::new();
        for c in chunk {
            match c {
                Change::Open(s, ev) => opens.push((s, ev)),
                Change::Raise(id, from, s, ev) => {
                    if let Some(m) = &matcher {
                        if raise_alert(&txn, m, &id, from, &s, &ev, at).await? {
                            summary.raised += 1;
                        }
                    }
                }
                Change::Resolve(id, note) => {
                    if resolve_alert(&txn, &id, None, &note, at).await? {
                        summary.resolved += 1;
                    }
                }
            }
        }
        if let Some(m) = &matcher {
            summary.opened += open_batch(&txn, m, &opens, at).await?;
        }
        txn.commit().await?;
    }
    Ok(summary)
}

/// Appends `v` to `values` and returns its placeholder.
fn ph(values: &mut Vec<Value>, v: impl Into<Value>) -> String {
    values.push(v.into());
    format!("${}", values.len())
}

/// Opens alerts for a batch of products in a few multi-row statements: the alerts
/// (`ON CONFLICT DO NOTHING RETURNING id`: a racing scan's alert wins and this one
/// is skipped), their events, their backlog reports, and the notifications of the
/// alerts actually inserted. Returns how many were opened.
async fn open_batch(
    conn: &impl ConnectionTrait,
    m: &Matcher,
    items: &[(Signal, Evaluation)],
    at: DateTime<Utc>,
) -> AppResult<i64> {
    if items.is_empty() {
        return Ok(0);
    }
    let mut text = String::from(
        "INSERT INTO alerts (id, product_id, supplier_org_id, origin_region_code, origin_county_code, category, level, level_rank, \
         status, reasons, available_milli, avg_daily_sales_milli, days_of_cover, days_to_expiry, days_since_last_sale, matched_buyers, \
         opened_at, updated_at) VALUES ",
    );
    let mut values: Vec<Value> = Vec::with_capacity(items.len() * 16 + 1);
    let t = ph(&mut values, at);
    let mut by_id: HashMap<String, (usize, Vec<MatchedBuyer>)> = HashMap::new();
    for (i, (s, ev)) in items.iter().enumerate() {
        let id = new_id();
        let matched = m.rank(&s.origin_county_code, &s.category);
        let cols = [
            ph(&mut values, id.clone()),
            ph(&mut values, s.product_id.clone()),
            ph(&mut values, s.supplier_org_id.clone()),
            ph(&mut values, s.origin_region_code.clone()),
            ph(&mut values, s.origin_county_code.clone()),
            ph(&mut values, s.category.clone()),
            ph(&mut values, level_name(ev.rank)),
            ph(&mut values, ev.rank),
            "'open'".to_string(),
            ph(&mut values, to_json(&ev.reasons)?),
            ph(&mut values, s.available_milli),
            ph(&mut values, ev.avg_daily_milli),
            ph(&mut values, ev.days_of_cover.map(|d| d.min(i32::MAX as i64) as i32)),
            ph(&mut values, s.days_to_expiry.map(|d| d as i32)),
            ph(&mut values, s.days_since_last_sale.map(|d| d as i32)),
            ph(&mut values, to_json(&matched)?),
            t.clone(),
            t.clone(),
        ];
        if i > 0 {
            text.push_str(", ");
        }
        text.push('(');
        text.push_str(&cols.join(", "));
        text.push(')');
        by_id.insert(id, (i, matched));
    }
    text.push_str(" ON CONFLICT DO NOTHING RETURNING id");
    let rows = conn.query_all_raw(sql(conn, &text, values)).await?;
    let mut inserted = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("", "id")?;
        if let Some((i, matched)) = by_id.remove(&id) {
            inserted.push((id, i, matched));
        }
    }
    if inserted.is_empty() {
        return Ok(0);
    }
    // Events.
    let mut text = String::from(
        "INSERT INTO alert_events (id, alert_id, kind, from_level, to_level, actor_user_id, actor_org_id, note, occurred_at) VALUES ",
    );
    let mut values: Vec<Value> = Vec::new();
    let t = ph(&mut values, at);
    for (n, (id, i, _)) in inserted.iter().enumerate() {
        let ev = &items[*i].1;
        let note = ev
            .reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if n > 0 {
            text.push_str(", ");
        }
        let row = [
            ph(&mut values, new_id()),
            ph(&mut values, id.clone()),
            "'opened'".to_string(),
            "NULL".to_string(),
            ph(&mut values, level_name(ev.rank)),
            "NULL".to_string(),
            "NULL".to_string(),
            ph(&mut values, note),
            t.clone(),
        ];
        text.push_str(&format!("({})", row.join(", ")));
    }
    conn.execute_raw(sql(conn, &text, values)).await?;
    // Open backlog reports of these products now belong to their alert.
    conn.execute_raw(sql(
        conn,
        "UPDATE unsold_reports SET alert_id = (SELECT a.id FROM alerts a WHERE a.product_id = unsold_reports.product_id \
         AND a.status <> 'resolved') WHERE status = 'open' AND alert_id IS NULL",
        vec![],
    ))
    .await?;
    // Notifications, once per alert, level and recipient; the emails of those newly recorded.
    let mut pending: HashMap<(String, String), (String, String, String)> = HashMap::new();
    let mut text =
        String::from("INSERT INTO alert_notifications (alert_id, level, recipient_org_id, created_at) VALUES ");
    let mut values: Vec<Value> = Vec::new();
    let t = ph(&mut values, at);
    let mut any = false;
    for (id, i, matched) in &inserted {
        let (s, ev) = &items[*i];
        let (subject, body) = message(id, s, ev);
        for (org_id, email) in m.recipients(&s.origin_county_code, matched) {
            if pending.contains_key(&(id.clone(), org_id.clone())) {
                continue;
            }
            if any {
                text.push_str(", ");
            }
            any = true;
            let row = [
                ph(&mut values, id.clone()),
                ph(&mut values, level_name(ev.rank)),
                ph(&mut values, org_id.clone()),
                t.clone(),
            ];
            text.push_str(&format!("({})", row.join(", ")));
            pending.insert((id.clone(), org_id), (email, subject.clone(), body.clone()));
        }
    }
    if any {
        text.push_str(" ON CONFLICT DO NOTHING RETURNING alert_id, recipient_org_id");
        let rows = conn.query_all_raw(sql(conn, &text, values)).await?;
        let mut mails = Vec::with_capacity(rows.len());
        for row in rows {
            let a: String = row.try_get("", "alert_id")?;
            let o: String = row.try_get("", "recipient_org_id")?;
            if let Some(mail) = pending.remove(&(a, o)) {
                mails.push(mail);
            }
        }
        super::outbox::enqueue_many(conn, &mails).await?;
    }
    Ok(inserted.len() as i64)
}

fn to_json<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(AppError::internal)
}

#[allow(clippy::too_many_arguments)]
async fn add_event(
    conn: &impl ConnectionTrait,
    alert_id: &str,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    actor: Option<&Caller>,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        "INSERT INTO alert_events (id, alert_id, kind, from_level, to_level, actor_user_id, actor_org_id, note, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            new_id().into(),
            alert_id.into(),
            kind.into(),
            from.map(str::to_string).into(),
            to.map(str::to_string).into(),
            actor.map(|c| c.user_id.clone()).into(),
            actor.map(|c| c.org_id.clone()).into(),
            note.map(str::to_string).into(),
            at.into(),
        ],
    ))
    .await?;
    Ok(())
}

async fn notify(
    conn: &impl ConnectionTrait,
    m: &Matcher,
    alert_id: &str,
    s: &Signal,
    ev: &Evaluation,
    matched: &[MatchedBuyer],
    at: DateTime<Utc>,
) -> AppResult<()> {
    let level = level_name(ev.rank);
    let (subject, body) = message(alert_id, s, ev);
    for (org_id, email) in m.recipients(&s.origin_county_code, matched) {
        let res = conn
            .execute_raw(sql(
                conn,
                "INSERT INTO alert_notifications (alert_id, level, recipient_org_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
                vec![alert_id.into(), level.into(), org_id.clone().into(), at.into()],
            ))
            .await?;
        if res.rows_affected() == 1 {
            super::outbox::enqueue(conn, &email, &subject, &body).await?;
        }
    }
    Ok(())
}

/// The subject and body of an alert's email.
fn message(alert_id: &str, s: &Signal, ev: &Evaluation) -> (String, String) {
    let level = level_name(ev.rank);
    let subject = format!(
        "[{}] unsold-produce alert: {} from county {}",
        level.to_uppercase(),
        s.product_name,
        s.origin_county_code
    );
    let mut body = format!(
        "Alert {alert_id} is {level} for the product {} ({}, {}) from county {}.\n\nAvailable: {}\nAverage daily sales (28 days): {}\n\nReasons:\n",
        s.product_name,
        s.product_id,
        s.category,
        s.origin_county_code,
        qty(s.available_milli, &s.unit),
        qty(ev.avg_daily_milli, &s.unit),
    );
    for r in &ev.reasons {
        body.push_str(&format!("- {}: {}\n", r.code, r.detail));
    }
    body.push_str("\nPledge a purchase with POST /api/v1/alerts/");
    body.push_str(alert_id);
    body.push_str("/pledges.\n");
    (subject, body)
}

async fn raise_alert(
    conn: &impl ConnectionTrait,
    m: &Matcher,
    id: &str,
    from: i32,
    s: &Signal,
    ev: &Evaluation,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let matched = m.rank(&s.origin_county_code, &s.category);
    let level = level_name(ev.rank);
    // Conditional: only a higher level, only while open; a racing scan raises once.
    let res = conn
        .execute_raw(sql(
            conn,
            "UPDATE alerts SET level = $1, level_rank = $2, status = 'open', reasons = $3, available_milli = $4, \
             avg_daily_sales_milli = $5, days_of_cover = $6, days_to_expiry = $7, days_since_last_sale = $8, matched_buyers = $9, \
             updated_at = $10 WHERE id = $11 AND status <> 'resolved' AND level_rank < $2",
            vec![
                level.into(),
                ev.rank.into(),
                to_json(&ev.reasons)?.into(),
                s.available_milli.into(),
                ev.avg_daily_milli.into(),
                ev.days_of_cover.map(|d| d.min(i32::MAX as i64) as i32).into(),
                s.days_to_expiry.map(|d| d as i32).into(),
                s.days_since_last_sale.map(|d| d as i32).into(),
                to_json(&matched)?.into(),
                at.into(),
                id.into(),
            ],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    let note = ev
        .reasons
        .iter()
        .map(|r| r.code.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    add_event(
        conn,
        id,
        "raised",
        Some(level_name(from)),
        Some(level),
        None,
        Some(&note),
        at,
    )
    .await?;
    notify(conn, m, id, s, ev, &matched, at).await?;
    Ok(true)
}

async fn resolve_alert(
    conn: &impl ConnectionTrait,
    id: &str,
    actor: Option<&Caller>,
    note: &str,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let res = conn
        .execute_raw(sql(
            conn,
            "UPDATE alerts SET status = 'resolved', resolved_at = $1, resolved_by = $2, resolution_note = $3, updated_at = $1 \
             WHERE id = $4 AND status <> 'resolved'",
            vec![
                at.into(),
                actor.map(|c| c.user_id.clone()).into(),
                note.into(),
                id.into(),
            ],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    add_event(conn, id, "resolved", None, None, actor, Some(note), at).await?;
    conn.execute_raw(sql(
        conn,
        "UPDATE unsold_reports SET status = 'closed', closed_at = $1 \
         WHERE status = 'open' AND product_id = (SELECT product_id FROM alerts WHERE id = $2)",
        vec![at.into(), id.into()],
    ))
    .await?;
    Ok(true)
}

// ---------------------------------------------------------------- reading alerts

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Pledge {
    pub id: String,
    pub alert_id: String,
    pub buyer_org_id: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub order_id: String,
    pub created_at: DateTime<Utc>,
}

impl From<entity::pledges::Model> for Pledge {
    fn from(m: entity::pledges::Model) -> Self {
        Pledge {
            id: m.id,
            alert_id: m.alert_id,
            buyer_org_id: m.buyer_org_id,
            quantity: from_milli(m.quantity_milli),
            order_id: m.order_id,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alert {
    pub id: String,
    pub product_id: String,
    pub supplier_org_id: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub category: String,
    /// yellow | orange | red
    pub level: String,
    pub reasons: Vec<Reason>,
    /// Available stock when the alert was opened or last raised.
    #[schema(value_type = String)]
    pub available: Decimal,
    /// Net accepted sales per day over the last 28 days.
    #[schema(value_type = String)]
    pub avg_daily_sales: Decimal,
    /// Null: infinite (stock and no sales in 28 days).
    pub days_of_cover: Option<i32>,
    pub days_to_expiry: Option<i32>,
    pub days_since_last_sale: Option<i32>,
    /// open | acknowledged | resolved
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution_note: Option<String>,
    pub matched_buyers: Vec<MatchedBuyer>,
    pub pledges: Vec<Pledge>,
    /// Total pledged so far.
    #[schema(value_type = String)]
    pub pledged: Decimal,
}

crate::page_type!(AlertPage, Alert);

fn to_alert(m: entity::alerts::Model, pledges: Vec<Pledge>) -> Alert {
    let pledged = pledges.iter().map(|p| p.quantity).sum::<Decimal>();
    Alert {
        reasons: serde_json::from_str(&m.reasons).unwrap_or_default(),
        matched_buyers: serde_json::from_str(&m.matched_buyers).unwrap_or_default(),
        id: m.id,
        product_id: m.product_id,
        supplier_org_id: m.supplier_org_id,
        origin_region_code: m.origin_region_code,
        origin_county_code: m.origin_county_code,
        category: m.category,
        level: m.level,
        available: from_milli(m.available_milli),
        avg_daily_sales: from_milli(m.avg_daily_sales_milli),
        days_of_cover: m.days_of_cover,
        days_to_expiry: m.days_to_expiry,
        days_since_last_sale: m.days_since_last_sale,
        status: m.status,
        opened_at: m.opened_at,
        updated_at: m.updated_at,
        acknowledged_at: m.acknowledged_at,
        resolved_at: m.resolved_at,
        resolution_note: m.resolution_note,
        pledges,
        pledged,
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertEvent {
    pub id: String,
    pub alert_id: String,
    /// opened | raised | acknowledged | resolved | pledged
    pub kind: String,
    pub from_level: Option<String>,
    pub to_level: Option<String>,
    /// Null for the scan.
    pub actor_user_id: Option<String>,
    pub actor_org_id: Option<String>,
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

crate::page_type!(AlertEventPage, AlertEvent);

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    /// open | acknowledged | resolved
    pub status: Option<String>,
    /// yellow | orange | red
    pub level: Option<String>,
    /// Origin county code (6 digits).
    pub county: Option<String>,
    /// Product category.
    pub category: Option<String>,
}

/// Which alerts the caller may see, as a SQL condition on `alerts` (with its values).
async fn scope(state: &AppState, caller: &Caller) -> AppResult<(String, Vec<Value>)> {
    Ok(match caller.role {
        Role::Admin | Role::Evaluator => ("1 = 1".into(), vec![]),
        Role::Supplier => ("supplier_org_id = $S".into(), vec![caller.org_id.clone().into()]),
        Role::Buyer => (
            "matched_buyers LIKE $S".into(),
            vec![format!("%\"org_id\":\"{}\"%", caller.org_id).into()],
        ),
        Role::Certifier => (
            "origin_county_code = $S".into(),
            vec![caller_county(state, caller).await?.into()],
        ),
    })
}

/// The county of a county office's user (its organisation's region).
async fn caller_county(state: &AppState, caller: &Caller) -> AppResult<String> {
    let org = super::organizations::find(&state.db, &caller.org_id).await?;
    Ok(super::regions::county_of(&state.db, &org.region_code)
        .await?
        .map(|r| r.code)
        .unwrap_or(org.region_code))
}

async fn pledges_of(conn: &impl ConnectionTrait, alert_ids: &[String]) -> AppResult<HashMap<String, Vec<Pledge>>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let mut out: HashMap<String, Vec<Pledge>> = HashMap::new();
    if alert_ids.is_empty() {
        return Ok(out);
    }
    let rows = entity::pledges::Entity::find()
        .filter(entity::pledges::Column::AlertId.is_in(alert_ids.to_vec()))
        .order_by_asc(entity::pledges::Column::Id)
        .all(conn)
        .await?;
    for r in rows {
        out.entry(r.alert_id.clone()).or_default().push(r.into());
    }
    Ok(out)
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &AlertFilter,
    page: &PageParams,
) -> AppResult<(Vec<Alert>, Option<String>)> {
    use sea_orm::FromQueryResult;
    let limit = page.limit()?;
    let cursor = page.cursor()?;
    let mut errors = Vec::new();
    if let Some(s) = &f.status {
        if !STATUSES.contains(&s.as_str()) {
            errors.push(FieldError::new("status", "must be open, acknowledged or resolved"));
        }
    }
    if let Some(l) = &f.level {
        if !LEVELS.contains(&l.as_str()) {
            errors.push(FieldError::new("level", "must be yellow, orange or red"));
        }
    }
    if let Some(c) = &f.county {
        if c.len() != 6 || !c.chars().all(|ch| ch.is_ascii_digit()) {
            errors.push(FieldError::new("county", "must be a 6-digit county code"));
        }
    }
    if let Some(c) = &f.category {
        if !CATEGORIES.contains(&c.as_str()) {
            errors.push(FieldError::new("category", "is not a product category"));
        }
    }
    AppError::check(errors)?;
    let (cond, mut values) = scope(state, caller).await?;
    let mut text = format!("SELECT * FROM alerts WHERE {}", cond.replace("$S", "$1"));
    let add = |col: &str, op: &str, v: Value, text: &mut String, values: &mut Vec<Value>| {
        values.push(v);
        text.push_str(&format!(" AND {col} {op} ${}", values.len()));
    };
    if let Some(s) = &f.status {
        add("status", "=", s.clone().into(), &mut text, &mut values);
    }
    if let Some(l) = &f.level {
        add("level", "=", l.clone().into(), &mut text, &mut values);
    }
    if let Some(c) = &f.county {
        add("origin_county_code", "=", c.clone().into(), &mut text, &mut values);
    }
    if let Some(c) = &f.category {
        add("category", "=", c.clone().into(), &mut text, &mut values);
    }
    if let Some(c) = cursor {
        add("id", "<", c.into(), &mut text, &mut values);
    }
    text.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
    let db = &state.db;
    let rows = entity::alerts::Model::find_by_statement(sql(db, &text, values))
        .all(db)
        .await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut pledges = pledges_of(db, &ids).await?;
    Ok((
        rows.into_iter()
            .map(|m| {
                let p = pledges.remove(&m.id).unwrap_or_default();
                to_alert(m, p)
            })
            .collect(),
        next,
    ))
}

/// The alert if the caller may see it; 404 otherwise.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> AppResult<entity::alerts::Model> {
    use sea_orm::FromQueryResult;
    let (cond, mut values) = scope(state, caller).await?;
    values.insert(0, id.into());
    let db = &state.db;
    entity::alerts::Model::find_by_statement(sql(
        db,
        &format!("SELECT * FROM alerts WHERE id = $1 AND {}", cond.replace("$S", "$2")),
        values,
    ))
    .one(db)
    .await?
    .ok_or(AppError::NotFound("alert"))
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> AppResult<Alert> {
    let m = visible(state, caller, id).await?;
    let p = pledges_of(&state.db, std::slice::from_ref(&m.id))
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    Ok(to_alert(m, p))
}

pub async fn events(state: &AppState, caller: &Caller, id: &str, page: &PageParams) -> AppResult<AlertEventPage> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let limit = page.limit()?;
    let m = visible(state, caller, id).await?;
    let mut q = entity::alert_events::Entity::find().filter(entity::alert_events::Column::AlertId.eq(m.id));
    if let Some(c) = page.cursor()? {
        q = q.filter(entity::alert_events::Column::Id.gt(c));
    }
    let rows = q
        .order_by_asc(entity::alert_events::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = paginate(rows, limit, |r| r.id.clone());
    Ok(AlertEventPage {
        items: rows
            .into_iter()
            .map(|e| AlertEvent {
                id: e.id,
                alert_id: e.alert_id,
                kind: e.kind,
                from_level: e.from_level,
                to_level: e.to_level,
                actor_user_id: e.actor_user_id,
                actor_org_id: e.actor_org_id,
                note: e.note,
                occurred_at: e.occurred_at,
            })
            .collect(),
        next_cursor,
    })
}

// ---------------------------------------------------------------- the response

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAction {
    /// What was done or decided (required, up to 2000 characters).
    pub note: String,
}

/// `acknowledge` or `resolve` by the county office of the origin county, or the admin.
pub async fn act(state: &AppState, caller: &Caller, id: &str, action: &str, body: AlertAction) -> AppResult<Alert> {
    caller.require(&[Role::Admin, Role::Certifier])?;
    let m = visible(state, caller, id).await?;
    let mut errors = Vec::new();
    super::required_text(&mut errors, "note", &body.note, 2000);
    AppError::check(errors)?;
    let note = body.note.trim().to_string();
    let at = now();
    let txn = state.db.begin().await?;
    match action {
        "acknowledge" => {
            let res = txn
                .execute_raw(sql(
                    &txn,
                    "UPDATE alerts SET status = 'acknowledged', acknowledged_at = $1, acknowledged_by = $2, updated_at = $1 \
                     WHERE id = $3 AND status = 'open'",
                    vec![at.into(), caller.user_id.clone().into(), m.id.clone().into()],
                ))
                .await?;
            if res.rows_affected() != 1 {
                return Err(AppError::Conflict(format!(
                    "only an open alert can be acknowledged; this one is {}",
                    m.status
                )));
            }
            add_event(&txn, &m.id, "acknowledged", None, None, Some(caller), Some(&note), at).await?;
        }
        _ => {
            if !resolve_alert(&txn, &m.id, Some(caller), &note, at).await? {
                return Err(AppError::Conflict("the alert is already resolved".into()));
            }
        }
    }
    txn.commit().await?;
    get(state, caller, id).await
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnsoldReport {
    /// The backlog, a decimal string with up to three places.
    #[schema(value_type = String, example = "1200.5")]
    pub quantity: Decimal,
    /// Up to 2000 characters.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnsoldReport {
    pub id: String,
    pub product_id: String,
    pub supplier_org_id: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    pub note: String,
    /// open | closed (closed when the product's alert is resolved)
    pub status: String,
    pub alert_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn report_unsold(
    state: &AppState,
    caller: &Caller,
    product_id: &str,
    body: NewUnsoldReport,
) -> AppResult<UnsoldReport> {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    caller.require(&[Role::Supplier])?;
    let product = entity::products::Entity::find_by_id(product_id.to_string())
        .one(&state.db)
        .await?
        .filter(|p| p.supplier_org_id == caller.org_id)
        .ok_or(AppError::NotFound("product"))?;
    let mut errors = Vec::new();
    let q = match to_positive_milli(body.quantity, "quantity") {
        Ok(q) => Some(q),
        Err(AppError::Validation { errors: e, .. }) => {
            errors.extend(e);
            None
        }
        Err(e) => return Err(e),
    };
    if body.note.chars().count() > 2000 {
        errors.push(FieldError::new("note", "must be at most 2000 characters"));
    }
    AppError::check(errors)?;
    if product.status != "certified" {
        return Err(AppError::Conflict(format!(
            "only a certified product can be reported unsold; this one is {}",
            product.status
        )));
    }
    let m = entity::unsold_reports::ActiveModel {
        id: Set(new_id()),
        product_id: Set(product.id),
        supplier_org_id: Set(caller.org_id.clone()),
        quantity_milli: Set(q.unwrap_or_default()),
        note: Set(body.note.trim().to_string()),
        status: Set("open".into()),
        alert_id: Set(None),
        reported_by: Set(Some(caller.user_id.clone())),
        created_at: Set(now()),
        closed_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    Ok(UnsoldReport {
        id: m.id,
        product_id: m.product_id,
        supplier_org_id: m.supplier_org_id,
        quantity: from_milli(m.quantity_milli),
        note: m.note,
        status: m.status,
        alert_id: m.alert_id,
        created_at: m.created_at,
    })
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    /// How much of the product the buyer takes, a decimal string.
    #[schema(value_type = String, example = "500")]
    pub quantity: Decimal,
    /// Delivery address (default: the buyer organisation's name).
    pub deliver_to: Option<String>,
    /// Default: three days from today.
    pub requested_date: Option<NaiveDate>,
    /// purchase | helped_sale (default purchase).
    pub credit_category: Option<String>,
    pub pairing_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeResult {
    pub pledge: Pledge,
    pub order: Order,
}

/// A buyer matched to the alert pledges a quantity: a real order through `place_order`.
/// The order, the pledge row and its event commit in one transaction, or none of them.
/// A replay (same key and body) answers the first pledge and writes nothing.
pub async fn pledge(
    state: &AppState,
    caller: &Caller,
    alert_id: &str,
    body: NewPledge,
    key: &orders::IdempotencyKey,
) -> AppResult<PledgeResult> {
    use crate::domain::{AlertEventKind, AlertStatus, CreditCategory, Quantity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    caller.require(&[Role::Buyer])?;
    let alert = visible(state, caller, alert_id).await?;
    let quantity =
        Quantity::parse(&body.quantity.normalize().to_string()).map_err(|e| AppError::amount("quantity", e))?;
    if quantity.is_zero() {
        return Err(AppError::field("quantity", "must be greater than zero"));
    }
    if alert.status == AlertStatus::Resolved {
        return Err(AppError::Conflict(
            "the alert is resolved; order through POST /orders".into(),
        ));
    }
    let credit_category = match body.credit_category.as_deref() {
        None => CreditCategory::Purchase,
        Some(c) => c
            .parse()
            .map_err(|e: crate::domain::UnknownValue| AppError::field("credit_category", e.to_string()))?,
    };
    let pairing_id = body
        .pairing_id
        .as_deref()
        .map(|p| {
            p.parse()
                .map_err(|_| AppError::field("pairing_id", "is not a pairing id"))
        })
        .transpose()?;
    let deliver_to = match body.deliver_to {
        Some(d) => d,
        None => super::organizations::find(&state.db, &caller.org_id).await?.name,
    };
    let req = NewOrder {
        lines: vec![NewOrderLine {
            product_id: super::stored(&alert.product_id)?,
            quantity,
        }],
        credit_category,
        pairing_id,
        deliver_to,
        requested_date: body
            .requested_date
            .unwrap_or_else(|| today() + chrono::Duration::days(3)),
    };
    let purchaser = orders::Purchaser::of(caller)?;
    let source = OrderSource::Pledge {
        alert_id: super::stored(&alert.id)?,
    };
    let txn = state.db.begin().await?;
    let placed = async {
        let placed = orders::place_order(&txn, &purchaser, req, key, source).await?;
        if let orders::Placed::Created(order) = &placed {
            let at = now();
            txn.execute_raw(sql(
                &txn,
                "INSERT INTO pledges (id, alert_id, buyer_org_id, buyer_user_id, quantity_milli, order_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    new_id().into(),
                    alert.id.clone().into(),
                    caller.org_id.clone().into(),
                    caller.user_id.clone().into(),
                    quantity.into(),
                    order.id.to_string().into(),
                    at.into(),
                ],
            ))
            .await?;
            add_event(
                &txn,
                &alert.id,
                AlertEventKind::Pledged.as_str(),
                None,
                None,
                Some(caller),
                Some(&format!("pledged {quantity} (order {})", order.id)),
                at,
            )
            .await?;
        }
        Ok::<_, AppError>(placed)
    }
    .await;
    let placed = match placed {
        Ok(p) => p,
        Err(e) => {
            txn.rollback().await?;
            return Err(e);
        }
    };
    txn.commit().await?;
    if !placed.is_replay() {
        orders::stock_changed(state).await;
    }
    let order = placed.into_order();
    let p = entity::pledges::Entity::find()
        .filter(entity::pledges::Column::OrderId.eq(order.id.to_string()))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal("pledge missing after its order"))?;
    Ok(PledgeResult {
        pledge: p.into(),
        order,
    })
}

pub async fn list_pledges(state: &AppState, caller: &Caller, alert_id: &str) -> AppResult<Vec<Pledge>> {
    let m = visible(state, caller, alert_id).await?;
    Ok(pledges_of(&state.db, std::slice::from_ref(&m.id))
        .await?
        .remove(&m.id)
        .unwrap_or_default())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeList {
    pub items: Vec<Pledge>,
}

/// Admin-only manual scan.
pub async fn scan_now(state: &AppState, caller: &Caller) -> AppResult<ScanSummary> {
    caller.require(&[Role::Admin])?;
    scan(state).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            yellow_days: 7,
            orange_days: 14,
            red_days: 21,
            no_sales_days: 7,
            expiry_window_days: 5,
        }
    }

    fn sig(available: i64, sold: i64) -> Signal {
        Signal {
            available_milli: available,
            sold_window_milli: sold,
            days_since_last_sale: Some(1),
            days_without_sale: 1,
            days_to_expiry: Some(100),
            ..Default::default()
        }
    }

    #[test]
    fn levels_by_days_of_cover() {
        // 28 sold in 28 days: 1 a day.
        assert_eq!(evaluate(&sig(6_000, 28_000), &rule()).rank, 0);
        assert_eq!(evaluate(&sig(7_000, 28_000), &rule()).rank, 1);
        assert_eq!(evaluate(&sig(14_000, 28_000), &rule()).rank, 2);
        assert_eq!(evaluate(&sig(21_000, 28_000), &rule()).rank, 3);
        assert_eq!(evaluate(&sig(21_000, 28_000), &rule()).days_of_cover, Some(21));
    }

    #[test]
    fn no_sales_expiry_and_reports() {
        let mut s = sig(1_000, 0);
        s.days_without_sale = 8;
        s.days_since_last_sale = Some(8);
        let e = evaluate(&s, &rule());
        assert_eq!(e.rank, 2);
        assert_eq!(e.reasons[0].code, "no_sales");
        let mut s = sig(10_000, 28_000);
        s.days_to_expiry = Some(3);
        let e = evaluate(&s, &rule());
        assert_eq!(e.rank, 3);
        assert!(e.reasons.iter().any(|r| r.code == "expiry_risk"));
        let mut s = sig(1_000, 28_000);
        s.reported_milli = 500;
        let e = evaluate(&s, &rule());
        assert_eq!((e.rank, e.reasons[0].code.as_str()), (1, "unsold_report"));
        assert_eq!(evaluate(&sig(0, 0), &rule()).rank, 0);
    }
}
