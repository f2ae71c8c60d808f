//! The email outbox, for the admin: what failed, and sending it again.
use super::extract::GuardedQuery;
use crate::auth::Caller;
use crate::domain::OutboxId;
use crate::error::AppError;
use crate::services::outbox::{self, OutboxFilter, OutboxPage};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};

/// Emails of the outbox, newest first (`?status=failed`: those given up on). Admin only.
#[utoipa::path(operation_id = "listOutboxEmails", tag = "outbox", params(OutboxFilter, PageParams),
    responses(
        (status = 200, body = OutboxPage),
        (status = 401), (status = 403, description = "Not an admin"), (status = 400, description = "`status`, `limit` or `cursor` is not valid")))]
#[get("/admin/outbox")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<OutboxFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let f = f.open(outbox::may_manage(&caller))?;
    let page = page.open(outbox::may_manage(&caller))?;
    Ok(HttpResponse::Ok().json(outbox::list(&state, &caller, &f, &page).await?))
}

/// Sends a `failed` email back to the queue: `pending`, due now, attempts from zero, the same
/// `Message-ID`. Admin only.
#[utoipa::path(operation_id = "retryOutboxEmail", tag = "outbox", params(("id" = OutboxId, Path)),
    responses(
        (status = 200, body = outbox::OutboxEmail),
        (status = 401), (status = 403, description = "Not an admin"),
        (status = 404, description = "No such email"),
        (status = 409, description = "The email is not `failed` (pending or already sent)")))]
#[post("/admin/outbox/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OutboxId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(outbox::retry(&state, &caller, id.into_inner()).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(retry);
}
