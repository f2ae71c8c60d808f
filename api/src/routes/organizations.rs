//! Organisations and their users.
use super::extract::{created, if_match, ok_with_etag, Guarded, GuardedQuery};
use crate::auth::{Caller, Role};
use crate::domain::{OrgId, OrgStatus, UserId};
use crate::error::AppError;
use crate::services::accounts::{self, NewUser, User, UserPage};
use crate::services::organizations::{
    self as orgs, NewOrganization, Organization, OrganizationFilter, OrganizationPage, OrganizationPatch,
};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

/// Create an organisation (admin).
#[utoipa::path(operation_id = "createOrganization", tag = "organizations", request_body = NewOrganization, responses((status = 201, body = Organization)))]
#[post("/organizations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Guarded<NewOrganization>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Admin]))?;
    let org = orgs::create(&state, &caller, body).await?;
    Ok(created(&org, &format!("/api/v1/organizations/{}", org.id)))
}

/// List organisations: all for admin and evaluators, otherwise the caller's own and its children.
#[utoipa::path(operation_id = "listOrganizations", tag = "organizations", params(OrganizationFilter, PageParams), responses((status = 200, body = OrganizationPage)))]
#[get("/organizations")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<OrganizationFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (f, page) = (f.signed_in(&caller)?, page.signed_in(&caller)?);
    let (items, next_cursor) = orgs::list(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(OrganizationPage { items, next_cursor }))
}

/// One organisation (404 when it is not the caller's to see).
#[utoipa::path(operation_id = "getOrganization", tag = "organizations", params(("id" = OrgId, Path)), responses((status = 200, body = Organization)))]
#[get("/organizations/{id}")]
pub async fn get(state: web::Data<AppState>, caller: Caller, id: web::Path<OrgId>) -> Result<HttpResponse, AppError> {
    let org = orgs::get(&state, &caller, id.into_inner()).await?;
    Ok(ok_with_etag(&org, &orgs::version_tag(&org)))
}

/// Update an organisation's payment settings (admin): a supplier's `supplier_size`, a buyer's
/// `payment_days`. Requires `If-Match` with the organisation's `ETag`.
#[utoipa::path(
    operation_id = "updateOrganization",
    tag = "organizations",
    params(("id" = OrgId, Path), ("If-Match" = String, Header, description = "The organisation's ETag")),
    request_body(content = OrganizationPatch, example = json!({"supplier_size": "large"})),
    responses(
        (status = 200, body = Organization, headers(("ETag" = String, description = "The new version tag"))),
        (status = 412, description = "The organisation changed since it was read"),
        (status = 428, description = "If-Match is missing"))
)]
#[patch("/organizations/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<OrgId>,
    body: Guarded<OrganizationPatch>,
) -> Result<HttpResponse, AppError> {
    let permit = admin_on(&state, &caller, *id).await.and_then(|()| if_match(&req));
    let (tag, body) = body.open_with(permit)?;
    let org = orgs::update(&state, &caller, id.into_inner(), body, &tag).await?;
    Ok(ok_with_etag(&org, &orgs::version_tag(&org)))
}

/// Suspend an organisation (admin): its users can no longer log in or act, its products leave the catalogue.
#[utoipa::path(operation_id = "suspendOrganization", tag = "organizations", params(("id" = OrgId, Path)), responses((status = 200, body = Organization), (status = 409, description = "The organisation is already suspended, or it is the platform organisation")))]
#[post("/organizations/{id}/suspend")]
pub async fn suspend(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(orgs::set_status(&state, &caller, id.into_inner(), OrgStatus::Suspended).await?))
}

/// Reinstate a suspended organisation (admin).
#[utoipa::path(operation_id = "reinstateOrganization", tag = "organizations", params(("id" = OrgId, Path)), responses((status = 200, body = Organization), (status = 409, description = "The organisation is already active, or one of its licences has expired (recording the renewal reinstates it)")))]
#[post("/organizations/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(orgs::set_status(&state, &caller, id.into_inner(), OrgStatus::Active).await?))
}

/// Create a user in an organisation (admin). The role must fit the organisation's kind.
#[utoipa::path(operation_id = "createUser", tag = "organizations", params(("id" = OrgId, Path)), request_body = NewUser, responses((status = 201, body = User), (status = 409, description = "A user with this email exists")))]
#[post("/organizations/{id}/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
    body: Guarded<NewUser>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(admin_on(&state, &caller, *id).await)?;
    let user = accounts::create_user(&state, Some(&caller), id.into_inner(), body).await?;
    Ok(created(
        &user,
        &format!("/api/v1/organizations/{}/users/{}", user.org_id, user.id),
    ))
}

/// The users of an organisation (admin; there are no organisation administrators).
#[utoipa::path(operation_id = "listUsers", tag = "organizations", params(("id" = OrgId, Path), PageParams), responses((status = 200, body = UserPage)))]
#[get("/organizations/{id}/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<OrgId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(accounts::may_list(&state, &caller, *id).await)?;
    let (items, next_cursor) = accounts::list_users(&state, &caller, id.into_inner(), &page).await?;
    Ok(HttpResponse::Ok().json(UserPage { items, next_cursor }))
}

/// One user (the admin, or the user itself; anyone else gets 404).
#[utoipa::path(operation_id = "getUser", tag = "organizations", params(("id" = OrgId, Path), ("user_id" = UserId, Path)), responses((status = 200, body = User)))]
#[get("/organizations/{id}/users/{user_id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, UserId)>,
) -> Result<HttpResponse, AppError> {
    let (org, user) = path.into_inner();
    Ok(HttpResponse::Ok().json(accounts::get_user(&state, &caller, org, user).await?))
}

/// Deactivate a user (admin): it can no longer log in, and every token it holds is refused at
/// once, by every process. Audited.
#[utoipa::path(operation_id = "deactivateUser", tag = "organizations", params(("id" = OrgId, Path), ("user_id" = UserId, Path)), responses((status = 200, body = User), (status = 409, description = "The user is already deactivated, or is the caller")))]
#[post("/organizations/{id}/users/{user_id}/deactivate")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, UserId)>,
) -> Result<HttpResponse, AppError> {
    let (org, user) = path.into_inner();
    Ok(HttpResponse::Ok().json(accounts::deactivate(&state, &caller, org, user).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(suspend)
        .service(reinstate)
        .service(create_user)
        .service(list_users)
        .service(get_user)
        .service(deactivate_user);
}

/// The admin's permit on organisation `id`: 403 for any other role, then 404 for an unknown
/// organisation, both before the body is looked at (role, then the path's resource, then the body).
async fn admin_on(state: &AppState, caller: &Caller, id: OrgId) -> Result<(), AppError> {
    caller.require(&[Role::Admin])?;
    orgs::find(&state.db, id).await.map(|_| ())
}
