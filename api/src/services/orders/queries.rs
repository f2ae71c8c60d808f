//! Every statement of the orders capability. States are bound from their enums.
use crate::domain::{Quantity, SupplierOrderStatus};
use crate::error::AppResult;
use crate::services::stock::ReservationLock;
use crate::services::writes::{self, Writes};
use crate::services::{placeholders, sql};
use entity::{idempotency_keys, order_lines, orders, organizations, pairings, products, regions, supplier_orders};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Value};

// ---- idempotency keys ----

/// What a placement claims: its idempotency key, with the hash of its request.
pub(super) struct KeyClaim<'a> {
    pub scope: &'a str,
    pub key: &'a str,
    pub hash: &'a str,
    pub at: chrono::DateTime<chrono::Utc>,
    pub expires: chrono::DateTime<chrono::Utc>,
}

impl KeyClaim<'_> {
    /// `$1`–`$5` of [`CLAIM_KEY`].
    fn values(&self) -> Vec<Value> {
        vec![
            self.scope.into(),
            self.key.into(),
            self.hash.into(),
            self.at.into(),
            self.expires.into(),
        ]
    }
}

/// Inserts the key row, or takes over an expired one (`$1`–`$5`); returns the row it wrote.
/// No row: the key is live (replay).
const CLAIM_KEY: &str = "INSERT INTO idempotency_keys (scope, idem_key, request_hash, response_status, response_body, resource_id, created_at, expires_at) \
     VALUES ($1, $2, $3, 0, '', NULL, $4, $5) \
     ON CONFLICT (scope, idem_key) DO UPDATE SET request_hash = excluded.request_hash, response_status = 0, \
     response_body = '', resource_id = NULL, created_at = excluded.created_at, expires_at = excluded.expires_at \
     WHERE idempotency_keys.expires_at < $4 RETURNING 1";

/// Claims the key and reads the products: whether the key was claimed, and the products found,
/// in one statement on PostgreSQL ([`crate::services::writes::write_then_read`]). A claim that
/// waited for a racing retry of the same key reads the products as they stood before it waited
/// (it is then a replay, or the retry rolled back). A price or status change committed during
/// that wait is not seen, as one committed between any read of the products and the
/// reservation is not: the products are read without a lock, and only the stock is re-checked
/// under the lock.
pub(super) async fn claim_key_reading_products(
    conn: &impl ConnectionTrait,
    claim: &KeyClaim<'_>,
    ids: Vec<String>,
) -> AppResult<(bool, Vec<products::Model>)> {
    let (claimed, found) = writes::write_then_read(conn, sql(conn, CLAIM_KEY, claim.values()), "products", ids).await?;
    Ok((claimed > 0, found))
}

/// Claims the key alone (a write other than a placement): whether this transaction now holds it.
pub(super) async fn claim_key(conn: &impl ConnectionTrait, claim: &KeyClaim<'_>) -> AppResult<bool> {
    Ok(!conn
        .query_all_raw(sql(conn, CLAIM_KEY, claim.values()))
        .await?
        .is_empty())
}

/// The first response (201 and its body) stored under a key this transaction claimed.
fn answer_update(scope: &str, key: &str, body: String, resource_id: String) -> sea_orm::sea_query::UpdateStatement {
    idempotency_keys::Entity::update_many()
        .col_expr(idempotency_keys::Column::ResponseStatus, Expr::value(201))
        .col_expr(idempotency_keys::Column::ResponseBody, Expr::value(body))
        .col_expr(idempotency_keys::Column::ResourceId, Expr::value(Some(resource_id)))
        .filter(idempotency_keys::Column::Scope.eq(scope))
        .filter(idempotency_keys::Column::IdemKey.eq(key))
        .as_query()
        .to_owned()
}

/// Stores the first response (201 and the order) under the key, with the order's rows: the
/// key row is this transaction's own, written by its claim.
pub(super) fn store_response(writes: &mut Writes, scope: &str, key: &str, body: String, order_id: String) {
    writes.update_owned_query(&answer_update(scope, key, body, order_id));
}

/// As [`store_response`], at once (a write whose rows are already written).
pub(super) async fn store_answer(
    conn: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    body: String,
    resource_id: String,
) -> AppResult<()> {
    let st = answer_update(scope, key, body, resource_id);
    conn.execute(&st).await?;
    Ok(())
}

pub(super) async fn find_key(
    conn: &impl ConnectionTrait,
    scope: &str,
    key: &str,
) -> AppResult<Option<idempotency_keys::Model>> {
    Ok(
        idempotency_keys::Entity::find_by_id((scope.to_string(), key.to_string()))
            .one(conn)
            .await?,
    )
}

pub(super) async fn delete_expired_keys(
    conn: &impl ConnectionTrait,
    t: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let res = idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::ExpiresAt.lt(t))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

// ---- what an order refers to ----

pub(super) async fn find_pairing(conn: &impl ConnectionTrait, id: String) -> AppResult<Option<pairings::Model>> {
    Ok(pairings::Entity::find_by_id(id).one(conn).await?)
}

pub(super) async fn orgs_by_ids(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<Vec<organizations::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(organizations::Entity::find()
        .filter(organizations::Column::Id.is_in(ids))
        .all(conn)
        .await?)
}

/// The organisations, and (on PostgreSQL, in the same statement) the lock a reservation
/// needs: the lock is read from one row joined to the organisations, so it is taken whatever
/// they are.
pub(super) async fn orgs_by_ids_locking(
    conn: &impl ConnectionTrait,
    ids: Vec<String>,
    lock: &ReservationLock,
) -> AppResult<Vec<organizations::Model>> {
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        return orgs_by_ids(conn, ids).await;
    }
    let mut values: Vec<Value> = Vec::new();
    let locked = lock.select_sql(&mut values);
    let list = if ids.is_empty() {
        "NULL".to_string()
    } else {
        placeholders(&mut values, &ids)
    };
    let rows = conn
        .query_all_raw(sql(
            conn,
            &format!(
                "WITH locked AS MATERIALIZED ({locked}) SELECT o.* FROM (SELECT COUNT(*) AS n FROM locked) AS l \
                 LEFT JOIN organizations o ON o.id IN ({list})"
            ),
            values,
        ))
        .await?;
    Ok(writes::joined_rows(&rows)?)
}

pub(super) async fn regions_by_codes(
    conn: &impl ConnectionTrait,
    codes: Vec<String>,
) -> AppResult<Vec<regions::Model>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    Ok(regions::Entity::find()
        .filter(regions::Column::Code.is_in(codes))
        .all(conn)
        .await?)
}

// ---- writing an order ----

/// The order, its supplier orders and its lines, deferred to the placement's last statement.
pub(super) fn insert_order(
    writes: &mut Writes,
    order: orders::Model,
    sos: Vec<supplier_orders::Model>,
    lines: Vec<order_lines::Model>,
) {
    writes.insert(orders::Entity::insert(orders::ActiveModel::from(order)).as_query());
    if !sos.is_empty() {
        writes.insert(
            supplier_orders::Entity::insert_many(sos.into_iter().map(supplier_orders::ActiveModel::from)).as_query(),
        );
    }
    if !lines.is_empty() {
        writes
            .insert(order_lines::Entity::insert_many(lines.into_iter().map(order_lines::ActiveModel::from)).as_query());
    }
}

// ---- reading ----

pub(super) async fn find_order(conn: &impl ConnectionTrait, id: String) -> AppResult<Option<orders::Model>> {
    Ok(orders::Entity::find_by_id(id).one(conn).await?)
}

pub(super) async fn find_supplier_order(
    conn: &impl ConnectionTrait,
    id: String,
) -> AppResult<Option<supplier_orders::Model>> {
    Ok(supplier_orders::Entity::find_by_id(id).one(conn).await?)
}

pub(super) async fn lines_of(conn: &impl ConnectionTrait, so_ids: Vec<String>) -> AppResult<Vec<order_lines::Model>> {
    if so_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.is_in(so_ids))
        .order_by_asc(order_lines::Column::Id)
        .all(conn)
        .await?)
}

pub(super) async fn supplier_orders_of(
    conn: &impl ConnectionTrait,
    order_ids: Vec<String>,
) -> AppResult<Vec<supplier_orders::Model>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(supplier_orders::Entity::find()
        .filter(supplier_orders::Column::OrderId.is_in(order_ids))
        .order_by_asc(supplier_orders::Column::Id)
        .all(conn)
        .await?)
}

/// Orders newest first, of these buyers (all when `None`), before `cursor`.
pub(super) async fn orders_page(
    conn: &impl ConnectionTrait,
    buyers: Option<Vec<String>>,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<orders::Model>> {
    let mut q = orders::Entity::find();
    if let Some(ids) = buyers {
        q = q.filter(orders::Column::BuyerOrgId.is_in(ids));
    }
    if let Some(c) = cursor {
        q = q.filter(orders::Column::Id.lt(c));
    }
    Ok(q.order_by_desc(orders::Column::Id).limit(limit).all(conn).await?)
}

/// Which side's supplier orders a page lists.
pub(super) enum Side {
    All,
    Buyers(Vec<String>),
    Supplier(String),
}

pub(super) async fn supplier_orders_page(
    conn: &impl ConnectionTrait,
    side: Side,
    status: Option<SupplierOrderStatus>,
    order_id: Option<String>,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<supplier_orders::Model>> {
    let mut q = supplier_orders::Entity::find();
    match side {
        Side::All => {}
        Side::Buyers(ids) => q = q.filter(supplier_orders::Column::BuyerOrgId.is_in(ids)),
        Side::Supplier(id) => q = q.filter(supplier_orders::Column::SupplierOrgId.eq(id)),
    }
    if let Some(s) = status {
        q = q.filter(supplier_orders::Column::Status.eq(s.as_str()));
    }
    if let Some(o) = order_id {
        q = q.filter(supplier_orders::Column::OrderId.eq(o));
    }
    if let Some(c) = cursor {
        q = q.filter(supplier_orders::Column::Id.lt(c));
    }
    Ok(q.order_by_desc(supplier_orders::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

// ---- the lifecycle ----

/// Moves a supplier order to `to` if it is in one of `from`; returns the rows changed.
pub(super) async fn set_status(
    conn: &impl ConnectionTrait,
    id: &str,
    from: &[SupplierOrderStatus],
    to: SupplierOrderStatus,
    note: Option<String>,
    shipment_note: bool,
    t: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let mut q = supplier_orders::Entity::update_many()
        .col_expr(supplier_orders::Column::Status, Expr::value(to.as_str()))
        .col_expr(supplier_orders::Column::StatusNote, Expr::value(note.clone()))
        .col_expr(supplier_orders::Column::UpdatedAt, Expr::value(t));
    if shipment_note {
        q = q.col_expr(supplier_orders::Column::ShipmentNote, Expr::value(note));
    }
    let res = q
        .filter(supplier_orders::Column::Id.eq(id))
        .filter(supplier_orders::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Sets every line's accepted quantity in one UPDATE (a CASE over the line ids), deferred to
/// the release that follows (the lines belong to the supplier order just accepted).
pub(super) fn set_accepted_quantities(
    conn: &impl ConnectionTrait,
    writes: &mut Writes,
    so_id: &str,
    accepted: &[(String, Quantity)],
) {
    if accepted.is_empty() {
        return;
    }
    let mut values: Vec<Value> = vec![so_id.into()];
    let mut case = String::from("CASE id");
    for (id, q) in accepted {
        values.push(id.clone().into());
        values.push((*q).into());
        case.push_str(&format!(" WHEN ${} THEN ${}", values.len() - 1, values.len()));
    }
    case.push_str(" END");
    writes.update_owned(sql(
        conn,
        &format!("UPDATE order_lines SET accepted_quantity_milli = {case} WHERE supplier_order_id = $1"),
        values,
    ));
}

// ---- returns and ratings ----

/// Adds `q` to a line's returned quantity if that much is accepted and not yet returned.
pub(super) async fn add_returned(conn: &impl ConnectionTrait, line_id: &str, q: Quantity) -> AppResult<u64> {
    let res = conn
        .execute_raw(sql(
            conn,
            "UPDATE order_lines SET returned_quantity_milli = returned_quantity_milli + $1 \
             WHERE id = $2 AND accepted_quantity_milli IS NOT NULL AND accepted_quantity_milli - returned_quantity_milli >= $1",
            vec![q.into(), line_id.into()],
        ))
        .await?;
    Ok(res.rows_affected())
}

pub(super) async fn lines_by_ids(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<Vec<order_lines::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(order_lines::Entity::find()
        .filter(order_lines::Column::Id.is_in(ids))
        .all(conn)
        .await?)
}

pub(super) async fn insert_returns(
    conn: &impl ConnectionTrait,
    rows: Vec<entity::order_returns::Model>,
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    entity::order_returns::Entity::insert_many(rows.into_iter().map(entity::order_returns::ActiveModel::from))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Records the rating unless the supplier order has one; returns the rows written.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_rating(
    conn: &impl ConnectionTrait,
    so_id: &str,
    supplier_org_id: &str,
    buyer_org_id: &str,
    score: i32,
    comment: &str,
    user_id: &str,
    t: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let res = conn
        .execute_raw(sql(
            conn,
            "INSERT INTO supplier_ratings (supplier_order_id, supplier_org_id, buyer_org_id, score, comment, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (supplier_order_id) DO NOTHING",
            vec![
                so_id.into(),
                supplier_org_id.into(),
                buyer_org_id.into(),
                score.into(),
                comment.into(),
                user_id.into(),
                t.into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected())
}
