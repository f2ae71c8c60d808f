//! Expiring documents: a supplier's licences, and the county offices' list of what expires.
use super::extract::{created, Guarded, GuardedQuery};
use crate::auth::Caller;
use crate::domain::OrgId;
use crate::error::AppError;
use crate::services::documents::{
    self, ExpiringList, ExpiringQuery, NewDocument, SupplierDocument, SupplierDocumentList,
};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};

/// Record a licence of a supplier (the supplier itself, or admin: a suspended supplier's
/// renewal is recorded by the platform). A renewal is a new document; once no current
/// licence has expired, a supplier suspended for an expired licence is reinstated.
#[utoipa::path(
    operation_id = "createSupplierDocument",
    tag = "documents",
    params(("id" = uuid::Uuid, Path, description = "The supplier organisation")),
    request_body(content = NewDocument, example = json!({"kind": "food_production_licence", "number": "SC10613072700012", "issued_on": "2026-01-15", "valid_until": "2031-01-14"})),
    responses((status = 201, description = "The licence was recorded", body = SupplierDocument, headers(("Location" = String, description = "The supplier's documents"))))
)]
#[post("/suppliers/{id}/documents")]
pub async fn create_document(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
    body: Guarded<NewDocument>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(documents::may_record(&state, &caller, *id).await)?;
    let doc = documents::record(&state, &caller, *id, body).await?;
    Ok(created(
        &doc,
        &format!("/api/v1/suppliers/{}/documents", doc.supplier_org_id),
    ))
}

/// A supplier's licences, current and past (the supplier, admin, evaluators, its county office).
#[utoipa::path(operation_id = "listSupplierDocuments", tag = "documents", params(("id" = uuid::Uuid, Path, description = "The supplier organisation")), responses((status = 200, body = SupplierDocumentList)))]
#[get("/suppliers/{id}/documents")]
pub async fn list_documents(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(documents::list(&state, &caller, *id).await?))
}

/// Documents that expire within `within` days or have expired: current licences of
/// suppliers and the certificates of live products. A county office sees its county's
/// suppliers and products, admin all.
#[utoipa::path(operation_id = "listExpiringDocuments", tag = "documents", params(ExpiringQuery), responses((status = 200, body = ExpiringList)))]
#[get("/documents/expiring")]
pub async fn expiring(
    state: web::Data<AppState>,
    caller: Caller,
    q: GuardedQuery<ExpiringQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(documents::may_list_expiring(&caller))?;
    Ok(HttpResponse::Ok().json(documents::expiring(&state, &caller, &q).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_document).service(list_documents).service(expiring);
}
