//! Supervision of budget units by finance offices.
use super::extract::GuardedQuery;
use crate::auth::{Caller, Role};
use crate::domain::ReportFormat;
use crate::error::AppError;
use crate::services::supervision::{self, UnitsQuery, UnitsReport};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};

/// Every budget unit in the caller's region (supervisors; admin and evaluators see all) with its plan state,
/// target, credited amount, progress, expected-by-today on the year's pace curve and laggard reasons, ranked
/// by progress, and the sub-regions ranked. `format=csv` (UTF-8 with BOM) or `format=xlsx` for a spreadsheet.
#[utoipa::path(operation_id = "listSupervisedUnits", tag = "supervision", params(("year" = i32, Path), UnitsQuery), responses(
    (status = 200, description = "The units: JSON by default, CSV for `format=csv`, XLSX for `format=xlsx`", content(
        (UnitsReport = "application/json"),
        (String = "text/csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    (status = 422, description = "A filter is refused (named)")))]
#[get("/supervision/{year}/units")]
pub async fn units(
    state: web::Data<AppState>,
    caller: Caller,
    year: web::Path<i32>,
    q: GuardedQuery<UnitsQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(caller.require(&[Role::Supervisor, Role::Admin, Role::Evaluator]))?;
    let format = q.format.unwrap_or(ReportFormat::Json);
    let r = supervision::units(&state, &caller, *year, q).await?;
    let attach = |ext: &str| format!("attachment; filename=\"units-{}.{ext}\"", r.year);
    Ok(match format {
        ReportFormat::Json => HttpResponse::Ok().json(&r),
        ReportFormat::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, attach("csv")))
            .body(supervision::units_csv(&r)?),
        ReportFormat::Xlsx => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ))
            .insert_header((header::CONTENT_DISPOSITION, attach("xlsx")))
            .body(supervision::units_xlsx(&r)?),
    })
}

/// Send this month's laggard notices and supervisor summaries now (admin); each is sent once per month,
/// as the hourly job does.
#[utoipa::path(operation_id = "runSupervisionNotices", tag = "supervision",
    responses((status = 200, body = supervision::NoticesSent)))]
#[post("/supervision/notices/run")]
pub async fn send_notices(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, AppError> {
    caller.require(&[Role::Admin])?;
    Ok(HttpResponse::Ok().json(supervision::send_monthly(&state).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(units).service(send_notices);
}
