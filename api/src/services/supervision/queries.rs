//! Every SQL statement of the supervision capability. Kinds and states are bound, never
//! written in the SQL text. The walks of the region tree are `UNION`, not `UNION ALL`: a row
//! met again adds nothing and ends the walk, so even a loop in the regions (which
//! `regions::put` refuses) cannot keep a statement, and on SQLite the one connection, busy.
use crate::error::AppResult;
use crate::services::sql;
use sea_orm::{ConnectionTrait, Value};

/// Whether `inner` is `outer` or lies under it.
pub async fn region_within(conn: &impl ConnectionTrait, inner: &str, outer: &str) -> AppResult<bool> {
    let text = "WITH RECURSIVE up(code, parent_code) AS (SELECT code, parent_code FROM regions WHERE code = $1 \
         UNION SELECT r.code, r.parent_code FROM regions r JOIN up ON r.code = up.parent_code) \
         SELECT COUNT(*) AS n FROM up WHERE code = $2";
    let row = conn
        .query_one_raw(sql(conn, text, vec![inner.into(), outer.into()]))
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "n")? > 0,
        None => false,
    })
}

/// A poverty county of the counties list.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct PovertyCounty {
    pub code: String,
    pub name: String,
    pub poverty_status: String,
}

/// The poverty counties (`poverty` or `deep_poverty`) in `code` or under it (all without a
/// code), by code, after `after`, at most `limit` (all without a limit).
pub async fn poverty_counties(
    conn: &impl ConnectionTrait,
    code: Option<&str>,
    after: Option<&str>,
    limit: Option<u64>,
) -> AppResult<Vec<PovertyCounty>> {
    use crate::domain::{PovertyStatus, RegionLevel};
    use sea_orm::FromQueryResult;
    let mut values: Vec<Value> = vec![
        RegionLevel::County.into(),
        PovertyStatus::Poverty.into(),
        PovertyStatus::DeepPoverty.into(),
    ];
    let mut text = String::new();
    let mut from = "regions r".to_string();
    if let Some(c) = code {
        values.push(c.into());
        text.push_str(&format!(
            "WITH RECURSIVE sub(code) AS (SELECT code FROM regions WHERE code = ${n} \
             UNION SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code) ",
            n = values.len()
        ));
        from.push_str(" JOIN sub ON r.code = sub.code");
    }
    text.push_str(&format!(
        "SELECT r.code, r.name, r.poverty_status FROM {from} WHERE r.level = $1 AND r.poverty_status IN ($2, $3)"
    ));
    if let Some(a) = after {
        values.push(a.into());
        text.push_str(&format!(" AND r.code > ${}", values.len()));
    }
    text.push_str(" ORDER BY r.code");
    if let Some(l) = limit {
        values.push(i64::try_from(l).unwrap_or(i64::MAX).into());
        text.push_str(&format!(" LIMIT ${}", values.len()));
    }
    Ok(PovertyCounty::find_by_statement(sql(conn, &text, values))
        .all(conn)
        .await?)
}

/// `$first, $first+1, …` for `n` values.
fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Per county of `codes`: the certified products listed in the catalogue (certified, valid
/// today, of an active supplier) and how many suppliers list them.
pub async fn listed_by_county(
    conn: &impl ConnectionTrait,
    codes: &[String],
    today: chrono::NaiveDate,
) -> AppResult<std::collections::HashMap<String, (i64, i64)>> {
    use crate::domain::{OrgStatus, ProductStatus};
    let mut out = std::collections::HashMap::new();
    if codes.is_empty() {
        return Ok(out);
    }
    let text = format!(
        "SELECT p.origin_county_code AS code, COUNT(*) AS products, COUNT(DISTINCT p.supplier_org_id) AS suppliers \
         FROM products p JOIN organizations o ON o.id = p.supplier_org_id \
         WHERE p.status = $1 AND p.valid_until >= $2 AND o.status = $3 AND p.origin_county_code IN ({}) \
         GROUP BY p.origin_county_code",
        marks(4, codes.len())
    );
    let mut values: Vec<Value> = vec![ProductStatus::Certified.into(), today.into(), OrgStatus::Active.into()];
    values.extend(codes.iter().map(|c| Value::from(c.clone())));
    for r in conn.query_all_raw(sql(conn, &text, values)).await? {
        out.insert(
            r.try_get::<String>("", "code")?,
            (r.try_get::<i64>("", "products")?, r.try_get::<i64>("", "suppliers")?),
        );
    }
    Ok(out)
}

/// Per origin county of `codes`: the net amount credited in `year` and the entries.
pub async fn credited_by_county(
    conn: &impl ConnectionTrait,
    year: i32,
    codes: &[String],
) -> AppResult<std::collections::HashMap<String, (i64, i64)>> {
    let mut out = std::collections::HashMap::new();
    if codes.is_empty() {
        return Ok(out);
    }
    let text = format!(
        "SELECT origin_county_code AS code, COALESCE(SUM(amount_fen), 0) AS amt, COUNT(*) AS n \
         FROM ledger_entries WHERE year = $1 AND origin_county_code IN ({}) GROUP BY origin_county_code",
        marks(2, codes.len())
    );
    let mut values: Vec<Value> = vec![year.into()];
    values.extend(codes.iter().map(|c| Value::from(c.clone())));
    for r in conn.query_all_raw(sql(conn, &text, values)).await? {
        let amt = crate::services::credit::sum_of(&r, "amt")?;
        out.insert(r.try_get::<String>("", "code")?, (amt, r.try_get::<i64>("", "n")?));
    }
    Ok(out)
}
