//! A shared canteen's credit in the ledger: an entry credited to a lead unit whose plan of
//! the year lists members becomes one entry per member with its share of the amount and
//! quantity, and one for the lead with the rest (`1 - Σ shares`), so that quotas, progress,
//! reports and supervision all read the same ledger and nothing is split twice.
//!
//! The split is exact to the fen (and to the thousandth for quantities) by the largest
//! remainder rule: each part first gets `floor(|total| × share)`; the units left over
//! (fewer than the number of parts) go one each to the parts with the largest remainders,
//! ties to the earlier part (the members in the plan's order, the lead last); the sign of
//! the total is applied afterwards, so a reversal splits exactly as a credit of its size.
//! Parts of zero amount and zero quantity are not written (an entry of zeros stays whole).
use super::{queries, Member};
use crate::domain::{OrgId, PlanStatus};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{EntryTrace, NewEntry};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

const PPM: i64 = 1_000_000;

/// Splits `total` into parts proportional to `weights` (parts per million, summing to one
/// million) by the largest remainder rule; the parts sum to `total` exactly.
pub fn largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
    split_by(total, weights, i128::from(PPM))
}

/// Splits `total` into parts proportional to `weights` (each at least zero; not all zero) by
/// the same rule: a part per weight, the parts summing to `total` exactly.
pub fn proportional(total: i64, weights: &[i64]) -> Vec<i64> {
    let whole: i128 = weights.iter().map(|w| i128::from(*w).abs()).sum();
    split_by(total, weights, whole)
}

/// Splits `total` into parts proportional to `weights` out of `whole` by the same rule.
fn split_by(total: i64, weights: &[i64], whole: i128) -> Vec<i64> {
    let sign = if total < 0 { -1 } else { 1 };
    let abs = i128::from(total).abs();
    let whole = whole.max(1);
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut rems: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let v = abs * i128::from(*w).abs();
        parts.push(v / whole);
        rems.push((v % whole, i));
    }
    let mut left = abs - parts.iter().sum::<i128>();
    // Largest remainder first; ties to the earlier part.
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems {
        if left <= 0 {
            break;
        }
        if let Some(p) = parts.get_mut(i) {
            *p += 1;
            left -= 1;
        }
    }
    parts
        .into_iter()
        .map(|p| i64::try_from(p).unwrap_or(i64::MAX) * sign)
        .collect()
}

/// The members of each lead among `buyers` whose approved plan of this year lists members,
/// with their shares (ppm), the lead last with the rest. Only an approved plan splits a credit:
/// a draft or a filing under review is the lead's word alone, not yet its supervisor's. A
/// member whose own approved plan names another lead has moved there: its share stays with
/// this lead (it takes its target, and its credit, from the other).
async fn splits(
    conn: &impl ConnectionTrait,
    buyers: Vec<String>,
    year: i32,
) -> AppResult<HashMap<String, Vec<(String, i64)>>> {
    let mut out = HashMap::new();
    for lead in buyers {
        let Ok(id) = lead.parse::<OrgId>() else { continue };
        let Some(plan) = queries::plan(conn, id, year).await? else {
            continue;
        };
        if plan.status != PlanStatus::Approved.as_str() {
            continue;
        }
        let members: Vec<Member> = serde_json::from_str(&plan.members).map_err(AppError::internal)?;
        if members.is_empty() {
            continue;
        }
        let listed = members.iter().map(|m| m.org_id.to_string()).collect();
        let moved = queries::moved_away(conn, &lead, year, listed).await?;
        let mut parts: Vec<(String, i64)> = members
            .iter()
            .map(|m| (m.org_id.to_string(), m.share.minor()))
            .filter(|(org, _)| !moved.contains(org))
            .collect();
        let given: i64 = parts.iter().map(|(_, s)| *s).sum();
        parts.push((lead.clone(), (PPM - given).max(0)));
        out.insert(lead, parts);
    }
    Ok(out)
}

/// The entries to append for `entries`, by the plans of `year` (an acceptance's: the year of
/// its instant; a supervisor's correction's: the corrected entry's): each one credited to a
/// shared canteen's lead is replaced by its members' parts and the lead's rest, in that order,
/// next to each other.
pub async fn split_shared_in(
    conn: &impl ConnectionTrait,
    entries: Vec<NewEntry>,
    year: i32,
) -> AppResult<Vec<NewEntry>> {
    let mut buyers: Vec<String> = entries.iter().map(|e| e.buyer_org_id.clone()).collect();
    buyers.sort();
    buyers.dedup();
    let splits = splits(conn, buyers, year).await?;
    if splits.is_empty() {
        return Ok(entries);
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let Some(parts) = splits.get(&e.buyer_org_id) else {
            out.push(e);
            continue;
        };
        let weights: Vec<i64> = parts.iter().map(|(_, w)| *w).collect();
        let amounts = largest_remainder(e.amount_fen, &weights);
        let quantities = largest_remainder(e.quantity_milli, &weights);
        let before = out.len();
        for (((org, _), amount), qty) in parts.iter().zip(amounts).zip(quantities) {
            if amount == 0 && qty == 0 {
                continue;
            }
            out.push(NewEntry {
                buyer_org_id: org.clone(),
                amount_fen: amount,
                quantity_milli: qty,
                ..e.clone()
            });
        }
        if out.len() == before {
            // Nothing to split: the entry stays as it is (every line keeps an entry).
            out.push(e);
        }
    }
    Ok(out)
}

/// Pairs each entry with its line's trace (lot, certificate, weighed kg). The parts of a
/// split line share its lot and certificate and divide its weight like their quantities,
/// by the same largest remainder rule, so the parts' kg add up to the line's exactly.
pub fn traced_parts(parts: Vec<NewEntry>, traces: &HashMap<String, EntryTrace>) -> Vec<(NewEntry, EntryTrace)> {
    let mut qty_of_line: HashMap<String, Vec<i64>> = HashMap::new();
    for e in &parts {
        qty_of_line
            .entry(e.order_line_id.clone())
            .or_default()
            .push(e.quantity_milli);
    }
    let mut kg_of_line: HashMap<String, std::vec::IntoIter<i64>> = HashMap::new();
    for (line, qtys) in &qty_of_line {
        if let Some(kg) = traces.get(line).and_then(|t| t.weight_kg_milli) {
            let whole: i128 = qtys.iter().map(|q| i128::from(*q).abs()).sum();
            let kgs = if qtys.len() == 1 {
                vec![kg]
            } else {
                split_by(kg, qtys, whole)
            };
            kg_of_line.insert(line.clone(), kgs.into_iter());
        }
    }
    parts
        .into_iter()
        .map(|e| {
            let mut t = traces.get(&e.order_line_id).cloned().unwrap_or_default();
            if let Some(kgs) = kg_of_line.get_mut(&e.order_line_id) {
                t.weight_kg_milli = kgs.next();
            }
            (e, t)
        })
        .collect()
}

/// The first entry written for each order line, in order (what a caller that wrote one
/// entry per line before [`split_shared_in`] links to).
pub fn first_per_line(written: &[entity::ledger_entries::Model]) -> Vec<&entity::ledger_entries::Model> {
    let mut out: Vec<&entity::ledger_entries::Model> = Vec::new();
    for m in written {
        if out.last().is_none_or(|l| l.order_line_id != m.order_line_id) {
            out.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::largest_remainder;

    #[test]
    fn parts_sum_to_the_whole_and_follow_the_shares() {
        // Thirds of 100 fen: 34, 33, 33 (ties to the earlier part).
        assert_eq!(largest_remainder(100, &[333_334, 333_333, 333_333]), [34, 33, 33]);
        assert_eq!(largest_remainder(-100, &[333_334, 333_333, 333_333]), [-34, -33, -33]);
        assert_eq!(largest_remainder(1, &[500_000, 500_000]), [1, 0]);
        assert_eq!(largest_remainder(7, &[0, 1_000_000]), [0, 7]);
        for total in [0i64, 1, 2, 99, 12_345, 999_999_999, -77] {
            for w in [
                [250_000, 250_000, 500_000],
                [1, 2, 999_997],
                [333_333, 333_333, 333_334],
            ] {
                let p = largest_remainder(total, &w);
                assert_eq!(p.iter().sum::<i64>(), total, "{total} {w:?}");
                for (part, weight) in p.iter().zip(w) {
                    let exact = total as f64 * weight as f64 / 1e6;
                    assert!((*part as f64 - exact).abs() < 1.0, "{total} {w:?} {p:?}");
                }
            }
        }
    }
}
