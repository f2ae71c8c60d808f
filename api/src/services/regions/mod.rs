//! Administrative regions (GB/T 2260) with poverty status.
mod queries;

use super::{now, paginate, PageParams};
use crate::domain::{PovertyStatus, RegionLevel};
use crate::error::{AppError, AppResult, FieldError};
use entity::regions;
use sea_orm::{ConnectionTrait, DatabaseConnection, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The region levels as text (kept for callers that still compare strings).
pub const LEVELS: [&str; 5] = [
    RegionLevel::Province.as_str(),
    RegionLevel::City.as_str(),
    RegionLevel::County.as_str(),
    RegionLevel::Township.as_str(),
    RegionLevel::Village.as_str(),
];
/// The poverty statuses as text (kept for callers that still compare strings).
pub const POVERTY_STATUSES: [&str; 3] = [
    PovertyStatus::None.as_str(),
    PovertyStatus::Poverty.as_str(),
    PovertyStatus::DeepPoverty.as_str(),
];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
    /// `none` except for counties.
    pub poverty_status: PovertyStatus,
    /// The year the county was lifted out of poverty (摘帽), if it was.
    pub exited_year: Option<i32>,
    /// A registered poor village (建档立卡贫困村).
    pub registered_poor: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<regions::Model> for Region {
    type Error = AppError;

    fn try_from(m: regions::Model) -> AppResult<Region> {
        Ok(Region {
            level: level_of(&m)?,
            poverty_status: poverty_of(&m)?,
            code: m.code,
            name: m.name,
            parent_code: m.parent_code,
            exited_year: m.exited_year,
            registered_poor: m.registered_poor,
            updated_at: m.updated_at,
        })
    }
}

/// The stored level of a region.
pub fn level_of(m: &regions::Model) -> AppResult<RegionLevel> {
    RegionLevel::parse(&m.level).ok_or_else(|| AppError::internal("stored region level is unknown"))
}

/// The stored poverty status of a region.
pub fn poverty_of(m: &regions::Model) -> AppResult<PovertyStatus> {
    PovertyStatus::parse(&m.poverty_status).ok_or_else(|| AppError::internal("stored poverty status is unknown"))
}

crate::page_type!(RegionPage, Region);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionFilter {
    pub level: Option<RegionLevel>,
    /// The code of the parent region.
    pub parent: Option<String>,
    pub poverty_status: Option<PovertyStatus>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRegion {
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
    /// Default `none`; only a county carries another status.
    #[serde(default)]
    pub poverty_status: Option<PovertyStatus>,
    #[serde(default)]
    pub exited_year: Option<i32>,
    #[serde(default)]
    pub registered_poor: Option<bool>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &RegionFilter,
    page: &PageParams,
) -> AppResult<(Vec<Region>, Option<String>)> {
    let limit = page.limit()?;
    let rows = queries::page(
        db,
        f.level,
        f.parent.as_deref(),
        f.poverty_status,
        page.cursor()?,
        limit + 1,
    )
    .await?;
    let (rows, next) = paginate(rows, limit, |r| r.code.clone());
    let items = rows.into_iter().map(Region::try_from).collect::<AppResult<_>>()?;
    Ok((items, next))
}

pub async fn get(db: &impl ConnectionTrait, code: &str) -> AppResult<Region> {
    queries::find(db, code)
        .await?
        .ok_or(AppError::NotFound("region"))?
        .try_into()
}

/// Holds the region tree still until the transaction ends, for a writer of a row that names a
/// county (a product's origin, an organisation's region, a pairing's helped county): it checks
/// the region again under it, so that the county is not re-filed as a township meanwhile (the
/// re-filing checks that no row names it, under the exclusive lock).
pub async fn hold_tree_shared(txn: &impl ConnectionTrait) -> AppResult<()> {
    Ok(queries::hold_tree_shared(txn).await?)
}

/// The stored region of `code`, if any.
pub async fn find(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<regions::Model>> {
    Ok(queries::find(db, code).await?)
}

/// The county a region lies in (itself when it is a county); `None` above county level.
pub async fn county_of(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<regions::Model>> {
    let mut current = queries::find(db, code).await?;
    for _ in 0..4 {
        let Some(r) = current else { return Ok(None) };
        match level_of(&r)? {
            RegionLevel::County => return Ok(Some(r)),
            l if l.is_below_county() => {
                let Some(parent) = r.parent_code else { return Ok(None) };
                current = queries::find(db, &parent).await?;
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// Creates or replaces a region. Returns the region and whether it was created. A region
/// moved to another parent takes the products of its subtree into the county it now lies in.
/// A region's version for `ETag`/`If-Match`: its last change, to the microsecond.
pub fn version_of(r: &Region) -> String {
    r.updated_at.timestamp_micros().to_string()
}

/// Creates or replaces the region `code`. Replacing needs `if_match`, the version it replaces
/// (428 without it, 412 when the region changed since): two admins never overwrite each
/// other's poverty status blindly.
pub async fn put(
    db: &DatabaseConnection,
    code: &str,
    body: PutRegion,
    if_match: Option<String>,
) -> AppResult<(Region, bool)> {
    let mut errors = Vec::new();
    let level = body.level;
    super::required_text(&mut errors, "name", &body.name, 100);
    if code.len() != level.code_len() || !code.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            "code",
            format!("a {level} code has {} digits", level.code_len()),
        ));
    }
    let status = body.poverty_status.unwrap_or(PovertyStatus::None);
    if status != PovertyStatus::None && level != RegionLevel::County {
        errors.push(FieldError::new(
            "poverty_status",
            "only a county carries a poverty status",
        ));
    }
    if let Some(y) = body.exited_year {
        if !(2012..=2100).contains(&y) {
            errors.push(FieldError::new("exited_year", "must be a year from 2012 on"));
        } else if level != RegionLevel::County {
            errors.push(FieldError::new("exited_year", "only a county has an exit year"));
        }
    }
    if body.registered_poor == Some(true) && level != RegionLevel::Village {
        errors.push(FieldError::new(
            "registered_poor",
            "only a village can be a registered poor village",
        ));
    }
    let stored = queries::find(db, code).await?;
    tree_errors(
        db,
        code,
        level,
        stored.as_ref(),
        body.parent_code.as_deref(),
        &mut errors,
    )
    .await?;
    AppError::check(errors)?;
    let replaces = match (&stored, if_match.as_deref()) {
        (None, Some(_)) => return Err(AppError::PreconditionFailed),
        (None, None) => None,
        (Some(_), None) => return Err(AppError::PreconditionRequired),
        (Some(s), Some(tag)) => {
            let version = s.updated_at.timestamp_micros().to_string();
            if tag != "*" && tag != version {
                return Err(AppError::PreconditionFailed);
            }
            Some(s.updated_at)
        }
    };
    let created = stored.is_none();
    // A region moved (another parent, or another level) may now lie in another county.
    let moved = stored
        .as_ref()
        .is_some_and(|s| s.parent_code != body.parent_code || s.level != level.as_str());
    let am = regions::ActiveModel {
        code: Set(code.to_string()),
        name: Set(body.name.trim().to_string()),
        level: Set(level.as_str().to_string()),
        parent_code: Set(body.parent_code.clone()),
        poverty_status: Set(status.as_str().to_string()),
        exited_year: Set(body.exited_year),
        registered_poor: Set(body.registered_poor.unwrap_or(false)),
        updated_at: Set(now()),
    };
    let txn = db.begin().await?;
    // Still the version checked (and now locked until this transaction ends).
    if let Some(at) = replaces {
        if queries::lock_version(&txn, code, at).await? != 1 {
            return Err(AppError::PreconditionFailed);
        }
    }
    // Checked again with every other change of the tree held off: a child added under this
    // region, or its new parent re-filed, since the checks above would break the levels.
    queries::hold_tree(&txn).await?;
    let mut late = Vec::new();
    let now_stored = queries::find(&txn, code).await?;
    tree_errors(
        &txn,
        code,
        level,
        now_stored.as_ref(),
        body.parent_code.as_deref(),
        &mut late,
    )
    .await?;
    AppError::check(late)?;
    let model = queries::save(&txn, am, !created).await?;
    if moved {
        carry_products(&txn, code).await?;
    }
    txn.commit().await?;
    Ok((model.try_into()?, created))
}

/// Where the region may sit: its parent of the level above, and no level change while regions
/// lie under it. A parent is always of a coarser level, so the hierarchy has no loop as long
/// as no region with regions under it changes level (a province re-filed as a city under
/// itself, say).
async fn tree_errors(
    conn: &impl ConnectionTrait,
    code: &str,
    level: RegionLevel,
    stored: Option<&regions::Model>,
    parent_code: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    if let Some(s) = stored {
        if level_of(s)? != level && queries::has_children(conn, code).await? {
            errors.push(FieldError::new(
                "level",
                format!("regions lie under this {}; its level cannot change", level_of(s)?),
            ));
        } else if level_of(s)? == RegionLevel::County
            && level != RegionLevel::County
            && queries::county_in_use(conn, code).await?
        {
            // Products, organisations and pairings name it as their county: they would lose it.
            errors.push(FieldError::new(
                "level",
                "products, organisations or pairings name this county; it stays a county",
            ));
        }
    }
    match (parent_code, level.parent()) {
        (Some(p), Some(_)) if p == code => {
            errors.push(FieldError::new("parent_code", "a region cannot be its own parent"))
        }
        (Some(_), None) => errors.push(FieldError::new("parent_code", "a province has no parent")),
        (None, Some(_)) => errors.push(FieldError::new("parent_code", "is required below province level")),
        (Some(p), Some(expected)) => match queries::find(conn, p).await? {
            None => errors.push(FieldError::new("parent_code", "no such region")),
            Some(pr) if !level.may_sit_under(level_of(&pr)?) => errors.push(FieldError::new(
                "parent_code",
                format!("the parent of a {level} must be a {expected}"),
            )),
            Some(_) => {}
        },
        (None, None) => {}
    }
    Ok(())
}

/// The products whose origin lies in the region `code` or under it follow it into the
/// county it now lies in.
async fn carry_products(txn: &impl ConnectionTrait, code: &str) -> AppResult<()> {
    let Some(county) = county_of(txn, code).await? else {
        return Ok(());
    };
    let mut subtree = vec![code.to_string()];
    let mut frontier = subtree.clone();
    // A township has villages under it; nothing lies deeper.
    for _ in 0..3 {
        frontier = queries::children_of(txn, frontier).await?;
        if frontier.is_empty() {
            break;
        }
        subtree.extend(frontier.iter().cloned());
    }
    super::products::follow_county(txn, subtree, &county.code).await?;
    Ok(())
}
