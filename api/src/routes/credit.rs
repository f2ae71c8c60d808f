//! Quotas (预留份额), quota floors, pairings (结对帮扶) and yearly reconciliations (每年对账).
use super::extract::{created, etag_value, Guarded, GuardedQuery};
use crate::auth::{Caller, Role};
use crate::domain::{OrgId, PairingId, ReconciliationId};
use crate::error::AppError;
use crate::services::credit::{
    self, Floor, NewPairing, NewReconciliation, Pairing, PairingFilter, PairingPage, PairingProgress, PutFloor,
    PutQuota, Quota, QuotaSaved, Reconciliation, ReconciliationPage,
};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};

fn with_etag(mut b: actix_web::HttpResponseBuilder, q: &Quota) -> HttpResponse {
    b.insert_header((header::ETAG, etag_value(&q.version.to_string())))
        .json(q)
}

/// A buyer's quota for a year with its progress (the buyer, its parent, admin, evaluators).
#[utoipa::path(operation_id = "getQuota", tag = "quotas", params(("org_id" = OrgId, Path), ("year" = i32, Path)), responses((status = 200, body = Quota, headers(("ETag" = String, description = "The quota's version, for `If-Match`")))))]
#[get("/buyers/{org_id}/quotas/{year}")]
pub async fn get_quota(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
) -> Result<HttpResponse, AppError> {
    let (org_id, year) = path.into_inner();
    let q = credit::get_quota(&state, &caller, org_id, year).await?;
    Ok(with_etag(HttpResponse::Ok(), &q))
}

/// Set a buyer's quota for a year (the buyer itself, or admin): target = food_budget × reserved_share.
/// The share must be at least the year's floor (10% unless the admin set another).
/// Replacing an existing quota requires `If-Match` with its ETag: 428 without it, 412 when it no longer matches.
#[utoipa::path(operation_id = "setQuota", tag = "quotas", params(("org_id" = OrgId, Path), ("year" = i32, Path),
        ("If-Match" = Option<String>, Header, description = "The quota's `ETag`; required to replace an existing quota (428 without it)")),
    request_body(content = PutQuota, example = json!({"food_budget": "200000.00", "reserved_share": "0.3"})),
    responses(
        (status = 200, description = "The quota was replaced", body = Quota, headers(("ETag" = String, description = "The quota's version, for `If-Match`"))),
        (status = 201, description = "The quota was created", body = Quota, headers(("ETag" = String, description = "The quota's version, for `If-Match`"))),
        (status = 412, description = "`If-Match` no longer matches the quota's `ETag`"),
        (status = 428, description = "Replacing a quota requires `If-Match` (also when another first write of it landed first)")))]
#[put("/buyers/{org_id}/quotas/{year}")]
pub async fn put_quota(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(OrgId, i32)>,
    body: Guarded<PutQuota>,
) -> Result<HttpResponse, AppError> {
    let (org_id, year) = path.into_inner();
    let body = body.open(credit::may_set_quota(&state, &caller, org_id).await)?;
    let if_match = super::extract::if_match(&req).ok();
    Ok(
        match credit::put_quota(&state, &caller, org_id, year, body, if_match).await? {
            QuotaSaved::Created(q) => {
                let mut b = HttpResponse::Created();
                b.insert_header((header::LOCATION, format!("/api/v1/buyers/{org_id}/quotas/{year}")));
                with_etag(b, &q)
            }
            QuotaSaved::Replaced(q) => with_etag(HttpResponse::Ok(), &q),
        },
    )
}

/// The lowest reserved share buyers may set for a year.
#[utoipa::path(operation_id = "getQuotaFloor", tag = "quotas", params(("year" = i32, Path)), responses((status = 200, body = Floor)))]
#[get("/quota-floors/{year}")]
pub async fn get_floor(
    state: web::Data<AppState>,
    caller: Caller,
    year: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(credit::get_floor(&state, &caller, *year).await?))
}

/// Set the reserved-share floor of a year (admin); existing quotas are kept.
#[utoipa::path(operation_id = "setQuotaFloor", tag = "quotas", params(("year" = i32, Path)), request_body = PutFloor, responses((status = 200, body = Floor)))]
#[put("/quota-floors/{year}")]
pub async fn put_floor(
    state: web::Data<AppState>,
    caller: Caller,
    year: web::Path<i32>,
    body: Guarded<PutFloor>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Admin]))?;
    Ok(HttpResponse::Ok().json(credit::put_floor(&state, &caller, *year, body).await?))
}

/// Create a pairing for a year (admin).
#[utoipa::path(operation_id = "createPairing", tag = "pairings", request_body = NewPairing, responses((status = 201, body = Pairing), (status = 409, description = "A pairing of this kind, helper, county and year exists")))]
#[post("/pairings")]
pub async fn create_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    body: Guarded<NewPairing>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(caller.require(&[Role::Admin]))?;
    let p = credit::create_pairing(&state, &caller, body).await?;
    Ok(created(&p, &format!("/api/v1/pairings/{}", p.id)))
}

/// Pairings: all for admin and evaluators; the helper organisation its own; a county office those helping its county.
#[utoipa::path(operation_id = "listPairings", tag = "pairings", params(PairingFilter, PageParams), responses((status = 200, body = PairingPage)))]
#[get("/pairings")]
pub async fn list_pairings(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<PairingFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (f, page) = (f.signed_in(&caller)?, page.signed_in(&caller)?);
    let (items, next_cursor) = credit::list_pairings(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(PairingPage { items, next_cursor }))
}

/// One pairing.
#[utoipa::path(operation_id = "getPairing", tag = "pairings", params(("id" = PairingId, Path)), responses((status = 200, body = Pairing)))]
#[get("/pairings/{id}")]
pub async fn get_pairing(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PairingId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(credit::get_pairing(&state, &caller, id.into_inner()).await?))
}

/// Progress of a pairing: net ledger amounts of the helper (and its children) from the helped county in the
/// pairing's year, split into purchases and helped sales, each against its target. Matching rule: every entry
/// of the year whose buyer is the helper or one of its children and whose origin county is the helped county
/// counts, whatever pairing is recorded on it, so an entry may count in the progress of two pairings (of
/// different kinds, or of a parent and a child). `GET /reports/summary?group_by=pairing` instead groups by the
/// pairing recorded on each entry (`credited_pairing_id`), where each entry counts once.
#[utoipa::path(operation_id = "getPairingProgress", tag = "pairings", params(("id" = PairingId, Path)), responses((status = 200, body = PairingProgress)))]
#[get("/pairings/{id}/progress")]
pub async fn pairing_progress(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PairingId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(credit::pairing_progress(&state, &caller, id.into_inner()).await?))
}

/// Make a reconciliation statement of the pairing's year (admin or either side). It covers the ledger up to
/// its current head; reversals appended since the last locked statement show as `adjustments`.
/// A pending statement of the same pairing and year is superseded.
#[utoipa::path(operation_id = "createReconciliation", tag = "reconciliations", params(("id" = PairingId, Path)), request_body = NewReconciliation,
    responses((status = 201, body = Reconciliation), (status = 409, description = "The ledger does not verify up to its head, so no statement can be made")))]
#[post("/pairings/{id}/reconciliations")]
pub async fn create_reconciliation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PairingId>,
    body: Guarded<NewReconciliation>,
) -> Result<HttpResponse, AppError> {
    let body = body.open(credit::may_reconcile(&state, &caller, *id).await)?;
    let r = credit::create_reconciliation(&state, &caller, id.into_inner(), body).await?;
    Ok(created(&r, &format!("/api/v1/reconciliations/{}", r.id)))
}

/// The statements of a pairing, newest first.
#[utoipa::path(operation_id = "listReconciliations", tag = "reconciliations", params(("id" = PairingId, Path), PageParams), responses((status = 200, body = ReconciliationPage)))]
#[get("/pairings/{id}/reconciliations")]
pub async fn list_reconciliations(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PairingId>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let page = page.open(credit::find_pairing(&state, &caller, *id).await)?;
    let (items, next_cursor) = credit::list_reconciliations(&state, &caller, id.into_inner(), &page).await?;
    Ok(HttpResponse::Ok().json(ReconciliationPage { items, next_cursor }))
}

/// One statement.
#[utoipa::path(operation_id = "getReconciliation", tag = "reconciliations", params(("id" = ReconciliationId, Path)), responses((status = 200, body = Reconciliation)))]
#[get("/reconciliations/{id}")]
pub async fn get_reconciliation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ReconciliationId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(credit::get_reconciliation(&state, &caller, id.into_inner()).await?))
}

/// Confirm a statement: the helper organisation (buyer) and the helped county's office (certifier) each once;
/// when both have, it is `locked`. 409 when this side already confirmed, the statement is not pending, or the
/// ledger range it covers no longer verifies; 403 for admin and evaluators (not a party); 404 for anyone else.
#[utoipa::path(operation_id = "confirmReconciliation", tag = "reconciliations", params(("id" = ReconciliationId, Path)), responses((status = 200, body = Reconciliation), (status = 409, description = "This side already confirmed, the statement is not pending, or the ledger range it covers no longer verifies")))]
#[post("/reconciliations/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<ReconciliationId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(credit::confirm(&state, &caller, id.into_inner()).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_quota)
        .service(put_quota)
        .service(get_floor)
        .service(put_floor)
        .service(create_pairing)
        .service(list_pairings)
        .service(get_pairing)
        .service(pairing_progress)
        .service(create_reconciliation)
        .service(list_reconciliations)
        .service(get_reconciliation)
        .service(confirm);
}
