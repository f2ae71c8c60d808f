//! The public catalogue: certified, unexpired products of active suppliers.
//!
//! Pages are cached under a key made of the catalogue generation, today's date (so a
//! certification that expires at midnight leaves at once) and the normalised query.
//! Every change that can affect a page bumps the generation *after* its commit: a
//! page computed before the change can only land under the old generation, which no
//! reader asks for any more.
use super::{paginate, sql, today, PageParams};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{from_fen, from_milli, to_fen};
use crate::state::AppState;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait, Value};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Text searched in name and description: Chinese substrings or Latin words, any case.
    pub q: Option<String>,
    pub category: Option<String>,
    /// The origin county's code (6 digits).
    pub county: Option<String>,
    /// poverty | deep_poverty
    pub poverty_status: Option<String>,
    /// Lowest unit price, e.g. `10.00`.
    pub min_price: Option<String>,
    pub max_price: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CatalogItem {
    pub id: String,
    pub name: String,
    pub category: String,
    pub unit: String,
    #[schema(value_type = String)]
    pub price: Decimal,
    #[schema(value_type = String)]
    pub min_order_qty: Decimal,
    pub description: String,
    pub supplier_org_id: String,
    pub supplier_name: String,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub origin_county_name: String,
    /// poverty | deep_poverty
    pub origin_poverty_status: String,
    pub certificates: Vec<super::products::Certificate>,
    pub certificate_number: Option<String>,
    pub valid_until: Option<chrono::NaiveDate>,
    /// Stock that can be ordered now (on hand in unexpired lots minus reservations).
    #[schema(value_type = String)]
    pub available: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CatalogPage {
    pub items: Vec<CatalogItem>,
    pub next_cursor: Option<String>,
}

struct Checked {
    terms: Vec<String>,
    category: Option<String>,
    county: Option<String>,
    poverty_status: Option<String>,
    min_fen: Option<i64>,
    max_fen: Option<i64>,
    limit: u64,
    cursor: Option<String>,
}

fn price_param(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>) -> Option<i64> {
    let s = v.as_deref()?.trim();
    match Decimal::from_str(s) {
        Ok(d) => match to_fen(d, field) {
            Ok(f) => Some(f),
            Err(AppError::Validation { errors: e, .. }) => {
                errors.extend(e);
                None
            }
            Err(_) => None,
        },
        Err(_) => {
            errors.push(FieldError::new(field, "must be a decimal amount such as 12.50"));
            None
        }
    }
}

fn check(q: &CatalogQuery, page: &PageParams) -> AppResult<Checked> {
    let mut errors = Vec::new();
    let limit = match page.limit() {
        Ok(l) => l,
        Err(_) => {
            errors.push(FieldError::new("limit", "must be between 1 and 200"));
            50
        }
    };
    let cursor = match page.cursor() {
        Ok(c) => c,
        Err(_) => {
            errors.push(FieldError::new("cursor", "is not a cursor this service issued"));
            None
        }
    };
    let text = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    if text.chars().count() > 100 {
        errors.push(FieldError::new("q", "must be at most 100 characters"));
    }
    let terms: Vec<String> = text.split_whitespace().take(8).map(str::to_string).collect();
    let category = q.category.clone().filter(|c| !c.is_empty());
    if let Some(c) = &category {
        if !super::products::CATEGORIES.contains(&c.as_str()) {
            errors.push(FieldError::new("category", "unknown category"));
        }
    }
    let county = q.county.clone().filter(|c| !c.is_empty());
    if let Some(c) = &county {
        if c.len() != 6 || !c.chars().all(|ch| ch.is_ascii_digit()) {
            errors.push(FieldError::new("county", "must be a 6-digit county code"));
        }
    }
    let poverty_status = q.poverty_status.clone().filter(|c| !c.is_empty());
    if let Some(s) = &poverty_status {
        if !super::regions::POVERTY_STATUSES.contains(&s.as_str()) {
            errors.push(FieldError::new(
                "poverty_status",
                "must be one of none, poverty, deep_poverty",
            ));
        }
    }
    let min_fen = price_param(&mut errors, "min_price", &q.min_price);
    let max_fen = price_param(&mut errors, "max_price", &q.max_price);
    AppError::check(errors)?;
    Ok(Checked {
        terms,
        category,
        county,
        poverty_status,
        min_fen,
        max_fen,
        limit,
        cursor,
    })
}

impl Checked {
    fn cache_key(&self, generation: &str) -> String {
        format!(
            "catalog:{generation}:{}:{}|{}|{}|{}|{}|{}|{}|{}",
            today(),
            self.terms.join(" "),
            self.category.as_deref().unwrap_or(""),
            self.county.as_deref().unwrap_or(""),
            self.poverty_status.as_deref().unwrap_or(""),
            self.min_fen.map(|v| v.to_string()).unwrap_or_default(),
            self.max_fen.map(|v| v.to_string()).unwrap_or_default(),
            self.limit,
            self.cursor.as_deref().unwrap_or(""),
        )
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
fn like_pattern(term: &str) -> String {
    let mut s = String::with_capacity(term.len() + 2);
    s.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// One page of the catalogue, from the cache when it holds it.
pub async fn search(state: &AppState, q: &CatalogQuery, page: &PageParams) -> AppResult<CatalogPage> {
    let c = check(q, page)?;
    let generation = state.cache.generation("catalog").await;
    let key = c.cache_key(&generation);
    if let Some(hit) = state.cache.get(&key).await {
        if let Ok(mut page) = serde_json::from_str::<CatalogPage>(&hit) {
            // Belt and braces: a certification that lapsed since the page was cached is dropped.
            let t = today();
            page.items.retain(|i| i.valid_until.map(|v| v >= t).unwrap_or(false));
            return Ok(page);
        }
    }
    let page = query(&state.db, &c).await?;
    if let Ok(text) = serde_json::to_string(&page) {
        let ttl = Duration::from_secs(state.settings.cache_ttl_secs.max(1));
        state.cache.set(&key, &text, ttl).await;
    }
    Ok(page)
}

/// The same page straight from the database (the benchmark compares the two).
pub async fn search_uncached(state: &AppState, q: &CatalogQuery, page: &PageParams) -> AppResult<CatalogPage> {
    let c = check(q, page)?;
    query(&state.db, &c).await
}

/// The page's ids come first from an inner query that walks certified products in id order
/// (the cursor order; `idx_products_catalog`, migration 000050) and stops after `limit + 1`
/// matches (keyset pagination: a cursor is a seek, never an offset). Active suppliers and
/// county statuses are small `IN (...)` sets rather than joins, so the planner cannot start
/// from them and sort every product; nothing counts all matches. Names and the available
/// stock (a SUM over lots) are then read for the page's rows only.
async fn query(conn: &DatabaseConnection, c: &Checked) -> AppResult<CatalogPage> {
    let sqlite = conn.get_database_backend() == DbBackend::Sqlite;
    let today = today();
    let mut values: Vec<Value> = vec![today.into()];
    let mut wh = String::from(
        "p.status = 'certified' AND p.valid_until >= $1 \
         AND p.supplier_org_id IN (SELECT id FROM organizations WHERE status = 'active')",
    );
    let mut add = |cond: &str, v: Value, values: &mut Vec<Value>| {
        values.push(v);
        wh.push_str(&cond.replace("$?", &format!("${}", values.len())));
    };
    if let Some(cat) = &c.category {
        add(" AND p.category = $?", cat.clone().into(), &mut values);
    }
    if let Some(county) = &c.county {
        add(" AND p.origin_county_code = $?", county.clone().into(), &mut values);
    }
    if let Some(s) = &c.poverty_status {
        add(
            " AND p.origin_county_code IN (SELECT code FROM regions WHERE poverty_status = $?)",
            s.clone().into(),
            &mut values,
        );
    }
    if let Some(v) = c.min_fen {
        add(" AND p.price_fen >= $?", v.into(), &mut values);
    }
    if let Some(v) = c.max_fen {
        add(" AND p.price_fen <= $?", v.into(), &mut values);
    }
    // Terms and search_text are both lower-cased. SQLite: a plain substring test, several
    // times cheaper than LIKE '%...%' when every product must be looked at. PostgreSQL: LIKE,
    // whose selectivity the planner estimates (a rare pattern gets a parallel sequential scan,
    // a common one the id-order walk), where strpos() would always be guessed common.
    for t in &c.terms {
        if sqlite {
            add(" AND instr(p.search_text, $?) > 0", t.clone().into(), &mut values);
        } else {
            add(
                " AND p.search_text LIKE $? ESCAPE '\\'",
                like_pattern(t).into(),
                &mut values,
            );
        }
    }
    if let Some(cur) = &c.cursor {
        add(" AND p.id > $?", cur.clone().into(), &mut values);
    }
    values.push(((c.limit + 1) as i64).into());
    let limit_param = values.len();
    // SQLite's planner cannot weigh a LIKE or a rare category, so it is told to walk the
    // catalogue index (bounded by one index scan, stops at the page); PostgreSQL chooses.
    let walk = if sqlite {
        "products p INDEXED BY idx_products_catalog"
    } else {
        "products p"
    };
    let text = format!(
        "SELECT p.id, p.name, p.category, p.unit, p.price_fen, p.min_order_qty_milli, p.description, \
         p.supplier_org_id, o.name AS supplier_name, p.origin_region_code, p.origin_county_code, \
         r.name AS county_name, r.poverty_status, p.certificates, p.certificate_number, p.valid_until, \
         p.reserved_milli, \
         COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = p.id AND l.best_before >= $1), 0) AS on_hand \
         FROM (SELECT p.id FROM {walk} WHERE {wh} ORDER BY p.status, p.id LIMIT ${limit_param}) page \
         CROSS JOIN products p \
         JOIN organizations o ON o.id = p.supplier_org_id \
         JOIN regions r ON r.code = p.origin_county_code \
         WHERE p.id = page.id \
         ORDER BY page.id"
    );
    let stmt = sql(conn, &text, values);
    let rows = if sqlite {
        conn.query_all_raw(stmt).await?
    } else {
        // The statement is prepared and cached per connection; after a few runs PostgreSQL
        // may switch to a generic plan that cannot see the values (a generic `category = $2`
        // looks rare, so it sorts a whole category instead of walking in id order). Plan
        // every run with its values instead (planning costs about a millisecond).
        let txn = conn.begin().await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
        let rows = txn.query_all_raw(stmt).await?;
        txn.commit().await?;
        rows
    };
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let on_hand = super::stock::get_sum(&r, "on_hand")?;
        let reserved: i64 = r.try_get("", "reserved_milli")?;
        let certs: String = r.try_get("", "certificates")?;
        items.push(CatalogItem {
            id: r.try_get("", "id")?,
            name: r.try_get("", "name")?,
            category: r.try_get("", "category")?,
            unit: r.try_get("", "unit")?,
            price: from_fen(r.try_get("", "price_fen")?),
            min_order_qty: from_milli(r.try_get("", "min_order_qty_milli")?),
            description: r.try_get("", "description")?,
            supplier_org_id: r.try_get("", "supplier_org_id")?,
            supplier_name: r.try_get("", "supplier_name")?,
            origin_region_code: r.try_get("", "origin_region_code")?,
            origin_county_code: r.try_get("", "origin_county_code")?,
            origin_county_name: r.try_get("", "county_name")?,
            origin_poverty_status: r.try_get("", "poverty_status")?,
            certificates: serde_json::from_str(&certs).unwrap_or_default(),
            certificate_number: r.try_get("", "certificate_number")?,
            valid_until: r.try_get("", "valid_until")?,
            available: from_milli((on_hand - reserved).max(0)),
        });
    }
    let (items, next_cursor) = paginate(items, c.limit, |i| i.id.clone());
    Ok(CatalogPage { items, next_cursor })
}
