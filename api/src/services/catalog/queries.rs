//! The catalogue's one statement. Raw SQL because the query builder cannot say what
//! makes it fast: a keyset walk of `idx_products_catalog` (SQLite's `INDEXED BY`), a
//! derived page table joined back, and a dialect-specific text search. States are
//! bound from the enums, never written into the text.
use super::{CatalogItem, CatalogPage, Checked};
use crate::domain::{Money, OrgStatus, ProductStatus, Quantity};
use crate::error::{AppError, AppResult};
use crate::services::products::stored;
use crate::services::{paginate, sql, stock, today};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait, Value};

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

fn amount<T>(what: &str, r: Result<T, crate::domain::AmountError>) -> AppResult<T> {
    r.map_err(|e| AppError::internal(format!("the stored {what} is out of bounds: {e}")))
}

/// The page's ids come first from an inner query that walks certified products in id order
/// (the cursor order; `idx_products_catalog`, migration 000050) and stops after `limit + 1`
/// matches (keyset pagination: a cursor is a seek, never an offset). Active suppliers and
/// county statuses are small `IN (...)` sets rather than joins, so the planner cannot start
/// from them and sort every product; nothing counts all matches. Names and the available
/// stock (a SUM over lots) are then read for the page's rows only.
pub(super) async fn page(conn: &DatabaseConnection, c: &Checked) -> AppResult<CatalogPage> {
    let sqlite = conn.get_database_backend() == DbBackend::Sqlite;
    let today = today();
    // $1 today, $2 the certified status, $3 the active organisation status.
    let mut values: Vec<Value> = vec![today.into(), ProductStatus::Certified.into(), OrgStatus::Active.into()];
    let mut wh = String::from(
        "p.status = $2 AND p.valid_until >= $1 \
         AND p.supplier_org_id IN (SELECT id FROM organizations WHERE status = $3)",
    );
    let mut add = |cond: &str, v: Value, values: &mut Vec<Value>| {
        values.push(v);
        wh.push_str(&cond.replace("$?", &format!("${}", values.len())));
    };
    if let Some(cat) = c.category {
        add(" AND p.category = $?", cat.into(), &mut values);
    }
    if let Some(county) = &c.county {
        add(" AND p.origin_county_code = $?", county.clone().into(), &mut values);
    }
    if let Some(s) = c.poverty_status {
        add(
            " AND p.origin_county_code IN (SELECT code FROM regions WHERE poverty_status = $?)",
            s.into(),
            &mut values,
        );
    }
    if let Some(v) = c.min_price {
        add(" AND p.price_fen >= $?", v.into(), &mut values);
    }
    if let Some(v) = c.max_price {
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
         COALESCE((SELECT SUM(l.remaining_milli) FROM lots l WHERE l.product_id = p.id AND l.best_before >= $1 AND NOT l.uncertified_batch), 0) AS on_hand \
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
        let on_hand = stock::get_sum(&r, "on_hand")?;
        let reserved: i64 = r.try_get("", "reserved_milli")?;
        let certs: String = r.try_get("", "certificates")?;
        // Sums over many lots are shown at most at the bound, never wrapped.
        let available = on_hand.saturating_sub(reserved).clamp(0, Quantity::MAX);
        let id: String = r.try_get("", "id")?;
        let org: String = r.try_get("", "supplier_org_id")?;
        let category: String = r.try_get("", "category")?;
        let unit: String = r.try_get("", "unit")?;
        let poverty: String = r.try_get("", "poverty_status")?;
        items.push(CatalogItem {
            id: stored("product id", &id)?,
            name: r.try_get("", "name")?,
            category: stored("category", &category)?,
            unit: stored("unit", &unit)?,
            price: amount("price", Money::from_minor(r.try_get("", "price_fen")?))?,
            min_order_qty: amount(
                "min_order_qty",
                Quantity::from_minor(r.try_get("", "min_order_qty_milli")?),
            )?,
            description: r.try_get("", "description")?,
            supplier_org_id: stored("organisation id", &org)?,
            supplier_name: r.try_get("", "supplier_name")?,
            origin_region_code: r.try_get("", "origin_region_code")?,
            origin_county_code: r.try_get("", "origin_county_code")?,
            origin_county_name: r.try_get("", "county_name")?,
            origin_poverty_status: stored("poverty status", &poverty)?,
            certificates: serde_json::from_str(&certs).unwrap_or_default(),
            certificate_number: r.try_get("", "certificate_number")?,
            valid_until: r.try_get("", "valid_until")?,
            available: amount("available stock", Quantity::from_minor(available))?,
            supplier_summary: None,
        });
    }
    let (items, next_cursor) = paginate(items, c.limit, |i| i.id.to_string());
    Ok(CatalogPage { items, next_cursor })
}
