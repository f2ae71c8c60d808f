//! Acceptance: the buyer takes a delivered supplier order; accepted quantities leave
//! stock and are credited to the ledger. A fixed number of statements whatever the
//! number of lines (per-line work is batched).
use super::accept_queries;
use super::lifecycle::{acting_on, buyer_mail, check_note, clean_note, conflict, supplier_mail, Acting};
use super::queries;
use super::read::reload_known;
use super::types::SupplierOrder;
use crate::auth::{Caller, Role};
use crate::domain::{
    LedgerKind, Money, OrderLineId, PovertyStatus, ProductId, Quantity, RegionLevel, SignedMoney, SignedQuantity,
    SupplierOrderId, SupplierOrderStatus, UserId, Weight,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::writes::Writes;
use crate::services::{clock, compliance, ledger, now, outbox, plans, required_text, stock, stored, weight};
use crate::state::AppState;
use entity::{order_lines, orders, organizations, supplier_orders};
use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptLine {
    pub line_id: OrderLineId,
    pub accepted_quantity: Quantity,
    /// For a product sold `pieces_by_weight`: the actual weight in kg of the accepted pieces
    /// (required when pieces are accepted; omitted otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Weight>, example = "101.25")]
    pub actual_weight: Option<Weight>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// Every line of the supplier order, once, with what was accepted (0 to the ordered quantity).
    pub lines: Vec<AcceptLine>,
    pub invoice_number: String,
    pub note: Option<String>,
    /// The buyer accepts actual weights outside their lines' tolerance (else 422 naming the line).
    #[serde(default)]
    pub accept_weight_deviation: bool,
}

/// The buyer accepts a delivered supplier order: accepted quantities leave stock and are
/// credited to the ledger (one entry per line); the rest of the reservation is released.
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    body: Acceptance,
) -> AppResult<SupplierOrder> {
    let so = acting_on(&state.db, caller, id, Role::Buyer).await?;
    let acting = Acting {
        so,
        role: Role::Buyer,
        order: None,
    };
    accept_as(state, caller, acting, body).await
}

/// As [`accept`], for the supplier order the route's check already read ([`Acting`]).
pub async fn accept_as(
    state: &AppState,
    caller: &Caller,
    acting: Acting,
    body: Acceptance,
) -> AppResult<SupplierOrder> {
    let (so, known_order) = acting.into_parts(Role::Buyer)?;
    let (lines, weights) = accept_queries::lines_with_weights(&state.db, &so.id).await?;
    let mut errors = Vec::new();
    required_text(&mut errors, "invoice_number", &body.invoice_number, 100);
    check_note(&mut errors, "note", &body.note);
    let mut accepted: HashMap<String, Quantity> = HashMap::new();
    for (i, al) in body.lines.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| al.line_id == l.id) else {
            errors.push(FieldError::new(
                format!("lines[{i}].line_id"),
                "is not a line of this supplier order",
            ));
            continue;
        };
        if accepted.contains_key(&line.id) {
            errors.push(FieldError::new(format!("lines[{i}].line_id"), "is listed twice"));
            continue;
        }
        let ordered = Quantity::from_minor(line.quantity_milli).map_err(AppError::internal)?;
        if al.accepted_quantity > ordered {
            errors.push(FieldError::new(
                format!("lines[{i}].accepted_quantity"),
                format!("must not exceed the ordered quantity ({ordered})"),
            ));
        }
        accepted.insert(line.id.clone(), al.accepted_quantity);
    }
    let missing: Vec<&str> = lines
        .iter()
        .filter(|l| !body.lines.iter().any(|a| a.line_id == l.id))
        .map(|l| l.id.as_str())
        .collect();
    if !missing.is_empty() {
        errors.push(FieldError::new(
            "lines",
            format!(
                "must list every line of the supplier order (missing {})",
                missing.join(", ")
            ),
        ));
    }
    let weigh_in: Vec<weight::WeighIn> = body
        .lines
        .iter()
        .map(|l| weight::WeighIn {
            line_id: l.line_id,
            accepted: l.accepted_quantity,
            actual_weight: l.actual_weight,
        })
        .collect();
    let (weighed, weights) =
        weight::check_acceptance(weights, &lines, &weigh_in, body.accept_weight_deviation, &mut errors)?;
    weight::check_order_total(&state.db, &so, &weigh_in, &weighed, &mut errors).await?;
    AppError::check(errors)?;
    let note = clean_note(body.note);
    let txn = state.db.begin().await?;
    // The acceptance's one instant is taken once it holds its locks. SQLite has one connection:
    // holding the transaction is holding every lock, so it is taken now and written with the
    // status. PostgreSQL locks rows: it is taken once the products and lots are locked below.
    let held = (txn.get_database_backend() != DbBackend::Postgres).then(now);
    // The buyer and the supplier, once (for the credit's attribution and the two emails), read
    // with the change of status in one statement on PostgreSQL.
    let org_ids = vec![so.buyer_org_id.clone(), so.supplier_org_id.clone()];
    let invoice = body.invoice_number.trim();
    let (changed, orgs) =
        accept_queries::set_accepted_reading_orgs(&txn, &so.id, invoice, note.clone(), held, org_ids).await?;
    if changed != 1 {
        let e = conflict(&txn, &so.id, "accept").await?;
        txn.rollback().await?;
        return Err(e);
    }
    let orgs: HashMap<String, organizations::Model> = orgs.into_iter().map(|o| (o.id.clone(), o)).collect();
    let order = match known_order {
        Some(o) => o,
        None => queries::find_order(&txn, so.order_id.clone())
            .await?
            .ok_or(AppError::NotFound("order"))?,
    };
    let mut sorted = lines.clone();
    sorted.sort_by(|a, b| a.product_id.cmp(&b.product_id).then(a.id.cmp(&b.id)));
    let mut per_line = Vec::with_capacity(sorted.len());
    let mut releases = Vec::with_capacity(sorted.len());
    let mut takes = Vec::new();
    let mut credits = Vec::new();
    let mut payable = Money::ZERO;
    for l in &sorted {
        let q = accepted.get(&l.id).copied().unwrap_or(Quantity::ZERO);
        let pid: ProductId = stored(&l.product_id)?;
        per_line.push((l.id.clone(), q));
        releases.push((pid, Quantity::from_minor(l.quantity_milli).map_err(AppError::internal)?));
        if !q.is_zero() {
            takes.push((pid, q));
            let price = Money::from_minor(l.unit_price_fen).map_err(AppError::internal)?;
            let amount = match weighed.get(&l.id) {
                Some(w) => w.amount,
                None => Money::line_amount(price, q)
                    .map_err(|e| AppError::Conflict(format!("the amount of line {} is out of range: {e}", l.id)))?,
            };
            payable = payable
                .checked_add(amount)
                .map_err(|e| AppError::Conflict(format!("the order's accepted amount is out of range: {e}")))?;
            credits.push((l, q.signed(), amount.signed()));
        }
    }
    let mut writes = Writes::new(&txn);
    queries::set_accepted_quantities(&txn, &mut writes, &so.id, &per_line);
    // The products are locked (by their release) before any lot is taken, in the order a
    // stock adjustment takes them (products, then lots): releasing at the end instead would
    // let an acceptance and an adjustment of the same product deadlock.
    stock::release_many_after(&txn, writes, &releases).await?;
    let actor: Option<UserId> = Some(caller.user_id);
    let (traces, shipped) = compliance::take_and_trace(&txn, &so.id, &takes, &per_line, actor).await?;
    // The one instant of this acceptance, taken once its supplier order, products and lots are
    // locked (waiting for them can cross midnight on 31 December): `accepted_at`, the weighing,
    // the entries' time and budget year and month, the plans that attribute and split the
    // credit all follow it, so an order never counts in one year and its credit in the next.
    let t = held.unwrap_or_else(now);
    let year = clock::year(t);
    weight::record_actuals(&txn, &weighed, t).await?;
    let buyer = orgs.get(&so.buyer_org_id);
    let entries = entries_for(&txn, &so, &order, &credits, LedgerKind::Credit, buyer, year).await?;
    // Each entry keeps its lot, certificate and weighed kg; a shared canteen's split parts
    // share their line's lot and divide its weight like its quantity.
    let mut traces = traces;
    for (line_id, w) in &weighed {
        traces.entry(line_id.to_string()).or_default().weight_kg_milli = Some(w.weight.minor());
    }
    let parts = plans::split_shared_in(&txn, entries, year).await?;
    // The buyer and supplier were read above: their parents need no second read.
    let parents = orgs.values().map(|o| (o.id.clone(), o.parent_org_id.clone())).collect();
    // The entries and the two emails are written in one statement on PostgreSQL.
    let mut writes = Writes::new(&txn);
    ledger::append_traced_knowing(&txn, &mut writes, plans::traced_parts(parts, &traces), &parents, t).await?;
    if held.is_none() {
        accept_queries::set_accepted_at(&mut writes, &so.id, t);
    }
    let address = |org: &str| {
        orgs.get(org)
            .map(|o| o.contact_email.clone())
            .ok_or(AppError::NotFound("organization"))
    };
    let (s1, b1) = buyer_mail(&so, SupplierOrderStatus::Accepted, note.as_deref());
    let (s2, b2) = supplier_mail(&so, SupplierOrderStatus::Accepted, note.as_deref());
    let mails = [
        (address(&so.buyer_org_id)?, s1, b1),
        (address(&so.supplier_org_id)?, s2, b2),
    ];
    outbox::enqueue_many_with(&mut writes, &mails);
    // What the buyer owes from now on is what this acceptance credits (returns lower it).
    let payable = payable.minor();
    crate::services::payments::accepted_payable(&mut writes, &so.id, payable);
    // The answer's payment terms are read with them, as this transaction leaves them (the
    // update above is not seen by the read on PostgreSQL: the row is given it here).
    let terms = crate::services::payments::terms_after(&txn, writes, vec![so.id.clone()]).await?;
    let terms = terms
        .into_iter()
        .map(|t| entity::supplier_order_terms::Model {
            payable_fen: Some(payable),
            ..t
        })
        .collect();
    txn.commit().await?;
    // Reservations were released and accepted quantities consumed: stock changed.
    super::stock_changed(state).await;
    // The answer from the rows as this transaction left them.
    let accepted_so = supplier_orders::Model {
        status: SupplierOrderStatus::Accepted.as_str().to_string(),
        invoice_number: Some(body.invoice_number.trim().to_string()),
        acceptance_note: note.clone(),
        status_note: note,
        accepted_at: Some(t),
        updated_at: t,
        ..so
    };
    let lines = lines
        .into_iter()
        .map(|l| order_lines::Model {
            accepted_quantity_milli: Some(accepted.get(&l.id).copied().unwrap_or(Quantity::ZERO).minor()),
            ..l
        })
        .collect();
    let weights = weight::with_actuals(weights, &weighed, t);
    reload_known(accepted_so, lines, shipped, weights, terms)
}

/// Ledger entries for lines `(line, quantity, amount)` of a supplier order, in that
/// order: one query for the products with their origin's region row, and up to four more
/// for origins below county level, whatever the number of lines.
pub(super) async fn entries_for(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    order: &orders::Model,
    items: &[(&order_lines::Model, SignedQuantity, SignedMoney)],
    kind: LedgerKind,
    buyer: Option<&organizations::Model>,
    year: i32,
) -> AppResult<Vec<ledger::NewEntry>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<String> = items.iter().map(|(l, _, _)| l.product_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let prods: HashMap<String, accept_queries::ProductOrigin> = accept_queries::product_origins(conn, ids)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let poverty = poverty_of_counties(conn, prods.values()).await?;
    // A contractor's orders are credited to the budget unit its plan of `year` names.
    let credited_to = match buyer {
        Some(org) => plans::credited_buyer_of(conn, &so.buyer_org_id, Some(org), year).await?,
        None => plans::credited_buyer(conn, &so.buyer_org_id, year).await?,
    };
    items
        .iter()
        .map(|(l, qty, amount)| {
            let p = prods.get(&l.product_id).ok_or(AppError::NotFound("product"))?;
            Ok(ledger::NewEntry {
                buyer_org_id: credited_to.clone(),
                supplier_org_id: so.supplier_org_id.clone(),
                product_id: p.id.clone(),
                category: p.category.clone(),
                supplier_order_id: so.id.clone(),
                order_line_id: l.id.clone(),
                origin_region_code: p.origin_region_code.clone(),
                origin_county_code: p.origin_county_code.clone(),
                origin_poverty_status: poverty
                    .get(&p.origin_county_code)
                    .copied()
                    .unwrap_or(PovertyStatus::None)
                    .as_str()
                    .to_string(),
                quantity_milli: qty.minor(),
                amount_fen: amount.minor(),
                kind: kind.as_str().to_string(),
                credit_category: order.credit_category.clone(),
                pairing_id: order.pairing_id.clone(),
            })
        })
        .collect()
}

/// The poverty status of the county each product's origin code lies in (a township or
/// village climbs to its county): the first level comes with the products, then one query
/// per level for all codes at once.
async fn poverty_of_counties<'a>(
    conn: &impl ConnectionTrait,
    prods: impl Iterator<Item = &'a accept_queries::ProductOrigin>,
) -> AppResult<HashMap<String, PovertyStatus>> {
    let mut out = HashMap::new();
    // (original code, code to look at now)
    let mut pending: Vec<(String, String)> = Vec::new();
    for p in prods {
        if let Some(r) = &p.county {
            let code = &p.origin_county_code;
            climb(
                &mut out,
                &mut pending,
                code,
                &r.level,
                r.parent_code.as_ref(),
                &r.poverty_status,
            )?;
        }
    }
    for _ in 1..5 {
        if pending.is_empty() {
            break;
        }
        let mut look: Vec<String> = pending.iter().map(|(_, c)| c.clone()).collect();
        look.sort();
        look.dedup();
        let found: HashMap<String, entity::regions::Model> = queries::regions_by_codes(conn, look)
            .await?
            .into_iter()
            .map(|r| (r.code.clone(), r))
            .collect();
        let mut next = Vec::new();
        for (orig, cur) in pending {
            let Some(r) = found.get(&cur) else { continue };
            climb(
                &mut out,
                &mut next,
                &orig,
                &r.level,
                r.parent_code.as_ref(),
                &r.poverty_status,
            )?;
        }
        pending = next;
    }
    Ok(out)
}

/// One step up from the region row of `orig`'s current code: a county gives the status, a
/// township or village hands its parent to the next level.
fn climb(
    out: &mut HashMap<String, PovertyStatus>,
    next: &mut Vec<(String, String)>,
    orig: &str,
    level: &str,
    parent: Option<&String>,
    poverty: &str,
) -> AppResult<()> {
    match level.parse::<RegionLevel>() {
        Ok(RegionLevel::County) => {
            out.insert(orig.to_string(), stored(poverty)?);
        }
        Ok(RegionLevel::Township | RegionLevel::Village) => {
            if let Some(parent) = parent {
                next.push((orig.to_string(), parent.clone()));
            }
        }
        _ => {}
    }
    Ok(())
}
