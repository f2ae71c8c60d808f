//! Reading orders and supplier orders, scoped to the caller, and the row → domain mapping.
use super::queries::{self, Side};
use super::types::{Order, OrderLine, SupplierOrder};
use crate::auth::{Caller, Role};
use crate::domain::{Money, OrderId, OrderStatus, Quantity, SupplierOrderId, SupplierOrderStatus};
use crate::error::{AppError, AppResult};
use crate::services::{organizations, paginate, payments, stored, weight, PageParams};
use crate::state::AppState;
use entity::{order_lines, orders, supplier_orders};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;

fn qty(v: i64) -> AppResult<Quantity> {
    Quantity::from_minor(v).map_err(AppError::internal)
}

fn money(v: i64) -> AppResult<Money> {
    Money::from_minor(v).map_err(AppError::internal)
}

fn to_line(m: order_lines::Model) -> AppResult<OrderLine> {
    Ok(OrderLine {
        id: stored(&m.id)?,
        product_id: stored(&m.product_id)?,
        quantity: qty(m.quantity_milli)?,
        unit_price: money(m.unit_price_fen)?,
        amount: money(m.amount_fen)?,
        accepted_quantity: m.accepted_quantity_milli.map(qty).transpose()?,
        returned_quantity: qty(m.returned_quantity_milli)?,
        weight: None,
    })
}

pub(super) fn to_supplier_order(m: supplier_orders::Model, lines: Vec<order_lines::Model>) -> AppResult<SupplierOrder> {
    Ok(SupplierOrder {
        id: stored(&m.id)?,
        order_id: stored(&m.order_id)?,
        buyer_org_id: stored(&m.buyer_org_id)?,
        supplier_org_id: stored(&m.supplier_org_id)?,
        status: stored(&m.status)?,
        total: money(m.total_fen)?,
        lines: lines.into_iter().map(to_line).collect::<AppResult<_>>()?,
        shipment_note: m.shipment_note,
        invoice_number: m.invoice_number,
        acceptance_note: m.acceptance_note,
        status_note: m.status_note,
        payment: None,
        shipped_lots: Vec::new(),
        weighed: None,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_order(m: orders::Model, sos: Vec<SupplierOrder>) -> AppResult<Order> {
    let parts: Vec<SupplierOrderStatus> = sos.iter().map(|s| s.status).collect();
    Ok(Order {
        id: stored(&m.id)?,
        buyer_org_id: stored(&m.buyer_org_id)?,
        status: OrderStatus::derive(&parts),
        credit_category: stored(&m.credit_category)?,
        pairing_id: m.pairing_id.as_deref().map(stored).transpose()?,
        deliver_to: m.deliver_to,
        requested_date: m.requested_date,
        payment_terms: stored(&m.payment_terms)?,
        deliver_by: m.deliver_by,
        total: money(m.total_fen)?,
        weighed: None,
        supplier_orders: sos,
        created_at: m.created_at,
    })
}

/// An order from its rows (as just written).
pub(super) fn to_order_with(
    m: orders::Model,
    sos: Vec<supplier_orders::Model>,
    lines: Vec<order_lines::Model>,
) -> AppResult<Order> {
    let mut by_so: HashMap<String, Vec<order_lines::Model>> = HashMap::new();
    for l in lines {
        by_so.entry(l.supplier_order_id.clone()).or_default().push(l);
    }
    let sos = sos
        .into_iter()
        .map(|so| {
            let l = by_so.remove(&so.id).unwrap_or_default();
            to_supplier_order(so, l)
        })
        .collect::<AppResult<Vec<_>>>()?;
    to_order(m, sos)
}

async fn load_supplier_orders(
    conn: &impl ConnectionTrait,
    rows: Vec<supplier_orders::Model>,
) -> AppResult<Vec<SupplierOrder>> {
    let mut lines: HashMap<String, Vec<order_lines::Model>> = HashMap::new();
    for l in queries::lines_of(conn, rows.iter().map(|r| r.id.clone()).collect()).await? {
        lines.entry(l.supplier_order_id.clone()).or_default().push(l);
    }
    let mut sos = rows
        .into_iter()
        .map(|so| {
            let l = lines.remove(&so.id).unwrap_or_default();
            to_supplier_order(so, l)
        })
        .collect::<AppResult<Vec<_>>>()?;
    attach_all(conn, &mut sos).await?;
    Ok(sos)
}

/// A supplier order from its row, lines, shipped lots and weight rows as a write just left
/// them (no need to read them back), with its terms as the transaction read them.
pub(super) fn reload_known(
    so: supplier_orders::Model,
    lines: Vec<order_lines::Model>,
    shipped: Vec<crate::services::compliance::ShippedLot>,
    weights: Vec<entity::order_line_weights::Model>,
    terms: Vec<entity::supplier_order_terms::Model>,
) -> AppResult<SupplierOrder> {
    let mut so = to_supplier_order(so, lines)?;
    so.shipped_lots = shipped;
    let sos = std::slice::from_mut(&mut so);
    payments::attach_rows(sos, terms)?;
    weight::attach_rows(sos, weights)?;
    Ok(so)
}

async fn attach_all(conn: &impl ConnectionTrait, sos: &mut [SupplierOrder]) -> AppResult<()> {
    payments::attach(conn, sos).await?;
    crate::services::compliance::attach(conn, sos).await?;
    weight::attach(conn, sos).await
}

async fn load_orders(conn: &impl ConnectionTrait, rows: Vec<orders::Model>) -> AppResult<Vec<Order>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sos = queries::supplier_orders_of(conn, rows.iter().map(|r| r.id.clone()).collect()).await?;
    let sos = load_supplier_orders(conn, sos).await?;
    let mut by_order: HashMap<OrderId, Vec<SupplierOrder>> = HashMap::new();
    for so in sos {
        by_order.entry(so.order_id).or_default().push(so);
    }
    rows.into_iter()
        .map(|o| {
            let s = stored::<OrderId>(&o.id)
                .ok()
                .and_then(|id| by_order.remove(&id))
                .unwrap_or_default();
            let mut order = to_order(o, s)?;
            weight::attach_order(&mut order)?;
            Ok(order)
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct SupplierOrderFilter {
    pub status: Option<SupplierOrderStatus>,
    pub order_id: Option<OrderId>,
}

/// Orders: a buyer's own and its children's; everything for admin and evaluators.
pub async fn list_orders(
    state: &AppState,
    caller: &Caller,
    page: &PageParams,
) -> AppResult<(Vec<Order>, Option<String>)> {
    may_list_orders(caller)?;
    let limit = page.limit()?;
    let buyers = if caller.is(Role::Buyer) {
        Some(organizations::with_children(&state.db, &caller.org_id).await?)
    } else {
        None
    };
    let rows = queries::orders_page(&state.db, buyers, page.cursor()?, limit + 1).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((load_orders(&state.db, rows).await?, next))
}

pub async fn get_order(state: &AppState, caller: &Caller, id: OrderId) -> AppResult<Order> {
    caller.require(&[Role::Buyer, Role::Admin, Role::Evaluator])?;
    let o = queries::find_order(&state.db, id.to_string())
        .await?
        .ok_or(AppError::NotFound("order"))?;
    if caller.is(Role::Buyer)
        && !organizations::with_children(&state.db, &caller.org_id)
            .await?
            .contains(&o.buyer_org_id)
    {
        return Err(AppError::NotFound("order"));
    }
    load_orders(&state.db, vec![o])
        .await?
        .pop()
        .ok_or(AppError::NotFound("order"))
}

pub async fn list_supplier_orders(
    state: &AppState,
    caller: &Caller,
    f: &SupplierOrderFilter,
    page: &PageParams,
) -> AppResult<(Vec<SupplierOrder>, Option<String>)> {
    may_list_supplier_orders(caller)?;
    let limit = page.limit()?;
    let side = match caller.role {
        Role::Buyer => Side::Buyers(organizations::with_children(&state.db, &caller.org_id).await?),
        Role::Supplier => Side::Supplier(caller.org_id.to_string()),
        _ => Side::All,
    };
    let rows = queries::supplier_orders_page(
        &state.db,
        side,
        f.status,
        f.order_id.map(|o| o.to_string()),
        page.cursor()?,
        limit + 1,
    )
    .await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((load_supplier_orders(&state.db, rows).await?, next))
}

/// The supplier order if the caller may see it (404 otherwise).
pub(super) async fn visible_supplier_order(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: SupplierOrderId,
) -> AppResult<supplier_orders::Model> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    let so = queries::find_supplier_order(conn, id.to_string())
        .await?
        .ok_or(AppError::NotFound("supplier order"))?;
    check_visible(conn, caller, &so).await?;
    Ok(so)
}

/// As [`visible_supplier_order`], with its order read in the same statement.
pub(super) async fn visible_with_order(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: SupplierOrderId,
) -> AppResult<(supplier_orders::Model, Option<orders::Model>)> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    let (so, order) = super::accept_queries::supplier_order_with_order(conn, id.to_string())
        .await?
        .ok_or(AppError::NotFound("supplier order"))?;
    check_visible(conn, caller, &so).await?;
    Ok((so, order))
}

/// 404 unless the caller may see the supplier order.
async fn check_visible(conn: &impl ConnectionTrait, caller: &Caller, so: &supplier_orders::Model) -> AppResult<()> {
    let visible = match caller.role {
        // Its own order needs no look at its children.
        Role::Buyer => {
            so.buyer_org_id == caller.org_id
                || organizations::with_children(conn, &caller.org_id)
                    .await?
                    .contains(&so.buyer_org_id)
        }
        Role::Supplier => so.supplier_org_id == caller.org_id,
        _ => true,
    };
    if !visible {
        return Err(AppError::NotFound("supplier order"));
    }
    Ok(())
}

pub async fn get_supplier_order(state: &AppState, caller: &Caller, id: SupplierOrderId) -> AppResult<SupplierOrder> {
    let so = visible_supplier_order(&state.db, caller, id).await?;
    reload(&state.db, &so.id).await
}

pub(super) async fn reload(conn: &impl ConnectionTrait, id: &str) -> AppResult<SupplierOrder> {
    let so = queries::find_supplier_order(conn, id.to_string())
        .await?
        .ok_or(AppError::NotFound("supplier order"))?;
    load_supplier_orders(conn, vec![so])
        .await?
        .pop()
        .ok_or(AppError::NotFound("supplier order"))
}

/// Who may list orders, checked before the query is read: authorise, then validate.
pub fn may_list_orders(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Buyer, Role::Admin, Role::Evaluator])
}

/// Who may list supplier orders, checked before the query is read.
pub fn may_list_supplier_orders(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])
}
