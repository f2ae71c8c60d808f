//! Which lots a supplier order ships, what the buyer sees of them before accepting, and what
//! acceptance takes from them and keeps in the ledger.
//!
//! Rule for the ledger (docs/ledger-format.md): one entry per accepted line, as before; its
//! `lot_id` is the lot that gave the most of the accepted quantity (the first allocated on a
//! tie) and its `compliance_certificate_number` that lot's. Every lot of the line stays in
//! `shipment_lots` with what was accepted of it, and in the lot's trace.
use super::{queries, ComplianceCertificate};
use crate::domain::{LotId, OrderLineId, ProductId, Quantity, StockMovementKind, UserId};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::ledger::EntryTrace;
use crate::services::orders::SupplierOrder;
use crate::services::writes::Writes;
use crate::services::{new_id, now, stock, stored, today};
use entity::{lots, shipment_lots, supplier_orders};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// The body of `POST /supplier-orders/{id}/ship`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ShipBody {
    /// The shipment note.
    #[serde(default)]
    pub note: Option<String>,
    /// Which lots ship which line (each line's quantities adding up to the line's); absent:
    /// soonest best-before first among the certified lots not past best-before.
    #[serde(default)]
    pub lots: Option<Vec<ShipLot>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipLot {
    pub line_id: OrderLineId,
    pub lot_id: LotId,
    /// Above zero.
    pub quantity: Quantity,
}

/// A lot a line of a supplier order was shipped from, with its certificate.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ShippedLot {
    pub line_id: OrderLineId,
    pub lot_id: LotId,
    pub product_id: ProductId,
    pub quantity: Quantity,
    /// What the buyer accepted of it (null until accepted).
    pub accepted_quantity: Option<Quantity>,
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub harvested_on: Option<chrono::NaiveDate>,
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub best_before: chrono::NaiveDate,
    pub compliance_certificate: Option<ComplianceCertificate>,
    /// The product requires a 合格证 and this lot has none: nothing can be accepted from it (the
    /// line's accepted quantity is taken from its certified lots first).
    pub uncertified_batch: bool,
}

fn qty(milli: i64) -> AppResult<Quantity> {
    Quantity::from_minor(milli).map_err(AppError::internal)
}

/// The lots of the supplier order's lines, from the named ones or chosen, written in the
/// transaction that marks it shipped (the products' stock rows are locked first, so two
/// shipments never give the same stock twice). 422 naming the entry for a bad lot.
pub async fn ship_lots_of(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    named: Option<Vec<ShipLot>>,
) -> AppResult<()> {
    let lines = queries::lines_of(conn, &so.id).await?;
    let mut pids: Vec<String> = lines.iter().map(|l| l.product_id.clone()).collect();
    pids.sort();
    pids.dedup();
    stock::lock_products(conn, &pids).await?;
    let t = now();
    let day = today();
    let row = |line: &str, lot: &str, milli: i64| shipment_lots::Model {
        id: new_id(),
        supplier_order_id: so.id.clone(),
        order_line_id: line.to_string(),
        lot_id: lot.to_string(),
        quantity_milli: milli,
        accepted_milli: None,
        created_at: t,
    };
    let mut rows = Vec::new();
    match named {
        Some(named) => {
            let ids: Vec<String> = named.iter().map(|n| n.lot_id.to_string()).collect();
            let found = queries::lots_map(conn, ids.clone()).await?;
            let held = queries::held_in_transit(conn, &ids, &so.id).await?;
            let weighed =
                crate::services::weight::weighed_lines(conn, lines.iter().map(|l| l.id.clone()).collect()).await?;
            let mut errors = Vec::new();
            let mut per_line: BTreeMap<String, i64> = BTreeMap::new();
            let mut per_lot: HashMap<String, i64> = HashMap::new();
            for (i, n) in named.iter().enumerate() {
                let lot_id = n.lot_id.to_string();
                let Some(line) = lines.iter().find(|l| n.line_id == l.id) else {
                    errors.push(FieldError::new(
                        format!("lots[{i}].line_id"),
                        "is not a line of this supplier order",
                    ));
                    continue;
                };
                let field = format!("lots[{i}].lot_id");
                let Some(lot) = found.get(&lot_id) else {
                    errors.push(FieldError::new(
                        field,
                        format!("lot {lot_id} is not a lot of this product"),
                    ));
                    continue;
                };
                if lot.product_id != line.product_id {
                    errors.push(FieldError::new(
                        field,
                        format!("lot {lot_id} is a lot of another product than line {}", line.id),
                    ));
                    continue;
                }
                if lot.uncertified_batch {
                    errors.push(FieldError::new(
                        field,
                        format!("lot {lot_id} has no 合格证 (compliance certificate), which its product requires"),
                    ));
                    continue;
                }
                if lot.best_before < day {
                    errors.push(FieldError::new(field, format!("lot {lot_id} is past its best-before")));
                    continue;
                }
                if n.quantity.is_zero() {
                    errors.push(FieldError::new(
                        format!("lots[{i}].quantity"),
                        "must be greater than zero",
                    ));
                    continue;
                }
                if weighed.contains(&line.id) && !crate::services::weight::is_whole(n.quantity) {
                    errors.push(FieldError::new(
                        format!("lots[{i}].quantity"),
                        crate::services::weight::WHOLE_PIECES,
                    ));
                    continue;
                }
                let on_lot = per_lot.entry(lot_id.clone()).or_insert(0);
                *on_lot = on_lot.saturating_add(n.quantity.minor());
                let free = lot.remaining_milli - held.get(&lot_id).copied().unwrap_or(0);
                if *on_lot > free {
                    errors.push(FieldError::new(
                        format!("lots[{i}].quantity"),
                        format!("lot {lot_id} has only {} left to ship", qty(free.max(0))?),
                    ));
                }
                let on_line = per_line.entry(line.id.clone()).or_insert(0);
                *on_line = on_line.saturating_add(n.quantity.minor());
                rows.push(row(&line.id, &lot_id, n.quantity.minor()));
            }
            for l in &lines {
                let shipped = per_line.get(&l.id).copied().unwrap_or(0);
                if errors.is_empty() && shipped != l.quantity_milli {
                    errors.push(FieldError::new(
                        "lots",
                        format!(
                            "line {} ordered {}, the lots named ship {}",
                            l.id,
                            qty(l.quantity_milli)?,
                            qty(shipped)?
                        ),
                    ));
                }
            }
            AppError::check(errors)?;
        }
        None => {
            let all = queries::lots_with_stock(conn, pids.clone()).await?;
            let ids: Vec<String> = all.iter().map(|l| l.id.clone()).collect();
            let held = queries::held_in_transit(conn, &ids, &so.id).await?;
            let mut free: HashMap<String, i64> = all
                .iter()
                .map(|l| (l.id.clone(), l.remaining_milli - held.get(&l.id).copied().unwrap_or(0)))
                .collect();
            for line in &lines {
                let mut left = line.quantity_milli;
                for lot in all
                    .iter()
                    .filter(|l| l.product_id == line.product_id && !l.uncertified_batch && l.best_before >= day)
                {
                    if left == 0 {
                        break;
                    }
                    let f = free.get(&lot.id).copied().unwrap_or(0);
                    let take = left.min(f);
                    if take <= 0 {
                        continue;
                    }
                    free.insert(lot.id.clone(), f - take);
                    left -= take;
                    rows.push(row(&line.id, &lot.id, take));
                }
                if left > 0 {
                    return Err(AppError::Conflict(format!(
                        "line {}: the certified lots not past best-before hold {} less than it ordered; \
                         record a lot (or a lot's 合格证) first",
                        line.id,
                        qty(left)?
                    )));
                }
            }
        }
    }
    queries::insert_shipment(conn, rows).await
}

/// Fills each supplier order's shipped lots (two queries whatever the number of orders).
pub async fn attach(conn: &impl ConnectionTrait, sos: &mut [SupplierOrder]) -> AppResult<()> {
    let rows = queries::shipment_rows(conn, sos.iter().map(|s| s.id.to_string()).collect()).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let lots = queries::lots_map(conn, rows.iter().map(|r| r.lot_id.clone()).collect()).await?;
    for so in sos.iter_mut() {
        let id = so.id.to_string();
        so.shipped_lots = rows
            .iter()
            .filter(|r| r.supplier_order_id == id)
            .filter_map(|r| lots.get(&r.lot_id).map(|l| (r, l)))
            .map(|(r, l)| shipped(r, l))
            .collect::<AppResult<_>>()?;
    }
    Ok(())
}

pub(super) fn shipped(r: &shipment_lots::Model, l: &lots::Model) -> AppResult<ShippedLot> {
    Ok(ShippedLot {
        line_id: stored(&r.order_line_id)?,
        lot_id: stored(&r.lot_id)?,
        product_id: stored(&l.product_id)?,
        quantity: qty(r.quantity_milli)?,
        accepted_quantity: r.accepted_milli.map(qty).transpose()?,
        harvested_on: l.harvested_on,
        best_before: l.best_before,
        compliance_certificate: ComplianceCertificate::of_lot(l),
        uncertified_batch: l.uncertified_batch,
    })
}

/// Takes the accepted quantities out of the lots each line was shipped from (what a lot no
/// longer holds comes from the product's other lots, soonest best-before first), records
/// what was accepted of each lot, and gives each line's ledger trace. An order shipped
/// before lots were recorded takes from the product's lots as before, with no trace.
/// Also gives the order's shipped lots as this leaves them (what [`attach`] would read after).
/// Each line's accepted quantity is taken from its certified lots first; refuses (409) an
/// acceptance that would take a positive quantity from a shipped lot lacking the 合格证 its
/// product requires (accepting 0 of it refuses the batch).
pub async fn take_and_trace(
    conn: &impl ConnectionTrait,
    so_id: &str,
    takes: &[(ProductId, Quantity)],
    per_line: &[(String, Quantity)],
    actor: Option<UserId>,
) -> AppResult<(HashMap<String, EntryTrace>, Vec<ShippedLot>)> {
    let (rows, lots) = queries::shipment_rows_with_lots(conn, so_id).await?;
    let uncertified = |r: &shipment_lots::Model| lots.get(&r.lot_id).is_some_and(|l| l.uncertified_batch);
    if rows.is_empty() {
        stock::consume_many(conn, takes, StockMovementKind::Sale, Some(so_id), actor).await?;
        return Ok((HashMap::new(), Vec::new()));
    }
    let mut left_in: HashMap<String, i64> = lots.iter().map(|(k, l)| (k.clone(), l.remaining_milli)).collect();
    let mut from_lots: Vec<(ProductId, String, i64)> = Vec::new();
    let mut shortfall: Vec<(ProductId, Quantity)> = Vec::new();
    let mut traces = HashMap::new();
    let mut accepted_rows = Vec::new();
    for (line_id, accepted) in per_line {
        let mut want = accepted.minor();
        let mut best: Option<(&shipment_lots::Model, i64)> = None;
        // Certified lots first (stable: in the order they were allocated), so that a buyer can
        // take the certified part of a line and refuse a batch without its 合格证.
        let mut of_line: Vec<&shipment_lots::Model> = rows.iter().filter(|r| &r.order_line_id == line_id).collect();
        of_line.sort_by_key(|r| uncertified(r));
        for r in of_line {
            let Some(lot) = lots.get(&r.lot_id) else { continue };
            let take = want.min(r.quantity_milli);
            if take > 0 && lot.uncertified_batch {
                // 409: the supplier records the 合格证 with `PUT /lots/{id}/compliance-certificate`,
                // or the buyer accepts no more than the certified lots hold; the caller's
                // rollback undoes what its transaction did before.
                return Err(AppError::Conflict(format!(
                    "line {line_id}: lot {} was shipped without the 合格证 (compliance certificate) its \
                     product requires; nothing can be accepted from it until the supplier records it \
                     (accept at most what the line's certified lots hold, or 0 to refuse the batch)",
                    r.lot_id
                )));
            }
            want -= take;
            accepted_rows.push((r.id.clone(), take));
            if take > 0 && best.is_none_or(|(_, b)| take > b) {
                best = Some((r, take));
            }
            let pid: ProductId = stored(&lot.product_id)?;
            let there = left_in.get(&r.lot_id).copied().unwrap_or(0);
            let now_take = take.min(there);
            if now_take > 0 {
                from_lots.push((pid, r.lot_id.clone(), now_take));
                left_in.insert(r.lot_id.clone(), there - now_take);
            }
            if take > now_take {
                shortfall.push((pid, qty(take - now_take)?));
            }
        }
        if let Some((r, _)) = best {
            traces.insert(
                line_id.clone(),
                EntryTrace {
                    lot_id: Some(r.lot_id.clone()),
                    compliance_certificate_number: lots.get(&r.lot_id).and_then(|l| l.cc_number.clone()),
                    weight_kg_milli: None,
                },
            );
        }
    }
    let mut writes = Writes::new(conn);
    queries::set_accepted(conn, &mut writes, &accepted_rows);
    stock::take_from_named_lots(conn, writes, &from_lots, StockMovementKind::Sale, Some(so_id), actor).await?;
    stock::consume_many(conn, &shortfall, StockMovementKind::Sale, Some(so_id), actor).await?;
    let accepted: HashMap<&str, i64> = accepted_rows.iter().map(|(id, q)| (id.as_str(), *q)).collect();
    let shipped_now = rows
        .iter()
        .filter_map(|r| lots.get(&r.lot_id).map(|l| (r, l)))
        .map(|(r, l)| {
            let mut r = r.clone();
            if let Some(q) = accepted.get(r.id.as_str()) {
                r.accepted_milli = Some(*q);
            }
            shipped(&r, l)
        })
        .collect::<AppResult<_>>()?;
    Ok((traces, shipped_now))
}
