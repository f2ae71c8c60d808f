//! Fraud signals: the list (evaluators, admin; supervisors in their region), one flag,
//! dismissing and confirming with a note, and a scan on demand (admin).
use super::extract::{Guarded, GuardedQuery};
use crate::auth::Caller;
use crate::domain::{FlagId, FlagState, ReportFormat};
use crate::error::AppError;
use crate::services::flags::{self, Decision, Flag, FlagPage, FlagQuery, FlagScanSummary};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

/// Flags by kind, state and year, oldest first (evaluators and admin all; a supervisor those whose
/// buyer is in its region). `format=csv` (UTF-8 with BOM) or `format=xlsx` for every matching flag.
#[utoipa::path(operation_id = "listFlags", tag = "flags", params(FlagQuery, PageParams), responses(
    (status = 200, description = "The flags: JSON pages by default (`Link` to the next), CSV for `format=csv`, XLSX for `format=xlsx`", content(
        (FlagPage = "application/json"),
        (String = "text/csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/flags")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<FlagQuery>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let f = f.open(flags::may_read(&caller))?;
    let page = page.open(Ok(()))?;
    let (items, next_cursor) = flags::list(&state, &caller, &f, &page).await?;
    let attach = |ext: &str| format!("attachment; filename=\"flags.{ext}\"");
    Ok(match f.format.unwrap_or(ReportFormat::Json) {
        ReportFormat::Json => HttpResponse::Ok().json(FlagPage { items, next_cursor }),
        ReportFormat::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, attach("csv")))
            .body(flags::flags_csv(&items)?),
        ReportFormat::Xlsx => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ))
            .insert_header((header::CONTENT_DISPOSITION, attach("xlsx")))
            .body(flags::flags_xlsx(&items)?),
    })
}

/// One flag with its evidence and, once confirmed, its reversal entries.
#[utoipa::path(operation_id = "getFlag", tag = "flags", params(("id" = FlagId, Path)), responses((status = 200, body = Flag)))]
#[get("/flags/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<FlagId>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(flags::get(&state, &caller, id.into_inner()).await?))
}

/// Dismiss an open flag with a note (an evaluator, or the supervisor of the buyer's region).
#[utoipa::path(operation_id = "dismissFlag", tag = "flags", params(("id" = FlagId, Path)),
    request_body(content = Decision, example = json!({"note": "a seasonal price, checked with the county office"})),
    responses((status = 200, body = Flag), (status = 409, description = "The flag is not open")))]
#[post("/flags/{id}/dismiss")]
pub async fn dismiss(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FlagId>,
    body: Guarded<Decision>,
) -> Result<HttpResponse, AppError> {
    decide(state, caller, *id, body, FlagState::Dismissed).await
}

/// Confirm an open flag with a note: each ledger entry it names is reversed out of the credit
/// totals by a reversal entry linked to the flag, the note as its reason.
#[utoipa::path(operation_id = "confirmFlag", tag = "flags", params(("id" = FlagId, Path)),
    request_body(content = Decision, example = json!({"note": "the same legal representative on both sides"})),
    responses((status = 200, body = Flag), (status = 409, description = "The flag is not open (confirmed or dismissed already)")))]
#[post("/flags/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<FlagId>,
    body: Guarded<Decision>,
) -> Result<HttpResponse, AppError> {
    decide(state, caller, *id, body, FlagState::Confirmed).await
}

/// Authorises, then reads the note, then dismisses or confirms.
async fn decide(
    state: web::Data<AppState>,
    caller: Caller,
    id: FlagId,
    body: Guarded<Decision>,
    to: FlagState,
) -> Result<HttpResponse, AppError> {
    let (f, body) = body.open_with(flags::may_decide(&state, &caller, id).await)?;
    Ok(HttpResponse::Ok().json(flags::decide(&state, &caller, f, to, body).await?))
}

#[derive(Debug, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ScanQuery {
    /// Scan everything, not only what is new since the last scan.
    pub full: Option<bool>,
}

/// Run the fraud-signal scan now (admin), as the scheduled job does; `full=true` rescans everything.
#[utoipa::path(operation_id = "runFlagScan", tag = "flags", params(ScanQuery), responses((status = 200, body = FlagScanSummary)))]
#[post("/flags/scan")]
pub async fn scan(
    state: web::Data<AppState>,
    caller: Caller,
    q: GuardedQuery<ScanQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(caller.require(&[crate::auth::Role::Admin]))?;
    Ok(HttpResponse::Ok().json(flags::run_now(&state, &caller, q.full.unwrap_or(false)).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(scan)
        .service(get)
        .service(dismiss)
        .service(confirm);
}
