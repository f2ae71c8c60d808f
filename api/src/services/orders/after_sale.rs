//! Reading returns and ratings back, with the visibility of their supplier order (its
//! buyer and the buyer's parent, its supplier, admin and evaluators; 404 for anyone else):
//! a return (`/supplier-orders/{id}/returns/{return_id}`), the returns of a supplier
//! order, its rating, and the ratings of a supplier.
use super::after_sale_queries as q;
use super::read::{reload, visible_supplier_order};
use super::returns::{Rating, Return, ReturnedLine};
use super::types::SupplierOrder;
use crate::auth::{Caller, Role};
use crate::domain::{Money, OrgId, OrgKind, Quantity, ReturnId, SupplierOrderId};
use crate::error::{AppError, AppResult};
use crate::services::{organizations, paginate, stored, PageParams};
use crate::state::AppState;
use entity::{order_returns, supplier_ratings};

crate::page_type!(ReturnPage, Return);
crate::page_type!(RatingPage, Rating);

/// Whether the caller may see the supplier order (and so its returns and rating), checked
/// before the query is read.
pub async fn may_read_after_sale(state: &AppState, caller: &Caller, id: SupplierOrderId) -> AppResult<()> {
    visible_supplier_order(&state.db, caller, id).await.map(drop)
}

fn to_return(return_id: ReturnId, rows: Vec<order_returns::Model>, so: &SupplierOrder) -> AppResult<Return> {
    let first = rows.first().ok_or(AppError::NotFound("return"))?;
    let (reason, created_at) = (first.reason.clone(), first.created_at);
    let lines = rows
        .into_iter()
        .map(|r| {
            Ok(ReturnedLine {
                id: stored(&r.id)?,
                line_id: stored(&r.order_line_id)?,
                quantity: Quantity::from_minor(r.quantity_milli).map_err(AppError::internal)?,
                amount: Money::from_minor(r.amount_fen).map_err(AppError::internal)?,
                ledger_entry_id: r.ledger_entry_id.clone(),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Return {
        id: return_id,
        supplier_order_id: so.id,
        reason,
        lines,
        supplier_order: so.clone(),
        created_at,
    })
}

/// One return of a supplier order (404 when it is not one of this supplier order's).
pub async fn get_return(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    return_id: ReturnId,
) -> AppResult<Return> {
    let so = visible_supplier_order(&state.db, caller, id).await?;
    let rows = q::return_rows(&state.db, &so.id, &return_id.to_string()).await?;
    if rows.is_empty() {
        return Err(AppError::NotFound("return"));
    }
    to_return(return_id, rows, &reload(&state.db, &so.id).await?)
}

/// The returns of a supplier order, oldest first.
pub async fn list_returns(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    page: &PageParams,
) -> AppResult<(Vec<Return>, Option<String>)> {
    let so = visible_supplier_order(&state.db, caller, id).await?;
    let limit = page.limit()?;
    let ids = q::return_ids_page(&state.db, &so.id, page.cursor()?, limit).await?;
    let (ids, next) = paginate(ids, limit, |i| i.clone());
    let mut rows = q::rows_of_returns(&state.db, &so.id, ids.clone()).await?;
    let current = reload(&state.db, &so.id).await?;
    let mut items = Vec::with_capacity(ids.len());
    for rid in ids {
        let (mine, rest): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .partition(|r| r.return_id.as_deref() == Some(rid.as_str()));
        rows = rest;
        items.push(to_return(stored(&rid)?, mine, &current)?);
    }
    Ok((items, next))
}

fn to_rating(m: supplier_ratings::Model) -> AppResult<Rating> {
    Ok(Rating {
        supplier_order_id: stored(&m.supplier_order_id)?,
        supplier_org_id: stored(&m.supplier_org_id)?,
        buyer_org_id: stored(&m.buyer_org_id)?,
        score: m.score,
        comment: m.comment,
        created_at: m.created_at,
    })
}

/// The rating of a supplier order (404 when it has none yet).
pub async fn get_rating(state: &AppState, caller: &Caller, id: SupplierOrderId) -> AppResult<Rating> {
    let so = visible_supplier_order(&state.db, caller, id).await?;
    to_rating(
        q::find_rating(&state.db, &so.id)
            .await?
            .ok_or(AppError::NotFound("rating"))?,
    )
}

/// Who may read a supplier's ratings, and which: the supplier its own (another supplier's
/// are 404), a buyer those its organisation (or its children) gave, admin and evaluators
/// all; county offices may not (403). `Some(buyers)` limits the list to those buyers.
pub async fn may_list_ratings(state: &AppState, caller: &Caller, supplier: OrgId) -> AppResult<Option<Vec<String>>> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    if caller.is(Role::Supplier) && caller.org_id != supplier {
        return Err(AppError::NotFound("supplier"));
    }
    let org = organizations::find(&state.db, supplier)
        .await
        .map_err(|_| AppError::NotFound("supplier"))?;
    if stored::<OrgKind>(&org.kind)?.role() != Role::Supplier {
        return Err(AppError::NotFound("supplier"));
    }
    Ok(if caller.is(Role::Buyer) {
        Some(organizations::with_children(&state.db, &caller.org_id).await?)
    } else {
        None
    })
}

/// The ratings of a supplier the caller may read, by supplier order.
pub async fn list_ratings(
    state: &AppState,
    caller: &Caller,
    supplier: OrgId,
    page: &PageParams,
) -> AppResult<(Vec<Rating>, Option<String>)> {
    let buyers = may_list_ratings(state, caller, supplier).await?;
    let limit = page.limit()?;
    let rows = q::ratings_page(&state.db, &supplier.to_string(), buyers, page.cursor()?, limit).await?;
    let (rows, next) = paginate(rows, limit, |r| r.supplier_order_id.clone());
    Ok((rows.into_iter().map(to_rating).collect::<AppResult<_>>()?, next))
}
