//! Every statement of the compliance capability.
use super::ComplianceCertificate;
use crate::domain::{ProductCategory, SupplierOrderStatus};
use crate::error::AppResult;
use crate::services::writes::Writes;
use crate::services::{now, placeholders, sql, stock};
use entity::{category_settings, lots, order_lines, products, shipment_lots, supplier_orders};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use std::collections::{HashMap, HashSet};

/// The advisory lock key of a category's 合格证 setting: a switch of the setting holds it
/// exclusively, while a product of the category takes its value under the shared lock, so
/// no product is written with the value the switch is replacing after the switch updated
/// the category's products (a new product is no row the switch could lock).
fn category_key(category: ProductCategory) -> i64 {
    let mut h: i64 = 0x6361_7465_0000; // "cate"
    for b in category.as_str().bytes() {
        h = h.wrapping_mul(31).wrapping_add(i64::from(b));
    }
    h
}

/// Holds the category's setting still while a product takes its value from it. Take it before
/// writing the product's row: the switch holds the lock, then writes product rows, so the other
/// order deadlocks.
pub(crate) async fn hold_category(conn: &impl ConnectionTrait, category: ProductCategory) -> AppResult<()> {
    Ok(crate::services::hold_shared(conn, category_key(category)).await?)
}

/// Holds the setting of the product's category still (as [`hold_category`]); nothing for a
/// product that does not exist.
pub(super) async fn hold_category_of(conn: &impl ConnectionTrait, product_id: &str) -> AppResult<()> {
    let p = products::Entity::find_by_id(product_id.to_string()).one(conn).await?;
    if let Some(c) = p.and_then(|p| ProductCategory::parse(&p.category)) {
        hold_category(conn, c).await?;
    }
    Ok(())
}

/// Holds off every product taking the category's value while its setting switches.
pub(super) async fn switch_category(conn: &impl ConnectionTrait, category: ProductCategory) -> AppResult<()> {
    Ok(crate::services::hold(conn, category_key(category)).await?)
}

pub(super) async fn category_rows(conn: &impl ConnectionTrait) -> AppResult<Vec<category_settings::Model>> {
    Ok(category_settings::Entity::find().all(conn).await?)
}

pub(super) async fn upsert_category(
    conn: &impl ConnectionTrait,
    category: ProductCategory,
    requires: bool,
) -> AppResult<category_settings::Model> {
    let t = Some(now());
    Ok(
        match category_settings::Entity::find_by_id(category.as_str())
            .one(conn)
            .await?
        {
            Some(m) => {
                let mut am = m.into_active_model();
                am.requires_compliance_certificate = Set(requires);
                am.updated_at = Set(t);
                am.update(conn).await?
            }
            None => {
                category_settings::ActiveModel {
                    code: Set(category.as_str().to_string()),
                    requires_compliance_certificate: Set(requires),
                    updated_at: Set(t),
                }
                .insert(conn)
                .await?
            }
        },
    )
}

/// Re-flags the lots without a certificate of the products `filter` selects (SQL over `p2`).
async fn reflag_lots(conn: &impl ConnectionTrait, filter: &str, values: Vec<sea_orm::Value>) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        &format!(
            "UPDATE lots SET uncertified_batch = \
             (SELECT p.compliance_certificate_required FROM products p WHERE p.id = lots.product_id) \
             WHERE cc_number IS NULL AND product_id IN (SELECT p2.id FROM products p2 WHERE {filter})"
        ),
        values,
    ))
    .await?;
    Ok(())
}

/// Products that follow the category's default take the new value; their lots follow. A product
/// whose value changes moves its version and `updated_at` (its `ETag` changes, so no client keeps
/// the old value on a 304); one whose value stays keeps them.
pub(super) async fn refresh_category(
    conn: &impl ConnectionTrait,
    category: ProductCategory,
    requires: bool,
) -> AppResult<()> {
    products::Entity::update_many()
        .col_expr(products::Column::ComplianceCertificateRequired, Expr::value(requires))
        .col_expr(products::Column::Version, Expr::col(products::Column::Version).add(1))
        .col_expr(products::Column::UpdatedAt, Expr::value(now()))
        .filter(products::Column::Category.eq(category.as_str()))
        .filter(products::Column::RequiresComplianceCertificate.is_null())
        .filter(products::Column::ComplianceCertificateRequired.ne(requires))
        .exec(conn)
        .await?;
    reflag_lots(conn, "p2.category = $1", vec![category.as_str().into()]).await
}

/// The product's effective requirement from its own setting, else its category's; its lots follow.
pub(super) async fn refresh_product(conn: &impl ConnectionTrait, product_id: &str) -> AppResult<()> {
    let p = products::Entity::find_by_id(product_id.to_string()).one(conn).await?;
    let Some(p) = p else { return Ok(()) };
    let required = match p.requires_compliance_certificate {
        Some(v) => v,
        None => {
            if let Some(c) = ProductCategory::parse(&p.category) {
                hold_category(conn, c).await?;
            }
            category_settings::Entity::find_by_id(p.category.clone())
                .one(conn)
                .await?
                .is_some_and(|c| c.requires_compliance_certificate)
        }
    };
    products::Entity::update_many()
        .col_expr(products::Column::ComplianceCertificateRequired, Expr::value(required))
        .filter(products::Column::Id.eq(product_id.to_string()))
        .exec(conn)
        .await?;
    reflag_lots(conn, "p2.id = $1", vec![product_id.to_string().into()]).await
}

/// The certifier's own setting; the product's version moves (its `ETag` changes).
pub(super) async fn set_override(conn: &impl ConnectionTrait, product_id: &str, v: Option<bool>) -> AppResult<()> {
    products::Entity::update_many()
        .col_expr(products::Column::RequiresComplianceCertificate, Expr::value(v))
        .col_expr(products::Column::Version, Expr::col(products::Column::Version).add(1))
        .col_expr(products::Column::UpdatedAt, Expr::value(now()))
        .filter(products::Column::Id.eq(product_id.to_string()))
        .exec(conn)
        .await?;
    Ok(())
}

pub(super) async fn find_lot(conn: &impl ConnectionTrait, id: &str) -> AppResult<Option<lots::Model>> {
    Ok(lots::Entity::find_by_id(id.to_string()).one(conn).await?)
}

/// The lot, its row locked until the transaction ends (PostgreSQL; SQLite has one writer).
pub(super) async fn lock_lot(conn: &impl ConnectionTrait, id: &str) -> AppResult<Option<lots::Model>> {
    Ok(lots::Entity::find_by_id(id.to_string())
        .lock_exclusive()
        .one(conn)
        .await?)
}

/// Whether any supplier order shipped from the lot.
pub(super) async fn has_shipped(conn: &impl ConnectionTrait, lot_id: &str) -> AppResult<bool> {
    Ok(shipment_lots::Entity::find()
        .filter(shipment_lots::Column::LotId.eq(lot_id.to_string()))
        .one(conn)
        .await?
        .is_some())
}

pub(super) async fn lot_with_product(
    conn: &impl ConnectionTrait,
    id: &str,
) -> AppResult<Option<(lots::Model, products::Model)>> {
    let Some(l) = find_lot(conn, id).await? else {
        return Ok(None);
    };
    let p = products::Entity::find_by_id(l.product_id.clone()).one(conn).await?;
    Ok(p.map(|p| (l, p)))
}

pub(super) async fn set_certificate(
    conn: &impl ConnectionTrait,
    lot_id: &str,
    c: &ComplianceCertificate,
    t: chrono::DateTime<chrono::Utc>,
) -> AppResult<u64> {
    let res = lots::Entity::update_many()
        .col_expr(lots::Column::CcNumber, Expr::value(Some(c.number.clone())))
        .col_expr(lots::Column::CcIssuer, Expr::value(Some(c.issuer.clone())))
        .col_expr(lots::Column::CcIssuedOn, Expr::value(Some(c.issued_on)))
        .col_expr(lots::Column::CcTraceCode, Expr::value(c.trace_code.clone()))
        .col_expr(lots::Column::CcUrl, Expr::value(c.url.clone()))
        .col_expr(lots::Column::CcRecordedAt, Expr::value(Some(t)))
        .col_expr(lots::Column::UncertifiedBatch, Expr::value(false))
        .filter(lots::Column::Id.eq(lot_id.to_string()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

pub(super) async fn lines_of(conn: &impl ConnectionTrait, so_id: &str) -> AppResult<Vec<order_lines::Model>> {
    Ok(order_lines::Entity::find()
        .filter(order_lines::Column::SupplierOrderId.eq(so_id.to_string()))
        .order_by_asc(order_lines::Column::Id)
        .all(conn)
        .await?)
}

/// Lots of these products with something left.
pub(super) async fn lots_with_stock(
    conn: &impl ConnectionTrait,
    product_ids: Vec<String>,
) -> AppResult<Vec<lots::Model>> {
    Ok(lots::Entity::find()
        .filter(lots::Column::ProductId.is_in(product_ids))
        .filter(lots::Column::RemainingMilli.gt(0))
        .order_by_asc(lots::Column::BestBefore)
        .order_by_asc(lots::Column::Id)
        .all(conn)
        .await?)
}

pub(super) async fn lots_by_ids(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<Vec<lots::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(lots::Entity::find()
        .filter(lots::Column::Id.is_in(ids))
        .all(conn)
        .await?)
}

/// The shipped lots of one supplier order (in the order of [`shipment_rows`]) with their
/// lots keyed by id, in one statement.
pub(super) async fn shipment_rows_with_lots(
    conn: &impl ConnectionTrait,
    so_id: &str,
) -> AppResult<(Vec<shipment_lots::Model>, HashMap<String, lots::Model>)> {
    let lot_of: sea_orm::RelationDef = shipment_lots::Entity::belongs_to(lots::Entity)
        .from(shipment_lots::Column::LotId)
        .to(lots::Column::Id)
        .into();
    let pairs = shipment_lots::Entity::find()
        .join(sea_orm::JoinType::LeftJoin, lot_of)
        .select_also(lots::Entity)
        .filter(shipment_lots::Column::SupplierOrderId.eq(so_id))
        .order_by_asc(shipment_lots::Column::OrderLineId)
        .order_by_asc(shipment_lots::Column::Id)
        .all(conn)
        .await?;
    let mut rows = Vec::with_capacity(pairs.len());
    let mut lots = HashMap::new();
    for (r, l) in pairs {
        if let Some(l) = l {
            lots.insert(l.id.clone(), l);
        }
        rows.push(r);
    }
    Ok((rows, lots))
}

/// Lots by id, keyed by id.
pub(super) async fn lots_map(conn: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<HashMap<String, lots::Model>> {
    Ok(lots_by_ids(conn, ids)
        .await?
        .into_iter()
        .map(|l| (l.id.clone(), l))
        .collect())
}

/// What other supplier orders in transit (shipped or delivered, not yet accepted) hold of
/// each lot: shipped but not yet taken out of it.
pub(super) async fn held_in_transit(
    conn: &impl ConnectionTrait,
    lot_ids: &[String],
    except_so: &str,
) -> AppResult<HashMap<String, i64>> {
    if lot_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut values: Vec<sea_orm::Value> = vec![
        SupplierOrderStatus::Shipped.into(),
        SupplierOrderStatus::Delivered.into(),
        except_so.to_string().into(),
    ];
    let marks = placeholders(&mut values, lot_ids);
    let rows = conn
        .query_all_raw(sql(
            conn,
            &format!(
                "SELECT sl.lot_id, SUM(sl.quantity_milli) AS held FROM shipment_lots sl \
                 JOIN supplier_orders so ON so.id = sl.supplier_order_id \
                 WHERE so.status IN ($1, $2) AND sl.supplier_order_id <> $3 AND sl.lot_id IN ({marks}) \
                 GROUP BY sl.lot_id"
            ),
            values,
        ))
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let id: String = r.try_get("", "lot_id")?;
        out.insert(id, stock::get_sum(&r, "held")?);
    }
    Ok(out)
}

pub(super) async fn insert_shipment(conn: &impl ConnectionTrait, rows: Vec<shipment_lots::Model>) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    shipment_lots::Entity::insert_many(rows.into_iter().map(shipment_lots::ActiveModel::from))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The shipped lots of these supplier orders, in the order they were allocated.
pub(super) async fn shipment_rows(
    conn: &impl ConnectionTrait,
    so_ids: Vec<String>,
) -> AppResult<Vec<shipment_lots::Model>> {
    if so_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(shipment_lots::Entity::find()
        .filter(shipment_lots::Column::SupplierOrderId.is_in(so_ids))
        .order_by_asc(shipment_lots::Column::OrderLineId)
        .order_by_asc(shipment_lots::Column::Id)
        .all(conn)
        .await?)
}

/// Every shipment of one lot, oldest first.
pub(super) async fn shipments_of_lot(
    conn: &impl ConnectionTrait,
    lot_id: &str,
) -> AppResult<Vec<shipment_lots::Model>> {
    Ok(shipment_lots::Entity::find()
        .filter(shipment_lots::Column::LotId.eq(lot_id.to_string()))
        .order_by_asc(shipment_lots::Column::CreatedAt)
        .order_by_asc(shipment_lots::Column::Id)
        .all(conn)
        .await?)
}

/// The order lines shipped from the lot that hold a ledger entry of one of `buyers` (credited
/// through a contractor, split to a shared canteen's member, or bought).
pub(super) async fn credited_lines_of_lot(
    conn: &impl ConnectionTrait,
    lot_id: &str,
    buyers: &[String],
) -> AppResult<HashSet<String>> {
    if buyers.is_empty() {
        return Ok(HashSet::new());
    }
    let mut values: Vec<sea_orm::Value> = vec![lot_id.to_string().into()];
    let marks = placeholders(&mut values, buyers);
    let rows = conn
        .query_all_raw(sql(
            conn,
            &format!(
                "SELECT DISTINCT le.order_line_id FROM ledger_entries le \
                 WHERE le.order_line_id IN (SELECT sl.order_line_id FROM shipment_lots sl WHERE sl.lot_id = $1) \
                 AND le.buyer_org_id IN ({marks})"
            ),
            values,
        ))
        .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String>("", "order_line_id")?))
        .collect()
}

/// What was accepted of each shipped lot `(row id, thousandths)`, in one statement.
/// The accepted quantity of each shipped lot row, deferred to the take from the lots (the
/// rows belong to the supplier order whose status the acceptance changed).
pub(super) fn set_accepted(conn: &impl ConnectionTrait, writes: &mut Writes, rows: &[(String, i64)]) {
    if rows.is_empty() {
        return;
    }
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut case = String::from("CASE id");
    for (id, milli) in rows {
        values.push(id.clone().into());
        values.push((*milli).into());
        case.push_str(&format!(" WHEN ${} THEN ${}", values.len() - 1, values.len()));
    }
    case.push_str(" END");
    let keys: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    let ids = placeholders(&mut values, &keys);
    writes.update_owned(sql(
        conn,
        &format!("UPDATE shipment_lots SET accepted_milli = {case} WHERE id IN ({ids})"),
        values,
    ));
}

pub(super) async fn supplier_orders_by_ids(
    conn: &impl ConnectionTrait,
    ids: Vec<String>,
) -> AppResult<Vec<supplier_orders::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(supplier_orders::Entity::find()
        .filter(supplier_orders::Column::Id.is_in(ids))
        .all(conn)
        .await?)
}

/// The region a certifier's office covers.
pub(super) async fn org_region(conn: &impl ConnectionTrait, org_id: &str) -> AppResult<Option<String>> {
    Ok(entity::organizations::Entity::find_by_id(org_id.to_string())
        .one(conn)
        .await?
        .map(|o| o.region_code))
}

/// Demo data: every lot without a certificate of these categories' products gets one.
pub(super) async fn certify_demo_lots(conn: &impl ConnectionTrait, categories: &[ProductCategory]) -> AppResult<()> {
    let t = now();
    let mut values: Vec<sea_orm::Value> = vec![crate::services::clock::local_date(t).into(), t.into()];
    let marks = placeholders(&mut values, categories);
    conn.execute_raw(sql(
        conn,
        &format!(
            "UPDATE lots SET cc_number = 'HGZ-DEMO-' || substr(id, 1, 8), \
             cc_issuer = (SELECT o.name FROM products p JOIN organizations o ON o.id = p.supplier_org_id \
                          WHERE p.id = lots.product_id), \
             cc_issued_on = COALESCE(harvested_on, $1), cc_recorded_at = $2 \
             WHERE cc_number IS NULL AND product_id IN (SELECT p2.id FROM products p2 WHERE p2.category IN ({marks}))"
        ),
        values,
    ))
    .await?;
    Ok(())
}
