//! The writes of the demo seed that no other capability offers: regions as
//! they are, a certified product with its history, one lot and its stock movement.
use crate::domain::{LotId, ProductStatus, StockMovementId, UserId};
use entity::{lots, product_events, products, regions, stock_movements};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set};

pub async fn insert_region(db: &impl ConnectionTrait, am: regions::ActiveModel) -> Result<(), DbErr> {
    am.insert(db).await?;
    Ok(())
}

pub async fn product_exists(db: &impl ConnectionTrait, supplier: &str, name: &str) -> Result<bool, DbErr> {
    Ok(products::Entity::find()
        .filter(products::Column::SupplierOrgId.eq(supplier))
        .filter(products::Column::Name.eq(name))
        .count(db)
        .await?
        > 0)
}

pub async fn insert_product(db: &impl ConnectionTrait, am: products::ActiveModel) -> Result<(), DbErr> {
    am.insert(db).await?;
    Ok(())
}

/// One product event: `from` → `to`, by `user` of `org`.
#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    db: &impl ConnectionTrait,
    product_id: &str,
    from: Option<ProductStatus>,
    to: ProductStatus,
    user: Option<UserId>,
    org: Option<String>,
    reason: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    product_events::ActiveModel {
        id: Set(crate::services::new_id()),
        product_id: Set(product_id.to_string()),
        from_status: Set(from.map(|s| s.as_str().to_string())),
        to_status: Set(to.as_str().to_string()),
        actor_user_id: Set(user.map(|u| u.to_string())),
        actor_org_id: Set(org),
        reason: Set(reason.map(str::to_string)),
        occurred_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A lot of `milli` thousandths and the stock movement that brings it in.
pub async fn insert_lot(
    db: &impl ConnectionTrait,
    product_id: &str,
    milli: i64,
    harvested_on: chrono::NaiveDate,
    best_before: chrono::NaiveDate,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    let lot_id = LotId::new().to_string();
    lots::ActiveModel {
        id: Set(lot_id.clone()),
        product_id: Set(product_id.to_string()),
        quantity_milli: Set(milli),
        remaining_milli: Set(milli),
        harvested_on: Set(Some(harvested_on)),
        best_before: Set(best_before),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    stock_movements::ActiveModel {
        id: Set(StockMovementId::new().to_string()),
        product_id: Set(product_id.to_string()),
        lot_id: Set(Some(lot_id)),
        delta_milli: Set(milli),
        kind: Set(LOT_MOVEMENT.to_string()),
        reason: Set(Some("demo data".into())),
        ref_id: Set(None),
        actor_user_id: Set(None),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The stock movement kind of a new lot.
const LOT_MOVEMENT: &str = "lot";

/// Whether the product was ever ordered (the demo's weighed order is placed once).
pub async fn any_order_line(db: &impl ConnectionTrait, product_id: &str) -> Result<bool, DbErr> {
    Ok(entity::order_lines::Entity::find()
        .filter(entity::order_lines::Column::ProductId.eq(product_id))
        .count(db)
        .await?
        > 0)
}

/// Whether any invoice is recorded (the demo payments are loaded once).
pub async fn any_invoice(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(entity::invoices::Entity::find().count(db).await? > 0)
}

pub async fn product_by_name(
    db: &impl ConnectionTrait,
    supplier: &str,
    name: &str,
) -> Result<Option<products::Model>, DbErr> {
    products::Entity::find()
        .filter(products::Column::SupplierOrgId.eq(supplier))
        .filter(products::Column::Name.eq(name))
        .one(db)
        .await
}
