//! Every SQL statement of the reports capability. Credit categories, poverty
//! statuses and roll-up dimensions are bound from their enums, never written in
//! the SQL text. Raw SQL is kept where the query builder cannot say it: the
//! conditional sums and the roll-up read that the benchmark compares.
use crate::domain::{CreditCategory, PovertyStatus, ReportGroup};
use crate::error::AppResult;
use crate::services::credit::sum_of;
use crate::services::sql;
use crate::services::supervision::OrgSet;
use entity::{ledger_entries, order_lines, organizations, pairings, products, regions, supplier_orders};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Value};
use std::collections::HashMap;

/// `$start, $start+1, ...` for an IN list of `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The sums of a group: `$1`..`$4` are the category and status values of [`summary_values`].
const SUMS: &str = "COALESCE(SUM(CASE WHEN l.credit_category = $1 THEN l.amount_fen ELSE 0 END), 0) AS purchase_fen, \
     COALESCE(SUM(CASE WHEN l.credit_category = $2 THEN l.amount_fen ELSE 0 END), 0) AS helped_sale_fen, \
     COALESCE(SUM(CASE WHEN l.origin_poverty_status = $3 THEN l.amount_fen ELSE 0 END), 0) AS poverty_fen, \
     COALESCE(SUM(CASE WHEN l.origin_poverty_status = $4 THEN l.amount_fen ELSE 0 END), 0) AS deep_fen";

/// The first values of every summary statement: the four values the sums compare
/// with (`$1`..`$4`), then the year (`$5`). Conditions are numbered from `$6`.
pub fn summary_values(year: i32) -> Vec<Value> {
    vec![
        CreditCategory::Purchase.into(),
        CreditCategory::HelpedSale.into(),
        PovertyStatus::Poverty.into(),
        PovertyStatus::DeepPoverty.into(),
        year.into(),
    ]
}

/// The SQL of one grouping (also used by the benchmark for comparison), with the values
/// of [`summary_values`] then those of `scope_cond` (conditions on the ledger alias `l`).
/// `pairing` groups by the pairing recorded on each entry when it was written
/// (`credited_pairing_id`; NULL for entries of no pairing), so each entry counts once.
pub fn summary_sql(group: ReportGroup, scope_cond: &str) -> String {
    let col = match group {
        ReportGroup::Pairing => "l.credited_pairing_id",
        ReportGroup::Supplier => "l.supplier_org_id",
        ReportGroup::County => "l.origin_county_code",
        ReportGroup::Month => "l.month",
        ReportGroup::Buyer => "l.buyer_org_id",
    };
    format!(
        "SELECT {col} AS k, {SUMS}, COALESCE(SUM(l.amount_fen), 0) AS total_fen, COUNT(l.amount_fen) AS n \
         FROM ledger_entries l WHERE l.year = $5{scope_cond} GROUP BY {col} ORDER BY {col}"
    )
}

/// The ids of the pairings of `year` (those whose helper is `helper`, or whose helped
/// county is `county`, when given).
pub async fn pairing_ids_of_year(
    conn: &impl ConnectionTrait,
    year: i32,
    helper: Option<String>,
    county: Option<String>,
) -> AppResult<Vec<String>> {
    let mut q = pairings::Entity::find().filter(pairings::Column::Year.eq(year));
    if let Some(h) = helper {
        q = q.filter(pairings::Column::HelperOrgId.eq(h));
    }
    if let Some(c) = county {
        q = q.filter(pairings::Column::HelpedRegionCode.eq(c));
    }
    Ok(q.all(conn).await?.into_iter().map(|p| p.id).collect())
}

/// The roll-up as reports must read it: the rows the sequencer folded in, plus the
/// entries it has not positioned yet (one row each, with the dimension `dim_param`
/// and the key of `group`), so that a report is never stale. The sequencer positions
/// and folds a batch in one transaction, so one statement sees each entry once.
pub fn fresh_rollup(group: ReportGroup, dim_param: &str) -> String {
    let key = match group {
        ReportGroup::Supplier => "e.supplier_org_id",
        ReportGroup::County => "e.origin_county_code",
        ReportGroup::Month => "CAST(e.month AS TEXT)",
        ReportGroup::Buyer | ReportGroup::Pairing => "e.buyer_org_id",
    };
    format!(
        "(SELECT year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count FROM ledger_rollup \
         UNION ALL SELECT e.year, CAST({dim_param} AS TEXT), {key}, e.credit_category, e.origin_poverty_status, e.amount_fen, 1 \
         FROM ledger_entries e WHERE e.ins > (SELECT t.low_ins FROM ledger_tail t WHERE t.id = 1) \
         AND NOT EXISTS (SELECT 1 FROM ledger_positions p WHERE p.entry_id = e.id))"
    )
}

/// The same figures as [`summary_sql`] without scope, from the roll-up ([`fresh_rollup`])
/// (the values of [`summary_values`], then `$6` the dimension).
pub fn rollup_sql(group: ReportGroup) -> String {
    let rollup = fresh_rollup(group, "$6");
    format!(
        "SELECT l.key AS k, {SUMS}, COALESCE(SUM(l.amount_fen), 0) AS total_fen, COALESCE(SUM(l.entry_count), 0) AS n \
         FROM {rollup} l WHERE l.year = $5 AND l.dim = $6 GROUP BY l.key"
    )
}

/// One group's figures: purchase, helped_sale, poverty, deep_poverty, total, count.
pub type Figures = [i64; 6];

/// Runs a summary statement: the key of each row (the month as text; `None` for the
/// entries of no pairing) and its figures.
pub async fn summary_rows(
    conn: &impl ConnectionTrait,
    text: &str,
    values: Vec<Value>,
    int_key: bool,
) -> AppResult<Vec<(Option<String>, Figures)>> {
    let raw = conn.query_all_raw(sql(conn, text, values)).await?;
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        let key = if int_key {
            Some(r.try_get::<i32>("", "k")?.to_string())
        } else {
            r.try_get::<Option<String>>("", "k")?
        };
        let f = [
            sum_of(&r, "purchase_fen")?,
            sum_of(&r, "helped_sale_fen")?,
            sum_of(&r, "poverty_fen")?,
            sum_of(&r, "deep_fen")?,
            sum_of(&r, "total_fen")?,
            sum_of(&r, "n")?,
        ];
        out.push((key, f));
    }
    Ok(out)
}

pub async fn head_seq(conn: &impl ConnectionTrait) -> AppResult<i64> {
    Ok(crate::services::ledger::latest_checkpoint(conn)
        .await?
        .map_or(0, |c| c.tree_size))
}

/// A buyer's quota target of the year (`credit::targets_sql`: its approved plan's, else its
/// quota's) with its name and the net credits of the buyer and its children.
pub struct QuotaProgress {
    pub buyer: String,
    pub name: String,
    pub target_fen: i64,
    pub credited_fen: i64,
}

/// Buyers with a target above zero for `year` (an approved plan's or a quota's; all, or those
/// in `only`) with their credits, from the roll-up.
pub async fn quota_progress(
    conn: &impl ConnectionTrait,
    year: i32,
    only: Option<&OrgSet>,
) -> AppResult<Vec<QuotaProgress>> {
    let mut values: Vec<Value> = vec![ReportGroup::Buyer.into(), year.into()];
    let mut text = format!(
        "SELECT q.buyer_org_id AS buyer_id, q.target_fen AS target, o.name AS name, \
         (SELECT COALESCE(SUM(l.amount_fen), 0) FROM {} l WHERE l.year = $2 AND l.dim = $1 AND l.key IN \
         (SELECT c.id FROM organizations c WHERE c.id = q.buyer_org_id OR c.parent_org_id = q.buyer_org_id)) AS credited \
         FROM ({}) q JOIN organizations o ON o.id = q.buyer_org_id WHERE q.target_fen > 0",
        fresh_rollup(ReportGroup::Buyer, "$1"),
        crate::services::credit::targets_sql("$2")
    );
    if let Some(set) = only {
        let (cond, more) = set.sql_in("q.buyer_org_id", 3);
        text.push_str(&format!(" AND {cond}"));
        values.extend(more);
    }
    let mut rows = Vec::new();
    for r in conn.query_all_raw(sql(conn, &text, values)).await? {
        rows.push(QuotaProgress {
            buyer: r.try_get("", "buyer_id")?,
            target_fen: r.try_get("", "target")?,
            name: r.try_get("", "name")?,
            credited_fen: sum_of(&r, "credited")?,
        });
    }
    Ok(rows)
}

// ---------------------------------------------------------------- names and rows by id

pub async fn orgs_by_id(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, organizations::Model>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for o in organizations::Entity::find()
            .filter(organizations::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            out.insert(o.id.clone(), o);
        }
    }
    Ok(out)
}

pub async fn org_names(conn: &impl ConnectionTrait, ids: &[String]) -> AppResult<HashMap<String, String>> {
    Ok(orgs_by_id(conn, ids)
        .await?
        .into_iter()
        .map(|(id, o)| (id, o.name))
        .collect())
}

pub async fn region_names(conn: &impl ConnectionTrait, codes: &[String]) -> AppResult<HashMap<String, String>> {
    let mut m = HashMap::new();
    for chunk in codes.chunks(500) {
        for r in regions::Entity::find()
            .filter(regions::Column::Code.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            m.insert(r.code, r.name);
        }
    }
    Ok(m)
}

pub async fn pairings_by_id(conn: &impl ConnectionTrait, ids: &[String]) -> AppResult<Vec<pairings::Model>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            pairings::Entity::find()
                .filter(pairings::Column::Id.is_in(chunk.to_vec()))
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

pub async fn org_region(conn: &impl ConnectionTrait, org_id: &str) -> AppResult<String> {
    organizations::Entity::find_by_id(org_id.to_string())
        .one(conn)
        .await?
        .map(|o| o.region_code)
        .ok_or(crate::error::AppError::NotFound("organization"))
}

// ---------------------------------------------------------------- OCDS

/// Supplier orders accepted in `[from, to)`, oldest first.
pub async fn accepted_between(
    conn: &impl ConnectionTrait,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<supplier_orders::Model>> {
    Ok(supplier_orders::Entity::find()
        .filter(supplier_orders::Column::AcceptedAt.gte(from))
        .filter(supplier_orders::Column::AcceptedAt.lt(to))
        .order_by_asc(supplier_orders::Column::AcceptedAt)
        .order_by_asc(supplier_orders::Column::Id)
        .all(conn)
        .await?)
}

pub async fn lines_of(conn: &impl ConnectionTrait, so_ids: &[String]) -> AppResult<Vec<order_lines::Model>> {
    Ok(order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.is_in(so_ids.to_vec()))
        .order_by_asc(order_lines::Column::Id)
        .all(conn)
        .await?)
}

pub async fn entries_of(conn: &impl ConnectionTrait, so_ids: &[String]) -> AppResult<Vec<ledger_entries::Model>> {
    Ok(ledger_entries::Entity::find()
        .filter(ledger_entries::Column::SupplierOrderId.is_in(so_ids.to_vec()))
        .order_by_asc(ledger_entries::Column::Ins)
        .all(conn)
        .await?)
}

pub async fn products_by_id(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, products::Model>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for p in products::Entity::find()
            .filter(products::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            out.insert(p.id.clone(), p);
        }
    }
    Ok(out)
}
