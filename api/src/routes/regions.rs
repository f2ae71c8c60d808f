//! Administrative regions.
use super::extract::{Guarded, Query};
use crate::auth::{Caller, Role};
use crate::error::AppError;
use crate::services::regions::{self, PutRegion, Region, RegionFilter, RegionPage};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, put, web, HttpResponse};

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

/// One region by its GB/T 2260 code (public).
#[utoipa::path(operation_id = "getRegion", tag = "regions", params(("code" = String, Path)), responses((status = 200, body = Region)))]
#[get("/regions/{code}")]
pub async fn get(state: web::Data<AppState>, code: web::Path<String>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(regions::get(&state.db, &code).await?))
}

/// Create or replace a region (admin). 201 when created, 200 when replaced.
#[utoipa::path(operation_id = "setRegion", tag = "regions", params(("code" = String, Path)), request_body = PutRegion, responses((status = 200, body = Region), (status = 201, body = Region)))]
#[put("/regions/{code}")]
pub async fn put_region(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    body: Guarded<PutRegion>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Admin]))?;
    let (region, was_created) = regions::put(&state.db, &code, body).await?;
    state.cache.bump_generation("catalog").await;
    Ok(if was_created {
        super::extract::created(&region, &format!("/api/v1/regions/{}", region.code))
    } else {
        HttpResponse::Ok().json(region)
    })
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(get).service(put_region);
}
