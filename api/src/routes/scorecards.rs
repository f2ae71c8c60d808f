//! Supplier scorecards.
use super::extract::GuardedQuery;
use crate::auth::Caller;
use crate::domain::OrgId;
use crate::error::AppError;
use crate::services::scorecards::{self, Scorecard, ScorecardQuery};
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};

/// A supplier's year: orders received, confirmed within 48 h, delivered by the buyer's
/// deadline, accepted ÷ ordered, returned ÷ accepted, ratings, response to unsold-produce
/// pledges and valid documents, each with the counts behind it. For the supplier itself,
/// buyers, evaluators and admin; an id that is not a supplier is 404.
#[utoipa::path(operation_id = "getSupplierScorecard", tag = "scorecards", params(("id" = uuid::Uuid, Path, description = "The supplier organisation"), ScorecardQuery), responses((status = 200, body = Scorecard)))]
#[get("/suppliers/{id}/scorecard")]
pub async fn scorecard(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
    q: GuardedQuery<ScorecardQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(scorecards::may_read(&state, &caller, *id).await)?;
    Ok(HttpResponse::Ok().json(scorecards::scorecard(&state, &caller, *id, &q).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(scorecard);
}
