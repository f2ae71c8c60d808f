//! What a confirmed flag takes out of the credit totals, and keeping it applied. Confirming
//! reverses the credits the flag covers as they stand; a credit that falls under it later (a
//! split's supplier order accepted after the confirmation, a later sale from a lot of false
//! origin, a later trade between related parties) is reversed by the next flag scan
//! ([`reapply_confirmed`]), linked to the flag with its note. Each reversal is of what is still
//! credited of its line, read under the line's lock, so nothing is taken back twice.
use super::order_queries::credits_of;
use super::queries::{ids, Q};
use crate::domain::{FlagKind, FlagState, LedgerKind};
use crate::error::AppResult;
use crate::services::ledger;
use entity::{flag_reversals, flags, ledger_entries};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use std::collections::HashSet;

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The credit entries flag `f` covers now: those its evidence names, a lot's credits (origin
/// mismatch), its supplier orders' credits (a split is found before they are accepted), and a
/// related pair's credits, whoever of the two placed the order.
pub(super) async fn covered(conn: &impl ConnectionTrait, f: &flags::Model) -> AppResult<Vec<String>> {
    let evidence: serde_json::Value = serde_json::from_str(&f.evidence).unwrap_or_default();
    let mut named = strings(&evidence["entry_ids"]);
    if let Some(lot) = evidence["lot_id"].as_str() {
        let of_lot: Vec<String> = ledger_entries::Entity::find()
            .select_only()
            .column(ledger_entries::Column::Id)
            .filter(ledger_entries::Column::LotId.eq(lot))
            .filter(ledger_entries::Column::Kind.eq(LedgerKind::Credit))
            .into_tuple()
            .all(conn)
            .await?;
        named.extend(of_lot);
    }
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
    named.sort();
    named.dedup();
    Ok(named)
}

/// Appends a reversal for each of `named` (credit entries), of what is still credited of its
/// line (nothing for a line already returned or reversed), each linked to flag `f` with
/// `reason`. Returns how many it appended.
pub(super) async fn reverse(
    txn: &impl ConnectionTrait,
    f: &flags::Model,
    named: &[String],
    reason: &str,
) -> AppResult<u64> {
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
        let amount = net_fen.min(e.amount_fen);
        if amount <= 0 {
            continue;
        }
        let quantity = net_milli.clamp(0, e.quantity_milli);
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
        let new: Vec<String> = covered(db, &f)
            .await?
            .into_iter()
            .filter(|e| !linked.contains(e))
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
