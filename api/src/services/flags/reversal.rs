//! What a confirmed flag takes out of the credit totals, and keeping it applied. Confirming
//! reverses the credits the flag covers as they stand; a credit that falls under it later (a
//! split's supplier order accepted after the confirmation, a later sale from a lot of false
//! origin, a later trade between related parties) is reversed by the next flag scan
//! ([`reapply_confirmed`]), linked to the flag with its note. Each reversal is of what is still
//! credited of its line, read under the line's lock, so nothing is taken back twice.
//!
//! A lot's flag (origin mismatch) covers the lot's part of each line it was accepted from, as
//! `shipment_lots` records it: an entry's `lot_id` names only the lot that gave the most of
//! its line (docs/ledger-format.md), so it neither finds a lot's minority parts nor tells how
//! much of a line was the lot's.
use super::order_queries::{credits_of, credits_of_lines, lot_lines};
use super::queries::{ids, Q};
use crate::domain::{FlagKind, FlagState, LedgerKind};
use crate::error::AppResult;
use crate::services::ledger;
use entity::{flag_reversals, flags, ledger_entries};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The part of an order line that one lot gave: the lot's stretches of the line's accepted
/// quantity, each as (accepted before it, accepted through it) with the line's lots in a fixed
/// order (their rows' ids), out of `accepted`, the line's accepted quantity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct LotPart {
    spans: Vec<(i64, i64)>,
    accepted: i64,
}

impl LotPart {
    /// The lot's part of `whole`, one holder's credit of the line (fen or thousandths).
    ///
    /// Rounding: `whole` is cut at the floor of each cumulative share (`whole × through ÷
    /// accepted`), and the lot's part is the difference of its cuts, as a return takes amounts
    /// by difference of cumulative shares. So the parts of all the lots of a line add up to
    /// the credit exactly (flags on every lot of it take back the whole credit, no fen twice,
    /// none left over), and each is within one fen (one thousandth) of its exact share. Each
    /// holder of a shared canteen's line is cut from its own entry, so a lot takes from each
    /// member and the lead that holder's part, never another's.
    pub(super) fn of(&self, whole: i64) -> i64 {
        if self.accepted <= 0 || whole <= 0 {
            return 0;
        }
        let (whole, accepted) = (i128::from(whole), i128::from(self.accepted));
        let cut = |at: i64| whole * i128::from(at.clamp(0, self.accepted)) / accepted;
        let part: i128 = self.spans.iter().map(|(from, to)| cut(*to) - cut(*from)).sum();
        i64::try_from(part.clamp(0, whole)).unwrap_or(0)
    }
}

/// A credit entry a flag covers: all of it, or (a lot's flag) the lot's part of its line.
#[derive(Debug, Clone)]
pub(super) struct Covered {
    pub entry_id: String,
    pub part: Option<LotPart>,
}

/// The credit entries of the lines lot `lot` gave an accepted part of, each with that part.
async fn lot_credits(conn: &impl ConnectionTrait, lot: &str) -> AppResult<Vec<(String, LotPart)>> {
    let mut parts: BTreeMap<String, LotPart> = BTreeMap::new();
    let mut through: HashMap<String, i64> = HashMap::new();
    for r in lot_lines(conn, lot).await? {
        let before = through.entry(r.order_line_id.clone()).or_insert(0);
        let from = *before;
        *before = before.saturating_add(r.accepted_milli.max(0));
        if r.lot_id == lot && r.accepted_milli > 0 {
            let p = parts.entry(r.order_line_id).or_default();
            p.accepted = r.line_accepted_milli;
            p.spans.push((from, *before));
        }
    }
    let lines: Vec<String> = parts.keys().cloned().collect();
    Ok(credits_of_lines(conn, &lines)
        .await?
        .into_iter()
        .filter_map(|c| Some((c.id, parts.get(&c.order_line_id)?.clone())))
        .collect())
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The credit entries flag `f` covers now, by id: those its evidence names, the lot's part of
/// the credits of each line it was accepted from (origin mismatch), its supplier orders'
/// credits (a split is found before they are accepted), and a related pair's credits, whoever
/// of the two placed the order. An entry covered whole and as a lot's part is covered whole.
pub(super) async fn covered(conn: &impl ConnectionTrait, f: &flags::Model) -> AppResult<Vec<Covered>> {
    let evidence: serde_json::Value = serde_json::from_str(&f.evidence).unwrap_or_default();
    let mut named = strings(&evidence["entry_ids"]);
    named.extend(credits_of(conn, &strings(&evidence["supplier_order_ids"])).await?);
    let kind: FlagKind = crate::services::stored(&f.kind)?;
    if let (FlagKind::RelatedParties, Some(b), Some(s)) = (kind, &f.buyer_org_id, &f.supplier_org_id) {
        let mut q = Q::default();
        let b = q.bind(b.clone());
        let text = format!(
            "SELECT e.id FROM ledger_entries e LEFT JOIN supplier_orders so ON so.id = e.supplier_order_id \
             WHERE (e.buyer_org_id = {b} OR so.buyer_org_id = {b}) AND e.supplier_org_id = {} AND e.kind = {}",
            q.bind(s.clone()),
            q.bind(LedgerKind::Credit)
        );
        named.extend(ids(conn, q.build(conn, &text)).await?);
    }
    let mut out: BTreeMap<String, Option<LotPart>> = named.into_iter().map(|id| (id, None)).collect();
    if let Some(lot) = evidence["lot_id"].as_str() {
        for (id, part) in lot_credits(conn, lot).await? {
            out.entry(id).or_insert(Some(part));
        }
    }
    Ok(out
        .into_iter()
        .map(|(entry_id, part)| Covered { entry_id, part })
        .collect())
}

/// Appends a reversal for each of `covered` (credit entries) of what the flag covers of it
/// (all of it, or its lot's part), at most what its buyer still holds of its line (nothing
/// for a line already returned or reversed), each linked to flag `f` with `reason`. Returns
/// how many it appended.
pub(super) async fn reverse(
    txn: &impl ConnectionTrait,
    f: &flags::Model,
    covered: &[Covered],
    reason: &str,
) -> AppResult<u64> {
    let part_of: HashMap<&str, Option<&LotPart>> =
        covered.iter().map(|c| (c.entry_id.as_str(), c.part.as_ref())).collect();
    let named: Vec<String> = covered.iter().map(|c| c.entry_id.clone()).collect();
    let mut entries = Vec::with_capacity(named.len());
    for chunk in named.chunks(500) {
        entries.extend(
            ledger_entries::Entity::find()
                .filter(ledger_entries::Column::Id.is_in(chunk.to_vec()))
                .filter(ledger_entries::Column::Kind.eq(LedgerKind::Credit))
                .all(txn)
                .await?,
        );
    }
    // Every line is locked, in one sorted order, before any net is read: a return or another
    // flag's confirmation of the same lines waits, then reads what this one left (and two
    // such never lock in crossed orders).
    ledger::holding::lock_lines(txn, entries.iter().map(|e| e.order_line_id.clone()).collect()).await?;
    let mut appended = 0;
    for e in entries {
        let (net_fen, net_milli) = ledger::holding::net_of(txn, &e.buyer_org_id, &e.order_line_id).await?;
        let (fen, milli) = match part_of.get(e.id.as_str()).copied().flatten() {
            Some(p) => (p.of(e.amount_fen), p.of(e.quantity_milli)),
            None => (e.amount_fen, e.quantity_milli),
        };
        let amount = net_fen.min(fen);
        if amount <= 0 {
            continue;
        }
        let quantity = net_milli.min(milli).max(0);
        let reversal = ledger::NewEntry::like(&e, e.buyer_org_id.clone(), LedgerKind::Reversal, -amount, -quantity);
        let rev = ledger::append(txn, reversal).await?;
        flag_reversals::ActiveModel {
            flag_id: Set(f.id.clone()),
            entry_id: Set(e.id.clone()),
            reversal_entry_id: Set(rev.id),
            amount_fen: Set(amount),
            reason: Set(reason.to_string()),
        }
        .insert(txn)
        .await?;
        appended += 1;
    }
    Ok(appended)
}

/// Which of `entries` (ledger entry ids) are reversals a confirmed flag appended: a penalty,
/// not goods gone back (a return shares its goods out as if those had not been taken).
pub async fn flag_reversals_among(conn: &impl ConnectionTrait, entries: &[String]) -> AppResult<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in entries.chunks(500) {
        let found: Vec<String> = flag_reversals::Entity::find()
            .select_only()
            .column(flag_reversals::Column::ReversalEntryId)
            .filter(flag_reversals::Column::ReversalEntryId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(found);
    }
    Ok(out)
}

/// Keeps every confirmed flag applied: reverses the credits that have come under it since it
/// was confirmed (those not yet linked to it). Each flag in its own transaction. Returns the
/// reversals appended.
pub(super) async fn reapply_confirmed(db: &DatabaseConnection) -> AppResult<u64> {
    let live = [
        FlagKind::OrderSplitting,
        FlagKind::OriginMismatch,
        FlagKind::RelatedParties,
    ];
    let confirmed = flags::Entity::find()
        .filter(flags::Column::State.eq(FlagState::Confirmed))
        .filter(flags::Column::Kind.is_in(live.iter().map(|k| k.as_str())))
        .all(db)
        .await?;
    let mut appended = 0;
    for f in confirmed {
        let linked: HashSet<String> = flag_reversals::Entity::find()
            .select_only()
            .column(flag_reversals::Column::EntryId)
            .filter(flag_reversals::Column::FlagId.eq(f.id.clone()))
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let new: Vec<Covered> = covered(db, &f)
            .await?
            .into_iter()
            .filter(|c| !linked.contains(&c.entry_id))
            .collect();
        if new.is_empty() {
            continue;
        }
        let txn = db.begin().await?;
        let reason = f.note.clone().unwrap_or_else(|| "a confirmed flag".to_string());
        appended += reverse(&txn, &f, &new, &reason).await?;
        txn.commit().await?;
    }
    Ok(appended)
}

#[cfg(test)]
mod tests {
    use super::LotPart;

    fn part(spans: &[(i64, i64)], accepted: i64) -> LotPart {
        LotPart {
            spans: spans.to_vec(),
            accepted,
        }
    }

    #[test]
    fn the_lots_of_a_line_share_out_each_credit_exactly() {
        // 10 units shipped 4 from A, 6 from B; a holder's credit of 100.01 and 3.334 units.
        let (a, b) = (part(&[(0, 4000)], 10_000), part(&[(4000, 10_000)], 10_000));
        assert_eq!((a.of(10_000), b.of(10_000)), (4000, 6000));
        assert_eq!(a.of(10_001) + b.of(10_001), 10_001);
        assert_eq!((a.of(3334), b.of(3334)), (1333, 2001));
        // Three lots of a third each: every fen goes to exactly one of them.
        let thirds = [(0, 1000), (1000, 2000), (2000, 3000)].map(|s| part(&[s], 3000));
        assert_eq!(thirds.iter().map(|p| p.of(100)).collect::<Vec<_>>(), [33, 33, 34]);
        // A lot named twice on a line, and a line only partly traced to lots.
        assert_eq!(part(&[(0, 1000), (3000, 4000)], 10_000).of(5000), 1000);
        assert_eq!(part(&[(0, 4000)], 10_000).of(0), 0);
        assert_eq!(part(&[(0, 4000)], 0).of(500), 0);
    }
}
