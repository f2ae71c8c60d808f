//! Supervision of budget units by finance offices.
use super::extract::GuardedQuery;
use crate::auth::{Caller, Role};
use crate::domain::ReportFormat;
use crate::error::AppError;
use crate::services::supervision::{self, CountiesPage, CountiesQuery, UnitsQuery, UnitsReport};
use crate::services::PageParams;
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
    let stem = format!("units-{}", r.year);
    Ok(match format {
        ReportFormat::Json => HttpResponse::Ok().json(&r),
        ReportFormat::Xlsx => attachment(HttpResponse::Ok(), XLSX, &stem, "xlsx").body(supervision::units_xlsx(&r)?),
        // Streamed: each chunk of rows is written as the client takes the one before.
        ReportFormat::Csv => {
            let chunks = supervision::units_csv_chunks(r).map(|c| {
                c.map(web::Bytes::from)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            });
            attachment(HttpResponse::Ok(), "text/csv; charset=utf-8", &stem, "csv")
                .streaming(futures_util::stream::iter(chunks))
        }
    })
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A response builder for an attachment `stem.ext` of type `ct`.
fn attachment(
    mut b: actix_web::HttpResponseBuilder,
    ct: &str,
    stem: &str,
    ext: &str,
) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CONTENT_TYPE, ct.to_string())).insert_header((
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{stem}.{ext}\""),
    ));
    b
}

/// A spreadsheet answer: CSV (UTF-8 with BOM) or XLSX, as an attachment named `stem`.
fn spreadsheet(
    format: ReportFormat,
    stem: &str,
    csv: impl FnOnce() -> Result<Vec<u8>, AppError>,
    xlsx: impl FnOnce() -> Result<Vec<u8>, AppError>,
) -> Result<HttpResponse, AppError> {
    let (ct, ext, body) = match format {
        ReportFormat::Xlsx => (XLSX, "xlsx", xlsx()?),
        _ => ("text/csv; charset=utf-8", "csv", csv()?),
    };
    Ok(attachment(HttpResponse::Ok(), ct, stem, ext).body(body))
}

/// Each poverty county in the caller's region (supervisors; admin and evaluators see all): the certified
/// products listed in the catalogue, the active suppliers listing them, the sales of its produce credited in
/// the year (net, from the ledger); counties with no certified product are listed with zeros. Paged by county
/// code (`Link: rel="next"`); `format=csv` or `format=xlsx` give every county of the scope in one spreadsheet.
#[utoipa::path(operation_id = "listSupervisedCounties", tag = "supervision", params(("year" = i32, Path), CountiesQuery, PageParams), responses(
    (status = 200, description = "The counties: JSON by default, CSV for `format=csv`, XLSX for `format=xlsx`", content(
        (CountiesPage = "application/json"),
        (String = "text/csv"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    (status = 422, description = "The year or a filter is refused (named)")))]
#[get("/supervision/{year}/counties")]
pub async fn counties(
    state: web::Data<AppState>,
    caller: Caller,
    year: web::Path<i32>,
    q: GuardedQuery<CountiesQuery>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    const READERS: [Role; 3] = [Role::Supervisor, Role::Admin, Role::Evaluator];
    let q = q.open(caller.require(&READERS))?;
    let page = page.open(caller.require(&READERS))?;
    let format = q.format.unwrap_or(ReportFormat::Json);
    if format == ReportFormat::Json {
        let r = supervision::counties(&state, &caller, *year, q, Some(&page)).await?;
        return Ok(HttpResponse::Ok().json(&r));
    }
    let r = supervision::counties(&state, &caller, *year, q, None).await?;
    let stem = format!("counties-{}", r.year);
    spreadsheet(
        format,
        &stem,
        || supervision::counties_csv(&r),
        || supervision::counties_xlsx(&r),
    )
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

/// Correct a wrongly attributed ledger credit (the supervisor of both units' region): a reversal for the buyer
/// credited and a new credit for the right unit, linked to the correction and its reason; the ledger is never edited.
/// When the right unit leads a shared canteen, the new credit is split among its members by the shares of its plan
/// for the entry's year, as acceptance splits it (`credit_entry_ids` lists every part); correcting one part of such
/// a split reverses that part only. A canteen contractor cannot be named: the unit it serves is (422 on `to_org_id`).
#[utoipa::path(operation_id = "createAttributionCorrection", tag = "supervision",
    request_body(content = supervision::NewCorrection, example = json!({"entry_id": "0193e2a0-0000-7000-8000-0000000000aa", "to_org_id": "0193e2a0-0000-7000-8000-000000000001", "reason": "ordered by the contractor for this school"})),
    responses((status = 201, body = supervision::Correction),
        (status = 409, description = "The entry was corrected already"),
        (status = 422, description = "A field is refused (named): `to_org_id` not a budget unit of the region, the buyer already credited, or a canteen contractor")))]
#[post("/supervision/corrections")]
pub async fn correct(
    state: web::Data<AppState>,
    caller: Caller,
    body: super::extract::Guarded<supervision::NewCorrection>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Supervisor]))?;
    let c = supervision::correct(&state, &caller, body).await?;
    Ok(super::extract::created(
        &c,
        &format!("/api/v1/ledger?buyer={}", c.to_org_id),
    ))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(units)
        .service(counties)
        .service(send_notices)
        .service(correct);
}
