//! Administrative regions (GB/T 2260) with poverty status.
use super::{now, paginate, PageParams};
use crate::error::{AppError, AppResult, FieldError};
use entity::regions;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const LEVELS: [&str; 5] = ["province", "city", "county", "township", "village"];
pub const POVERTY_STATUSES: [&str; 3] = ["none", "poverty", "deep_poverty"];

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Region {
    pub code: String,
    pub name: String,
    /// province | city | county | township | village
    pub level: String,
    pub parent_code: Option<String>,
    /// none | poverty | deep_poverty (counties)
    pub poverty_status: String,
    /// The year the county was lifted out of poverty (摘帽), if it was.
    pub exited_year: Option<i32>,
    /// A registered poor village (建档立卡贫困村).
    pub registered_poor: bool,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<regions::Model> for Region {
    fn from(m: regions::Model) -> Self {
        Region {
            code: m.code,
            name: m.name,
            level: m.level,
            parent_code: m.parent_code,
            poverty_status: m.poverty_status,
            exited_year: m.exited_year,
            registered_poor: m.registered_poor,
            updated_at: m.updated_at,
        }
    }
}

crate::page_type!(RegionPage, Region);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionFilter {
    pub level: Option<String>,
    pub parent: Option<String>,
    pub poverty_status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutRegion {
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    #[serde(default)]
    pub poverty_status: Option<String>,
    #[serde(default)]
    pub exited_year: Option<i32>,
    #[serde(default)]
    pub registered_poor: Option<bool>,
}

fn code_len(level: &str) -> usize {
    match level {
        "township" => 9,
        "village" => 12,
        _ => 6,
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &RegionFilter,
    page: &PageParams,
) -> AppResult<(Vec<Region>, Option<String>)> {
    let limit = page.limit()?;
    let mut q = regions::Entity::find();
    if let Some(l) = &f.level {
        if !LEVELS.contains(&l.as_str()) {
            return Err(AppError::field(
                "level",
                "must be one of province, city, county, township, village",
            ));
        }
        q = q.filter(regions::Column::Level.eq(l.clone()));
    }
    if let Some(p) = &f.parent {
        q = q.filter(regions::Column::ParentCode.eq(p.clone()));
    }
    if let Some(s) = &f.poverty_status {
        if !POVERTY_STATUSES.contains(&s.as_str()) {
            return Err(AppError::field(
                "poverty_status",
                "must be one of none, poverty, deep_poverty",
            ));
        }
        q = q.filter(regions::Column::PovertyStatus.eq(s.clone()));
    }
    if let Some(c) = page.cursor()? {
        q = q.filter(regions::Column::Code.gt(c));
    }
    let rows = q.order_by_asc(regions::Column::Code).limit(limit + 1).all(db).await?;
    let (rows, next) = paginate(rows, limit, |r| r.code.clone());
    Ok((rows.into_iter().map(Region::from).collect(), next))
}

pub async fn get(db: &impl ConnectionTrait, code: &str) -> AppResult<Region> {
    regions::Entity::find_by_id(code.to_string())
        .one(db)
        .await?
        .map(Region::from)
        .ok_or(AppError::NotFound("region"))
}

/// The county a region lies in (itself when it is a county); `None` above county level.
pub async fn county_of(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<regions::Model>> {
    let mut current = regions::Entity::find_by_id(code.to_string()).one(db).await?;
    for _ in 0..4 {
        match current {
            None => return Ok(None),
            Some(r) if r.level == "county" => return Ok(Some(r)),
            Some(r) if r.level == "township" || r.level == "village" => {
                let Some(parent) = r.parent_code else { return Ok(None) };
                current = regions::Entity::find_by_id(parent).one(db).await?;
            }
            Some(_) => return Ok(None),
        }
    }
    Ok(None)
}

/// Creates or replaces a region. Returns the region and whether it was created.
pub async fn put(db: &impl ConnectionTrait, code: &str, body: PutRegion) -> AppResult<(Region, bool)> {
    let mut errors = Vec::new();
    super::required_text(&mut errors, "name", &body.name, 100);
    if !LEVELS.contains(&body.level.as_str()) {
        errors.push(FieldError::new(
            "level",
            "must be one of province, city, county, township, village",
        ));
    } else if code.len() != code_len(&body.level) || !code.chars().all(|c| c.is_ascii_digit()) {
        errors.push(FieldError::new(
            "code",
            format!("a {} code has {} digits", body.level, code_len(&body.level)),
        ));
    }
    let status = body.poverty_status.clone().unwrap_or_else(|| "none".into());
    if !POVERTY_STATUSES.contains(&status.as_str()) {
        errors.push(FieldError::new(
            "poverty_status",
            "must be one of none, poverty, deep_poverty",
        ));
    } else if status != "none" && body.level != "county" {
        errors.push(FieldError::new(
            "poverty_status",
            "only a county carries a poverty status",
        ));
    }
    if let Some(y) = body.exited_year {
        if !(2012..=2100).contains(&y) {
            errors.push(FieldError::new("exited_year", "must be a year from 2012 on"));
        } else if body.level != "county" {
            errors.push(FieldError::new("exited_year", "only a county has an exit year"));
        }
    }
    if body.registered_poor == Some(true) && body.level != "village" {
        errors.push(FieldError::new(
            "registered_poor",
            "only a village can be a registered poor village",
        ));
    }
    match (&body.parent_code, body.level.as_str()) {
        (Some(_), "province") => errors.push(FieldError::new("parent_code", "a province has no parent")),
        (None, l) if l != "province" && LEVELS.contains(&l) => {
            errors.push(FieldError::new("parent_code", "is required below province level"))
        }
        (Some(p), l) => {
            let parent = regions::Entity::find_by_id(p.clone()).one(db).await?;
            let expected = match l {
                "city" => "province",
                "county" => "city",
                "township" => "county",
                _ => "township",
            };
            match parent {
                None => errors.push(FieldError::new("parent_code", "no such region")),
                Some(pr) if pr.level != expected && !(l == "county" && pr.level == "province") => errors.push(
                    FieldError::new("parent_code", format!("the parent of a {l} must be a {expected}")),
                ),
                Some(_) => {}
            }
        }
        _ => {}
    }
    AppError::check(errors)?;
    let existing = regions::Entity::find_by_id(code.to_string()).one(db).await?;
    let created = existing.is_none();
    let am = regions::ActiveModel {
        code: Set(code.to_string()),
        name: Set(body.name.trim().to_string()),
        level: Set(body.level),
        parent_code: Set(body.parent_code),
        poverty_status: Set(status),
        exited_year: Set(body.exited_year),
        registered_poor: Set(body.registered_poor.unwrap_or(false)),
        updated_at: Set(now()),
    };
    let model = if created {
        am.insert(db).await?
    } else {
        am.update(db).await?
    };
    Ok((model.into(), created))
}
