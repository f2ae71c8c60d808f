//! The sub-regions of a supervisor's region ranked by progress.
use super::queries;
use super::units::{RegionProgress, UnitProgress};
use crate::domain::{Money, SignedMoney};
use crate::error::{AppError, AppResult};
use crate::services::credit::Ratio;
use entity::regions;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// One row per region directly under `region` (per province without one) holding units.
pub async fn sub_regions(
    conn: &impl ConnectionTrait,
    region: Option<&str>,
    units: &[UnitProgress],
) -> AppResult<Vec<RegionProgress>> {
    let children = match region {
        Some(r) => {
            regions::Entity::find()
                .filter(regions::Column::ParentCode.eq(r.to_string()))
                .all(conn)
                .await?
        }
        None => {
            regions::Entity::find()
                .filter(regions::Column::ParentCode.is_null())
                .all(conn)
                .await?
        }
    };
    let mut rows = Vec::new();
    for c in children {
        let under: std::collections::HashSet<String> =
            queries::regions_under(conn, &c.code).await?.into_iter().collect();
        let mine: Vec<&UnitProgress> = units.iter().filter(|u| under.contains(&u.region_code)).collect();
        if mine.is_empty() {
            continue;
        }
        let (mut t, mut cr) = (0i64, 0i64);
        for u in &mine {
            t = t
                .checked_add(u.target.map(Money::minor).unwrap_or(0))
                .ok_or_else(overflow)?;
            cr = cr.checked_add(u.credited.minor()).ok_or_else(overflow)?;
        }
        rows.push(RegionProgress {
            rank: 0,
            region_code: c.code,
            name: c.name,
            units: mine.len(),
            target: Money::from_minor(t).map_err(|_| overflow())?,
            credited: SignedMoney::from_minor(cr).map_err(|_| overflow())?,
            // Without a target there is no progress to show: 0, ranked last.
            progress: if t > 0 { Ratio::of(cr, t) } else { Ratio::of(0, 1) },
        });
    }
    rows.sort_by(|a, b| {
        b.progress
            .cmp(&a.progress)
            .then_with(|| a.region_code.cmp(&b.region_code))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ok(rows)
}

fn overflow() -> AppError {
    AppError::Conflict("a supervision total is out of range".into())
}
