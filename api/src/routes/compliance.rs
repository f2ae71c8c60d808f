//! 合格证 (compliance certificates): category defaults, a product's own requirement, a lot's
//! certificate, and a lot's trace (JSON or GS1 EPCIS 2.0 JSON-LD).
use super::extract::{Guarded, GuardedQuery};
use crate::auth::{Caller, Role};
use crate::domain::{LotId, ProductCategory, ProductId, TraceFormat};
use crate::error::AppError;
use crate::services::compliance::{
    self, CategoryList, CategorySetting, ComplianceCertificate, LotTrace, PutCategory, RequirementPatch, TraceQuery,
};
use crate::services::products::{Lot, Product};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, put, web, HttpRequest, HttpResponse};

/// Every product category and whether its products need a 合格证 per lot by default (any signed-in caller).
#[utoipa::path(operation_id = "listCategories", tag = "products", responses((status = 200, body = CategoryList)))]
#[get("/categories")]
pub async fn list(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(compliance::list_categories(&state, &caller).await?))
}

/// Set whether a category's products need a 合格证 per lot by default (admin). Products that follow
/// the default, and their lots without a certificate, change with it. An unknown code is 404.
#[utoipa::path(operation_id = "setCategory", tag = "products", params(("code" = ProductCategory, Path)),
    request_body(content = PutCategory, example = json!({"requires_compliance_certificate": true})),
    responses((status = 200, body = CategorySetting), (status = 404, description = "No such category", body = crate::error::Problem, content_type = "application/problem+json")))]
#[put("/categories/{code}")]
pub async fn put_category(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    body: Guarded<PutCategory>,
) -> Result<HttpResponse, AppError> {
    let permit = caller.require(&[Role::Admin]).and_then(|()| {
        code.parse::<ProductCategory>()
            .map(drop)
            .map_err(|_| AppError::NotFound("category"))
    });
    let body = body.open(permit)?;
    Ok(HttpResponse::Ok().json(compliance::put_category(&state, &caller, &code, body).await?))
}

/// Set a product's own 合格证 requirement against its category's default (the county office of its
/// origin): true, false, or null to follow the category. Lots without a certificate are flagged
/// (or cleared) at once.
#[utoipa::path(operation_id = "setComplianceRequirement", tag = "products", params(("id" = uuid::Uuid, Path)),
    request_body(content = RequirementPatch, example = json!({"requires_compliance_certificate": false})),
    responses((status = 200, body = Product)))]
#[put("/products/{id}/compliance-requirement")]
pub async fn set_requirement(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    body: Guarded<RequirementPatch>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(crate::services::products::may_certify(&state, &caller, *id).await)?;
    Ok(HttpResponse::Ok().json(compliance::set_requirement(&state, &caller, *id, body).await?))
}

/// Record (or correct) a lot's 合格证 (its supplier). A lot flagged `uncertified_batch` becomes
/// available stock. `issued_on` must not be in the future. Once the lot has shipped with a
/// certificate, that one stays: another is 409 (the same one again is 200).
#[utoipa::path(operation_id = "setComplianceCertificate", tag = "products", params(("id" = uuid::Uuid, Path)),
    request_body(content = ComplianceCertificate, example = json!({"number": "HGZ-130727-20261128-001",
        "issuer": "阳原县东城镇蔬菜专业合作社", "issued_on": "2026-11-28", "trace_code": "130727-0001-8842"})),
    responses((status = 200, body = Lot), (status = 409, description = "The lot has shipped with another certificate",
        body = crate::error::Problem, content_type = "application/problem+json")))]
#[put("/lots/{id}/compliance-certificate")]
pub async fn record_certificate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<LotId>,
    body: Guarded<ComplianceCertificate>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(compliance::may_certify_lot(&state, &caller, *id).await)?;
    Ok(HttpResponse::Ok().json(compliance::record_certificate(&state, &caller, *id, body).await?))
}

/// One lot from farm to canteen: origin, 合格证, the supplier orders it went to and their
/// acceptance. `?format=epcis` (or `Accept: application/ld+json`) gives a GS1 EPCIS 2.0 JSON-LD
/// document (ObjectEvents with bizStep commissioning, shipping, receiving). For the lot's
/// supplier, the county office of its origin, evaluators and admins; a buyer sees the shipments
/// whose order it or a child bought and those of the lines its ledger (or a child's) is credited
/// with, and 404 when there are none.
#[utoipa::path(operation_id = "getLotTrace", tag = "products", params(("id" = uuid::Uuid, Path), TraceQuery),
    responses((status = 200, description = "The trace (JSON), or an EPCIS document (JSON-LD)",
        content((LotTrace = "application/json"), (serde_json::Value = "application/ld+json")))))]
#[get("/lots/{id}/trace")]
pub async fn trace(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<LotId>,
    q: GuardedQuery<TraceQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(compliance::may_trace(&state, &caller, *id).await)?;
    let wants_ld = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/ld+json"));
    let t = compliance::trace(&state, &caller, *id).await?;
    let epcis = match q.format {
        Some(f) => f == TraceFormat::Epcis,
        None => wants_ld,
    };
    if epcis {
        let doc = compliance::epcis_of_trace(&t);
        return Ok(HttpResponse::Ok()
            .content_type("application/ld+json")
            .body(doc.to_string()));
    }
    Ok(HttpResponse::Ok().json(t))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(put_category)
        .service(set_requirement)
        .service(record_certificate)
        .service(trace);
}
