//! The sub-regions of a supervisor's region ranked by progress.
use super::units::{RegionProgress, UnitProgress};
use crate::domain::{Money, SignedMoney};
use crate::error::{AppError, AppResult};
use crate::services::credit::Ratio;
use entity::regions;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// One row per region directly under `region` (per province without one) holding units;
/// `tops[i]` is the region directly under `region` that holds `units[i]` (from the units
/// statement), so each unit is summed once, without a query per sub-region.
pub async fn sub_regions(
    conn: &impl ConnectionTrait,
    region: Option<&str>,
    units: &[UnitProgress],
    tops: &[Option<String>],
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
    // (target, credited, units) per sub-region.
    let mut sums: HashMap<&str, (i64, i64, usize)> = HashMap::with_capacity(children.len());
    for (u, top) in units.iter().zip(tops) {
        let Some(top) = top.as_deref() else { continue };
        let s = sums.entry(top).or_default();
        s.0 =
            s.0.checked_add(u.target.map(Money::minor).unwrap_or(0))
                .ok_or_else(overflow)?;
        s.1 = s.1.checked_add(u.credited.minor()).ok_or_else(overflow)?;
        s.2 += 1;
    }
    let mut rows = Vec::new();
    for c in children {
        let Some(&(t, cr, n)) = sums.get(c.code.as_str()) else {
            continue;
        };
        rows.push(RegionProgress {
            rank: 0,
            region_code: c.code,
            name: c.name,
            units: n,
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
