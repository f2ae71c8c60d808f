//! Who may see or act on a product: 404 for what the caller may not see, 403 for a
//! role that may not act at all.
use super::{is_orderable, queries, Product};
use crate::auth::{Caller, Role};
use crate::domain::ProductId;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use entity::products;
use sea_orm::ConnectionTrait;

pub async fn find(conn: &impl ConnectionTrait, id: ProductId) -> AppResult<products::Model> {
    queries::find(conn, id).await?.ok_or(AppError::NotFound("product"))
}

/// The county a certifier's office covers (its organisation's region).
pub(super) async fn certifier_county(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<String> {
    queries::org_region(conn, &caller.org_id.to_string()).await
}

/// Loads a product the caller may see, else 404.
pub async fn visible(conn: &impl ConnectionTrait, caller: &Caller, id: ProductId) -> AppResult<products::Model> {
    let m = find(conn, id).await?;
    let ok = match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Supplier => m.supplier_org_id == caller.org_id,
        Role::Certifier => m.origin_county_code == certifier_county(conn, caller).await?,
        Role::Buyer | Role::Supervisor => is_orderable(conn, &m).await?,
    };
    if ok {
        Ok(m)
    } else {
        Err(AppError::NotFound("product"))
    }
}

/// A product the caller's organisation supplies (403 for other roles, 404 for other suppliers).
pub(super) async fn own(conn: &impl ConnectionTrait, caller: &Caller, id: ProductId) -> AppResult<products::Model> {
    caller.require(&[Role::Supplier])?;
    let m = find(conn, id).await?;
    if m.supplier_org_id != caller.org_id {
        return Err(AppError::NotFound("product"));
    }
    Ok(m)
}

/// Whether the caller supplies the product (403 for other roles, 404 for other suppliers),
/// checked before the body is read: authorise, then validate.
pub async fn may_supply(state: &AppState, caller: &Caller, id: ProductId) -> AppResult<()> {
    own(&state.db, caller, id).await.map(drop)
}

/// Whether the caller certifies the product's county (403 for other roles, 404 for other
/// counties), checked before the body is read.
pub async fn may_certify(state: &AppState, caller: &Caller, id: ProductId) -> AppResult<()> {
    in_county(&state.db, caller, id).await.map(drop)
}

/// A product of the certifier's county (403 for other roles, 404 for other counties).
pub(super) async fn in_county(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: ProductId,
) -> AppResult<products::Model> {
    caller.require(&[Role::Certifier])?;
    let m = find(conn, id).await?;
    if m.origin_county_code != certifier_county(conn, caller).await? {
        return Err(AppError::NotFound("product"));
    }
    Ok(m)
}

pub async fn get(state: &AppState, caller: &Caller, id: ProductId) -> AppResult<Product> {
    Product::from_model(visible(&state.db, caller, id).await?)
}
