//! Demo licences, so that the county offices' expiring list and the reminder job have
//! something on first start: each demo supplier holds a business licence valid for years,
//! and the millet cooperative's food production licence runs out in 25 days (inside the
//! 30-day reminder), the mushroom cooperative's food trade licence in 80 days.
use super::payments::caller_for;
use crate::domain::{DocumentKind, OrgId, Role};
use crate::error::AppResult;
use crate::services::documents::{self, NewDocument};
use crate::services::{stored, today};
use crate::state::AppState;
use chrono::Duration;
use std::collections::HashMap;

/// (supplier key, kind, number, days since issue, days until the last valid day).
const LICENCES: [(&str, DocumentKind, &str, i64, i64); 5] = [
    (
        "millet_coop",
        DocumentKind::BusinessLicence,
        "91130727MA0DEMO01X",
        1_400,
        1_500,
    ),
    (
        "millet_coop",
        DocumentKind::FoodProductionLicence,
        "SC10113072700101",
        1_800,
        25,
    ),
    (
        "mushroom_coop",
        DocumentKind::BusinessLicence,
        "91130881MA0DEMO02Y",
        900,
        2_000,
    ),
    (
        "mushroom_coop",
        DocumentKind::FoodTradeLicence,
        "JY11308810000202",
        1_700,
        80,
    ),
    (
        "raoyang_farm",
        DocumentKind::BusinessLicence,
        "92131124MA0DEMO03Z",
        600,
        3_000,
    ),
];

pub(super) async fn seed_documents(state: &AppState, ids: &HashMap<&str, String>) -> AppResult<()> {
    let Some(admin) = caller_for(state, "admin@demo.assist", Role::Admin).await? else {
        return Ok(());
    };
    let day = today();
    for (key, kind, number, issued_ago, valid_for) in LICENCES {
        let Some(org) = ids.get(key) else { continue };
        let org: OrgId = stored(org)?;
        let held = documents::list(state, &admin, org).await?;
        if held.items.iter().any(|d| d.kind == kind) {
            continue;
        }
        let doc = NewDocument {
            kind,
            number: number.into(),
            issued_on: day - Duration::days(issued_ago),
            valid_until: day + Duration::days(valid_for),
        };
        documents::record(state, &admin, org, doc).await?;
    }
    Ok(())
}
