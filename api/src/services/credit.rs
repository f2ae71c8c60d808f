//! Consumption-assistance credit read from the ledger: yearly buyer quotas
//! (预留份额), pairings (结对帮扶) with their progress, and yearly reconciliation
//! statements (每年对账) that both sides confirm and that are then locked.
//!
//! Every figure is a SQL aggregate over `ledger_entries` (net: credits are
//! positive, reversals negative), so it reflects every append that returned
//! before the request.
use super::stock::get_sum;
use super::{ledger, new_id, now, paginate, sql, PageParams};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{from_fen, to_fen};
use crate::state::AppState;
use entity::{organizations, pairings, quota_floors, quotas, reconciliations, regions};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Value,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The reserved-share floor when the admin has not set one for the year: 10%.
pub const DEFAULT_FLOOR_PPM: i64 = 100_000;
pub const PAIRING_KINDS: [&str; 3] = ["east_west", "paired_county", "designated"];

// ---------------------------------------------------------------- helpers

/// `$start, $start+1, ...` for an IN list of `n` values.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn check_year(errors: &mut Vec<FieldError>, field: &str, year: i32) {
    if !(2000..=2100).contains(&year) {
        errors.push(FieldError::new(field, "must be a year between 2000 and 2100"));
    }
}

/// A share as a decimal fraction ("0.3") -> parts per million.
fn share_to_ppm(d: Decimal, field: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let n = d.normalize();
    if n.is_sign_negative() || n > Decimal::ONE {
        errors.push(FieldError::new(
            field,
            "must be a fraction between 0 and 1 (e.g. \"0.3\" for 30%)",
        ));
        return None;
    }
    if n.scale() > 6 {
        errors.push(FieldError::new(field, "has more than six decimal places"));
        return None;
    }
    (n * Decimal::from(1_000_000)).to_i64()
}

pub fn ppm_to_share(ppm: i64) -> Decimal {
    Decimal::new(ppm, 6).normalize()
}

/// `num / den` as a fraction with four places, rounded half up (1 when `den` is 0).
pub fn fraction(num: i64, den: i64) -> Decimal {
    if den <= 0 {
        return Decimal::new(10000, 4);
    }
    let scaled = (num as i128 * 10000 * 2 + den as i128) / (den as i128 * 2);
    let scaled = if num < 0 {
        -((-(num as i128) * 10000 * 2 + den as i128) / (den as i128 * 2))
    } else {
        scaled
    };
    Decimal::new(scaled as i64, 4)
}

/// Net amounts of a set of buyers for a year, split by credit category.
#[derive(Debug, Default, Clone, Copy)]
pub struct Split {
    pub purchase_fen: i64,
    pub helped_sale_fen: i64,
    pub purchase_count: i64,
    pub helped_sale_count: i64,
}

impl Split {
    pub fn total(&self) -> i64 {
        self.purchase_fen + self.helped_sale_fen
    }
}

/// Extra conditions of [`split_sums`].
#[derive(Debug, Default, Clone)]
pub struct SplitFilter<'a> {
    pub county: Option<&'a str>,
    pub max_seq: Option<i64>,
    /// Reversals appended after this seq that touch credits of the year (adjustments).
    pub reversals_after: Option<i64>,
}

pub async fn split_sums(
    conn: &impl ConnectionTrait,
    year: i32,
    buyers: &[String],
    f: SplitFilter<'_>,
) -> AppResult<Split> {
    let mut out = Split::default();
    if buyers.is_empty() {
        return Ok(out);
    }
    let mut values: Vec<Value> = Vec::new();
    let mut text = String::from(
        "SELECT credit_category, COALESCE(SUM(amount_fen), 0) AS amt, COUNT(*) AS n FROM ledger_entries WHERE ",
    );
    if let Some(after) = f.reversals_after {
        // A reversal touches the year when it is of that year or reverses a credit of that year.
        values.push(after.into());
        values.push(year.into());
        values.push(year.into());
        text.push_str(
            "kind = 'reversal' AND seq > $1 AND (year = $2 OR order_line_id IN \
             (SELECT c.order_line_id FROM ledger_entries c WHERE c.kind = 'credit' AND c.year = $3))",
        );
    } else {
        values.push(year.into());
        text.push_str("year = $1");
    }
    let start = values.len() + 1;
    text.push_str(&format!(" AND buyer_org_id IN ({})", placeholders(start, buyers.len())));
    values.extend(buyers.iter().map(|b| Value::from(b.clone())));
    if let Some(c) = f.county {
        values.push(c.to_string().into());
        text.push_str(&format!(" AND origin_county_code = ${}", values.len()));
    }
    if let Some(m) = f.max_seq {
        values.push(m.into());
        text.push_str(&format!(" AND seq <= ${}", values.len()));
    }
    text.push_str(" GROUP BY credit_category");
    for row in conn.query_all_raw(sql(conn, &text, values)).await? {
        let cat: String = row.try_get("", "credit_category")?;
        let amt = get_sum(&row, "amt")?;
        let n = get_sum(&row, "n")?;
        match cat.as_str() {
            "purchase" => {
                out.purchase_fen += amt;
                out.purchase_count += n;
            }
            _ => {
                out.helped_sale_fen += amt;
                out.helped_sale_count += n;
            }
        }
    }
    Ok(out)
}

async fn caller_org(state: &AppState, caller: &Caller) -> AppResult<organizations::Model> {
    super::organizations::find(&state.db, &caller.org_id).await
}

fn is_buyer_kind(kind: &str) -> bool {
    super::organizations::BUYER_KINDS.contains(&kind)
}

// ---------------------------------------------------------------- quotas

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutQuota {
    /// The year's food budget, a decimal string ("1200000.00").
    #[schema(value_type = String)]
    pub food_budget: Decimal,
    /// The reserved share as a fraction ("0.3" = 30%); at least the year's floor.
    #[schema(value_type = String)]
    pub reserved_share: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Quota {
    pub buyer_org_id: String,
    pub year: i32,
    #[schema(value_type = String)]
    pub food_budget: Decimal,
    #[schema(value_type = String)]
    pub reserved_share: Decimal,
    /// food_budget × reserved_share, rounded to the fen.
    #[schema(value_type = String)]
    pub target: Decimal,
    /// Net ledger amount of the year (credits minus reversals) of the buyer and its children.
    #[schema(value_type = String)]
    pub credited: Decimal,
    /// credited ÷ target, four places.
    #[schema(value_type = String)]
    pub progress: Decimal,
    /// What remains to reach the target (0 once reached).
    #[schema(value_type = String)]
    pub shortfall: Decimal,
    /// The fraction of the year elapsed (1 for past years, 0 for future years).
    #[schema(value_type = String)]
    pub elapsed_fraction: Decimal,
    /// target × elapsed_fraction: where a straight-line pace would be today.
    #[schema(value_type = String)]
    pub expected_by_today: Decimal,
    /// progress is below the straight-line fraction of the year elapsed.
    pub behind_pace: bool,
    /// The year's floor for the reserved share.
    #[schema(value_type = String)]
    pub min_share: Decimal,
    pub version: i32,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutFloor {
    /// The lowest reserved share buyers may set for the year, as a fraction ("0.05").
    #[schema(value_type = String)]
    pub min_share: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Floor {
    pub year: i32,
    #[schema(value_type = String)]
    pub min_share: Decimal,
    /// True when no floor was set for the year and the default (10%) applies.
    pub is_default: bool,
}

/// The fraction of `year` elapsed at `at`, in millionths (0 before, 1_000_000 after).
pub fn elapsed_ppm(year: i32, at: chrono::DateTime<chrono::Utc>) -> i64 {
    use chrono::{NaiveDate, TimeZone};
    let start = NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let (Some(s), Some(e)) = (start, end) else { return 0 };
    let s = chrono::Utc.from_utc_datetime(&s);
    let e = chrono::Utc.from_utc_datetime(&e);
    if at <= s {
        return 0;
    }
    if at >= e {
        return 1_000_000;
    }
    let num = (at - s).num_seconds() as i128;
    let den = (e - s).num_seconds() as i128;
    (num * 1_000_000 / den) as i64
}

pub async fn floor_ppm(conn: &impl ConnectionTrait, year: i32) -> AppResult<(i64, bool)> {
    Ok(match quota_floors::Entity::find_by_id(year).one(conn).await? {
        Some(f) => (f.min_share_ppm as i64, false),
        None => (DEFAULT_FLOOR_PPM, true),
    })
}

/// Credited net amount of a buyer (and its children) for a year.
pub async fn credited_fen(conn: &impl ConnectionTrait, buyer_org_id: &str, year: i32) -> AppResult<i64> {
    let ids = super::organizations::with_children(conn, buyer_org_id).await?;
    Ok(split_sums(conn, year, &ids, SplitFilter::default()).await?.total())
}

async fn quota_view(conn: &impl ConnectionTrait, q: quotas::Model) -> AppResult<Quota> {
    let credited = credited_fen(conn, &q.buyer_org_id, q.year).await?;
    let (floor, _) = floor_ppm(conn, q.year).await?;
    let elapsed = elapsed_ppm(q.year, now());
    let expected = (q.target_fen as i128 * elapsed as i128 / 1_000_000) as i64;
    // progress < elapsed fraction, compared exactly: credited/target < elapsed/1e6.
    let behind = (credited as i128) * 1_000_000 < (q.target_fen as i128) * (elapsed as i128);
    Ok(Quota {
        buyer_org_id: q.buyer_org_id,
        year: q.year,
        food_budget: from_fen(q.food_budget_fen),
        reserved_share: ppm_to_share(q.reserved_share_ppm as i64),
        target: from_fen(q.target_fen),
        credited: from_fen(credited),
        progress: fraction(credited, q.target_fen),
        shortfall: from_fen((q.target_fen - credited).max(0)),
        elapsed_fraction: Decimal::new(elapsed, 6).round_dp(4),
        expected_by_today: from_fen(expected),
        behind_pace: behind,
        min_share: ppm_to_share(floor),
        version: q.version,
        updated_at: q.updated_at,
    })
}

/// The buyer organisation `org_id` if the caller may read (or, with `write`, set) its quota.
async fn quota_target(state: &AppState, caller: &Caller, org_id: &str, write: bool) -> AppResult<organizations::Model> {
    if write {
        caller.require(&[Role::Admin, Role::Buyer])?;
    } else {
        caller.require(&[Role::Admin, Role::Evaluator, Role::Buyer])?;
    }
    let org = organizations::Entity::find_by_id(org_id.to_string())
        .one(&state.db)
        .await?
        .filter(|o| is_buyer_kind(&o.kind))
        .ok_or(AppError::NotFound("buyer"))?;
    let allowed = match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Buyer => {
            org.id == caller.org_id || (!write && org.parent_org_id.as_deref() == Some(caller.org_id.as_str()))
        }
        _ => false,
    };
    if !allowed {
        return Err(AppError::NotFound("buyer"));
    }
    Ok(org)
}

pub async fn get_quota(state: &AppState, caller: &Caller, org_id: &str, year: i32) -> AppResult<Quota> {
    quota_target(state, caller, org_id, false).await?;
    let q = quotas::Entity::find_by_id((org_id.to_string(), year))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("quota"))?;
    quota_view(&state.db, q).await
}

/// Creates or replaces the quota. Replacing requires `if_match` (the version): 428 without it, 412 on mismatch.
pub async fn put_quota(
    state: &AppState,
    caller: &Caller,
    org_id: &str,
    year: i32,
    body: PutQuota,
    if_match: Option<String>,
) -> AppResult<(Quota, bool)> {
    quota_target(state, caller, org_id, true).await?;
    let db = &state.db;
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    let budget = match to_fen(body.food_budget, "food_budget") {
        Ok(0) => {
            errors.push(FieldError::new("food_budget", "must be greater than zero"));
            None
        }
        Ok(v) => Some(v),
        Err(AppError::Validation { errors: e, .. }) => {
            errors.extend(e);
            None
        }
        Err(e) => return Err(e),
    };
    let share = share_to_ppm(body.reserved_share, "reserved_share", &mut errors);
    let (floor, _) = floor_ppm(db, year).await?;
    if let Some(s) = share {
        if s == 0 {
            errors.push(FieldError::new("reserved_share", "must be greater than zero"));
        } else if s < floor {
            errors.push(FieldError::new(
                "reserved_share",
                format!("must be at least {} (the floor for {year})", ppm_to_share(floor)),
            ));
        }
    }
    AppError::check(errors)?;
    let (Some(budget), Some(share)) = (budget, share) else {
        return Err(AppError::internal("validated values missing"));
    };
    // Exact: budget (fen) × share (ppm) / 1e6, rounded half up to the fen.
    let target = ((budget as i128 * share as i128 * 2 + 1_000_000) / 2_000_000) as i64;
    let existing = quotas::Entity::find_by_id((org_id.to_string(), year)).one(db).await?;
    let version = match (&existing, &if_match) {
        (None, Some(_)) => return Err(AppError::PreconditionFailed),
        (Some(e), Some(tag)) if tag != &e.version.to_string() => return Err(AppError::PreconditionFailed),
        (Some(e), Some(_)) => Some(e.version),
        // Replacing what exists needs its ETag, so that two editors never overwrite each other blindly.
        (Some(_), None) => return Err(AppError::PreconditionRequired),
        (None, None) => None,
    };
    let t = now();
    let mut values: Vec<Value> = vec![
        org_id.to_string().into(),
        year.into(),
        budget.into(),
        (share as i32).into(),
        target.into(),
        t.into(),
    ];
    let mut text = String::from(
        "INSERT INTO quotas (buyer_org_id, year, food_budget_fen, reserved_share_ppm, target_fen, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (buyer_org_id, year) DO UPDATE SET \
         food_budget_fen = excluded.food_budget_fen, reserved_share_ppm = excluded.reserved_share_ppm, \
         target_fen = excluded.target_fen, version = quotas.version + 1, updated_at = excluded.updated_at",
    );
    if let Some(v) = version {
        values.push(v.into());
        text.push_str(" WHERE quotas.version = $7");
    }
    let res = db.execute_raw(sql(db, &text, values)).await?;
    if res.rows_affected() == 0 {
        return Err(AppError::PreconditionFailed);
    }
    let q = quotas::Entity::find_by_id((org_id.to_string(), year))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("quota vanished"))?;
    Ok((quota_view(db, q).await?, existing.is_none()))
}

pub async fn put_floor(state: &AppState, caller: &Caller, year: i32, body: PutFloor) -> AppResult<Floor> {
    caller.require(&[Role::Admin])?;
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    let ppm = share_to_ppm(body.min_share, "min_share", &mut errors);
    AppError::check(errors)?;
    let ppm = ppm.ok_or_else(|| AppError::internal("validated value missing"))?;
    let db = &state.db;
    db.execute_raw(sql(
        db,
        "INSERT INTO quota_floors (year, min_share_ppm, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (year) DO UPDATE SET min_share_ppm = excluded.min_share_ppm, updated_at = excluded.updated_at",
        vec![year.into(), (ppm as i32).into(), now().into()],
    ))
    .await?;
    Ok(Floor {
        year,
        min_share: ppm_to_share(ppm),
        is_default: false,
    })
}

pub async fn get_floor(state: &AppState, _caller: &Caller, year: i32) -> AppResult<Floor> {
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check(errors)?;
    let (ppm, is_default) = floor_ppm(&state.db, year).await?;
    Ok(Floor {
        year,
        min_share: ppm_to_share(ppm),
        is_default,
    })
}

// ---------------------------------------------------------------- pairings

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPairing {
    /// east_west | paired_county | designated
    pub kind: String,
    /// The helping buyer organisation.
    pub helper_org_id: String,
    /// The helped county (6-digit code).
    pub helped_region_code: String,
    pub year: i32,
    #[schema(value_type = String)]
    pub purchase_target: Decimal,
    #[schema(value_type = String)]
    pub helped_sale_target: Decimal,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Pairing {
    pub id: String,
    pub kind: String,
    pub helper_org_id: String,
    pub helper_name: String,
    pub helped_region_code: String,
    pub helped_region_name: String,
    pub year: i32,
    #[schema(value_type = String)]
    pub purchase_target: Decimal,
    #[schema(value_type = String)]
    pub helped_sale_target: Decimal,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(PairingPage, Pairing);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairingFilter {
    pub year: Option<i32>,
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryProgress {
    #[schema(value_type = String)]
    pub target: Decimal,
    /// Net amount (credits minus reversals).
    #[schema(value_type = String)]
    pub credited: Decimal,
    #[schema(value_type = String)]
    pub progress: Decimal,
    #[schema(value_type = String)]
    pub shortfall: Decimal,
    /// Ledger entries counted (credits and reversals).
    pub entries: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PairingProgress {
    pub pairing_id: String,
    pub year: i32,
    pub helper_org_id: String,
    pub helped_region_code: String,
    pub purchase: CategoryProgress,
    pub helped_sale: CategoryProgress,
    #[schema(value_type = String)]
    pub total: Decimal,
}

async fn pairing_view(conn: &impl ConnectionTrait, p: pairings::Model) -> AppResult<Pairing> {
    let helper = organizations::Entity::find_by_id(p.helper_org_id.clone())
        .one(conn)
        .await?;
    let region = regions::Entity::find_by_id(p.helped_region_code.clone())
        .one(conn)
        .await?;
    Ok(Pairing {
        id: p.id,
        kind: p.kind,
        helper_org_id: p.helper_org_id,
        helper_name: helper.map(|h| h.name).unwrap_or_default(),
        helped_region_code: p.helped_region_code,
        helped_region_name: region.map(|r| r.name).unwrap_or_default(),
        year: p.year,
        purchase_target: from_fen(p.purchase_target_fen),
        helped_sale_target: from_fen(p.helped_sale_target_fen),
        created_at: p.created_at,
    })
}

pub async fn create_pairing(state: &AppState, caller: &Caller, body: NewPairing) -> AppResult<Pairing> {
    caller.require(&[Role::Admin])?;
    let db = &state.db;
    let mut errors = Vec::new();
    if !PAIRING_KINDS.contains(&body.kind.as_str()) {
        errors.push(FieldError::new(
            "kind",
            "must be one of east_west, paired_county, designated",
        ));
    }
    match organizations::Entity::find_by_id(body.helper_org_id.clone())
        .one(db)
        .await?
    {
        None => errors.push(FieldError::new("helper_org_id", "no such organisation")),
        Some(o) if !is_buyer_kind(&o.kind) => errors.push(FieldError::new(
            "helper_org_id",
            "the helper must be a buyer organisation",
        )),
        Some(_) => {}
    }
    match regions::Entity::find_by_id(body.helped_region_code.clone())
        .one(db)
        .await?
    {
        None => errors.push(FieldError::new("helped_region_code", "no such region")),
        Some(r) if r.level != "county" => errors.push(FieldError::new(
            "helped_region_code",
            "the helped region must be a county",
        )),
        Some(_) => {}
    }
    check_year(&mut errors, "year", body.year);
    let mut money = |d: Decimal, field: &str| match to_fen(d, field) {
        Ok(v) => v,
        Err(AppError::Validation { errors: e, .. }) => {
            errors.extend(e);
            0
        }
        Err(_) => 0,
    };
    let purchase = money(body.purchase_target, "purchase_target");
    let helped = money(body.helped_sale_target, "helped_sale_target");
    AppError::check(errors)?;
    let dup = pairings::Entity::find()
        .filter(pairings::Column::Kind.eq(body.kind.clone()))
        .filter(pairings::Column::HelperOrgId.eq(body.helper_org_id.clone()))
        .filter(pairings::Column::HelpedRegionCode.eq(body.helped_region_code.clone()))
        .filter(pairings::Column::Year.eq(body.year))
        .one(db)
        .await?;
    if let Some(d) = dup {
        return Err(AppError::Conflict(format!(
            "a {} pairing of this helper with this county for {} already exists ({})",
            body.kind, body.year, d.id
        )));
    }
    let m = pairings::ActiveModel {
        id: Set(new_id()),
        kind: Set(body.kind),
        helper_org_id: Set(body.helper_org_id),
        helped_region_code: Set(body.helped_region_code),
        year: Set(body.year),
        purchase_target_fen: Set(purchase),
        helped_sale_target_fen: Set(helped),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    pairing_view(db, m).await
}

/// Whether the caller may see the pairing: admin and evaluators all; the helper
/// organisation its own; the county office of the helped county.
async fn sees_pairing(state: &AppState, caller: &Caller, p: &pairings::Model) -> AppResult<bool> {
    Ok(match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Buyer => p.helper_org_id == caller.org_id,
        Role::Certifier => {
            let org = caller_org(state, caller).await?;
            org.kind == "county_office" && org.region_code == p.helped_region_code
        }
        Role::Supplier => false,
    })
}

pub async fn find_pairing(state: &AppState, caller: &Caller, id: &str) -> AppResult<pairings::Model> {
    let p = pairings::Entity::find_by_id(id.to_string())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("pairing"))?;
    if !sees_pairing(state, caller, &p).await? {
        return Err(AppError::NotFound("pairing"));
    }
    Ok(p)
}

pub async fn get_pairing(state: &AppState, caller: &Caller, id: &str) -> AppResult<Pairing> {
    let p = find_pairing(state, caller, id).await?;
    pairing_view(&state.db, p).await
}

pub async fn list_pairings(
    state: &AppState,
    caller: &Caller,
    f: &PairingFilter,
    page: &PageParams,
) -> AppResult<(Vec<Pairing>, Option<String>)> {
    let limit = page.limit()?;
    let mut q = pairings::Entity::find();
    match caller.role {
        Role::Admin | Role::Evaluator => {}
        Role::Buyer => q = q.filter(pairings::Column::HelperOrgId.eq(caller.org_id.clone())),
        Role::Certifier => {
            let org = caller_org(state, caller).await?;
            q = q.filter(pairings::Column::HelpedRegionCode.eq(org.region_code));
        }
        Role::Supplier => return Ok((Vec::new(), None)),
    }
    if let Some(y) = f.year {
        q = q.filter(pairings::Column::Year.eq(y));
    }
    if let Some(k) = &f.kind {
        q = q.filter(pairings::Column::Kind.eq(k.clone()));
    }
    if let Some(c) = page.cursor()? {
        q = q.filter(pairings::Column::Id.lt(c));
    }
    let rows = q
        .order_by_desc(pairings::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(pairing_view(&state.db, r).await?);
    }
    Ok((items, next))
}

fn category_progress(target: i64, credited: i64, entries: i64) -> CategoryProgress {
    CategoryProgress {
        target: from_fen(target),
        credited: from_fen(credited),
        progress: fraction(credited, target),
        shortfall: from_fen((target - credited).max(0)),
        entries,
    }
}

pub async fn pairing_progress(state: &AppState, caller: &Caller, id: &str) -> AppResult<PairingProgress> {
    let p = find_pairing(state, caller, id).await?;
    let helpers = super::organizations::with_children(&state.db, &p.helper_org_id).await?;
    let s = split_sums(
        &state.db,
        p.year,
        &helpers,
        SplitFilter {
            county: Some(&p.helped_region_code),
            ..Default::default()
        },
    )
    .await?;
    Ok(PairingProgress {
        pairing_id: p.id,
        year: p.year,
        helper_org_id: p.helper_org_id,
        helped_region_code: p.helped_region_code,
        purchase: category_progress(p.purchase_target_fen, s.purchase_fen, s.purchase_count),
        helped_sale: category_progress(p.helped_sale_target_fen, s.helped_sale_fen, s.helped_sale_count),
        total: from_fen(s.total()),
    })
}

// ---------------------------------------------------------------- reconciliations

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReconciliation {
    /// The pairing's year.
    pub year: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerRange {
    /// The statement covers the chain from this seq ...
    pub from_seq: i64,
    /// ... up to and including this seq (the head when the statement was made).
    pub to_seq: i64,
    /// The hash of entry `to_seq` (the genesis hash for an empty ledger).
    pub head_hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Adjustments {
    /// The locked statement these adjustments follow (none for a first statement).
    pub after_reconciliation_id: Option<String>,
    /// Reversals from this seq on are counted here.
    pub from_seq: Option<i64>,
    /// Net amounts (negative) of reversals appended after that locked statement that touch the year's credits.
    #[schema(value_type = String)]
    pub purchase: Decimal,
    #[schema(value_type = String)]
    pub helped_sale: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciliation {
    pub id: String,
    pub pairing_id: String,
    pub year: i32,
    /// pending | locked | superseded
    pub status: String,
    #[schema(value_type = String)]
    pub purchase: Decimal,
    #[schema(value_type = String)]
    pub helped_sale: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    #[schema(value_type = String)]
    pub purchase_target: Decimal,
    #[schema(value_type = String)]
    pub helped_sale_target: Decimal,
    pub purchase_count: i64,
    pub helped_sale_count: i64,
    pub entry_count: i64,
    pub ledger: LedgerRange,
    pub adjustments: Adjustments,
    pub helper_confirmed_by: Option<String>,
    pub helper_confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub county_confirmed_by: Option<String>,
    pub county_confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub locked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(ReconciliationPage, Reconciliation);

fn reconciliation_view(m: reconciliations::Model, p: &pairings::Model) -> Reconciliation {
    let adj_total = m.adjustment_purchase_fen + m.adjustment_helped_sale_fen;
    Reconciliation {
        id: m.id,
        pairing_id: m.pairing_id,
        year: m.year,
        status: m.status,
        purchase: from_fen(m.purchase_fen),
        helped_sale: from_fen(m.helped_sale_fen),
        total: from_fen(m.purchase_fen + m.helped_sale_fen),
        purchase_target: from_fen(p.purchase_target_fen),
        helped_sale_target: from_fen(p.helped_sale_target_fen),
        purchase_count: m.purchase_count,
        helped_sale_count: m.helped_sale_count,
        entry_count: m.purchase_count + m.helped_sale_count,
        ledger: LedgerRange {
            from_seq: m.seq_from,
            to_seq: m.seq_to,
            head_hash: m.head_hash,
        },
        adjustments: Adjustments {
            after_reconciliation_id: m.previous_locked_id,
            from_seq: m.adjustment_from_seq,
            purchase: from_fen(m.adjustment_purchase_fen),
            helped_sale: from_fen(m.adjustment_helped_sale_fen),
            total: from_fen(adj_total),
            count: m.adjustment_count,
        },
        helper_confirmed_by: m.helper_confirmed_by,
        helper_confirmed_at: m.helper_confirmed_at,
        county_confirmed_by: m.county_confirmed_by,
        county_confirmed_at: m.county_confirmed_at,
        locked_at: m.locked_at,
        created_by: m.created_by,
        created_at: m.created_at,
    }
}

/// Refuses (409) when the chain up to `seq` no longer verifies or no longer ends in `hash`.
async fn check_range(conn: &impl ConnectionTrait, seq: i64, hash: Option<&str>) -> AppResult<String> {
    let v = ledger::verify_upto(conn, Some(seq)).await?;
    if !v.ok || v.entries != seq {
        return Err(AppError::Conflict(format!(
            "the ledger range 1..{seq} this statement covers no longer verifies (first bad entry: seq {}); \
             the ledger has been altered and the statement cannot be confirmed",
            v.first_bad_seq.unwrap_or(v.entries + 1)
        )));
    }
    if let Some(h) = hash {
        if v.head_hash != h {
            return Err(AppError::Conflict(format!(
                "the ledger range 1..{seq} this statement covers no longer ends in the hash it recorded; \
                 the ledger has been altered and the statement cannot be confirmed"
            )));
        }
    }
    Ok(v.head_hash)
}

pub async fn create_reconciliation(
    state: &AppState,
    caller: &Caller,
    pairing_id: &str,
    body: NewReconciliation,
) -> AppResult<Reconciliation> {
    caller.require(&[Role::Admin, Role::Buyer, Role::Certifier])?;
    let p = find_pairing(state, caller, pairing_id).await?;
    let mut errors = Vec::new();
    check_year(&mut errors, "year", body.year);
    if errors.is_empty() && body.year != p.year {
        errors.push(FieldError::new("year", format!("the pairing is for {}", p.year)));
    }
    AppError::check(errors)?;
    let db = &state.db;
    let head = db
        .query_one_raw(sql(db, "SELECT seq, hash FROM ledger_head WHERE id = 1", vec![]))
        .await?
        .ok_or_else(|| AppError::internal("ledger head missing"))?;
    let head_seq: i64 = head.try_get("", "seq")?;
    let head_hash: String = head.try_get("", "hash")?;
    check_range(db, head_seq, Some(&head_hash)).await?;
    let helpers = super::organizations::with_children(db, &p.helper_org_id).await?;
    let totals = split_sums(
        db,
        p.year,
        &helpers,
        SplitFilter {
            county: Some(&p.helped_region_code),
            max_seq: Some(head_seq),
            reversals_after: None,
        },
    )
    .await?;
    let prev = reconciliations::Entity::find()
        .filter(reconciliations::Column::PairingId.eq(p.id.clone()))
        .filter(reconciliations::Column::Year.eq(p.year))
        .filter(reconciliations::Column::Status.eq("locked"))
        .order_by_desc(reconciliations::Column::SeqTo)
        .one(db)
        .await?;
    let adj = match &prev {
        Some(prev) => {
            split_sums(
                db,
                p.year,
                &helpers,
                SplitFilter {
                    county: Some(&p.helped_region_code),
                    max_seq: Some(head_seq),
                    reversals_after: Some(prev.seq_to),
                },
            )
            .await?
        }
        None => Split::default(),
    };
    let m = reconciliations::ActiveModel {
        id: Set(new_id()),
        pairing_id: Set(p.id.clone()),
        year: Set(p.year),
        status: Set("pending".into()),
        purchase_fen: Set(totals.purchase_fen),
        helped_sale_fen: Set(totals.helped_sale_fen),
        purchase_count: Set(totals.purchase_count),
        helped_sale_count: Set(totals.helped_sale_count),
        seq_from: Set(1),
        seq_to: Set(head_seq),
        head_hash: Set(head_hash),
        previous_locked_id: Set(prev.as_ref().map(|r| r.id.clone())),
        adjustment_from_seq: Set(prev.as_ref().map(|r| r.seq_to + 1)),
        adjustment_purchase_fen: Set(adj.purchase_fen),
        adjustment_helped_sale_fen: Set(adj.helped_sale_fen),
        adjustment_count: Set(adj.purchase_count + adj.helped_sale_count),
        created_by: Set(caller.user_id.clone()),
        created_at: Set(now()),
        helper_confirmed_by: Set(None),
        helper_confirmed_at: Set(None),
        county_confirmed_by: Set(None),
        county_confirmed_at: Set(None),
        locked_at: Set(None),
    }
    .insert(db)
    .await?;
    // The newest statement supersedes every older pending one of the same pairing and year. Ids are
    // time-ordered, so two statements made at once leave exactly the newer one pending.
    db.execute_raw(sql(
        db,
        "UPDATE reconciliations SET status = 'superseded' WHERE pairing_id = $1 AND year = $2 \
         AND status = 'pending' AND id < $3",
        vec![p.id.clone().into(), p.year.into(), m.id.clone().into()],
    ))
    .await?;
    Ok(reconciliation_view(m, &p))
}

async fn find_reconciliation(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> AppResult<(reconciliations::Model, pairings::Model)> {
    let r = reconciliations::Entity::find_by_id(id.to_string())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("reconciliation"))?;
    let p = pairings::Entity::find_by_id(r.pairing_id.clone())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("reconciliation"))?;
    if !sees_pairing(state, caller, &p).await? {
        return Err(AppError::NotFound("reconciliation"));
    }
    Ok((r, p))
}

pub async fn get_reconciliation(state: &AppState, caller: &Caller, id: &str) -> AppResult<Reconciliation> {
    let (r, p) = find_reconciliation(state, caller, id).await?;
    Ok(reconciliation_view(r, &p))
}

pub async fn list_reconciliations(
    state: &AppState,
    caller: &Caller,
    pairing_id: &str,
    page: &PageParams,
) -> AppResult<(Vec<Reconciliation>, Option<String>)> {
    let p = find_pairing(state, caller, pairing_id).await?;
    let limit = page.limit()?;
    let mut q = reconciliations::Entity::find().filter(reconciliations::Column::PairingId.eq(p.id.clone()));
    if let Some(c) = page.cursor()? {
        q = q.filter(reconciliations::Column::Id.lt(c));
    }
    let rows = q
        .order_by_desc(reconciliations::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((rows.into_iter().map(|r| reconciliation_view(r, &p)).collect(), next))
}

/// One side confirms: the helper organisation (buyer) or the helped county's office
/// (certifier). Admin and evaluators are refused (403: not a party); any other
/// organisation gets 404 (the statement is not theirs to see).
pub async fn confirm(state: &AppState, caller: &Caller, id: &str) -> AppResult<Reconciliation> {
    caller.require(&[Role::Buyer, Role::Certifier])?;
    let (r, p) = find_reconciliation(state, caller, id).await?;
    let helper_side = caller.role == Role::Buyer;
    let (by_col, at_col, side) = if helper_side {
        ("helper_confirmed_by", "helper_confirmed_at", "the helper organisation")
    } else {
        ("county_confirmed_by", "county_confirmed_at", "the helped county office")
    };
    let already = if helper_side {
        r.helper_confirmed_at.is_some()
    } else {
        r.county_confirmed_at.is_some()
    };
    if already {
        return Err(AppError::Conflict(format!(
            "{side} has already confirmed this statement"
        )));
    }
    match r.status.as_str() {
        "pending" => {}
        "superseded" => {
            return Err(AppError::Conflict(
                "this statement was superseded by a newer one; confirm the newest statement".into(),
            ))
        }
        other => return Err(AppError::Conflict(format!("the statement is {other}"))),
    }
    let db = &state.db;
    check_range(db, r.seq_to, Some(&r.head_hash)).await?;
    let t = now();
    let res = db
        .execute_raw(sql(
            db,
            &format!(
                "UPDATE reconciliations SET {by_col} = $1, {at_col} = $2 \
                 WHERE id = $3 AND {at_col} IS NULL AND status = 'pending'"
            ),
            vec![caller.user_id.clone().into(), t.into(), r.id.clone().into()],
        ))
        .await?;
    if res.rows_affected() == 0 {
        // Lost a race: another request of the same side confirmed, or a newer statement superseded it.
        let now_r = reconciliations::Entity::find_by_id(r.id.clone())
            .one(db)
            .await?
            .ok_or(AppError::NotFound("reconciliation"))?;
        return Err(AppError::Conflict(if now_r.status == "superseded" {
            "this statement was superseded by a newer one; confirm the newest statement".into()
        } else {
            format!("{side} has already confirmed this statement")
        }));
    }
    db.execute_raw(sql(
        db,
        "UPDATE reconciliations SET status = 'locked', locked_at = $1 WHERE id = $2 AND status = 'pending' \
         AND helper_confirmed_at IS NOT NULL AND county_confirmed_at IS NOT NULL",
        vec![t.into(), r.id.clone().into()],
    ))
    .await?;
    let m = reconciliations::Entity::find_by_id(r.id.clone())
        .one(db)
        .await?
        .ok_or(AppError::NotFound("reconciliation"))?;
    Ok(reconciliation_view(m, &p))
}
