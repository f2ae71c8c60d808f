//! Every statement of products, certification and lots, with the sea-orm query builder.
//! States are bound from [`ProductStatus`], never written into the SQL text.
use crate::domain::{LotId, ProductCategory, ProductId, ProductStatus, Quantity};
use crate::error::AppResult;
use crate::services::{now, today};
use entity::{lots, organizations, product_events, products, stock_movements};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub async fn find(conn: &impl ConnectionTrait, id: ProductId) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id.to_string()).one(conn).await?)
}

/// The stored status of an organisation, if it exists.
pub async fn org_status(conn: &impl ConnectionTrait, org_id: &str) -> AppResult<Option<String>> {
    Ok(organizations::Entity::find_by_id(org_id.to_string())
        .one(conn)
        .await?
        .map(|o| o.status))
}

/// The region code of an organisation (for a county office, the county it covers).
pub async fn org_region(conn: &impl ConnectionTrait, org_id: &str) -> AppResult<String> {
    Ok(crate::services::organizations::find(conn, org_id).await?.region_code)
}

/// The county a region lies in, as `(code, stored poverty status)`.
pub async fn county_of(conn: &impl ConnectionTrait, code: &str) -> AppResult<Option<(String, String)>> {
    Ok(crate::services::regions::county_of(conn, code)
        .await?
        .map(|c| (c.code, c.poverty_status)))
}

pub async fn insert_product(conn: &impl ConnectionTrait, am: products::ActiveModel) -> AppResult<products::Model> {
    Ok(am.insert(conn).await?)
}

/// Writes `am` over the product if it still has `version`; the number of rows changed.
pub async fn update_if_version(
    conn: &impl ConnectionTrait,
    am: products::ActiveModel,
    id: &str,
    version: i32,
) -> AppResult<u64> {
    let res = products::Entity::update_many()
        .set(am)
        .filter(products::Column::Id.eq(id.to_string()))
        .filter(products::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(res.rows_affected)
}

/// Who sees which products in a list.
pub struct ListScope {
    pub supplier_org_id: Option<String>,
    pub county_code: Option<String>,
    pub status: Option<ProductStatus>,
    pub category: Option<ProductCategory>,
    /// Products with a smaller id (newest first).
    pub before: Option<String>,
    pub limit: u64,
}

/// `limit` products of the scope, newest first. `certified` means unexpired, `expired`
/// certified past `valid_until`.
pub async fn list(conn: &impl ConnectionTrait, s: &ListScope) -> AppResult<Vec<products::Model>> {
    let mut q = products::Entity::find();
    if let Some(org) = &s.supplier_org_id {
        q = q.filter(products::Column::SupplierOrgId.eq(org.clone()));
    }
    if let Some(county) = &s.county_code {
        q = q.filter(products::Column::OriginCountyCode.eq(county.clone()));
    }
    if let Some(status) = s.status {
        q = q.filter(products::Column::Status.eq(status.stored()));
        match status {
            ProductStatus::Certified => q = q.filter(products::Column::ValidUntil.gte(today())),
            ProductStatus::Expired => q = q.filter(products::Column::ValidUntil.lt(today())),
            _ => {}
        }
    }
    if let Some(c) = s.category {
        q = q.filter(products::Column::Category.eq(c));
    }
    if let Some(c) = &s.before {
        q = q.filter(products::Column::Id.lt(c.clone()));
    }
    Ok(q.order_by_desc(products::Column::Id)
        .limit(s.limit + 1)
        .all(conn)
        .await?)
}

/// Unit prices (fen, ascending) of certified, unexpired products of a category and unit.
/// Prices per `unit`: a product sold by weight is priced per kg whatever its unit (piece).
pub async fn certified_prices(conn: &impl ConnectionTrait, category: &str, unit: &str) -> AppResult<Vec<i64>> {
    use sea_orm::Condition;
    let weighed = crate::domain::SaleMode::PiecesByWeight.as_str();
    let per = if unit == crate::domain::Unit::Kg.as_str() {
        Condition::any()
            .add(products::Column::Unit.eq(unit))
            .add(products::Column::SaleMode.eq(weighed))
    } else {
        Condition::all()
            .add(products::Column::Unit.eq(unit))
            .add(products::Column::SaleMode.ne(weighed))
    };
    Ok(products::Entity::find()
        .select_only()
        .column(products::Column::PriceFen)
        .filter(products::Column::Category.eq(category))
        .filter(per)
        .filter(products::Column::Status.eq(ProductStatus::Certified))
        .filter(products::Column::ValidUntil.gte(today()))
        .order_by_asc(products::Column::PriceFen)
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}

/// What a certification writes besides the status.
pub struct Certification {
    pub number: String,
    pub by: String,
    pub valid_until: chrono::NaiveDate,
}

/// One conditional UPDATE: the product moves to `to` only if it is still the `version` the
/// decision was made on and in one of `sources` (shown states: `expired` is matched as a
/// certified row past its date).
/// Returns the number of rows changed (0 or 1).
pub async fn move_status(
    conn: &impl ConnectionTrait,
    id: &str,
    sources: &[ProductStatus],
    to: ProductStatus,
    cert: Option<Certification>,
    version: i32,
) -> AppResult<u64> {
    let mut stored: Vec<ProductStatus> = sources.iter().map(|s| s.stored()).collect();
    stored.sort();
    stored.dedup();
    let t = now();
    let mut q = products::Entity::update_many()
        .col_expr(products::Column::Status, Expr::value(to.stored().as_str()))
        .col_expr(products::Column::UpdatedAt, Expr::value(t))
        .col_expr(products::Column::Version, Expr::col(products::Column::Version).add(1))
        .filter(products::Column::Id.eq(id.to_string()))
        .filter(products::Column::Version.eq(version))
        .filter(products::Column::Status.is_in(stored.iter().map(|s| s.as_str())));
    let certified = sources.contains(&ProductStatus::Certified);
    let expired = sources.contains(&ProductStatus::Expired);
    if certified && !expired {
        q = q.filter(
            Condition::any()
                .add(products::Column::Status.ne(ProductStatus::Certified))
                .add(products::Column::ValidUntil.gte(today())),
        );
    } else if expired && !certified {
        q = q.filter(
            Condition::any()
                .add(products::Column::Status.ne(ProductStatus::Certified))
                .add(products::Column::ValidUntil.lt(today())),
        );
    }
    if let Some(c) = cert {
        q = q
            .col_expr(products::Column::CertificateNumber, Expr::value(Some(c.number)))
            .col_expr(products::Column::CertifiedBy, Expr::value(Some(c.by)))
            .col_expr(products::Column::CertifiedAt, Expr::value(Some(t)))
            .col_expr(products::Column::ValidUntil, Expr::value(Some(c.valid_until)));
    }
    Ok(q.exec(conn).await?.rows_affected)
}

pub async fn insert_event(conn: &impl ConnectionTrait, am: product_events::ActiveModel) -> AppResult<()> {
    am.insert(conn).await?;
    Ok(())
}

/// `limit + 1` events of a product after the cursor, oldest first.
pub async fn events_page(
    conn: &impl ConnectionTrait,
    product_id: &str,
    after: Option<String>,
    limit: u64,
) -> AppResult<Vec<product_events::Model>> {
    let mut q = product_events::Entity::find().filter(product_events::Column::ProductId.eq(product_id.to_string()));
    if let Some(c) = after {
        q = q.filter(product_events::Column::Id.gt(c));
    }
    Ok(q.order_by_asc(product_events::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?)
}

pub async fn insert_lot(conn: &impl ConnectionTrait, am: lots::ActiveModel) -> AppResult<lots::Model> {
    Ok(am.insert(conn).await?)
}

pub async fn find_lot(conn: &impl ConnectionTrait, id: LotId) -> AppResult<Option<lots::Model>> {
    Ok(lots::Entity::find_by_id(id.to_string()).one(conn).await?)
}

/// `limit + 1` lots of a product after the cursor, oldest first.
pub async fn lots_page(
    conn: &impl ConnectionTrait,
    product_id: &str,
    after: Option<String>,
    limit: u64,
) -> AppResult<Vec<lots::Model>> {
    let mut q = lots::Entity::find().filter(lots::Column::ProductId.eq(product_id.to_string()));
    if let Some(c) = after {
        q = q.filter(lots::Column::Id.gt(c));
    }
    Ok(q.order_by_asc(lots::Column::Id).limit(limit + 1).all(conn).await?)
}

/// Adds `qty` to a lot if the result stays within the quantity bound; false otherwise.
pub async fn add_to_lot(conn: &impl ConnectionTrait, lot_id: &str, qty: Quantity) -> AppResult<bool> {
    let res = lots::Entity::update_many()
        .col_expr(
            lots::Column::RemainingMilli,
            Expr::col(lots::Column::RemainingMilli).add(qty.minor()),
        )
        .filter(lots::Column::Id.eq(lot_id.to_string()))
        .filter(lots::Column::RemainingMilli.lte(Quantity::MAX - qty.minor()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Takes `qty` out of a lot if it holds that much; false (nothing changed) otherwise.
pub async fn take_from_lot(conn: &impl ConnectionTrait, lot_id: &str, qty: Quantity) -> AppResult<bool> {
    let res = lots::Entity::update_many()
        .col_expr(
            lots::Column::RemainingMilli,
            Expr::col(lots::Column::RemainingMilli).sub(qty.minor()),
        )
        .filter(lots::Column::Id.eq(lot_id.to_string()))
        .filter(lots::Column::RemainingMilli.gte(qty.minor()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Gives the movements of the product that one request wrote (`ref_id` = its `tag`) the reason.
pub async fn set_movement_reason(
    conn: &impl ConnectionTrait,
    product_id: &str,
    tag: &str,
    reason: &str,
) -> AppResult<()> {
    stock_movements::Entity::update_many()
        .col_expr(stock_movements::Column::Reason, Expr::value(Some(reason.to_string())))
        .filter(stock_movements::Column::ProductId.eq(product_id.to_string()))
        .filter(stock_movements::Column::RefId.eq(tag.to_string()))
        .exec(conn)
        .await?;
    Ok(())
}

/// The movements of the product that one request wrote (`ref_id` = its `tag`), in the order
/// written.
pub async fn movements_of(
    conn: &impl ConnectionTrait,
    product_id: &str,
    tag: &str,
) -> AppResult<Vec<stock_movements::Model>> {
    Ok(stock_movements::Entity::find()
        .filter(stock_movements::Column::ProductId.eq(product_id.to_string()))
        .filter(stock_movements::Column::RefId.eq(tag.to_string()))
        .order_by_asc(stock_movements::Column::Id)
        .all(conn)
        .await?)
}

/// The product, its row locked until the transaction ends (PostgreSQL; SQLite has one writer
/// at a time): a delete takes it `FOR UPDATE`.
pub async fn find_for_update(conn: &impl ConnectionTrait, id: ProductId) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id.to_string())
        .lock_exclusive()
        .one(conn)
        .await?)
}

/// The product, `FOR KEY SHARE` until the transaction ends (the lock a foreign key takes): a
/// write that adds stock takes it first, so that it waits for a delete in flight and then
/// finds no product, instead of failing on the foreign key. It does not conflict with the
/// row updates of stock writes (`stock::lock_products`), so two of them never deadlock.
pub async fn find_for_share(conn: &impl ConnectionTrait, id: &str) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id.to_string())
        .lock(sea_orm::sea_query::LockType::KeyShare)
        .one(conn)
        .await?)
}

/// The product row under a share lock, which a change of its 合格证 requirement (an UPDATE of
/// the row) waits for, and which waits for such a change: a new lot is flagged from the
/// requirement it reads here, and the re-flagging of lots after a change sees the lot.
pub async fn find_for_new_lot(conn: &impl ConnectionTrait, id: &str) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id.to_string())
        .lock(sea_orm::sea_query::LockType::Share)
        .one(conn)
        .await?)
}

/// Deletes a product with its stock movements, lots and events; the rows of the product
/// itself deleted (0 when it was gone already).
pub async fn delete_with_history(conn: &impl ConnectionTrait, id: &str) -> Result<u64, sea_orm::DbErr> {
    stock_movements::Entity::delete_many()
        .filter(stock_movements::Column::ProductId.eq(id.to_string()))
        .exec(conn)
        .await?;
    lots::Entity::delete_many()
        .filter(lots::Column::ProductId.eq(id.to_string()))
        .exec(conn)
        .await?;
    product_events::Entity::delete_many()
        .filter(product_events::Column::ProductId.eq(id.to_string()))
        .exec(conn)
        .await?;
    Ok(products::Entity::delete_by_id(id.to_string())
        .exec(conn)
        .await?
        .rows_affected)
}

/// Records the origin county a lot states (a column the entity does not map; read by the flags scan).
pub async fn set_lot_origin(conn: &impl ConnectionTrait, lot_id: &str, county: &str) -> AppResult<()> {
    let st = crate::services::sql(
        conn,
        "UPDATE lots SET origin_county_code = $1 WHERE id = $2",
        vec![county.into(), lot_id.into()],
    );
    conn.execute_raw(st).await?;
    Ok(())
}
