//! Yearly reserved-share plans of budget units and the year's plan settings.
use super::extract::{etag_value, if_match, Guarded, GuardedQuery};
use crate::auth::{Caller, Role};
use crate::domain::OrgId;
use crate::error::AppError;
use crate::services::plans::{
    self, ApprovePlan, Plan, PlanEventPage, PlanSaved, PlanSettings, PutPlan, PutPlanSettings, ReturnPlan,
};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};

fn with_etag(mut b: actix_web::HttpResponseBuilder, p: &Plan) -> HttpResponse {
    b.insert_header((header::ETAG, etag_value(&p.version.to_string())))
        .json(p)
}

/// A budget unit's plan for a year (the unit, its parent, the supervisor of its region, admin, evaluators).
#[utoipa::path(operation_id = "getPlan", tag = "plans", params(("org_id" = OrgId, Path), ("year" = i32, Path)),
    responses((status = 200, body = Plan, headers(("ETag" = String, description = "The plan's version, for `If-Match`")))))]
#[get("/buyers/{org_id}/plans/{year}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
) -> Result<HttpResponse, AppError> {
    let (org, year) = path.into_inner();
    let p = plans::get_plan(&state, &caller, org, year).await?;
    Ok(with_etag(HttpResponse::Ok(), &p))
}

/// Write the draft of a plan (the unit or its parent): a budget and share, or a declaration.
/// Replacing needs `If-Match`; a filed plan cannot be changed (409); an approved one only with
/// an `amendment_reason`, which reopens it as a draft for a new filing (its approved target stays in force).
#[utoipa::path(operation_id = "setPlan", tag = "plans", params(("org_id" = OrgId, Path), ("year" = i32, Path),
        ("If-Match" = Option<String>, Header, description = "The plan's `ETag`; required to replace an existing plan")),
    request_body(content = PutPlan, example = json!({"food_budget": "1200000.00", "reserved_share": "0.3"})),
    responses(
        (status = 200, description = "The plan was replaced", body = Plan, headers(("ETag" = String, description = "The plan's version"))),
        (status = 201, description = "The plan was created", body = Plan, headers(("ETag" = String, description = "The plan's version"))),
        (status = 409, description = "The plan is filed and under review, or its `contractor_org_id` is named by another unit's approved plan of the year"),
        (status = 412, description = "`If-Match` no longer matches"),
        (status = 422, description = "A field is refused (named)"),
        (status = 428, description = "Replacing a plan requires `If-Match`")))]
#[put("/buyers/{org_id}/plans/{year}")]
pub async fn put_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
    body: Guarded<PutPlan>,
) -> Result<HttpResponse, AppError> {
    let (org, year) = path.into_inner();
    let body = body.open(plans::may_write(&state.db, &caller, org).await)?;
    Ok(
        match plans::put_plan(&state, &caller, org, year, body, if_match(&req).ok()).await? {
            PlanSaved::Created(p) => {
                let mut b = HttpResponse::Created();
                b.insert_header((header::LOCATION, format!("/api/v1/buyers/{org}/plans/{year}")));
                with_etag(b, &p)
            }
            PlanSaved::Replaced(p) => with_etag(HttpResponse::Ok(), &p),
        },
    )
}

/// File the plan with the supervisor (the unit or its parent); marked `late` after the year's deadline.
#[utoipa::path(operation_id = "submitPlan", tag = "plans", params(("org_id" = OrgId, Path), ("year" = i32, Path),
        ("If-Match" = Option<String>, Header, description = "The plan's `ETag`")),
    responses((status = 200, body = Plan),
        (status = 409, description = "The plan is not a draft or returned"),
        (status = 412, description = "`If-Match` no longer matches"),
        (status = 422, description = "The plan is incomplete, or its share is below the year's floor as it now stands without an explanation")))]
#[post("/buyers/{org_id}/plans/{year}/file")]
pub async fn file_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
) -> Result<HttpResponse, AppError> {
    let (org, year) = path.into_inner();
    let p = plans::file(&state, &caller, org, year, if_match(&req).ok()).await?;
    Ok(with_etag(HttpResponse::Ok(), &p))
}

/// Approve a filed plan (the supervisor of the unit's region); below the floor only with a `note`.
/// Two concurrent approvals apply once (the second is 409, or 412 with a stale `If-Match`).
#[utoipa::path(operation_id = "approvePlan", tag = "plans", params(("org_id" = OrgId, Path), ("year" = i32, Path),
        ("If-Match" = Option<String>, Header, description = "The plan's `ETag`")),
    request_body(content = Option<ApprovePlan>, example = json!({"note": "checked against the budget"})),
    responses((status = 200, body = Plan),
        (status = 409, description = "The plan is not filed, or (a shared canteen's member) its lead's plan is not approved or does not list it, or its `contractor_org_id` is named by another unit's approved plan of the year"),
        (status = 412, description = "`If-Match` no longer matches"),
        (status = 422, description = "A note is required below the year's floor as it now stands")))]
#[post("/buyers/{org_id}/plans/{year}/approve")]
pub async fn approve_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
    body: Guarded<ApprovePlan>,
) -> Result<HttpResponse, AppError> {
    let (org, year) = path.into_inner();
    let body = body.open_optional(plans::may_review_plan(&state.db, &caller, org, year).await)?;
    let p = plans::approve(&state, &caller, org, year, body, if_match(&req).ok()).await?;
    Ok(with_etag(HttpResponse::Ok(), &p))
}

/// Return a filed plan to the unit with a `reason` (the supervisor of the unit's region).
#[utoipa::path(operation_id = "returnPlan", tag = "plans", params(("org_id" = OrgId, Path), ("year" = i32, Path),
        ("If-Match" = Option<String>, Header, description = "The plan's `ETag`")),
    request_body(content = ReturnPlan, example = json!({"reason": "the budget does not match the department's"})),
    responses((status = 200, body = Plan),
        (status = 409, description = "The plan is not filed"),
        (status = 412, description = "`If-Match` no longer matches"),
        (status = 422, description = "The reason is missing")))]
#[post("/buyers/{org_id}/plans/{year}/return")]
pub async fn return_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
    body: Guarded<ReturnPlan>,
) -> Result<HttpResponse, AppError> {
    let (org, year) = path.into_inner();
    let body = body.open(plans::may_review_plan(&state.db, &caller, org, year).await)?;
    let p = plans::return_plan(&state, &caller, org, year, body, if_match(&req).ok()).await?;
    Ok(with_etag(HttpResponse::Ok(), &p))
}

/// Every change of the plan, oldest first, each with the plan as it was after it.
#[utoipa::path(operation_id = "listPlanHistory", tag = "plans", params(("org_id" = OrgId, Path), ("year" = i32, Path), PageParams),
    responses((status = 200, body = PlanEventPage)))]
#[get("/buyers/{org_id}/plans/{year}/history")]
pub async fn plan_history(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (org, year) = path.into_inner();
    let page = page.open(plans::may_read(&state.db, &caller, org).await)?;
    let (items, next_cursor) = plans::history(&state, &caller, org, year, &page).await?;
    Ok(HttpResponse::Ok().json(PlanEventPage { items, next_cursor }))
}

/// The year's plan settings: filing deadline, floor, monthly pace weights (any logged-in caller).
#[utoipa::path(operation_id = "getPlanSettings", tag = "plans", params(("year" = i32, Path)),
    responses((status = 200, body = PlanSettings)))]
#[get("/plan-settings/{year}")]
pub async fn get_settings(
    state: web::Data<AppState>,
    _caller: Caller,
    year: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(plans::get_settings(&state, *year).await?))
}

/// Set the year's plan settings (admin). The floor is the one `/quota-floors/{year}` shows.
#[utoipa::path(operation_id = "setPlanSettings", tag = "plans", params(("year" = i32, Path)),
    request_body(content = PutPlanSettings, example = json!({"filing_deadline": "2026-03-31", "min_share": "0.1",
        "pace_weights": [6, 6, 8, 9, 9, 7, 5, 5, 10, 10, 12, 13]})),
    responses((status = 200, body = PlanSettings)))]
#[put("/plan-settings/{year}")]
pub async fn put_settings(
    state: web::Data<AppState>,
    caller: Caller,
    year: web::Path<i32>,
    body: Guarded<PutPlanSettings>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Admin]))?;
    Ok(HttpResponse::Ok().json(plans::put_settings(&state, &caller, *year, body).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_plan)
        .service(put_plan)
        .service(file_plan)
        .service(approve_plan)
        .service(return_plan)
        .service(plan_history)
        .service(get_settings)
        .service(put_settings);
}
