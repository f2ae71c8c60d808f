//! The pairing each entry counts under (`credited_pairing_id`), resolved when the
//! entry is written, in three queries whatever the number of entries.
//!
//! Rule: a pairing of the entry's year whose helper is the buyer or the buyer's
//! parent and whose helped county is the entry's origin county. When several match,
//! the first by: the pairing the order named, the buyer's own pairing before its
//! parent's, the oldest `created_at`, the smallest id. None matches: `None`.
//! A reversal carries the pairing of the credit it reverses: the first credit of the same
//! order line held by the reversal's buyer (a line's credits belong to several buyers once a
//! shared canteen's split or a correction has moved them, each with its own pairing); the
//! line's first credit only when its buyer holds none. Migration 070 backfilled older
//! entries with the same rule.
use super::NewEntry;
use crate::domain::LedgerKind;
use crate::error::AppResult;
use entity::{ledger_entries, organizations, pairings};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// The credited pairing of each entry, in the order of `entries`. `known` gives the parent
/// of buyers the caller already read (they are not read again).
pub(super) async fn resolve(
    conn: &impl ConnectionTrait,
    entries: &[NewEntry],
    year: i32,
    known: &HashMap<String, Option<String>>,
) -> AppResult<Vec<Option<String>>> {
    let reversal = LedgerKind::Reversal.as_str();
    let mut buyers: Vec<String> = entries.iter().map(|e| e.buyer_org_id.clone()).collect();
    buyers.sort();
    buyers.dedup();
    let mut parents: HashMap<String, Option<String>> = HashMap::new();
    let mut unknown = Vec::new();
    for b in &buyers {
        match known.get(b) {
            Some(p) => {
                parents.insert(b.clone(), p.clone());
            }
            None => unknown.push(b.clone()),
        }
    }
    if !unknown.is_empty() {
        let read = organizations::Entity::find()
            .filter(organizations::Column::Id.is_in(unknown))
            .all(conn)
            .await?;
        parents.extend(read.into_iter().map(|o| (o.id, o.parent_org_id)));
    }
    let mut helpers = buyers;
    helpers.extend(parents.values().flatten().cloned());
    let mut counties: Vec<String> = entries.iter().map(|e| e.origin_county_code.clone()).collect();
    counties.sort();
    counties.dedup();
    let candidates = pairings::Entity::find()
        .filter(pairings::Column::Year.eq(year))
        .filter(pairings::Column::HelperOrgId.is_in(helpers))
        .filter(pairings::Column::HelpedRegionCode.is_in(counties))
        .order_by_asc(pairings::Column::CreatedAt)
        .order_by_asc(pairings::Column::Id)
        .all(conn)
        .await?;
    let lines: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == reversal)
        .map(|e| e.order_line_id.clone())
        .collect();
    // The pairing of the first credit of each (line, buyer), and of each line's first credit.
    let mut held: HashMap<(String, String), Option<String>> = HashMap::new();
    let mut first: HashMap<String, Option<String>> = HashMap::new();
    if !lines.is_empty() {
        let credits = ledger_entries::Entity::find()
            .filter(ledger_entries::Column::OrderLineId.is_in(lines))
            .filter(ledger_entries::Column::Kind.ne(reversal))
            .order_by_desc(ledger_entries::Column::Ins)
            .all(conn)
            .await?;
        // Descending, so the first credit is the one kept.
        for c in credits {
            first.insert(c.order_line_id.clone(), c.credited_pairing_id.clone());
            held.insert((c.order_line_id, c.buyer_org_id), c.credited_pairing_id);
        }
    }
    Ok(entries
        .iter()
        .map(|e| {
            if e.kind == reversal {
                let key = (e.order_line_id.clone(), e.buyer_org_id.clone());
                return held
                    .get(&key)
                    .or_else(|| first.get(&e.order_line_id))
                    .cloned()
                    .flatten();
            }
            let parent = parents.get(&e.buyer_org_id).cloned().flatten();
            let rank = |p: &pairings::Model| (Some(&p.id) != e.pairing_id.as_ref(), p.helper_org_id != e.buyer_org_id);
            candidates
                .iter()
                .filter(|p| {
                    p.helped_region_code == e.origin_county_code
                        && (p.helper_org_id == e.buyer_org_id || Some(&p.helper_org_id) == parent.as_ref())
                })
                // `min_by_key` keeps the first of equal keys: candidates are by age, then id.
                .min_by_key(|p| rank(p))
                .map(|p| p.id.clone())
        })
        .collect())
}
