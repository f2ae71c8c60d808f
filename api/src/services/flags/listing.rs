//! Reading flags: who may (evaluators and admin all; a supervisor those whose buyer is in its
//! region), the list with its filters, one flag with its reversals.
use super::{Flag, FlagReversal};
use crate::auth::{Caller, Role};
use crate::domain::{FlagId, FlagKind, FlagState, Money, ReportFormat};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{organizations, paginate, stored, supervision, PageParams};
use crate::state::AppState;
use entity::{flag_reversals, flags};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::IntoParams;

/// Filters of `GET /flags`.
#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct FlagQuery {
    pub kind: Option<FlagKind>,
    pub state: Option<FlagState>,
    /// The year the flag is about.
    pub year: Option<i32>,
    /// `csv` (UTF-8 with BOM) or `xlsx` for every matching flag as a spreadsheet; JSON pages by default.
    pub format: Option<ReportFormat>,
}

/// Evaluators, admin and supervisors read flags (403 for every other role).
pub fn may_read(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Evaluator, Role::Admin, Role::Supervisor])
}

/// The buyers a supervisor's flags are limited to (`None`: no limit).
async fn scope(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<Option<supervision::OrgSet>> {
    may_read(caller)?;
    if caller.role != Role::Supervisor {
        return Ok(None);
    }
    let region = supervision::region_of(conn, caller).await?;
    Ok(Some(supervision::scope_orgs(&region, false)))
}

/// The flag `id` if the caller may see it: 404 when it does not exist or lies outside a
/// supervisor's region.
pub(super) async fn visible(conn: &impl ConnectionTrait, caller: &Caller, id: FlagId) -> AppResult<flags::Model> {
    may_read(caller)?;
    let f = flags::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("flag"))?;
    if caller.role == Role::Supervisor {
        let Some(buyer) = &f.buyer_org_id else {
            return Err(AppError::NotFound("flag"));
        };
        let org = organizations::find(conn, buyer).await?;
        if !supervision::may_supervise(conn, caller, &org).await? {
            return Err(AppError::NotFound("flag"));
        }
    }
    Ok(f)
}

pub(super) async fn to_flag(conn: &impl ConnectionTrait, m: flags::Model) -> AppResult<Flag> {
    let of = reversals_of(conn, std::slice::from_ref(&m.id))
        .await?
        .remove(&m.id)
        .unwrap_or_default();
    with_reversals(m, of)
}

/// The reversals of the flags `ids`, by flag, each flag's by entry; read 500 flags at a time
/// (a 50,000-flag export is a hundred statements, not one per flag).
async fn reversals_of(
    conn: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<std::collections::HashMap<String, Vec<FlagReversal>>> {
    let mut out: std::collections::HashMap<String, Vec<FlagReversal>> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = flag_reversals::Entity::find()
            .filter(flag_reversals::Column::FlagId.is_in(chunk.to_vec()))
            .order_by_asc(flag_reversals::Column::FlagId)
            .order_by_asc(flag_reversals::Column::EntryId)
            .all(conn)
            .await?;
        for r in rows {
            out.entry(r.flag_id).or_default().push(FlagReversal {
                entry_id: r.entry_id,
                reversal_entry_id: r.reversal_entry_id,
                amount: Money::from_minor(r.amount_fen)
                    .map_err(|e| AppError::internal(format!("stored reversal amount: {e}")))?,
                reason: r.reason,
            });
        }
    }
    Ok(out)
}

fn with_reversals(m: flags::Model, reversals: Vec<FlagReversal>) -> AppResult<Flag> {
    Ok(Flag {
        id: stored(&m.id)?,
        kind: stored(&m.kind)?,
        state: stored(&m.state)?,
        evidence: serde_json::from_str(&m.evidence).unwrap_or(serde_json::Value::Null),
        buyer_org_id: m.buyer_org_id.as_deref().map(stored).transpose()?,
        supplier_org_id: m.supplier_org_id.as_deref().map(stored).transpose()?,
        year: m.year,
        raised_at: m.raised_at,
        note: m.note,
        decided_by: m.decided_by,
        decided_at: m.decided_at,
        reversals,
    })
}

pub async fn get(state: &AppState, caller: &Caller, id: FlagId) -> AppResult<Flag> {
    let m = visible(&state.db, caller, id).await?;
    to_flag(&state.db, m).await
}

/// Most rows a spreadsheet export holds.
const EXPORT_MAX: u64 = 50_000;

/// Flags matching the filters, oldest first: a page (JSON), or all of them (a spreadsheet; 400
/// naming `format` when more than 50,000 match).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &FlagQuery,
    page: &PageParams,
) -> AppResult<(Vec<Flag>, Option<String>)> {
    let db = &state.db;
    let mut q = flags::Entity::find();
    if let Some(buyers) = scope(db, caller).await? {
        q = q.filter(buyers.condition(db.get_database_backend(), "flags.buyer_org_id"));
    }
    if let Some(k) = f.kind {
        q = q.filter(flags::Column::Kind.eq(k));
    }
    if let Some(s) = f.state {
        q = q.filter(flags::Column::State.eq(s));
    }
    if let Some(y) = f.year {
        q = q.filter(flags::Column::Year.eq(y));
    }
    let spreadsheet = matches!(f.format, Some(ReportFormat::Csv | ReportFormat::Xlsx));
    let limit = if spreadsheet { EXPORT_MAX } else { page.limit()? };
    if !spreadsheet {
        if let Some(c) = page.cursor()? {
            q = q.filter(flags::Column::Id.gt(c));
        }
    }
    let rows = q.order_by_asc(flags::Column::Id).limit(limit + 1).all(db).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    if spreadsheet && next.is_some() {
        // A spreadsheet is every matching flag or none: never one silently cut short.
        let msg = format!("more than {EXPORT_MAX} flags match; narrow the export by year, kind or state");
        return Err(AppError::BadQuery {
            detail: format!("format: {msg}"),
            errors: vec![FieldError::new("format", msg)],
        });
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut reversals = reversals_of(db, &ids).await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let of = reversals.remove(&r.id).unwrap_or_default();
        items.push(with_reversals(r, of)?);
    }
    Ok((items, if spreadsheet { None } else { next }))
}
