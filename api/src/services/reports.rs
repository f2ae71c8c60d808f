//! Reports for evaluators and each organisation's own slice: yearly ledger
//! totals grouped by buyer, supplier, county, pairing or month, split by credit
//! category and by origin poverty status, as JSON, CSV or XLSX; and the OCDS 1.1
//! release package of the year's accepted supplier orders.
//!
//! Every figure is one SQL GROUP BY at request time (no cache): unscoped groupings
//! by buyer, supplier, county and month read `ledger_rollup` (maintained by a
//! trigger inside each append's transaction); scoped slices and pairings read
//! `ledger_entries` through its indexes. Either way a report reflects every append
//! that returned before it was asked for.
use super::credit::{check_year, fraction, placeholders};
use super::sql;
use super::stock::get_sum;
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{from_fen, from_milli, line_amount_fen};
use crate::state::AppState;
use entity::{ledger_entries, order_lines, organizations, pairings, products, regions, supplier_orders};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

pub const GROUPS: [&str; 5] = ["buyer", "supplier", "county", "pairing", "month"];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// The ledger year (default: the current year).
    pub year: Option<i32>,
    /// buyer | supplier | county | pairing | month (default buyer).
    pub group_by: Option<String>,
    /// json | csv | xlsx (default json).
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct SummaryRow {
    /// The group key: an organisation id, a county code, a pairing id or the month number.
    pub key: String,
    pub name: String,
    /// Net amount with credit category `purchase`.
    #[schema(value_type = String)]
    pub purchase: Decimal,
    /// Net amount with credit category `helped_sale`.
    #[schema(value_type = String)]
    pub helped_sale: Decimal,
    /// Net amount from counties that were `poverty` when the entry was written.
    #[schema(value_type = String)]
    pub poverty: Decimal,
    /// Net amount from `deep_poverty` counties.
    #[schema(value_type = String)]
    pub deep_poverty: Decimal,
    /// Net amount from counties of status `none`.
    #[schema(value_type = String)]
    pub none: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub entry_count: i64,
    #[serde(skip)]
    pub fen: [i64; 6],
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct RankingRow {
    pub rank: i64,
    pub buyer_org_id: String,
    pub name: String,
    #[schema(value_type = String)]
    pub target: Decimal,
    /// Net credits of the year of the buyer and its children.
    #[schema(value_type = String)]
    pub credited: Decimal,
    #[schema(value_type = String)]
    pub progress: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub year: i32,
    pub group_by: String,
    /// all | buyer | supplier | county: whose slice of the ledger this is.
    pub scope: String,
    /// The ledger head when the report was computed.
    pub ledger_head_seq: i64,
    pub rows: Vec<SummaryRow>,
    /// Sums of the rows (for `pairing`, an entry may count in more than one pairing).
    pub totals: SummaryRow,
    /// Buyers with a quota for the year, best progress first (only with group_by=buyer).
    pub ranking: Option<Vec<RankingRow>>,
}

pub fn parse_query(q: &SummaryQuery) -> AppResult<(i32, String, Format)> {
    use chrono::Datelike;
    let mut errors = Vec::new();
    let year = q.year.unwrap_or_else(|| super::today().year());
    check_year(&mut errors, "year", year);
    let group = q.group_by.clone().unwrap_or_else(|| "buyer".into());
    if !GROUPS.contains(&group.as_str()) {
        errors.push(FieldError::new(
            "group_by",
            "must be one of buyer, supplier, county, pairing, month",
        ));
    }
    let format = match q.format.as_deref().unwrap_or("json") {
        "json" => Format::Json,
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        _ => {
            errors.push(FieldError::new("format", "must be one of json, csv, xlsx"));
            Format::Json
        }
    };
    AppError::check(errors)?;
    Ok((year, group, format))
}

/// The caller's slice of the ledger as SQL conditions on alias `l`.
struct Scope {
    name: &'static str,
    cond: String,
    values: Vec<Value>,
    /// Buyer ids of a buyer scope (for the ranking).
    buyers: Option<Vec<String>>,
}

async fn scope_of(state: &AppState, caller: &Caller, first: usize) -> AppResult<Scope> {
    let db = &state.db;
    Ok(match caller.role {
        Role::Admin | Role::Evaluator => Scope {
            name: "all",
            cond: String::new(),
            values: vec![],
            buyers: None,
        },
        Role::Buyer => {
            let ids = super::organizations::with_children(db, &caller.org_id).await?;
            Scope {
                name: "buyer",
                cond: format!(" AND l.buyer_org_id IN ({})", placeholders(first, ids.len())),
                values: ids.iter().map(|i| Value::from(i.clone())).collect(),
                buyers: Some(ids),
            }
        }
        Role::Supplier => Scope {
            name: "supplier",
            cond: format!(" AND l.supplier_org_id = ${first}"),
            values: vec![caller.org_id.clone().into()],
            buyers: Some(vec![]),
        },
        Role::Certifier => {
            let org = super::organizations::find(db, &caller.org_id).await?;
            Scope {
                name: "county",
                cond: format!(" AND l.origin_county_code = ${first}"),
                values: vec![org.region_code.into()],
                buyers: Some(vec![]),
            }
        }
    })
}

const SUMS: &str =
    "COALESCE(SUM(CASE WHEN l.credit_category = 'purchase' THEN l.amount_fen ELSE 0 END), 0) AS purchase, \
     COALESCE(SUM(CASE WHEN l.credit_category = 'helped_sale' THEN l.amount_fen ELSE 0 END), 0) AS helped_sale, \
     COALESCE(SUM(CASE WHEN l.origin_poverty_status = 'poverty' THEN l.amount_fen ELSE 0 END), 0) AS poverty, \
     COALESCE(SUM(CASE WHEN l.origin_poverty_status = 'deep_poverty' THEN l.amount_fen ELSE 0 END), 0) AS deep, \
     COALESCE(SUM(l.amount_fen), 0) AS total, COUNT(l.amount_fen) AS n";

fn row_of(key: String, name: String, f: [i64; 6]) -> SummaryRow {
    // f = purchase, helped_sale, poverty, deep, total, count
    SummaryRow {
        key,
        name,
        purchase: from_fen(f[0]),
        helped_sale: from_fen(f[1]),
        poverty: from_fen(f[2]),
        deep_poverty: from_fen(f[3]),
        none: from_fen(f[4] - f[2] - f[3]),
        total: from_fen(f[4]),
        entry_count: f[5],
        fen: f,
    }
}

/// The SQL of one grouping (also used by the benchmark for comparison). `$1` is the
/// year; `pairing_cond` (conditions on the pairings, numbered next) comes before
/// `scope_cond` (conditions on the ledger alias `l`) in the text and in the values.
pub fn summary_sql(group: &str, pairing_cond: &str, scope_cond: &str) -> String {
    match group {
        // The helper organisations of each pairing first (a few rows), then their entries through the
        // (buyer_org_id, year) index.
        "pairing" => format!(
            "SELECT ph.pid AS k, {SUMS} FROM (SELECT p.id AS pid, p.year AS yr, p.helped_region_code AS county, \
             o.id AS buyer FROM pairings p JOIN organizations o ON (o.id = p.helper_org_id OR o.parent_org_id = p.helper_org_id) \
             WHERE p.year = $1{pairing_cond}) ph \
             LEFT JOIN ledger_entries l ON l.buyer_org_id = ph.buyer AND l.year = ph.yr AND l.origin_county_code = ph.county\
             {scope_cond} GROUP BY ph.pid ORDER BY ph.pid"
        ),
        _ => {
            let col = match group {
                "supplier" => "l.supplier_org_id",
                "county" => "l.origin_county_code",
                "month" => "l.month",
                _ => "l.buyer_org_id",
            };
            format!("SELECT {col} AS k, {SUMS} FROM ledger_entries l WHERE l.year = $1{scope_cond} GROUP BY {col} ORDER BY {col}")
        }
    }
}

/// The same figures as [`summary_sql`] without scope, from the `ledger_rollup` table (`$1` year, `$2` dimension).
pub fn rollup_sql() -> String {
    "SELECT l.key AS k, \
     COALESCE(SUM(CASE WHEN l.credit_category = 'purchase' THEN l.amount_fen ELSE 0 END), 0) AS purchase, \
     COALESCE(SUM(CASE WHEN l.credit_category = 'helped_sale' THEN l.amount_fen ELSE 0 END), 0) AS helped_sale, \
     COALESCE(SUM(CASE WHEN l.origin_poverty_status = 'poverty' THEN l.amount_fen ELSE 0 END), 0) AS poverty, \
     COALESCE(SUM(CASE WHEN l.origin_poverty_status = 'deep_poverty' THEN l.amount_fen ELSE 0 END), 0) AS deep, \
     COALESCE(SUM(l.amount_fen), 0) AS total, COALESCE(SUM(l.entry_count), 0) AS n \
     FROM ledger_rollup l WHERE l.year = $1 AND l.dim = $2 GROUP BY l.key"
        .to_string()
}

async fn names_of_orgs(conn: &impl ConnectionTrait, ids: &[String]) -> AppResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for o in organizations::Entity::find()
            .filter(organizations::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            out.insert(o.id, o.name);
        }
    }
    Ok(out)
}

pub async fn summary(state: &AppState, caller: &Caller, year: i32, group: &str) -> AppResult<Summary> {
    let db = &state.db;
    let head = db
        .query_one_raw(sql(db, "SELECT seq FROM ledger_head WHERE id = 1", vec![]))
        .await?
        .map(|r| r.try_get::<i64>("", "seq"))
        .transpose()?
        .unwrap_or(0);
    let mut values: Vec<Value> = vec![year.into()];
    // Pairing rows are the pairings the caller may see (see credit::sees_pairing).
    let mut pairing_cond = String::new();
    if group == "pairing" {
        match caller.role {
            Role::Buyer => {
                pairing_cond = " AND p.helper_org_id = $2".into();
                values.push(caller.org_id.clone().into());
            }
            Role::Certifier => {
                let org = super::organizations::find(db, &caller.org_id).await?;
                pairing_cond = " AND p.helped_region_code = $2".into();
                values.push(org.region_code.into());
            }
            Role::Supplier => pairing_cond = " AND 1 = 0".into(),
            _ => {}
        }
    }
    let scope = scope_of(state, caller, values.len() + 1).await?;
    values.extend(scope.values.clone());
    // The unscoped groupings other than pairings read the trigger-maintained roll-up.
    let use_rollup = scope.name == "all" && group != "pairing";
    let text = if use_rollup {
        values.push(group.to_string().into());
        rollup_sql()
    } else {
        summary_sql(group, &pairing_cond, &scope.cond)
    };
    // On SQLite `$n` become positional `?`: placeholders appear in the text in the order of `values`.
    let raw = db.query_all_raw(sql(db, &text, values)).await?;
    let mut keyed: Vec<(String, [i64; 6])> = Vec::with_capacity(raw.len());
    for r in raw {
        let key = if group == "month" && !use_rollup {
            r.try_get::<i32>("", "k")?.to_string()
        } else {
            r.try_get::<Option<String>>("", "k")?.unwrap_or_default()
        };
        let f = [
            get_sum(&r, "purchase")?,
            get_sum(&r, "helped_sale")?,
            get_sum(&r, "poverty")?,
            get_sum(&r, "deep")?,
            get_sum(&r, "total")?,
            get_sum(&r, "n")?,
        ];
        keyed.push((key, f));
    }
    if group == "month" {
        keyed.sort_by_key(|(k, _)| k.parse::<i32>().unwrap_or(0));
    } else {
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let keys: Vec<String> = keyed.iter().map(|(k, _)| k.clone()).collect();
    let names: HashMap<String, String> = match group {
        "buyer" | "supplier" => names_of_orgs(db, &keys).await?,
        "county" => {
            let mut m = HashMap::new();
            for chunk in keys.chunks(500) {
                for r in regions::Entity::find()
                    .filter(regions::Column::Code.is_in(chunk.to_vec()))
                    .all(db)
                    .await?
                {
                    m.insert(r.code, r.name);
                }
            }
            m
        }
        "pairing" => {
            let mut m = HashMap::new();
            for chunk in keys.chunks(500) {
                let ps = pairings::Entity::find()
                    .filter(pairings::Column::Id.is_in(chunk.to_vec()))
                    .all(db)
                    .await?;
                let orgs = names_of_orgs(db, &ps.iter().map(|p| p.helper_org_id.clone()).collect::<Vec<_>>()).await?;
                let mut codes: Vec<String> = ps.iter().map(|p| p.helped_region_code.clone()).collect();
                codes.sort();
                codes.dedup();
                let counties: HashMap<String, String> = regions::Entity::find()
                    .filter(regions::Column::Code.is_in(codes))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|r| (r.code, r.name))
                    .collect();
                for p in ps {
                    let county = counties
                        .get(&p.helped_region_code)
                        .cloned()
                        .unwrap_or_else(|| p.helped_region_code.clone());
                    let helper = orgs.get(&p.helper_org_id).cloned().unwrap_or_default();
                    m.insert(p.id, format!("{helper} → {county} ({})", p.kind));
                }
            }
            m
        }
        _ => keys.iter().map(|k| (k.clone(), format!("{year}-{:0>2}", k))).collect(),
    };
    let mut tot = [0i64; 6];
    let rows: Vec<SummaryRow> = keyed
        .into_iter()
        .map(|(k, f)| {
            for i in 0..6 {
                tot[i] += f[i];
            }
            let name = names.get(&k).cloned().unwrap_or_default();
            row_of(k, name, f)
        })
        .collect();
    let ranking = if group == "buyer" {
        Some(ranking(db, year, scope.buyers.as_deref()).await?)
    } else {
        None
    };
    Ok(Summary {
        year,
        group_by: group.to_string(),
        scope: scope.name.to_string(),
        ledger_head_seq: head,
        rows,
        totals: row_of("total".into(), "合计".into(), tot),
        ranking,
    })
}

/// Buyers with a quota for `year` (all, or those in `only`), by progress against the quota.
async fn ranking(conn: &impl ConnectionTrait, year: i32, only: Option<&[String]>) -> AppResult<Vec<RankingRow>> {
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(vec![]);
        }
    }
    let mut values: Vec<Value> = vec![year.into()];
    let mut text = String::from(
        "SELECT q.buyer_org_id AS buyer, q.target_fen AS target, o.name AS name, \
         (SELECT COALESCE(SUM(l.amount_fen), 0) FROM ledger_rollup l WHERE l.year = q.year AND l.dim = 'buyer' AND l.key IN \
         (SELECT c.id FROM organizations c WHERE c.id = q.buyer_org_id OR c.parent_org_id = q.buyer_org_id)) AS credited \
         FROM quotas q JOIN organizations o ON o.id = q.buyer_org_id WHERE q.year = $1",
    );
    if let Some(ids) = only {
        text.push_str(&format!(" AND q.buyer_org_id IN ({})", placeholders(2, ids.len())));
        values.extend(ids.iter().map(|i| Value::from(i.clone())));
    }
    let mut rows = Vec::new();
    for r in conn.query_all_raw(sql(conn, &text, values)).await? {
        let buyer: String = r.try_get("", "buyer")?;
        let target: i64 = r.try_get("", "target")?;
        let name: String = r.try_get("", "name")?;
        let credited = get_sum(&r, "credited")?;
        rows.push((buyer, name, target, credited));
    }
    // Exact comparison of credited/target: a/b > c/d  <=>  a*d > c*b (targets are positive).
    rows.sort_by(|a, b| {
        let l = a.3 as i128 * b.2.max(1) as i128;
        let r = b.3 as i128 * a.2.max(1) as i128;
        r.cmp(&l).then_with(|| a.1.cmp(&b.1)).then_with(|| a.0.cmp(&b.0))
    });
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, (buyer, name, target, credited))| RankingRow {
            rank: i as i64 + 1,
            buyer_org_id: buyer,
            name,
            target: from_fen(target),
            credited: from_fen(credited),
            progress: fraction(credited, target),
        })
        .collect())
}

// ---------------------------------------------------------------- spreadsheets

fn key_heading(group: &str) -> (&'static str, &'static str) {
    match group {
        "supplier" => ("供应商编号", "供应商名称"),
        "county" => ("县区代码", "县区名称"),
        "pairing" => ("结对编号", "结对名称"),
        "month" => ("月份", "年月"),
        _ => ("采购单位编号", "采购单位名称"),
    }
}

pub const AMOUNT_HEADINGS: [&str; 7] = [
    "采购金额",
    "帮助销售金额",
    "贫困县金额",
    "深度贫困县金额",
    "非贫困县金额",
    "合计",
    "笔数",
];

pub fn filename(s: &Summary, ext: &str) -> String {
    format!("summary-{}-{}.{ext}", s.year, s.group_by)
}

/// CSV with a UTF-8 byte-order mark (so spreadsheet software reads the Chinese headings),
/// one row per group and a final 合计 row.
pub fn to_csv(s: &Summary) -> AppResult<Vec<u8>> {
    let mut buf: Vec<u8> = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        let (k, n) = key_heading(&s.group_by);
        let mut head = vec![k, n];
        head.extend(AMOUNT_HEADINGS);
        w.write_record(&head).map_err(AppError::internal)?;
        for r in s.rows.iter().chain(std::iter::once(&s.totals)) {
            w.write_record([
                r.key.clone(),
                r.name.clone(),
                r.purchase.to_string(),
                r.helped_sale.to_string(),
                r.poverty.to_string(),
                r.deep_poverty.to_string(),
                r.none.to_string(),
                r.total.to_string(),
                r.entry_count.to_string(),
            ])
            .map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(buf)
}

/// XLSX: sheet 汇总 (the rows and a 合计 row, amounts as numbers with two places)
/// and, when there is a ranking, sheet 排名.
pub fn to_xlsx(s: &Summary) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let e = AppError::internal;
    let mut wb = Workbook::new();
    let bold = XFormat::new().set_bold();
    let money = XFormat::new().set_num_format("0.00");
    let ws = wb.add_worksheet();
    ws.set_name("汇总").map_err(e)?;
    let (k, n) = key_heading(&s.group_by);
    let mut head = vec![k, n];
    head.extend(AMOUNT_HEADINGS);
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    for (i, r) in s.rows.iter().chain(std::iter::once(&s.totals)).enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &r.key).map_err(e)?;
        ws.write_string(row, 1, &r.name).map_err(e)?;
        let amounts = [
            r.fen[0],
            r.fen[1],
            r.fen[2],
            r.fen[3],
            r.fen[4] - r.fen[2] - r.fen[3],
            r.fen[4],
        ];
        for (j, a) in amounts.iter().enumerate() {
            ws.write_number_with_format(row, j as u16 + 2, *a as f64 / 100.0, &money)
                .map_err(e)?;
        }
        ws.write_number(row, 8, r.entry_count as f64).map_err(e)?;
    }
    ws.set_column_width(1, 30).map_err(e)?;
    if let Some(rank) = &s.ranking {
        let ws = wb.add_worksheet();
        ws.set_name("排名").map_err(e)?;
        for (c, h) in [
            "名次",
            "采购单位编号",
            "采购单位名称",
            "目标金额",
            "完成金额",
            "完成进度",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
        }
        for (i, r) in rank.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write_number(row, 0, r.rank as f64).map_err(e)?;
            ws.write_string(row, 1, &r.buyer_org_id).map_err(e)?;
            ws.write_string(row, 2, &r.name).map_err(e)?;
            ws.write_number_with_format(row, 3, decimal_f64(r.target), &money)
                .map_err(e)?;
            ws.write_number_with_format(row, 4, decimal_f64(r.credited), &money)
                .map_err(e)?;
            ws.write_number(row, 5, decimal_f64(r.progress)).map_err(e)?;
        }
    }
    wb.save_to_buffer().map_err(e)
}

fn decimal_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

// ---------------------------------------------------------------- OCDS

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OcdsQuery {
    /// The year of acceptance (default: the current year).
    pub year: Option<i32>,
}

pub const OCID_PREFIX: &str = "ocds-amkt01";

fn amount(fen: i64) -> serde_json::Value {
    json!({ "amount": fen as f64 / 100.0, "currency": "CNY" })
}

/// The year's accepted supplier orders as an OCDS 1.1 release package (evaluators and admin).
pub async fn ocds(state: &AppState, caller: &Caller, year: Option<i32>) -> AppResult<serde_json::Value> {
    use chrono::{Datelike, NaiveDate, TimeZone};
    caller.require(&[Role::Admin, Role::Evaluator])?;
    let year = year.unwrap_or_else(|| super::today().year());
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check(errors)?;
    let db = &state.db;
    let bound = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| chrono::Utc.from_utc_datetime(&d))
            .ok_or_else(|| AppError::field("year", "out of range"))
    };
    let (from, to) = (bound(year)?, bound(year + 1)?);
    let sos = supplier_orders::Entity::find()
        .filter(supplier_orders::Column::AcceptedAt.gte(from))
        .filter(supplier_orders::Column::AcceptedAt.lt(to))
        .order_by_asc(supplier_orders::Column::AcceptedAt)
        .order_by_asc(supplier_orders::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<String> = sos.iter().map(|s| s.id.clone()).collect();
    let mut lines: HashMap<String, Vec<order_lines::Model>> = HashMap::new();
    let mut entries: HashMap<String, Vec<ledger_entries::Model>> = HashMap::new();
    let mut product_ids = Vec::new();
    for chunk in ids.chunks(500) {
        for l in order_lines::Entity::find()
            .filter(order_lines::Column::SupplierOrderId.is_in(chunk.to_vec()))
            .order_by_asc(order_lines::Column::Id)
            .all(db)
            .await?
        {
            product_ids.push(l.product_id.clone());
            lines.entry(l.supplier_order_id.clone()).or_default().push(l);
        }
        for e in ledger_entries::Entity::find()
            .filter(ledger_entries::Column::SupplierOrderId.is_in(chunk.to_vec()))
            .order_by_asc(ledger_entries::Column::Seq)
            .all(db)
            .await?
        {
            entries.entry(e.supplier_order_id.clone()).or_default().push(e);
        }
    }
    product_ids.sort();
    product_ids.dedup();
    let mut products_by_id: HashMap<String, products::Model> = HashMap::new();
    for chunk in product_ids.chunks(500) {
        for p in products::Entity::find()
            .filter(products::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            products_by_id.insert(p.id.clone(), p);
        }
    }
    let mut org_ids: Vec<String> = sos
        .iter()
        .flat_map(|s| [s.buyer_org_id.clone(), s.supplier_org_id.clone()])
        .collect();
    org_ids.sort();
    org_ids.dedup();
    let mut orgs: HashMap<String, organizations::Model> = HashMap::new();
    for chunk in org_ids.chunks(500) {
        for o in organizations::Entity::find()
            .filter(organizations::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            orgs.insert(o.id.clone(), o);
        }
    }
    let party = |id: &str, role: &str| {
        let o = orgs.get(id);
        json!({
            "id": id,
            "name": o.map(|o| o.name.clone()).unwrap_or_default(),
            "identifier": {
                "scheme": "CN-USCC",
                "id": o.map(|o| o.credit_code.clone()).unwrap_or_default(),
                "legalName": o.map(|o| o.name.clone()).unwrap_or_default(),
            },
            "address": { "region": o.map(|o| o.region_code.clone()).unwrap_or_default(), "countryName": "China" },
            "roles": [role],
        })
    };
    let org_ref = |id: &str| json!({ "id": id, "name": orgs.get(id).map(|o| o.name.clone()).unwrap_or_default() });
    let mut releases = Vec::with_capacity(sos.len());
    for so in &sos {
        let accepted_at = so.accepted_at.unwrap_or(so.updated_at);
        let date = accepted_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let my_lines = lines.get(&so.id).cloned().unwrap_or_default();
        let mut accepted_total = 0i64;
        let mut items = Vec::new();
        for l in &my_lines {
            let qty = l.accepted_quantity_milli.unwrap_or(l.quantity_milli);
            accepted_total += line_amount_fen(l.unit_price_fen, qty);
            let p = products_by_id.get(&l.product_id);
            let qty_num: f64 = from_milli(qty).to_string().parse().unwrap_or(0.0);
            items.push(json!({
                "id": l.id,
                "description": p.map(|p| p.name.clone()).unwrap_or_default(),
                "classification": {
                    "scheme": "CPV",
                    "id": "03000000",
                    "description": p.map(|p| p.category.clone()).unwrap_or_default(),
                },
                "quantity": qty_num,
                "unit": {
                    "name": p.map(|p| p.unit.clone()).unwrap_or_default(),
                    "value": amount(l.unit_price_fen),
                },
            }));
        }
        let my_entries = entries.get(&so.id).cloned().unwrap_or_default();
        let transactions: Vec<serde_json::Value> = if my_entries.is_empty() {
            vec![json!({
                "id": format!("{}-accepted", so.id),
                "source": "https://assist-market.local/api/v1/supplier-orders",
                "date": date,
                "value": amount(accepted_total),
                "payer": org_ref(&so.buyer_org_id),
                "payee": org_ref(&so.supplier_org_id),
                "uri": format!("https://assist-market.local/api/v1/supplier-orders/{}", so.id),
            })]
        } else {
            my_entries
                .iter()
                .map(|e| {
                    json!({
                        "id": format!("ledger-{}", e.seq),
                        "source": "https://assist-market.local/api/v1/ledger",
                        "date": e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        "value": amount(e.amount_fen),
                        "payer": org_ref(&e.buyer_org_id),
                        "payee": org_ref(&e.supplier_org_id),
                        "uri": format!("https://assist-market.local/api/v1/ledger?seq={}", e.seq),
                    })
                })
                .collect()
        };
        let award_id = format!("{}-award", so.id);
        releases.push(json!({
            "ocid": format!("{OCID_PREFIX}-{}", so.id),
            "id": format!("{}-{}", so.id, accepted_at.timestamp()),
            "date": date,
            "tag": ["award", "contract", "implementation"],
            "initiationType": "tender",
            "language": "zh",
            "parties": [party(&so.buyer_org_id, "buyer"), party(&so.supplier_org_id, "supplier")],
            "buyer": org_ref(&so.buyer_org_id),
            "awards": [{
                "id": award_id,
                "title": format!("Supplier order {}", so.id),
                "status": "active",
                "date": date,
                "value": amount(accepted_total),
                "suppliers": [org_ref(&so.supplier_org_id)],
                "items": items,
            }],
            "contracts": [{
                "id": format!("{}-contract", so.id),
                "awardID": award_id,
                "title": format!("Supplier order {}", so.id),
                "status": "active",
                "value": amount(accepted_total),
                "dateSigned": so.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "items": items,
                "implementation": { "transactions": transactions },
            }],
        }));
    }
    Ok(json!({
        "uri": format!("https://assist-market.local/api/v1/reports/ocds?year={year}"),
        "version": "1.1",
        "publishedDate": super::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "publisher": { "name": "Assist Market", "uri": "https://assist-market.local" },
        "license": "https://opendatacommons.org/licenses/pddl/1.0/",
        "publicationPolicy": "https://assist-market.local/ocds-policy",
        "releases": releases,
    }))
}
