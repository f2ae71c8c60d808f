//! Every statement of the payments capability. States are bound from their enums.
use super::owed::PAYABLE_CAP;
use crate::domain::{OrgKind, OrgStatus, PaymentTerms, ReminderStage, SupplierOrderStatus};
use crate::error::AppResult;
use crate::services::sql;
use crate::services::supervision::OrgSet;
use crate::services::writes::Writes;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{invoices, organizations, payments, supplier_order_terms as terms, supplier_orders};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Value,
};

/// The rows, deferred to the statement that follows (the placement's reservation).
pub(super) fn insert_terms(writes: &mut Writes, rows: Vec<terms::Model>) {
    if rows.is_empty() {
        return;
    }
    writes.insert(terms::Entity::insert_many(rows.into_iter().map(terms::ActiveModel::from)).as_query());
}

pub(super) async fn terms_of(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<Vec<terms::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(terms::Entity::find()
        .filter(terms::Column::SupplierOrderId.is_in(ids))
        .all(conn)
        .await?)
}

/// [`terms_of`], after `writes` (in the same statement on PostgreSQL).
pub(super) async fn terms_after(
    conn: &impl ConnectionTrait,
    writes: Writes,
    ids: Vec<String>,
) -> AppResult<Vec<terms::Model>> {
    let read = terms::Entity::find()
        .filter(terms::Column::SupplierOrderId.is_in(ids))
        .build(conn.get_database_backend());
    let rows = writes.then_query(conn, read).await?;
    Ok(rows
        .iter()
        .map(|r| terms::Model::from_query_result(r, ""))
        .collect::<Result<_, _>>()?)
}

pub(super) async fn find_terms(conn: &impl ConnectionTrait, id: &str) -> AppResult<Option<terms::Model>> {
    Ok(terms::Entity::find_by_id(id.to_string()).one(conn).await?)
}

pub(super) async fn find_supplier_order(
    conn: &impl ConnectionTrait,
    id: &str,
) -> AppResult<Option<supplier_orders::Model>> {
    Ok(supplier_orders::Entity::find_by_id(id.to_string()).one(conn).await?)
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

/// Records the delivery: the day, the due date (on account), and lateness when past `deliver_by`.
pub(super) async fn set_delivered(
    conn: &impl ConnectionTrait,
    id: &str,
    on: NaiveDate,
    due_on: Option<NaiveDate>,
    late_at: Option<DateTime<Utc>>,
) -> AppResult<()> {
    let mut q = terms::Entity::update_many().col_expr(terms::Column::DeliveredOn, Expr::value(Some(on)));
    if let Some(d) = due_on {
        q = q.col_expr(terms::Column::DueOn, Expr::value(Some(d)));
    }
    if let Some(t) = late_at {
        q = q.col_expr(terms::Column::LateAt, Expr::value(Some(t)));
    }
    q.filter(terms::Column::SupplierOrderId.eq(id)).exec(conn).await?;
    Ok(())
}

/// Sets one column of the terms of supplier order `id`.
pub(super) async fn set_term(
    conn: &impl ConnectionTrait,
    id: &str,
    column: terms::Column,
    value: impl Into<Value>,
) -> AppResult<()> {
    terms::Entity::update_many()
        .col_expr(column, Expr::value(value.into()))
        .filter(terms::Column::SupplierOrderId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

pub(super) async fn set_deliver_by(conn: &impl ConnectionTrait, id: &str, on: NaiveDate) -> AppResult<()> {
    set_term(conn, id, terms::Column::DeliverBy, Some(on)).await
}

pub(super) async fn set_due(conn: &impl ConnectionTrait, id: &str, due_on: NaiveDate) -> AppResult<()> {
    set_term(conn, id, terms::Column::DueOn, Some(due_on)).await
}

/// Adds `fen` to the invoiced total unless it would pass `cap`; returns the rows changed.
pub(super) async fn add_invoiced(conn: &impl ConnectionTrait, id: &str, fen: i64, cap: i64) -> AppResult<u64> {
    let res = conn
        .execute_raw(sql(
            conn,
            "UPDATE supplier_order_terms SET invoiced_fen = invoiced_fen + $1 \
             WHERE supplier_order_id = $2 AND invoiced_fen + $1 <= $3",
            vec![fen.into(), id.into(), cap.into()],
        ))
        .await?;
    Ok(res.rows_affected())
}

pub(super) async fn insert_invoice(conn: &impl ConnectionTrait, row: invoices::Model) -> AppResult<()> {
    invoices::Entity::insert(invoices::ActiveModel::from(row))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The business day the last invoice of supplier order `so_id` was recorded, if any.
pub(super) async fn last_invoiced_on(conn: &impl ConnectionTrait, so_id: &str) -> AppResult<Option<NaiveDate>> {
    Ok(invoices::Entity::find()
        .filter(invoices::Column::SupplierOrderId.eq(so_id))
        .order_by_desc(invoices::Column::CreatedAt)
        .one(conn)
        .await?
        .map(|i| crate::services::clock::local_date(i.created_at)))
}

pub(super) async fn invoice_number_used(conn: &impl ConnectionTrait, so_id: &str, number: &str) -> AppResult<bool> {
    Ok(invoices::Entity::find()
        .filter(invoices::Column::SupplierOrderId.eq(so_id))
        .filter(invoices::Column::Number.eq(number))
        .one(conn)
        .await?
        .is_some())
}

pub(super) async fn insert_payment(conn: &impl ConnectionTrait, row: payments::Model) -> AppResult<()> {
    payments::Entity::insert(payments::ActiveModel::from(row))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

pub(super) async fn invoices_page(
    conn: &impl ConnectionTrait,
    so_id: &str,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<invoices::Model>> {
    let mut q = invoices::Entity::find().filter(invoices::Column::SupplierOrderId.eq(so_id));
    if let Some(c) = cursor {
        q = q.filter(invoices::Column::Id.gt(c));
    }
    Ok(q.order_by_asc(invoices::Column::Id).limit(limit).all(conn).await?)
}

pub(super) async fn payments_page(
    conn: &impl ConnectionTrait,
    so_id: &str,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<payments::Model>> {
    let mut q = payments::Entity::find().filter(payments::Column::SupplierOrderId.eq(so_id));
    if let Some(c) = cursor {
        q = q.filter(payments::Column::Id.gt(c));
    }
    Ok(q.order_by_asc(payments::Column::Id).limit(limit).all(conn).await?)
}

/// A supplier order with invoiced amounts not yet paid, or with a deadline to watch.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct Open {
    pub id: String,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    pub due_on: Option<NaiveDate>,
    pub deliver_by: Option<NaiveDate>,
    pub regulated: bool,
    /// What is owed and unpaid: what may be paid ([`PAYABLE_CAP`]) less what is paid.
    pub owed_fen: i64,
}

/// An open amount's row. The regulation counts from delivery, so it governs only an
/// on-account debt: an unpaid prepayment is late under the contract. A cancelled supplier
/// order owes nothing (its invoice, if any, is not chased). `$1` and `$2` are bound by
/// [`open_values`]; a query's own placeholders start at `$3`.
fn open_columns() -> String {
    format!(
        "SELECT so.id, so.buyer_org_id, so.supplier_org_id, t.due_on, t.deliver_by, \
         (t.regulated AND t.payment_terms = $1) AS regulated, \
         {PAYABLE_CAP} - t.paid_fen AS owed_fen \
         FROM supplier_order_terms t JOIN supplier_orders so ON so.id = t.supplier_order_id WHERE so.status <> $2"
    )
}

/// The values of [`open_columns`]' placeholders, then `more`.
fn open_values(more: Vec<Value>) -> Vec<Value> {
    let mut values: Vec<Value> = vec![PaymentTerms::OnAccount.into(), SupplierOrderStatus::Cancelled.into()];
    values.extend(more);
    values
}

/// Which supplier orders the ageing report covers.
#[derive(Debug, Clone)]
pub(super) enum Scope {
    All,
    Buyers(OrgSet),
    Supplier(String),
}

/// The ` AND …` narrowing supplier orders `so` to `scope`, its placeholders from `$first`;
/// `None` when the scope is empty.
fn scope_filter(scope: Scope, first: usize) -> Option<(String, Vec<Value>)> {
    match scope {
        Scope::All => Some((String::new(), Vec::new())),
        Scope::Supplier(id) => Some((format!(" AND so.supplier_org_id = ${first}"), vec![id.into()])),
        Scope::Buyers(set) if set.is_known_empty() => None,
        Scope::Buyers(set) => {
            let (text, values) = set.sql_in("so.buyer_org_id", first);
            Some((format!(" AND {text}"), values))
        }
    }
}

/// Supplier orders with something invoiced and unpaid, in `scope`.
pub(super) async fn outstanding(conn: &impl ConnectionTrait, scope: Scope) -> AppResult<Vec<Open>> {
    let Some((filter, values)) = scope_filter(scope, 3) else {
        return Ok(Vec::new());
    };
    let text = format!(
        "{} AND {PAYABLE_CAP} > t.paid_fen{filter} ORDER BY so.id",
        open_columns()
    );
    Ok(Open::find_by_statement(sql(conn, &text, open_values(values)))
        .all(conn)
        .await?)
}

/// An accepted on-account supplier order with part of what it owes not invoiced yet: what
/// was accepted and kept (returns deducted) is owed all the same, invoiced or not.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct Uninvoiced {
    pub id: String,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    pub due_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    pub payment_days: i32,
    pub regulated: bool,
    /// What it owes in all less what is invoiced.
    pub not_invoiced_fen: i64,
}

/// Accepted on-account supplier orders in `scope` that owe more than is invoiced. Neither a
/// confirmed flag's reversal nor a supervisor's correction of the credit changes the debt:
/// the amount is the terms' `payable_fen`, not the ledger's.
pub(super) async fn uninvoiced(conn: &impl ConnectionTrait, scope: Scope) -> AppResult<Vec<Uninvoiced>> {
    let Some((filter, scoped)) = scope_filter(scope, 3) else {
        return Ok(Vec::new());
    };
    let text = format!(
        "SELECT so.id, so.buyer_org_id, so.supplier_org_id, t.due_on, t.delivered_on, t.payment_days, \
         t.regulated, t.payable_fen - t.invoiced_fen AS not_invoiced_fen \
         FROM supplier_order_terms t JOIN supplier_orders so ON so.id = t.supplier_order_id \
         WHERE so.status = $1 AND t.payment_terms = $2 AND t.payable_fen > t.invoiced_fen{filter} ORDER BY so.id"
    );
    let mut values: Vec<Value> = vec![SupplierOrderStatus::Accepted.into(), PaymentTerms::OnAccount.into()];
    values.extend(scoped);
    Ok(Uninvoiced::find_by_statement(sql(conn, &text, values))
        .all(conn)
        .await?)
}

/// Outstanding supplier orders due on or before `day`.
pub(super) async fn due_by(conn: &impl ConnectionTrait, day: NaiveDate) -> AppResult<Vec<Open>> {
    let text = format!(
        "{} AND {PAYABLE_CAP} > t.paid_fen AND t.due_on <= $3 ORDER BY so.id",
        open_columns()
    );
    Ok(Open::find_by_statement(sql(conn, &text, open_values(vec![day.into()])))
        .all(conn)
        .await?)
}

/// Supplier orders not delivered whose `deliver_by` is before `day` and not yet flagged late. A
/// prepaid order confirmed and invoiced in full, waiting for the buyer's payment, is not late:
/// it may not ship until paid.
pub(super) async fn newly_late(conn: &impl ConnectionTrait, day: NaiveDate) -> AppResult<Vec<Open>> {
    let text = format!(
        "{} AND t.deliver_by < $3 AND t.late_at IS NULL AND so.status IN ($4, $5, $6) \
         AND NOT (t.payment_terms = $7 AND so.status = $8 AND t.invoiced_fen >= so.total_fen \
         AND t.paid_fen < so.total_fen) ORDER BY so.id",
        open_columns()
    );
    let values = open_values(vec![
        day.into(),
        SupplierOrderStatus::Placed.into(),
        SupplierOrderStatus::Confirmed.into(),
        SupplierOrderStatus::Shipped.into(),
        PaymentTerms::Prepay.into(),
        SupplierOrderStatus::Confirmed.into(),
    ]);
    Ok(Open::find_by_statement(sql(conn, &text, values)).all(conn).await?)
}

/// Flags a supplier order late unless it is already; returns the rows changed.
pub(super) async fn mark_late(conn: &impl ConnectionTrait, id: &str, at: DateTime<Utc>) -> AppResult<u64> {
    let res = terms::Entity::update_many()
        .col_expr(terms::Column::LateAt, Expr::value(Some(at)))
        .filter(terms::Column::SupplierOrderId.eq(id))
        .filter(terms::Column::LateAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Records a reminder unless it was sent; returns the rows written (1: send it now).
pub(super) async fn claim_reminder(
    conn: &impl ConnectionTrait,
    id: &str,
    stage: ReminderStage,
    at: DateTime<Utc>,
) -> AppResult<u64> {
    let res = conn
        .execute_raw(sql(
            conn,
            "INSERT INTO payment_reminders (supplier_order_id, stage, sent_at) VALUES ($1, $2, $3) \
             ON CONFLICT (supplier_order_id, stage) DO NOTHING",
            vec![id.into(), stage.into(), at.into()],
        ))
        .await?;
    Ok(res.rows_affected())
}

/// The active finance office whose region is exactly `code`, if any.
pub(super) async fn finance_office_of(
    conn: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<organizations::Model>> {
    Ok(organizations::Entity::find()
        .filter(organizations::Column::Kind.eq(OrgKind::FinanceOffice))
        .filter(organizations::Column::RegionCode.eq(code))
        .filter(organizations::Column::Status.eq(OrgStatus::Active))
        .order_by_asc(organizations::Column::Id)
        .one(conn)
        .await?)
}

/// A supplier's delivery record from the `supplier_order_lateness` view.
#[derive(Debug, Clone, Default, FromQueryResult)]
pub(super) struct LatenessRow {
    pub with_deadline: i64,
    pub delivered: i64,
    pub delivered_late: i64,
    pub flagged_late: i64,
}

/// Counts of a supplier's orders with a `deliver_by`: delivered, delivered after it, flagged late.
pub(super) async fn lateness_of(conn: &impl ConnectionTrait, supplier: &str) -> AppResult<LatenessRow> {
    let text = "SELECT CAST(COUNT(*) AS BIGINT) AS with_deadline, \
         CAST(COALESCE(SUM(CASE WHEN delivered_on IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS delivered, \
         CAST(COALESCE(SUM(CASE WHEN delivered_late THEN 1 ELSE 0 END), 0) AS BIGINT) AS delivered_late, \
         CAST(COALESCE(SUM(CASE WHEN late_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS flagged_late \
         FROM supplier_order_lateness WHERE supplier_org_id = $1 AND deliver_by IS NOT NULL";
    Ok(LatenessRow::find_by_statement(sql(conn, text, vec![supplier.into()]))
        .one(conn)
        .await?
        .unwrap_or_default())
}

/// Whether each of `ids` was delivered after its `deliver_by` (absent: no such order).
pub(super) async fn delivered_late_of(
    conn: &impl ConnectionTrait,
    ids: Vec<String>,
) -> AppResult<std::collections::HashMap<String, bool>> {
    let mut out = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let text = format!(
        "SELECT supplier_order_id, delivered_late FROM supplier_order_lateness WHERE supplier_order_id IN ({})",
        marks.join(", ")
    );
    let values = ids.into_iter().map(Value::from).collect();
    for r in conn.query_all_raw(sql(conn, &text, values)).await? {
        out.insert(
            r.try_get::<String>("", "supplier_order_id")?,
            r.try_get::<bool>("", "delivered_late")?,
        );
    }
    Ok(out)
}
