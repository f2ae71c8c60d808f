//! Whose credit a return takes back. A return reverses a line's credit where it stands now,
//! not where today's plans would put a new credit: a shared canteen's split, a supervisor's
//! correction and earlier returns have moved it, and a plan may have changed (or a new year
//! begun) since the acceptance. Each buyer holding part of the line's credit gives back its
//! share of the returned amount and quantity, in proportion to what it holds (largest
//! remainder, ties to the holder credited first), with the credit's own product, category,
//! origin and pairing. A return of everything left brings every holder to zero exactly.
//!
//! A confirmed flag's reversal is a penalty, not goods gone back: the goods coming back are
//! the line's, shared among its holders as the credit was, and what a flag took of a holder's
//! part is not taken again. On a line a flag took part of, the holders give back the returned
//! fraction of the line's goods not yet returned (in thousandths) of what each still holds:
//! when a flag took a member's whole part, the lead gives back its own share of the goods,
//! not the member's too.
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
/// credit nobody holds any more. Each line is its row as re-read after the return's update
/// (its returned quantity includes this return's). The caller has locked the lines
/// (`ledger::holding`).
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
    let reversals: Vec<String> = rows
        .iter()
        .filter(|r| r.kind == LedgerKind::Reversal.as_str())
        .map(|r| r.id.clone())
        .collect();
    let penalties = crate::services::flags::flag_reversals_among(conn, &reversals).await?;
    let mut out = Vec::new();
    for (line, qty, amount) in items {
        let of_line: Vec<&ledger_entries::Model> = rows.iter().filter(|r| r.order_line_id == line.id).collect();
        let credit = of_line
            .iter()
            .find(|r| r.kind == LedgerKind::Credit.as_str())
            .ok_or_else(|| AppError::internal(format!("accepted line {} has no credit to reverse", line.id)))?;
        let held = holdings(&of_line);
        let back = (amount.minor().abs(), qty.minor().abs());
        // What was not yet returned before this return: the line is as re-read after it.
        let flagged = of_line.iter().any(|r| penalties.contains(&r.id));
        let outstanding =
            flagged.then(|| line.accepted_quantity_milli.unwrap_or(0) - line.returned_quantity_milli + back.1);
        let (amounts, quantities) = parts(&held, back, outstanding);
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

/// `held × back ÷ outstanding`, at most `held`: the returned fraction of what is held. Rounded
/// to the nearest, half up, so that each return is within half a fen (half a thousandth) of
/// its exact part; returning everything left (`back` = `outstanding`) gives exactly `held`,
/// so the holders end at zero.
fn fraction_of(held: i64, back: i64, outstanding: i64) -> i64 {
    if held <= 0 {
        return 0;
    }
    if back >= outstanding {
        return held;
    }
    let (h, b, o) = (i128::from(held), i128::from(back), i128::from(outstanding));
    i64::try_from((2 * h * b + o) / (2 * o)).map_or(held, |p| p.min(held))
}

/// The parts of `held` (negative) for `back` (fen, thousandths; positive) coming back of a
/// line; `outstanding` (thousandths not yet returned before these) when a confirmed flag took
/// part of its credit. Without one, the holders hold the line's outstanding credit and give
/// back the returned amount and quantity (never more than held). With one, they give back
/// the returned fraction of the goods (by quantity) of what they still hold.
fn parts(held: &[Holding], back: (i64, i64), outstanding: Option<i64>) -> (Vec<i64>, Vec<i64>) {
    let (held_fen, held_milli) = held.iter().fold((0i64, 0i64), |(a, q), (_, ha, hq)| {
        (a.saturating_add(*ha), q.saturating_add((*hq).max(0)))
    });
    let (fen, milli) = match outstanding {
        None => (back.0.min(held_fen), back.1.min(held_milli)),
        Some(o) => (fraction_of(held_fen, back.1, o), fraction_of(held_milli, back.1, o)),
    };
    shares(held, -fen, -milli)
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
    fn what_a_flag_took_is_not_taken_again_by_a_return() {
        // 10 units for 100.00 split 60/40; the member's part reversed by a flag. 4 units back:
        // the lead gives back its 60 % of them (24.00, 2.4), the member nothing.
        let lead = vec![h("lead", 6000, 6000)];
        assert_eq!(parts(&lead, (4000, 4000), Some(10_000)), (vec![-2400], vec![-2400]));
        // A flag took 40 % of each part (a lot's share): half the goods back takes half of
        // what each still holds; the rest back brings both to zero.
        let held = vec![h("member", 2400, 2400), h("lead", 3600, 3600)];
        let half = (vec![-1200, -1800], vec![-1200, -1800]);
        assert_eq!(parts(&held, (5000, 5000), Some(10_000)), half);
        let held = vec![h("member", 1200, 1200), h("lead", 1800, 1800)];
        assert_eq!(parts(&held, (5000, 5000), Some(5000)), half);
        // All taken by a flag: nothing to give back. Rounded half up: 3 × 1 ÷ 2 is 1.5 → 2.
        assert_eq!(parts(&[], (4000, 4000), Some(10_000)), (vec![], vec![]));
        assert_eq!(parts(&[h("lead", 3, 3)], (1, 1), Some(2)), (vec![-2], vec![-2]));
        // No flag: what comes back, by largest remainder.
        let held = vec![h("member", 4000, 4000), h("lead", 6000, 6000)];
        assert_eq!(parts(&held, (1001, 1001), None), (vec![-400, -601], vec![-400, -601]));
    }

    #[test]
    fn a_line_priced_at_zero_splits_by_quantity() {
        let (a, q) = shares(&[h("x", 0, 3000), h("y", 0, 1000)], 0, -2000);
        assert_eq!(a, [0, 0]);
        assert_eq!(q, [-1500, -500]);
    }
}
