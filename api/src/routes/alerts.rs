//! Unsold-produce alerts: rules, backlog reports, the scan, and the response.
use super::extract::{created, etag_value, idempotency_key, Guarded, GuardedQuery};
use crate::auth::{Caller, Role};
use crate::domain::{AlertId, AlertStatus, ProductCategory, ProductId, UnsoldReportId};
use crate::error::AppError;
use crate::services::alerts::{
    self, Alert, AlertAction, AlertEventPage, AlertFilter, AlertPage, AlertRule, AlertRuleList, NewPledge,
    NewUnsoldReport, PledgeList, PledgeResult, PutAlertRule, ScanSummary, UnsoldReport, UnsoldReportPage,
};
use crate::services::products;
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};

/// The alert rules of every product category.
#[utoipa::path(operation_id = "listAlertRules", tag = "alerts", responses((status = 200, body = AlertRuleList)))]
#[get("/alert-rules")]
pub async fn list_rules(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(alerts::list_rules(&state, &caller).await?))
}

/// Set the rule of a category (admin). Days-of-cover thresholds must rise: yellow < orange < red.
/// Replacing a rule requires `If-Match` with its version (`version` in the list, or the
/// `ETag` of the last answer): 428 without it, 412 when it no longer matches.
#[utoipa::path(operation_id = "setAlertRule", tag = "alerts",
    params(("category" = ProductCategory, Path),
        ("If-Match" = Option<String>, Header, description = "The rule's version (its `ETag`); required to replace it (428 without it)")),
    request_body = PutAlertRule,
    responses(
        (status = 200, body = AlertRule, headers(("ETag" = String, description = "The rule's version, for `If-Match`"))),
        (status = 404, description = "No such category", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` no longer matches the rule's version", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "Replacing a rule requires `If-Match`", body = crate::error::Problem, content_type = "application/problem+json")))]
#[put("/alert-rules/{category}")]
pub async fn put_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    category: web::Path<String>,
    body: Guarded<PutAlertRule>,
) -> Result<HttpResponse, AppError> {
    // An unknown category is no resource: 404 before the body is read, as for `/categories/{code}`.
    let permit = caller.require(&[Role::Admin]).and_then(|()| {
        category
            .parse::<ProductCategory>()
            .map_err(|_| AppError::NotFound("category"))
    });
    let (category, body) = body.open_with(permit)?;
    let if_match = super::extract::if_match(&req).ok();
    let rule = alerts::put_rule(&state, &caller, category, body, if_match).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag_value(&rule.version.to_string())))
        .json(rule))
}

/// Report an unsold backlog of one's own certified product (supplier).
#[utoipa::path(operation_id = "reportUnsoldProduce", tag = "alerts", params(("id" = ProductId, Path)), request_body = NewUnsoldReport, responses((status = 201, body = UnsoldReport), (status = 409, description = "Only a certified product can be reported unsold")))]
#[post("/products/{id}/unsold-reports")]
pub async fn report_unsold(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    body: Guarded<NewUnsoldReport>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(products::may_supply(&state, &caller, *id).await)?;
    let r = alerts::report_unsold(&state, &caller, id.into_inner(), body).await?;
    Ok(created(
        &r,
        &format!("/api/v1/products/{}/unsold-reports/{}", r.product_id, r.id),
    ))
}

/// The backlog reports of a product, oldest first: its supplier, the county office of its
/// origin, admin and evaluators.
#[utoipa::path(operation_id = "listUnsoldReports", tag = "alerts", params(("id" = ProductId, Path), PageParams), responses((status = 200, body = UnsoldReportPage)))]
#[get("/products/{id}/unsold-reports")]
pub async fn list_unsold(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ProductId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(alerts::may_read_reports(&state, &caller, *id).await)?;
    let (items, next_cursor) = alerts::list_reports(&state, &caller, *id, &page).await?;
    Ok(HttpResponse::Ok().json(UnsoldReportPage { items, next_cursor }))
}

/// One backlog report of a product.
#[utoipa::path(operation_id = "getUnsoldReport", tag = "alerts", params(("id" = ProductId, Path), ("report_id" = UnsoldReportId, Path)), responses((status = 200, body = UnsoldReport)))]
#[get("/products/{id}/unsold-reports/{report_id}")]
pub async fn get_unsold(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(ProductId, UnsoldReportId)>,
) -> Result<HttpResponse, AppError> {
    let (id, report) = path.into_inner();
    Ok(HttpResponse::Ok().json(alerts::get_report(&state, &caller, id, report).await?))
}

/// Run the scan now (admin): opens, raises and resolves alerts.
#[utoipa::path(operation_id = "scanAlerts", tag = "alerts", responses((status = 200, body = ScanSummary)))]
#[post("/alerts/scan")]
pub async fn scan(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(alerts::scan_now(&state, &caller).await?))
}

/// Alerts the caller may see: county offices their county, suppliers their products,
/// buyers those they were matched to, admin and evaluators all. Newest first.
#[utoipa::path(operation_id = "listAlerts", tag = "alerts", params(AlertFilter, PageParams), responses((status = 200, body = AlertPage)))]
#[get("/alerts")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<AlertFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (f, page) = (f.signed_in(&caller)?, page.signed_in(&caller)?);
    let (items, next_cursor) = alerts::list(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(AlertPage { items, next_cursor }))
}

/// One alert with its reasons, matched buyers and pledges.
#[utoipa::path(operation_id = "getAlert", tag = "alerts", params(("id" = AlertId, Path)), responses((status = 200, body = Alert)))]
#[get("/alerts/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<AlertId>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(alerts::get(&state, &caller, id.into_inner()).await?))
}

/// Every level change and action on an alert, oldest first.
#[utoipa::path(operation_id = "listAlertEvents", tag = "alerts", params(("id" = AlertId, Path), PageParams), responses((status = 200, body = AlertEventPage)))]
#[get("/alerts/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AlertId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(alerts::may_see(&state, &caller, *id).await)?;
    Ok(HttpResponse::Ok().json(alerts::events(&state, &caller, id.into_inner(), &page).await?))
}

/// Acknowledge an open alert (county office of the origin county, or admin).
#[utoipa::path(operation_id = "acknowledgeAlert", tag = "alerts", params(("id" = AlertId, Path)), request_body = AlertAction, responses((status = 200, body = Alert), (status = 409, description = "The alert is not open")))]
#[post("/alerts/{id}/acknowledge")]
pub async fn acknowledge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AlertId>,
    body: Guarded<AlertAction>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(alerts::may_act(&state, &caller, *id).await)?;
    Ok(HttpResponse::Ok().json(alerts::act(&state, &caller, id.into_inner(), AlertStatus::Acknowledged, body).await?))
}

/// Resolve an alert (county office of the origin county, or admin).
#[utoipa::path(operation_id = "resolveAlert", tag = "alerts", params(("id" = AlertId, Path)), request_body = AlertAction, responses((status = 200, body = Alert), (status = 409, description = "The alert is already resolved")))]
#[post("/alerts/{id}/resolve")]
pub async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AlertId>,
    body: Guarded<AlertAction>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(alerts::may_act(&state, &caller, *id).await)?;
    Ok(HttpResponse::Ok().json(alerts::act(&state, &caller, id.into_inner(), AlertStatus::Resolved, body).await?))
}

/// Pledge a quantity (a matched buyer, `Idempotency-Key`): places a real order for the product.
#[utoipa::path(operation_id = "pledgeToAlert", tag = "alerts", params(("id" = AlertId, Path), ("Idempotency-Key" = String, Header, description = "A unique key per intended pledge; the same key and body replay the first response")), request_body = NewPledge, responses((status = 201, body = PledgeResult), (status = 409, description = "The alert is resolved, or the buyer is no longer among those matched to it (order through `placeOrder`; a retry of a pledge made before replays it), or a request with this `Idempotency-Key` is still being processed"), (status = 503)))]
#[post("/alerts/{id}/pledges")]
pub async fn pledge(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AlertId>,
    body: Guarded<NewPledge>,
) -> Result<HttpResponse, AppError> {
    let permit = alerts::may_pledge(&state, &caller, *id).await;
    let (key, body) = body.open_with(permit.and_then(|()| idempotency_key(&req)))?;
    let r = alerts::pledge(&state, &caller, id.into_inner(), body, &key).await?;
    // A replay answers as the first time did: 201 with the same pledge and order.
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/orders/{}", r.order.id),
        ))
        .json(r))
}

/// The pledges on an alert.
#[utoipa::path(operation_id = "listPledges", tag = "alerts", params(("id" = AlertId, Path)), responses((status = 200, body = PledgeList)))]
#[get("/alerts/{id}/pledges")]
pub async fn pledges(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<AlertId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(PledgeList {
        items: alerts::list_pledges(&state, &caller, id.into_inner()).await?,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_rules)
        .service(put_rule)
        .service(report_unsold)
        .service(list_unsold)
        .service(get_unsold)
        .service(scan)
        .service(list)
        .service(get)
        .service(events)
        .service(acknowledge)
        .service(resolve)
        .service(pledge)
        .service(pledges);
}
