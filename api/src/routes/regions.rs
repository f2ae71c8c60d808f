//! Administrative regions.
use super::extract::{etag_value, ok_with_etag, Guarded, Query};
use crate::auth::{Caller, Role};
use crate::error::AppError;
use crate::services::regions::{self, PutRegion, Region, RegionFilter, RegionPage};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, put, web, HttpRequest, HttpResponse};

/// List regions, filtered by level, parent and poverty status (public).
#[utoipa::path(operation_id = "listRegions", tag = "regions", params(RegionFilter, PageParams), responses((status = 200, body = RegionPage)))]
#[get("/regions")]
pub async fn list(
    state: web::Data<AppState>,
    f: Query<RegionFilter>,
    page: Query<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (items, next_cursor) = regions::list(&state.db, &f, &page).await?;
    Ok(HttpResponse::Ok().json(RegionPage { items, next_cursor }))
}

/// One region by its GB/T 2260 code (public). Its `ETag` is the version `If-Match` names to replace it.
#[utoipa::path(operation_id = "getRegion", tag = "regions", params(("code" = String, Path)),
    responses((status = 200, body = Region, headers(("ETag" = String, description = "The region's version, for `If-Match`")))))]
#[get("/regions/{code}")]
pub async fn get(state: web::Data<AppState>, code: web::Path<String>) -> Result<HttpResponse, AppError> {
    let region = regions::get(&state.db, &code).await?;
    Ok(ok_with_etag(&region, &regions::version_of(&region)))
}

/// Create or replace a region (admin). 201 when created, 200 when replaced.
/// Replacing an existing region requires `If-Match` with its ETag: 428 without it, 412 when it no longer matches.
#[utoipa::path(operation_id = "setRegion", tag = "regions",
    params(("code" = String, Path),
        ("If-Match" = Option<String>, Header, description = "The region's `ETag`; required to replace an existing region (428 without it)")),
    request_body = PutRegion,
    responses(
        (status = 200, description = "The region was replaced", body = Region, headers(("ETag" = String, description = "The region's version, for `If-Match`"))),
        (status = 201, description = "The region was created", body = Region, headers(("ETag" = String, description = "The region's version, for `If-Match`"))),
        (status = 412, description = "`If-Match` no longer matches the region's `ETag`"),
        (status = 428, description = "Replacing a region requires `If-Match`")))]
#[put("/regions/{code}")]
pub async fn put_region(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    body: Guarded<PutRegion>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Admin]))?;
    let if_match = super::extract::if_match(&req).ok();
    let (region, was_created) = regions::put(&state.db, &code, body, if_match).await?;
    state.cache.bump_generation("catalog").await;
    let tag = etag_value(&regions::version_of(&region));
    Ok(if was_created {
        let mut resp = super::extract::created(&region, &format!("/api/v1/regions/{}", region.code));
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&tag) {
            resp.headers_mut().insert(actix_web::http::header::ETAG, v);
        }
        resp
    } else {
        HttpResponse::Ok()
            .insert_header((actix_web::http::header::ETAG, tag))
            .json(region)
    })
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(get).service(put_region);
}
