//! The yearly summary: ledger totals grouped by buyer, supplier, county, pairing or
//! month, split by credit category and origin poverty status, over the caller's
//! slice of the ledger, with a ranking of buyers by quota progress.
use super::queries::{self, Figures};
use crate::auth::{Caller, Role};
use crate::domain::{Money, OrgId, ReportFormat, ReportGroup, ReportScope, SignedMoney};
use crate::error::{AppError, AppResult};
use crate::services::credit::{check_year, net, stored_id, take_opt, Param, Ratio};
use crate::services::supervision::{self, OrgSet};
use crate::state::AppState;
use sea_orm::Value;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// The ledger year (default: the current year).
    #[param(value_type = Option<i32>)]
    pub year: Option<Param<i32>>,
    /// The grouping (default buyer).
    #[param(value_type = Option<ReportGroup>)]
    pub group_by: Option<Param<ReportGroup>>,
    /// The format (default json).
    #[param(value_type = Option<ReportFormat>)]
    pub format: Option<Param<ReportFormat>>,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct SummaryRow {
    /// The group key: an organisation id, a county code, a pairing id or the month number;
    /// `null` on the row of the entries of no pairing (group_by=pairing), and `total` on the totals.
    pub key: Option<String>,
    pub name: String,
    /// Net amount with credit category `purchase`.
    pub purchase: SignedMoney,
    /// Net amount with credit category `helped_sale`.
    pub helped_sale: SignedMoney,
    /// Net amount from counties that were `poverty` when the entry was written.
    pub poverty: SignedMoney,
    /// Net amount from `deep_poverty` counties.
    pub deep_poverty: SignedMoney,
    /// Net amount from counties of status `none`.
    pub none: SignedMoney,
    pub total: SignedMoney,
    pub entry_count: i64,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct RankingRow {
    pub rank: i64,
    pub buyer_org_id: OrgId,
    pub name: String,
    pub target: Money,
    /// Net credits of the year of the buyer and its children.
    pub credited: SignedMoney,
    pub progress: Ratio,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    pub year: i32,
    pub group_by: ReportGroup,
    /// Whose slice of the ledger this is.
    pub scope: ReportScope,
    /// The ledger head when the report was computed.
    pub ledger_head_seq: i64,
    pub rows: Vec<SummaryRow>,
    /// Sums of the rows: every entry of the slice counts in exactly one row, so these are the
    /// slice's ledger totals for every grouping.
    pub totals: SummaryRow,
    /// Buyers with a quota target for the year (a budget unit's approved plan, else the quota
    /// set through `PUT /buyers/{org_id}/quotas/{year}`), best progress first (only with
    /// group_by=buyer).
    pub ranking: Option<Vec<RankingRow>>,
}

/// The year, grouping and format of a summary request, every bad parameter named.
pub fn parse_query(q: SummaryQuery) -> AppResult<(i32, ReportGroup, ReportFormat)> {
    use chrono::Datelike;
    let mut errors = Vec::new();
    let year = take_opt(q.year, &mut errors, "year");
    if let Some(Some(y)) = year {
        check_year(&mut errors, "year", y);
    }
    let group = take_opt(q.group_by, &mut errors, "group_by");
    let format = take_opt(q.format, &mut errors, "format");
    AppError::check_query(errors)?;
    Ok((
        year.flatten().unwrap_or_else(|| crate::services::today().year()),
        group.flatten().unwrap_or(ReportGroup::Buyer),
        format.flatten().unwrap_or(ReportFormat::Json),
    ))
}

/// The caller's slice of the ledger as SQL conditions on alias `l`.
struct Scope {
    name: ReportScope,
    cond: String,
    values: Vec<Value>,
    /// The buyers of a buyer or region scope (for the ranking; no one for a supplier or county).
    buyers: Option<OrgSet>,
}

fn buyers_scope(name: ReportScope, buyers: OrgSet, first: usize) -> Scope {
    let (cond, values) = buyers.sql_in("l.buyer_org_id", first);
    Scope {
        name,
        cond: format!(" AND {cond}"),
        values,
        buyers: Some(buyers),
    }
}

async fn scope_of(state: &AppState, caller: &Caller, first: usize) -> AppResult<Scope> {
    let db = &state.db;
    let me = caller.org_id.to_string();
    Ok(match caller.role {
        Role::Admin | Role::Evaluator => Scope {
            name: ReportScope::All,
            cond: String::new(),
            values: vec![],
            buyers: None,
        },
        Role::Buyer => {
            let ids = crate::services::credit::queries::with_children(db, &me).await?;
            buyers_scope(ReportScope::Buyer, OrgSet::Ids(ids), first)
        }
        Role::Supervisor => {
            let scope = crate::services::supervision::region_of(db, caller).await?;
            buyers_scope(ReportScope::Region, supervision::scope_orgs(&scope, false), first)
        }
        Role::Supplier => Scope {
            name: ReportScope::Supplier,
            cond: format!(" AND l.supplier_org_id = ${first}"),
            values: vec![me.into()],
            buyers: Some(OrgSet::Ids(vec![])),
        },
        Role::Certifier => Scope {
            name: ReportScope::County,
            cond: format!(" AND l.origin_county_code = ${first}"),
            values: vec![queries::org_region(db, &me).await?.into()],
            buyers: Some(OrgSet::Ids(vec![])),
        },
    })
}

fn row_of(key: Option<String>, name: String, f: Figures) -> AppResult<SummaryRow> {
    let [purchase, helped, poverty, deep, total, count] = f;
    let none = total
        .checked_sub(poverty)
        .and_then(|v| v.checked_sub(deep))
        .ok_or_else(|| AppError::Conflict("a report figure is out of range".into()))?;
    Ok(SummaryRow {
        key,
        name,
        purchase: net(purchase, "purchase amount")?,
        helped_sale: net(helped, "helped-sale amount")?,
        poverty: net(poverty, "poverty-county amount")?,
        deep_poverty: net(deep, "deep-poverty-county amount")?,
        none: net(none, "non-poverty-county amount")?,
        total: net(total, "total")?,
        entry_count: count,
    })
}

/// The display name of each key of the rows.
async fn names_of(
    conn: &impl sea_orm::ConnectionTrait,
    group: ReportGroup,
    year: i32,
    keys: &[String],
) -> AppResult<HashMap<String, String>> {
    Ok(match group {
        ReportGroup::Buyer | ReportGroup::Supplier => queries::org_names(conn, keys).await?,
        ReportGroup::County => queries::region_names(conn, keys).await?,
        ReportGroup::Pairing => {
            let ps = queries::pairings_by_id(conn, keys).await?;
            let helpers: Vec<String> = ps.iter().map(|p| p.helper_org_id.clone()).collect();
            let orgs = queries::org_names(conn, &helpers).await?;
            let mut codes: Vec<String> = ps.iter().map(|p| p.helped_region_code.clone()).collect();
            codes.sort();
            codes.dedup();
            let counties = queries::region_names(conn, &codes).await?;
            ps.into_iter()
                .map(|p| {
                    let county = counties
                        .get(&p.helped_region_code)
                        .cloned()
                        .unwrap_or_else(|| p.helped_region_code.clone());
                    let helper = orgs.get(&p.helper_org_id).cloned().unwrap_or_default();
                    let name = format!("{helper} → {county} ({})", p.kind);
                    (p.id, name)
                })
                .collect()
        }
        ReportGroup::Month => keys.iter().map(|k| (k.clone(), format!("{year}-{:0>2}", k))).collect(),
    })
}

/// The label of the row of the entries recorded with no pairing.
pub const NO_PAIRING: &str = "no pairing";

/// The pairings of the year the caller may see (as in credit's `sees_pairing`): listed
/// with zeros when none of the caller's entries count under them.
async fn visible_pairings(state: &AppState, caller: &Caller, year: i32) -> AppResult<Vec<String>> {
    let db = &state.db;
    Ok(match caller.role {
        Role::Admin | Role::Evaluator => queries::pairing_ids_of_year(db, year, None, None).await?,
        Role::Buyer => queries::pairing_ids_of_year(db, year, Some(caller.org_id.to_string()), None).await?,
        Role::Certifier => {
            let county = queries::org_region(db, &caller.org_id.to_string()).await?;
            queries::pairing_ids_of_year(db, year, None, Some(county)).await?
        }
        // Suppliers and supervisors see the pairings their entries count under, with no zero rows.
        Role::Supplier | Role::Supervisor => Vec::new(),
    })
}

/// Ledger totals of `year` over the caller's slice, one row per group. With `pairing`, rows
/// are the pairings recorded on the entries (each entry in one row; the entries of no
/// pairing on a row of key `None`, named [`NO_PAIRING`]) and the pairings the caller may
/// see with zeros; the totals equal the slice's ledger totals.
pub async fn summary(state: &AppState, caller: &Caller, year: i32, group: ReportGroup) -> AppResult<Summary> {
    let db = &state.db;
    let head = queries::head_seq(db).await?;
    let mut values = queries::summary_values(year);
    let scope = scope_of(state, caller, values.len() + 1).await?;
    values.extend(scope.values.clone());
    // The unscoped groupings other than pairings read the roll-up and its unfolded tail.
    let use_rollup = scope.name == ReportScope::All && group != ReportGroup::Pairing;
    let text = if use_rollup {
        values.push(group.into());
        queries::rollup_sql(group)
    } else {
        queries::summary_sql(group, &scope.cond)
    };
    let int_key = group == ReportGroup::Month && !use_rollup;
    let mut keyed = queries::summary_rows(db, &text, values, int_key).await?;
    if group == ReportGroup::Pairing {
        for id in visible_pairings(state, caller, year).await? {
            if !keyed.iter().any(|(k, _)| k.as_ref() == Some(&id)) {
                keyed.push((Some(id), [0; 6]));
            }
        }
    }
    if group == ReportGroup::Month {
        keyed.sort_by_key(|(k, _)| k.as_deref().and_then(|k| k.parse::<i32>().ok()).unwrap_or(0));
    } else {
        // Keys in order, the row of no pairing last.
        keyed.sort_by(|a, b| (a.0.is_none(), &a.0).cmp(&(b.0.is_none(), &b.0)));
    }
    let keys: Vec<String> = keyed.iter().filter_map(|(k, _)| k.clone()).collect();
    let names = names_of(db, group, year, &keys).await?;
    let mut tot: Figures = [0; 6];
    let mut rows = Vec::with_capacity(keyed.len());
    for (k, f) in keyed {
        for (t, v) in tot.iter_mut().zip(f) {
            *t = t
                .checked_add(v)
                .ok_or_else(|| AppError::Conflict("the report's totals are out of range".into()))?;
        }
        let name = match &k {
            Some(k) => names.get(k).cloned().unwrap_or_default(),
            None => NO_PAIRING.to_string(),
        };
        rows.push(row_of(k, name, f)?);
    }
    let ranking = if group == ReportGroup::Buyer {
        Some(ranking(db, year, scope.buyers.as_ref()).await?)
    } else {
        None
    };
    Ok(Summary {
        year,
        group_by: group,
        scope: scope.name,
        ledger_head_seq: head,
        rows,
        totals: row_of(Some("total".into()), "合计".into(), tot)?,
        ranking,
    })
}

/// Buyers with a quota target for `year` (an approved plan's, else a quota's; all, or those
/// in `only`), by progress against it.
async fn ranking(conn: &impl sea_orm::ConnectionTrait, year: i32, only: Option<&OrgSet>) -> AppResult<Vec<RankingRow>> {
    if only.is_some_and(OrgSet::is_known_empty) {
        return Ok(vec![]);
    }
    let mut rows = queries::quota_progress(conn, year, only).await?;
    // Exact comparison of credited/target: a/b > c/d  <=>  a*d > c*b (targets are positive).
    rows.sort_by(|a, b| {
        let l = i128::from(a.credited_fen) * i128::from(b.target_fen.max(1));
        let r = i128::from(b.credited_fen) * i128::from(a.target_fen.max(1));
        r.cmp(&l)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.buyer.cmp(&b.buyer))
    });
    let mut out = Vec::with_capacity(rows.len());
    for (rank, r) in (1i64..).zip(rows) {
        out.push(RankingRow {
            rank,
            buyer_org_id: stored_id(&r.buyer)?,
            name: r.name,
            target: Money::from_minor(r.target_fen).map_err(AppError::internal)?,
            credited: net(r.credited_fen, "credited amount")?,
            progress: Ratio::of(r.credited_fen, r.target_fen),
        });
    }
    Ok(out)
}
