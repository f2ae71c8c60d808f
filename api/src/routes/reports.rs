//! Reports for evaluators and each organisation's own slice, and the OCDS export.
use super::extract::GuardedQuery;
use crate::auth::Caller;
use crate::domain::ReportFormat;
use crate::error::AppError;
use crate::services::reports::{self, OcdsQuery, Summary, SummaryQuery};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

/// Ledger totals of a year grouped by buyer, supplier, county, pairing or month, split by credit category and
/// by origin poverty status, with a ranking of buyers by quota progress (group_by=buyer). Evaluators and admin
/// see everything; buyers their own and their children's entries; suppliers their own; county offices their
/// county's. `format=csv` (UTF-8 with BOM) and `format=xlsx` give the same figures with Chinese headings.
#[utoipa::path(operation_id = "getSummaryReport", tag = "reports", params(SummaryQuery), responses(
    (status = 200, description = "The summary: JSON by default, CSV (UTF-8 with BOM) for `format=csv`, XLSX for `format=xlsx`", content(
        (Summary = "application/json"),
        (String = "text/csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
#[get("/reports/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
    q: GuardedQuery<SummaryQuery>,
) -> Result<HttpResponse, AppError> {
    let (year, group, format) = reports::parse_query(q.signed_in(&caller)?)?;
    let s = reports::summary(&state, &caller, year, group).await?;
    let attach = |ext: &str| format!("attachment; filename=\"{}\"", reports::filename(&s, ext));
    Ok(match format {
        ReportFormat::Json => HttpResponse::Ok().json(&s),
        ReportFormat::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, attach("csv")))
            .body(reports::to_csv(&s)?),
        ReportFormat::Xlsx => HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ))
            .insert_header((header::CONTENT_DISPOSITION, attach("xlsx")))
            .body(reports::to_xlsx(&s)?),
    })
}

/// The year's accepted supplier orders as an Open Contracting Data Standard 1.1 release package
/// (evaluators and admin).
#[utoipa::path(operation_id = "getOcdsReleasePackage", tag = "reports", params(OcdsQuery), responses((status = 200, description = "OCDS 1.1 release package", body = Object)))]
#[get("/reports/ocds")]
pub async fn ocds(
    state: web::Data<AppState>,
    caller: Caller,
    q: GuardedQuery<OcdsQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(reports::may_export_ocds(&caller))?;
    let pkg = reports::ocds(&state, &caller, q.year).await?;
    Ok(HttpResponse::Ok().json(pkg))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(summary).service(ocds);
}
