//! Whose credit a return takes back. A return reverses a line's credit where it stands now,
//! not where today's plans would put a new credit: a shared canteen's split, a supervisor's
//! correction and earlier returns have moved it, and a plan may have changed (or a new year
//! begun) since the acceptance. Each buyer holding part of the line's credit gives back its
//! share of the returned amount and quantity, in proportion to what it holds (largest
//! remainder, ties to the holder credited first), with the credit's own product, category,
//! origin and pairing. A return of everything left brings every holder to zero exactly.
use crate::domain::{LedgerKind, SignedMoney, SignedQuantity};
use crate::error::{AppError, AppResult};
use crate::services::ledger::NewEntry;
use crate::services::plans::proportional;
use entity::{ledger_entries, order_lines};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// A buyer's net holding of one line's credit: (buyer, amount fen, quantity milli).
type Holding = (String, i64, i64);

/// The reversal entries of a return: for each `(line, -quantity, -amount)`, one entry per
/// buyer holding part of the line's credit, in the order of `items`; none for a line whose
/// credit nobody holds any more. The caller has locked the lines (`ledger::holding`).
pub(super) async fn reversal_parts(
    conn: &impl ConnectionTrait,
    items: &[(&order_lines::Model, SignedQuantity, SignedMoney)],
) -> AppResult<Vec<NewEntry>> {
    let ids: Vec<String> = items.iter().map(|(l, ..)| l.id.clone()).collect();
    let rows = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::OrderLineId.is_in(ids))
        .order_by_asc(ledger_entries::Column::Ins)
        .all(conn)
        .await?;
    let mut out = Vec::new();
    for (line, qty, amount) in items {
        let of_line: Vec<&ledger_entries::Model> = rows.iter().filter(|r| r.order_line_id == line.id).collect();
        let credit = of_line
            .iter()
            .find(|r| r.kind == LedgerKind::Credit.as_str())
            .ok_or_else(|| AppError::internal(format!("accepted line {} has no credit to reverse", line.id)))?;
        let held = holdings(&of_line);
        // Never more than is held: a confirmed fraud signal may have taken the credit back
        // already, and the goods coming back then reverse only what is left (maybe nothing).
        let held_fen: i64 = held.iter().map(|(_, a, _)| *a).sum();
        let held_milli: i64 = held.iter().map(|(_, _, q)| (*q).max(0)).sum();
        let amount = -amount.minor().abs().min(held_fen);
        let qty = -qty.minor().abs().min(held_milli);
        let (amounts, quantities) = shares(&held, amount, qty);
        for (((buyer, _, _), a), q) in held.iter().zip(amounts).zip(quantities) {
            if a != 0 || q != 0 {
                out.push(NewEntry::like(credit, buyer.clone(), LedgerKind::Reversal, a, q));
            }
        }
    }
    Ok(out)
}

/// What each buyer holds of a line's credit (every entry of the line netted per buyer), in the
/// order each was first credited; a buyer holding nothing (or less) is left out.
fn holdings(of_line: &[&ledger_entries::Model]) -> Vec<Holding> {
    let mut held: Vec<Holding> = Vec::new();
    for e in of_line {
        match held.iter_mut().find(|(b, ..)| *b == e.buyer_org_id) {
            Some((_, a, q)) => {
                *a = a.saturating_add(e.amount_fen);
                *q = q.saturating_add(e.quantity_milli);
            }
            None => held.push((e.buyer_org_id.clone(), e.amount_fen, e.quantity_milli)),
        }
    }
    held.retain(|(_, a, q)| *a > 0 || (*a == 0 && *q > 0));
    held
}

/// The parts of `amount` and `qty` each holder gives back: amounts in proportion to the
/// amounts held, quantities to the quantities held (either by the other when all its own are
/// zero, as for a line priced at zero).
fn shares(held: &[Holding], amount: i64, qty: i64) -> (Vec<i64>, Vec<i64>) {
    let amounts: Vec<i64> = held.iter().map(|(_, a, _)| (*a).max(0)).collect();
    let quantities: Vec<i64> = held.iter().map(|(_, _, q)| (*q).max(0)).collect();
    let pick = |own: &Vec<i64>, other: &Vec<i64>| {
        if own.iter().any(|w| *w > 0) {
            own.clone()
        } else if other.iter().any(|w| *w > 0) {
            other.clone()
        } else {
            vec![1; held.len()]
        }
    };
    (
        proportional(amount, &pick(&amounts, &quantities)),
        proportional(qty, &pick(&quantities, &amounts)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: &str, a: i64, q: i64) -> Holding {
        (b.to_string(), a, q)
    }

    #[test]
    fn returns_in_steps_bring_every_holder_to_zero() {
        // 12,501 fen and 10,001 thousandths split 4167/4167/4167 and 3334/3334/3333.
        let mut held = vec![h("m1", 4167, 3334), h("m2", 4167, 3334), h("lead", 4167, 3333)];
        for (amount, qty) in [(-1250, -1000), (-11_000, -9000), (-251, -1)] {
            let (a, q) = shares(&held, amount, qty);
            assert_eq!(a.iter().sum::<i64>(), amount);
            assert_eq!(q.iter().sum::<i64>(), qty);
            for (x, (da, dq)) in held.iter_mut().zip(a.into_iter().zip(q)) {
                x.1 += da;
                x.2 += dq;
            }
        }
        assert!(held.iter().all(|(_, a, q)| *a == 0 && *q == 0), "{held:?}");
    }

    #[test]
    fn a_line_priced_at_zero_splits_by_quantity() {
        let (a, q) = shares(&[h("x", 0, 3000), h("y", 0, 1000)], 0, -2000);
        assert_eq!(a, [0, 0]);
        assert_eq!(q, [-1500, -500]);
    }
}
