//! Deleting a draft product (its supplier, `If-Match`). A draft has never been submitted:
//! no certifier has seen it, it was never in the catalogue, no order, alert or report can
//! name it. So it goes whole: the product with its events, lots and stock movements, and
//! its id answers 404 afterwards. Anything past draft stays (it is part of the record);
//! deleting it is 409.
use super::access::own;
use super::{queries, stored_status};
use crate::auth::Caller;
use crate::domain::{ProductId, ProductStatus};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use sea_orm::TransactionTrait;

pub async fn delete(state: &AppState, caller: &Caller, id: ProductId, if_match: &str) -> AppResult<()> {
    own(&state.db, caller, id).await?;
    let txn = state.db.begin().await?;
    // Held until the end: a lot or adjustment racing the delete waits, then finds no product.
    let current = queries::find_for_update(&txn, id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    if if_match != "*" && if_match != current.version.to_string() {
        return Err(AppError::PreconditionFailed);
    }
    let status = stored_status(&current)?;
    if status != ProductStatus::Draft {
        return Err(AppError::Conflict(format!(
            "only a draft product can be deleted; this one is {status}"
        )));
    }
    match queries::delete_with_history(&txn, &current.id).await {
        Ok(1) => {}
        Ok(_) => return Err(AppError::NotFound("product")),
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))) => {
            return Err(AppError::Conflict(
                "the product is referenced by other records and cannot be deleted".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    txn.commit().await?;
    Ok(())
}
