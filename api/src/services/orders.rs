//! Bulk orders, the supplier-order lifecycle, acceptance into the ledger,
//! returns and ratings.
//!
//! `place_order` is the one path that creates orders: `POST /orders`, standing
//! agreements and alert pledges all call it, so validation, stock reservation
//! and idempotency are the same everywhere.
use super::{ledger, new_id, now, organizations, outbox, regions, required_text, sql, stock, today, PageParams};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{from_fen, from_milli, line_amount_fen, to_milli, to_positive_milli};
use crate::state::AppState;
use entity::{idempotency_keys, order_lines, orders, pairings, products, supplier_orders};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    pub product_id: String,
    /// Decimal string, up to three places.
    #[schema(value_type = String, example = "100.5")]
    pub quantity: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub lines: Vec<NewOrderLine>,
    /// purchase | helped_sale
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub deliver_to: String,
    pub requested_date: chrono::NaiveDate,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct OrderLine {
    pub id: String,
    pub product_id: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub unit_price: Decimal,
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[schema(value_type = Option<String>)]
    pub accepted_quantity: Option<Decimal>,
    #[schema(value_type = String)]
    pub returned_quantity: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct SupplierOrder {
    pub id: String,
    pub order_id: String,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    /// placed | confirmed | shipped | delivered | accepted | rejected | cancelled
    pub status: String,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub lines: Vec<OrderLine>,
    pub shipment_note: Option<String>,
    pub invoice_number: Option<String>,
    pub acceptance_note: Option<String>,
    pub status_note: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Order {
    pub id: String,
    pub buyer_org_id: String,
    /// placed | in_progress | completed | cancelled (derived from the supplier orders)
    pub status: String,
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub deliver_to: String,
    pub requested_date: chrono::NaiveDate,
    #[schema(value_type = String)]
    pub total: Decimal,
    pub supplier_orders: Vec<SupplierOrder>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Where an order came from (stored in `orders.source` / `orders.source_ref`).
#[derive(Debug, Clone)]
pub enum OrderSource {
    Direct,
    /// A standing agreement's period, e.g. ("agreement id", "2026-11").
    Agreement {
        agreement_id: String,
        period: String,
    },
    /// A pledge on an unsold-produce alert.
    Pledge {
        alert_id: String,
    },
}

/// The outcome of `place_order`: the HTTP status to answer with (201 first time,
/// the stored status on a replay) and the order.
#[derive(Debug, Clone)]
pub struct Placed {
    pub status: u16,
    pub order: Order,
    /// True when this is a replay of an earlier request with the same key.
    pub replayed: bool,
}

crate::page_type!(OrderPage, Order);
crate::page_type!(SupplierOrderPage, SupplierOrder);

/// How long an idempotency key is remembered.
pub const KEY_TTL_HOURS: i64 = 24;
const MAX_LINES: usize = 200;
pub const CREDIT_CATEGORIES: [&str; 2] = ["purchase", "helped_sale"];

/// Moves a `Result` into `errors` when it is a validation failure.
fn collect<T>(errors: &mut Vec<FieldError>, r: AppResult<T>) -> AppResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(AppError::Validation { errors: e, .. }) => {
            errors.extend(e);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

fn check_note(errors: &mut Vec<FieldError>, field: &str, note: &Option<String>) {
    if let Some(n) = note {
        if n.chars().count() > 2000 {
            errors.push(FieldError::new(field, "must be at most 2000 characters"));
        }
    }
}

fn clean_note(note: Option<String>) -> Option<String> {
    note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}

/// SHA-256 of the canonical request: the body with quantities normalised, plus where it came from.
fn request_hash(req: &NewOrder, source: &OrderSource) -> AppResult<String> {
    let mut canon = req.clone();
    for l in &mut canon.lines {
        l.quantity = l.quantity.normalize();
    }
    let body = serde_json::to_string(&canon).map_err(AppError::internal)?;
    let src = match source {
        OrderSource::Direct => "direct".to_string(),
        OrderSource::Agreement { agreement_id, period } => format!("agreement:{agreement_id}:{period}"),
        OrderSource::Pledge { alert_id } => format!("pledge:{alert_id}"),
    };
    let mut h = Sha256::new();
    h.update(src.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    Ok(hex::encode(h.finalize()))
}

/// Validates, reserves stock and writes the order with its idempotency key in one transaction.
///
/// The key row is inserted first: its primary key serialises racing retries (on PostgreSQL the
/// second insert waits for the first transaction), so a key never yields two orders, and the
/// key and its order commit or vanish together.
pub async fn place_order(
    state: &AppState,
    caller: &Caller,
    req: NewOrder,
    idempotency_key: &str,
    source: OrderSource,
) -> AppResult<Placed> {
    caller.require(&[Role::Buyer])?;
    let key = idempotency_key.trim();
    if key.is_empty() || key.len() > 255 {
        return Err(AppError::BadRequest(
            "Idempotency-Key must be 1 to 255 characters".into(),
        ));
    }
    validate_shape(&req, &source)?;
    let hash = request_hash(&req, &source)?;
    let scope = caller.org_id.clone();
    let t = now();
    let expires = t + chrono::Duration::hours(KEY_TTL_HOURS);

    let txn = state.db.begin().await?;
    let ins = txn
        .execute_raw(sql(
            &txn,
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, response_status, response_body, resource_id, created_at, expires_at) \
             VALUES ($1, $2, $3, 0, '', NULL, $4, $5) \
             ON CONFLICT (scope, idem_key) DO UPDATE SET request_hash = excluded.request_hash, response_status = 0, \
             response_body = '', resource_id = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at \
             WHERE idempotency_keys.expires_at < $4",
            vec![scope.clone().into(), key.into(), hash.clone().into(), t.into(), expires.into()],
        ))
        .await?;
    if ins.rows_affected() == 0 {
        txn.rollback().await?;
        return replay(state, &scope, key, &hash).await;
    }
    match write_order(&txn, caller, &req, &source).await {
        Ok(order) => {
            let body = serde_json::to_string(&order).map_err(AppError::internal)?;
            txn.execute_raw(sql(
                &txn,
                "UPDATE idempotency_keys SET response_status = 201, response_body = $1, resource_id = $2 WHERE scope = $3 AND idem_key = $4",
                vec![body.into(), order.id.clone().into(), scope.into(), key.into()],
            ))
            .await?;
            txn.commit().await?;
            // The catalogue shows available stock: pages cached before the reservation are stale.
            state.cache.bump_generation("catalog").await;
            Ok(Placed {
                status: 201,
                order,
                replayed: false,
            })
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Deletes idempotency keys past their 24 hours (expired keys are already ignored; this keeps
/// the table small). Returns how many were removed.
pub async fn sweep_expired_keys(state: &AppState) -> AppResult<u64> {
    let db = &state.db;
    let res = db
        .execute_raw(sql(
            db,
            "DELETE FROM idempotency_keys WHERE expires_at < $1",
            vec![now().into()],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// Answers a request whose key is already stored: the first response, 422 for another body,
/// 409 when the first is still running after a short wait.
async fn replay(state: &AppState, scope: &str, key: &str, hash: &str) -> AppResult<Placed> {
    for _ in 0..50 {
        let row = idempotency_keys::Entity::find_by_id((scope.to_string(), key.to_string()))
            .one(&state.db)
            .await?;
        match row {
            Some(r) if r.request_hash != hash => {
                return Err(AppError::field(
                    "Idempotency-Key",
                    "was already used with a different request body",
                ))
            }
            Some(r) if r.response_status != 0 => {
                let order: Order = serde_json::from_str(&r.response_body).map_err(AppError::internal)?;
                return Ok(Placed {
                    status: r.response_status as u16,
                    order,
                    replayed: true,
                });
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    Err(AppError::Conflict(
        "a request with this Idempotency-Key is still being processed; retry later".into(),
    ))
}

/// Checks what needs no database: categories, text, dates, quantity formats.
fn validate_shape(req: &NewOrder, source: &OrderSource) -> AppResult<()> {
    let mut errors = Vec::new();
    if req.lines.is_empty() {
        errors.push(FieldError::new("lines", "must list at least one line"));
    } else if req.lines.len() > MAX_LINES {
        errors.push(FieldError::new("lines", format!("must list at most {MAX_LINES} lines")));
    }
    if !CREDIT_CATEGORIES.contains(&req.credit_category.as_str()) {
        errors.push(FieldError::new("credit_category", "must be purchase or helped_sale"));
    }
    required_text(&mut errors, "deliver_to", &req.deliver_to, 500);
    if matches!(source, OrderSource::Direct) && req.requested_date < today() {
        errors.push(FieldError::new("requested_date", "must not be in the past"));
    }
    for (i, l) in req.lines.iter().enumerate() {
        if l.product_id.trim().is_empty() {
            errors.push(FieldError::new(format!("lines[{i}].product_id"), "must not be empty"));
        }
        collect(
            &mut errors,
            to_positive_milli(l.quantity, &format!("lines[{i}].quantity")),
        )?;
    }
    AppError::check(errors)
}

/// Validates against the database, reserves, and writes orders, supplier orders, lines and emails.
async fn write_order(
    txn: &DatabaseTransaction,
    caller: &Caller,
    req: &NewOrder,
    source: &OrderSource,
) -> AppResult<Order> {
    let today = today();
    let mut errors = Vec::new();
    if let Some(pid) = &req.pairing_id {
        let buyer = organizations::find(txn, &caller.org_id).await?;
        let ok = match pairings::Entity::find_by_id(pid.clone()).one(txn).await? {
            Some(p) => {
                use chrono::Datelike;
                p.year == today.year()
                    && (p.helper_org_id == buyer.id || Some(&p.helper_org_id) == buyer.parent_org_id.as_ref())
            }
            None => false,
        };
        if !ok {
            errors.push(FieldError::new(
                "pairing_id",
                "must be a pairing of this year whose helper is the buyer or its parent",
            ));
        }
    }
    let mut prods: HashMap<String, products::Model> = HashMap::new();
    let mut supplier_ok: HashMap<String, bool> = HashMap::new();
    let mut qtys = Vec::with_capacity(req.lines.len());
    for (i, l) in req.lines.iter().enumerate() {
        let pf = format!("lines[{i}].product_id");
        let qf = format!("lines[{i}].quantity");
        let qty = to_positive_milli(l.quantity, &qf)?;
        qtys.push(qty);
        let product = match prods.get(&l.product_id) {
            Some(p) => p.clone(),
            None => match products::Entity::find_by_id(l.product_id.clone()).one(txn).await? {
                Some(p) => {
                    prods.insert(p.id.clone(), p.clone());
                    p
                }
                None => {
                    errors.push(FieldError::new(pf, "is not a known product"));
                    continue;
                }
            },
        };
        if product.status != "certified" {
            errors.push(FieldError::new(
                pf,
                format!("is not a certified product (it is {})", product.status),
            ));
            continue;
        }
        if product.valid_until.map(|d| d < today).unwrap_or(true) {
            errors.push(FieldError::new(pf, "has an expired certification"));
            continue;
        }
        let active = match supplier_ok.get(&product.supplier_org_id) {
            Some(a) => *a,
            None => {
                let a = organizations::find(txn, &product.supplier_org_id).await?.status == "active";
                supplier_ok.insert(product.supplier_org_id.clone(), a);
                a
            }
        };
        if !active {
            errors.push(FieldError::new(pf, "belongs to a supplier that is not active"));
            continue;
        }
        if qty < product.min_order_qty_milli {
            errors.push(FieldError::new(
                qf,
                format!(
                    "is below the product's minimum order quantity ({})",
                    from_milli(product.min_order_qty_milli)
                ),
            ));
        }
    }
    AppError::check(errors)?;

    // Reserve per product in id order (a fixed lock order: no deadlocks between orders).
    let mut per_product: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for (i, l) in req.lines.iter().enumerate() {
        let e = per_product.entry(l.product_id.clone()).or_insert((0, i));
        e.0 += qtys[i];
    }
    let mut errors = Vec::new();
    for (pid, (qty, first)) in &per_product {
        if !stock::reserve(txn, pid, *qty).await? {
            let s = stock::stock_of(txn, pid).await?;
            errors.push(FieldError::new(
                format!("lines[{first}].quantity"),
                format!(
                    "exceeds the available stock ({} available)",
                    from_milli(s.available_milli)
                ),
            ));
        }
    }
    AppError::check(errors)?;

    // Split by supplier.
    let mut by_supplier: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, l) in req.lines.iter().enumerate() {
        if let Some(p) = prods.get(&l.product_id) {
            by_supplier.entry(p.supplier_org_id.clone()).or_default().push(i);
        }
    }
    let t = now();
    let order_id = new_id();
    let mut sos = Vec::new();
    let mut total = 0i64;
    let mut so_rows = Vec::new();
    for (supplier, idxs) in &by_supplier {
        let so_id = new_id();
        let mut lines = Vec::new();
        let mut so_total = 0i64;
        for &i in idxs {
            let l = &req.lines[i];
            let p = prods
                .get(&l.product_id)
                .ok_or_else(|| AppError::internal("product vanished"))?;
            let amount = line_amount_fen(p.price_fen, qtys[i]);
            so_total += amount;
            lines.push(order_lines::Model {
                id: new_id(),
                order_id: order_id.clone(),
                supplier_order_id: so_id.clone(),
                product_id: p.id.clone(),
                quantity_milli: qtys[i],
                unit_price_fen: p.price_fen,
                amount_fen: amount,
                accepted_quantity_milli: None,
                returned_quantity_milli: 0,
            });
        }
        total += so_total;
        so_rows.push((
            supplier_orders::Model {
                id: so_id,
                order_id: order_id.clone(),
                buyer_org_id: caller.org_id.clone(),
                supplier_org_id: supplier.clone(),
                status: "placed".into(),
                total_fen: so_total,
                shipment_note: None,
                invoice_number: None,
                acceptance_note: None,
                status_note: None,
                accepted_at: None,
                created_at: t,
                updated_at: t,
            },
            lines,
        ));
    }
    let (src, src_ref) = match source {
        OrderSource::Direct => ("direct", None),
        OrderSource::Agreement { agreement_id, period } => ("agreement", Some(format!("{agreement_id}:{period}"))),
        OrderSource::Pledge { alert_id } => ("pledge", Some(alert_id.clone())),
    };
    let order = orders::Model {
        id: order_id.clone(),
        buyer_org_id: caller.org_id.clone(),
        buyer_user_id: Some(caller.user_id.clone()).filter(|u| !u.is_empty()),
        credit_category: req.credit_category.clone(),
        pairing_id: req.pairing_id.clone(),
        deliver_to: req.deliver_to.trim().to_string(),
        requested_date: req.requested_date,
        total_fen: total,
        source: src.into(),
        source_ref: src_ref,
        created_at: t,
    };
    orders::ActiveModel::from(order.clone()).insert(txn).await?;
    let buyer = organizations::find(txn, &caller.org_id).await?;
    for (so, lines) in so_rows {
        supplier_orders::ActiveModel::from(so.clone()).insert(txn).await?;
        let mut text = format!(
            "{} placed order {} with you.\n\nDeliver to: {}\nRequested date: {}\n\n",
            buyer.name, so.id, order.deliver_to, order.requested_date
        );
        for l in &lines {
            order_lines::ActiveModel::from(l.clone()).insert(txn).await?;
            let name = prods.get(&l.product_id).map(|p| p.name.as_str()).unwrap_or("");
            text.push_str(&format!(
                "- {} ({}): {} at {} = {}\n",
                name,
                l.product_id,
                from_milli(l.quantity_milli),
                from_fen(l.unit_price_fen),
                from_fen(l.amount_fen)
            ));
        }
        text.push_str(&format!("\nTotal: {}\n", from_fen(so.total_fen)));
        outbox::enqueue_to_org(txn, &so.supplier_org_id, &format!("New order {}", so.id), &text).await?;
        sos.push(to_supplier_order(so, lines));
    }
    Ok(to_order(order, sos))
}

fn to_line(m: order_lines::Model) -> OrderLine {
    OrderLine {
        id: m.id,
        product_id: m.product_id,
        quantity: from_milli(m.quantity_milli),
        unit_price: from_fen(m.unit_price_fen),
        amount: from_fen(m.amount_fen),
        accepted_quantity: m.accepted_quantity_milli.map(from_milli),
        returned_quantity: from_milli(m.returned_quantity_milli),
    }
}

fn to_supplier_order(m: supplier_orders::Model, lines: Vec<order_lines::Model>) -> SupplierOrder {
    SupplierOrder {
        id: m.id,
        order_id: m.order_id,
        buyer_org_id: m.buyer_org_id,
        supplier_org_id: m.supplier_org_id,
        status: m.status,
        total: from_fen(m.total_fen),
        lines: lines.into_iter().map(to_line).collect(),
        shipment_note: m.shipment_note,
        invoice_number: m.invoice_number,
        acceptance_note: m.acceptance_note,
        status_note: m.status_note,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

/// The order's status, derived from its supplier orders.
fn derived_status(sos: &[SupplierOrder]) -> String {
    let closed = |s: &str| matches!(s, "accepted" | "rejected" | "cancelled");
    if sos.iter().all(|s| s.status == "placed") {
        "placed"
    } else if sos.iter().all(|s| s.status == "rejected" || s.status == "cancelled") {
        "cancelled"
    } else if sos.iter().all(|s| closed(&s.status)) {
        "completed"
    } else {
        "in_progress"
    }
    .into()
}

fn to_order(m: orders::Model, sos: Vec<SupplierOrder>) -> Order {
    Order {
        id: m.id,
        buyer_org_id: m.buyer_org_id,
        status: derived_status(&sos),
        credit_category: m.credit_category,
        pairing_id: m.pairing_id,
        deliver_to: m.deliver_to,
        requested_date: m.requested_date,
        total: from_fen(m.total_fen),
        supplier_orders: sos,
        created_at: m.created_at,
    }
}

async fn lines_of(
    conn: &impl ConnectionTrait,
    so_ids: Vec<String>,
) -> AppResult<HashMap<String, Vec<order_lines::Model>>> {
    let mut map: HashMap<String, Vec<order_lines::Model>> = HashMap::new();
    if so_ids.is_empty() {
        return Ok(map);
    }
    let rows = order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.is_in(so_ids))
        .order_by_asc(order_lines::Column::Id)
        .all(conn)
        .await?;
    for r in rows {
        map.entry(r.supplier_order_id.clone()).or_default().push(r);
    }
    Ok(map)
}

async fn load_supplier_orders(
    conn: &impl ConnectionTrait,
    rows: Vec<supplier_orders::Model>,
) -> AppResult<Vec<SupplierOrder>> {
    let mut lines = lines_of(conn, rows.iter().map(|r| r.id.clone()).collect()).await?;
    Ok(rows
        .into_iter()
        .map(|so| {
            let l = lines.remove(&so.id).unwrap_or_default();
            to_supplier_order(so, l)
        })
        .collect())
}

async fn load_orders(conn: &impl ConnectionTrait, rows: Vec<orders::Model>) -> AppResult<Vec<Order>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sos = supplier_orders::Entity::find()
        .filter(supplier_orders::Column::OrderId.is_in(rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>()))
        .order_by_asc(supplier_orders::Column::Id)
        .all(conn)
        .await?;
    let sos = load_supplier_orders(conn, sos).await?;
    let mut by_order: HashMap<String, Vec<SupplierOrder>> = HashMap::new();
    for so in sos {
        by_order.entry(so.order_id.clone()).or_default().push(so);
    }
    Ok(rows
        .into_iter()
        .map(|o| {
            let s = by_order.remove(&o.id).unwrap_or_default();
            to_order(o, s)
        })
        .collect())
}

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct SupplierOrderFilter {
    /// placed | confirmed | shipped | delivered | accepted | rejected | cancelled
    pub status: Option<String>,
    pub order_id: Option<String>,
}

/// Orders: a buyer's own and its children's; everything for admin and evaluators.
pub async fn list_orders(
    state: &AppState,
    caller: &Caller,
    page: &PageParams,
) -> AppResult<(Vec<Order>, Option<String>)> {
    caller.require(&[Role::Buyer, Role::Admin, Role::Evaluator])?;
    let limit = page.limit()?;
    let mut q = orders::Entity::find();
    if caller.is(Role::Buyer) {
        let ids = organizations::with_children(&state.db, &caller.org_id).await?;
        q = q.filter(orders::Column::BuyerOrgId.is_in(ids));
    }
    if let Some(c) = page.cursor()? {
        q = q.filter(orders::Column::Id.lt(c));
    }
    let rows = q
        .order_by_desc(orders::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next) = super::paginate(rows, limit, |r| r.id.clone());
    Ok((load_orders(&state.db, rows).await?, next))
}

pub async fn get_order(state: &AppState, caller: &Caller, id: &str) -> AppResult<Order> {
    caller.require(&[Role::Buyer, Role::Admin, Role::Evaluator])?;
    let o = orders::Entity::find_by_id(id.to_string())
        .one(&state.db)
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
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    let limit = page.limit()?;
    let mut q = supplier_orders::Entity::find();
    match caller.role {
        Role::Buyer => {
            let ids = organizations::with_children(&state.db, &caller.org_id).await?;
            q = q.filter(supplier_orders::Column::BuyerOrgId.is_in(ids));
        }
        Role::Supplier => q = q.filter(supplier_orders::Column::SupplierOrgId.eq(caller.org_id.clone())),
        _ => {}
    }
    if let Some(s) = &f.status {
        q = q.filter(supplier_orders::Column::Status.eq(s.clone()));
    }
    if let Some(o) = &f.order_id {
        q = q.filter(supplier_orders::Column::OrderId.eq(o.clone()));
    }
    if let Some(c) = page.cursor()? {
        q = q.filter(supplier_orders::Column::Id.lt(c));
    }
    let rows = q
        .order_by_desc(supplier_orders::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next) = super::paginate(rows, limit, |r| r.id.clone());
    Ok((load_supplier_orders(&state.db, rows).await?, next))
}

/// The supplier order if the caller may see it (404 otherwise).
async fn visible_supplier_order(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
) -> AppResult<supplier_orders::Model> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    let so = supplier_orders::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("supplier order"))?;
    let visible = match caller.role {
        Role::Buyer => organizations::with_children(conn, &caller.org_id)
            .await?
            .contains(&so.buyer_org_id),
        Role::Supplier => so.supplier_org_id == caller.org_id,
        _ => true,
    };
    if !visible {
        return Err(AppError::NotFound("supplier order"));
    }
    Ok(so)
}

pub async fn get_supplier_order(state: &AppState, caller: &Caller, id: &str) -> AppResult<SupplierOrder> {
    let so = visible_supplier_order(&state.db, caller, id).await?;
    reload(&state.db, &so.id).await
}

async fn reload(conn: &impl ConnectionTrait, id: &str) -> AppResult<SupplierOrder> {
    let so = supplier_orders::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("supplier order"))?;
    load_supplier_orders(conn, vec![so])
        .await?
        .pop()
        .ok_or(AppError::NotFound("supplier order"))
}

/// The simple actions of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Confirm,
    Reject,
    Ship,
    Deliver,
    Cancel,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Reject => "reject",
            Action::Ship => "ship",
            Action::Deliver => "deliver",
            Action::Cancel => "cancel",
        }
    }

    /// (allowed from, to, acting role)
    fn rule(&self) -> (&'static [&'static str], &'static str, Role) {
        match self {
            Action::Confirm => (&["placed"], "confirmed", Role::Supplier),
            Action::Reject => (&["placed"], "rejected", Role::Supplier),
            Action::Ship => (&["confirmed"], "shipped", Role::Supplier),
            Action::Deliver => (&["shipped"], "delivered", Role::Supplier),
            Action::Cancel => (&["placed", "confirmed"], "cancelled", Role::Buyer),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionNote {
    /// Optional note (for `ship`: the shipment note).
    pub note: Option<String>,
}

/// 404 unless visible; 403 unless the caller is the acting side of the order.
async fn acting_on(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: &str,
    role: Role,
) -> AppResult<supplier_orders::Model> {
    let so = visible_supplier_order(conn, caller, id).await?;
    let own = match role {
        Role::Supplier => caller.is(Role::Supplier) && so.supplier_org_id == caller.org_id,
        _ => caller.is(Role::Buyer) && so.buyer_org_id == caller.org_id,
    };
    if !own {
        return Err(AppError::Forbidden(format!(
            "only the {} of this order may do this",
            if role == Role::Supplier { "supplier" } else { "buyer" }
        )));
    }
    Ok(so)
}

async fn conflict(conn: &impl ConnectionTrait, id: &str, action: &str) -> AppResult<AppError> {
    let cur = supplier_orders::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .map(|s| s.status)
        .unwrap_or_default();
    Ok(AppError::Conflict(format!(
        "cannot {action} a supplier order that is {cur}"
    )))
}

async fn release_all(txn: &DatabaseTransaction, so_id: &str) -> AppResult<()> {
    let mut lines = order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.eq(so_id.to_string()))
        .all(txn)
        .await?;
    lines.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    for l in lines {
        stock::release(txn, &l.product_id, l.quantity_milli).await?;
    }
    Ok(())
}

async fn email_buyer(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    status: &str,
    note: Option<&str>,
) -> AppResult<()> {
    let mut body = format!("Supplier order {} (order {}) is now {status}.\n", so.id, so.order_id);
    if let Some(n) = note {
        body.push_str(&format!("\nNote: {n}\n"));
    }
    outbox::enqueue_to_org(
        conn,
        &so.buyer_org_id,
        &format!("Supplier order {} is {status}", so.id),
        &body,
    )
    .await
}

async fn email_supplier(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    status: &str,
    note: Option<&str>,
) -> AppResult<()> {
    let mut body = format!("The buyer marked supplier order {} as {status}.\n", so.id);
    if let Some(n) = note {
        body.push_str(&format!("\nNote: {n}\n"));
    }
    outbox::enqueue_to_org(
        conn,
        &so.supplier_org_id,
        &format!("Supplier order {} was {status} by the buyer", so.id),
        &body,
    )
    .await
}

/// confirm | reject | ship | deliver | cancel. Race-safe: the UPDATE re-checks the state.
pub async fn transition(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: Action,
    body: ActionNote,
) -> AppResult<SupplierOrder> {
    let (from, to, role) = action.rule();
    let so = acting_on(&state.db, caller, id, role).await?;
    let mut errors = Vec::new();
    check_note(&mut errors, "note", &body.note);
    AppError::check(errors)?;
    let note = clean_note(body.note);
    let placeholders = from.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    let set_ship = if action == Action::Ship {
        ", shipment_note = $2"
    } else {
        ""
    };
    let txn = state.db.begin().await?;
    let res = txn
        .execute_raw(sql(
            &txn,
            &format!(
                "UPDATE supplier_orders SET status = $1, status_note = $2, updated_at = $3{set_ship} WHERE id = $4 AND status IN ({placeholders})"
            ),
            vec![to.into(), note.clone().into(), now().into(), so.id.clone().into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        let e = conflict(&txn, &so.id, action.name()).await?;
        txn.rollback().await?;
        return Err(e);
    }
    if matches!(action, Action::Reject | Action::Cancel) {
        release_all(&txn, &so.id).await?;
    }
    email_buyer(&txn, &so, to, note.as_deref()).await?;
    if action == Action::Cancel {
        email_supplier(&txn, &so, "cancelled", note.as_deref()).await?;
    }
    txn.commit().await?;
    if matches!(action, Action::Reject | Action::Cancel) {
        // Released stock is available again in the catalogue.
        state.cache.bump_generation("catalog").await;
    }
    reload(&state.db, &so.id).await
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptLine {
    pub line_id: String,
    #[schema(value_type = String, example = "95.5")]
    pub accepted_quantity: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// Every line of the supplier order, once, with what was accepted (0 to the ordered quantity).
    pub lines: Vec<AcceptLine>,
    pub invoice_number: String,
    pub note: Option<String>,
}

/// The buyer accepts a delivered supplier order: accepted quantities leave stock and are
/// credited to the ledger (one entry per line); the rest of the reservation is released.
pub async fn accept(state: &AppState, caller: &Caller, id: &str, body: Acceptance) -> AppResult<SupplierOrder> {
    let so = acting_on(&state.db, caller, id, Role::Buyer).await?;
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.eq(so.id.clone()))
        .all(&state.db)
        .await?;
    let mut errors = Vec::new();
    required_text(&mut errors, "invoice_number", &body.invoice_number, 100);
    check_note(&mut errors, "note", &body.note);
    let mut accepted: HashMap<String, i64> = HashMap::new();
    for (i, al) in body.lines.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| l.id == al.line_id) else {
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
        let qf = format!("lines[{i}].accepted_quantity");
        if let Some(q) = collect(&mut errors, to_milli(al.accepted_quantity, &qf))? {
            if q > line.quantity_milli {
                errors.push(FieldError::new(
                    qf,
                    format!(
                        "must not exceed the ordered quantity ({})",
                        from_milli(line.quantity_milli)
                    ),
                ));
            }
            accepted.insert(line.id.clone(), q);
        }
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
    AppError::check(errors)?;
    let note = clean_note(body.note);
    let t = now();
    let txn = state.db.begin().await?;
    let res = txn
        .execute_raw(sql(
            &txn,
            "UPDATE supplier_orders SET status = 'accepted', invoice_number = $1, acceptance_note = $2, status_note = $2, \
             accepted_at = $3, updated_at = $3 WHERE id = $4 AND status = 'delivered'",
            vec![body.invoice_number.trim().into(), note.clone().into(), t.into(), so.id.clone().into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        let e = conflict(&txn, &so.id, "accept").await?;
        txn.rollback().await?;
        return Err(e);
    }
    let order = orders::Entity::find_by_id(so.order_id.clone())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    let mut sorted = lines.clone();
    sorted.sort_by(|a, b| a.product_id.cmp(&b.product_id).then(a.id.cmp(&b.id)));
    for l in &sorted {
        let q = accepted.get(&l.id).copied().unwrap_or(0);
        txn.execute_raw(sql(
            &txn,
            "UPDATE order_lines SET accepted_quantity_milli = $1 WHERE id = $2",
            vec![q.into(), l.id.clone().into()],
        ))
        .await?;
        stock::release(&txn, &l.product_id, l.quantity_milli).await?;
        if q > 0 {
            stock::consume(&txn, &l.product_id, q, "sale", Some(&so.id), Some(&caller.user_id)).await?;
        }
    }
    for l in &sorted {
        let q = accepted.get(&l.id).copied().unwrap_or(0);
        if q == 0 {
            continue;
        }
        let entry = entry_for(&txn, &so, &order, l, q, line_amount_fen(l.unit_price_fen, q), "credit").await?;
        ledger::append(&txn, entry).await?;
    }
    email_buyer(&txn, &so, "accepted", note.as_deref()).await?;
    email_supplier(&txn, &so, "accepted", note.as_deref()).await?;
    txn.commit().await?;
    // Reservations were released and accepted quantities consumed: stock changed.
    state.cache.bump_generation("catalog").await;
    reload(&state.db, &so.id).await
}

async fn entry_for(
    txn: &DatabaseTransaction,
    so: &supplier_orders::Model,
    order: &orders::Model,
    l: &order_lines::Model,
    qty: i64,
    amount: i64,
    kind: &str,
) -> AppResult<ledger::NewEntry> {
    let p = products::Entity::find_by_id(l.product_id.clone())
        .one(txn)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let poverty = regions::county_of(txn, &p.origin_county_code)
        .await?
        .map(|c| c.poverty_status)
        .unwrap_or_else(|| "none".into());
    Ok(ledger::NewEntry {
        buyer_org_id: so.buyer_org_id.clone(),
        supplier_org_id: so.supplier_org_id.clone(),
        product_id: p.id.clone(),
        category: p.category.clone(),
        supplier_order_id: so.id.clone(),
        order_line_id: l.id.clone(),
        origin_region_code: p.origin_region_code.clone(),
        origin_county_code: p.origin_county_code.clone(),
        origin_poverty_status: poverty,
        quantity_milli: qty,
        amount_fen: amount,
        kind: kind.into(),
        credit_category: order.credit_category.clone(),
        pairing_id: order.pairing_id.clone(),
    })
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    pub line_id: String,
    #[schema(value_type = String, example = "2.5")]
    pub quantity: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    pub lines: Vec<ReturnLine>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReturnedLine {
    pub id: String,
    pub line_id: String,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// The reversal's ledger entry.
    pub ledger_seq: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Return {
    pub supplier_order_id: String,
    pub reason: String,
    pub lines: Vec<ReturnedLine>,
    pub supplier_order: SupplierOrder,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A return after acceptance: at most what was accepted and not yet returned, per line;
/// each line appends a reversal (negative quantity and amount) to the ledger.
pub async fn create_return(state: &AppState, caller: &Caller, id: &str, body: NewReturn) -> AppResult<Return> {
    let so = acting_on(&state.db, caller, id, Role::Buyer).await?;
    if so.status != "accepted" {
        return Err(AppError::Conflict(format!(
            "only an accepted supplier order can have returns (this one is {})",
            so.status
        )));
    }
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.eq(so.id.clone()))
        .all(&state.db)
        .await?;
    let mut errors = Vec::new();
    required_text(&mut errors, "reason", &body.reason, 2000);
    if body.lines.is_empty() {
        errors.push(FieldError::new("lines", "must list at least one line"));
    }
    let mut wanted: Vec<(usize, order_lines::Model, i64)> = Vec::new();
    for (i, rl) in body.lines.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| l.id == rl.line_id) else {
            errors.push(FieldError::new(
                format!("lines[{i}].line_id"),
                "is not a line of this supplier order",
            ));
            continue;
        };
        if wanted.iter().any(|(_, l, _)| l.id == line.id) {
            errors.push(FieldError::new(format!("lines[{i}].line_id"), "is listed twice"));
            continue;
        }
        let qf = format!("lines[{i}].quantity");
        if let Some(q) = collect(&mut errors, to_positive_milli(rl.quantity, &qf))? {
            let left = line.accepted_quantity_milli.unwrap_or(0) - line.returned_quantity_milli;
            if q > left {
                errors.push(FieldError::new(
                    qf,
                    format!(
                        "must not exceed what was accepted and not yet returned ({})",
                        from_milli(left)
                    ),
                ));
            } else {
                wanted.push((i, line.clone(), q));
            }
        }
    }
    AppError::check(errors)?;
    let order = orders::Entity::find_by_id(so.order_id.clone())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("order"))?;
    let t = now();
    let reason = body.reason.trim().to_string();
    let txn = state.db.begin().await?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, l, q) in &wanted {
        let res = txn
            .execute_raw(sql(
                &txn,
                "UPDATE order_lines SET returned_quantity_milli = returned_quantity_milli + $1 \
                 WHERE id = $2 AND accepted_quantity_milli IS NOT NULL AND accepted_quantity_milli - returned_quantity_milli >= $1",
                vec![(*q).into(), l.id.clone().into()],
            ))
            .await?;
        if res.rows_affected() != 1 {
            errors.push(FieldError::new(
                format!("lines[{i}].quantity"),
                "must not exceed what was accepted and not yet returned",
            ));
        }
    }
    if !errors.is_empty() {
        txn.rollback().await?;
        AppError::check(errors)?;
        return Err(AppError::internal("return refused without a reason"));
    }
    for (_, l, q) in &wanted {
        let now_line = order_lines::Entity::find_by_id(l.id.clone())
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound("order line"))?;
        let after = now_line.returned_quantity_milli;
        let before = after - q;
        // Amounts by difference, so that pieces returned add up to the credited amount exactly.
        let amount = line_amount_fen(l.unit_price_fen, after) - line_amount_fen(l.unit_price_fen, before);
        let entry = entry_for(&txn, &so, &order, l, -q, -amount, "reversal").await?;
        let m = ledger::append(&txn, entry).await?;
        let rid = new_id();
        entity::order_returns::ActiveModel {
            id: Set(rid.clone()),
            supplier_order_id: Set(so.id.clone()),
            order_line_id: Set(l.id.clone()),
            quantity_milli: Set(*q),
            amount_fen: Set(amount),
            reason: Set(reason.clone()),
            ledger_seq: Set(Some(m.seq)),
            created_by: Set(Some(caller.user_id.clone())),
            created_at: Set(t),
        }
        .insert(&txn)
        .await?;
        out.push(ReturnedLine {
            id: rid,
            line_id: l.id.clone(),
            quantity: from_milli(*q),
            amount: from_fen(amount),
            ledger_seq: m.seq,
        });
    }
    outbox::enqueue_to_org(
        &txn,
        &so.supplier_org_id,
        &format!("Return on supplier order {}", so.id),
        &format!(
            "The buyer returned goods of supplier order {}.\n\nReason: {reason}\n",
            so.id
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(Return {
        supplier_order_id: so.id.clone(),
        reason,
        lines: out,
        supplier_order: reload(&state.db, &so.id).await?,
        created_at: t,
    })
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRating {
    /// 1 to 5.
    pub score: i32,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    pub supplier_order_id: String,
    pub supplier_org_id: String,
    pub buyer_org_id: String,
    pub score: i32,
    pub comment: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The buyer rates the supplier after acceptance, once per supplier order.
pub async fn rate(state: &AppState, caller: &Caller, id: &str, body: NewRating) -> AppResult<Rating> {
    let so = acting_on(&state.db, caller, id, Role::Buyer).await?;
    let mut errors = Vec::new();
    if !(1..=5).contains(&body.score) {
        errors.push(FieldError::new("score", "must be between 1 and 5"));
    }
    if body.comment.chars().count() > 2000 {
        errors.push(FieldError::new("comment", "must be at most 2000 characters"));
    }
    AppError::check(errors)?;
    if so.status != "accepted" {
        return Err(AppError::Conflict(format!(
            "only an accepted supplier order can be rated (this one is {})",
            so.status
        )));
    }
    let t = now();
    let comment = body.comment.trim().to_string();
    let db = &state.db;
    let res = db
        .execute_raw(sql(
            db,
            "INSERT INTO supplier_ratings (supplier_order_id, supplier_org_id, buyer_org_id, score, comment, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (supplier_order_id) DO NOTHING",
            vec![
                so.id.clone().into(),
                so.supplier_org_id.clone().into(),
                so.buyer_org_id.clone().into(),
                body.score.into(),
                comment.clone().into(),
                caller.user_id.clone().into(),
                t.into(),
            ],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Err(AppError::Conflict("this supplier order has already been rated".into()));
    }
    Ok(Rating {
        supplier_order_id: so.id,
        supplier_org_id: so.supplier_org_id,
        buyer_org_id: so.buyer_org_id,
        score: body.score,
        comment,
        created_at: t,
    })
}
