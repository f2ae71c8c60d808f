//! The consumption-assistance ledger: read-only over HTTP. The checkpoint, its list, the
//! verifier key and consistency proofs are public (they reveal sizes and hashes only), so
//! witnesses can fetch them without an account; leaves and inclusion proofs are for
//! evaluators and admins, and for buyers and suppliers on their own entries.
use super::extract::{GuardedQuery, Query};
use crate::auth::Caller;
use crate::error::AppError;
use crate::services::ledger::proofs::{self, ConsistencyProof, InclusionProof};
use crate::services::ledger::{self, VerifyResult};
use crate::services::ledger_view::{self, LedgerFilter, LedgerPage};
use crate::services::PageParams;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Ledger entries in the order they were written, scoped to the caller (evaluators and admins see all).
#[utoipa::path(operation_id = "listLedgerEntries", tag = "ledger", params(LedgerFilter, PageParams), responses((status = 200, body = LedgerPage)))]
#[get("/ledger")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    f: GuardedQuery<LedgerFilter>,
    page: GuardedQuery<PageParams>,
) -> Result<HttpResponse, AppError> {
    let (f, page) = (f.signed_in(&caller)?, page.signed_in(&caller)?);
    let (items, next_cursor) = ledger_view::list(&state, &caller, &f, &page).await?;
    Ok(HttpResponse::Ok().json(LedgerPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// Verify only what follows the checkpoint of this tree size (its root is recomputed from the stored tree).
    pub since: Option<i64>,
}

/// Recomputes every leaf and root against the signed checkpoints (admin, evaluator).
#[utoipa::path(operation_id = "verifyLedger", tag = "ledger", params(VerifyQuery), responses((status = 200, body = VerifyResult)))]
#[get("/ledger/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    caller: Caller,
    q: GuardedQuery<VerifyQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(caller.require(&[crate::auth::Role::Admin, crate::auth::Role::Evaluator]))?;
    Ok(HttpResponse::Ok().json(ledger_view::verify(&state, &caller, q.since).await?))
}

/// The latest signed checkpoint: a C2SP tlog-checkpoint signed as a C2SP signed note (public).
#[utoipa::path(operation_id = "getLedgerCheckpoint", tag = "ledger", responses(
    (status = 200, description = "The signed note", content_type = "text/plain", body = String)))]
#[get("/ledger/checkpoint")]
pub async fn checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let c = ledger::latest_checkpoint(&state.db)
        .await?
        .ok_or(AppError::NotFound("checkpoint"))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(c.note))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckpointsQuery {
    /// The smallest tree size to list (default 0); at most 100 checkpoints, oldest first.
    pub from: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointItem {
    pub tree_size: i64,
    /// Base64 root hash.
    pub root_hash: String,
    /// The signed note.
    pub note: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Signed checkpoints from a tree size on, with the time each was signed (public).
#[utoipa::path(operation_id = "listLedgerCheckpoints", tag = "ledger", params(CheckpointsQuery), responses((status = 200, body = [CheckpointItem])))]
#[get("/ledger/checkpoints")]
pub async fn checkpoints(state: web::Data<AppState>, q: Query<CheckpointsQuery>) -> Result<HttpResponse, AppError> {
    use base64::Engine;
    let from = q.from.unwrap_or(0);
    if from < 0 {
        return Err(AppError::field("from", "must not be negative"));
    }
    let items: Vec<CheckpointItem> = ledger::checkpoints_from(&state.db, from, 100)
        .await?
        .into_iter()
        .map(|c| CheckpointItem {
            tree_size: c.tree_size,
            root_hash: base64::engine::general_purpose::STANDARD.encode(hex::decode(&c.root_hash).unwrap_or_default()),
            note: c.note,
            created_at: c.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// The C2SP verifier key of the checkpoints, `name+keyid+base64` (public).
#[utoipa::path(operation_id = "getLedgerVerifierKey", tag = "ledger", responses(
    (status = 200, description = "The verifier key", content_type = "text/plain", body = String)))]
#[get("/ledger/verifier-key")]
pub async fn verifier_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(format!("{}\n", state.ledger_key.verifier_key()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProofQuery {
    /// The tree size to prove inclusion in (default: the latest checkpoint's).
    pub tree_size: Option<i64>,
}

/// The RFC 9162 inclusion proof of the entry at `seq` (evaluators, admins; buyers and suppliers for their own
/// entries; 404 for others and for a seq not yet sequenced; 409 for a tree size no checkpoint covers).
#[utoipa::path(operation_id = "getLedgerInclusionProof", tag = "ledger", params(("seq" = i64, Path, description = "1-based position"), ProofQuery),
    responses((status = 200, body = InclusionProof), (status = 404, description = "Not found, not visible or not yet sequenced", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "No checkpoint covers that tree size yet", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/ledger/entries/{seq}/proof")]
pub async fn proof(
    state: web::Data<AppState>,
    caller: Caller,
    seq: web::Path<i64>,
    q: GuardedQuery<ProofQuery>,
) -> Result<HttpResponse, AppError> {
    let seq = seq.into_inner();
    let q = q.open(proofs::visible_entry(&state, &caller, seq).await)?;
    Ok(HttpResponse::Ok().json(proofs::inclusion(&state, &caller, seq, q.tree_size).await?))
}

/// The exact bytes hashed into the leaf at `seq` (docs/ledger-format.md); who may read it as for proofs.
#[utoipa::path(operation_id = "getLedgerLeaf", tag = "ledger", params(("seq" = i64, Path, description = "1-based position")),
    responses((status = 200, description = "The leaf bytes", content_type = "application/octet-stream", body = Vec<u8>), (status = 404, description = "Not found, not visible or not yet sequenced", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/ledger/entries/{seq}/leaf")]
pub async fn leaf(state: web::Data<AppState>, caller: Caller, seq: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let bytes = proofs::leaf_bytes(&state, &caller, seq.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .body(bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The smaller tree size.
    pub from: i64,
    /// The larger tree size (default: the latest checkpoint's).
    pub to: Option<i64>,
}

/// The RFC 9162 consistency proof between two tree sizes (public; 422 when `from > to`, 409 for a size no
/// checkpoint covers).
#[utoipa::path(operation_id = "getLedgerConsistencyProof", tag = "ledger", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 409, description = "No checkpoint covers that tree size yet", body = crate::error::Problem, content_type = "application/problem+json")))]
#[get("/ledger/consistency")]
pub async fn consistency(state: web::Data<AppState>, q: Query<ConsistencyQuery>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(proofs::consistency(&state, q.from, q.to).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    pub year: i32,
}

/// The tree up to the latest checkpoint as JSON Lines: the year's entries with every leaf field, the others as
/// leaf hashes (admin, evaluator). Verify it offline with `assist-market verify-export`.
#[utoipa::path(operation_id = "getLedgerExport", tag = "ledger", params(ExportQuery), responses(
    (status = 200, description = "JSON Lines", content_type = "application/jsonl", body = String)))]
#[get("/ledger/export")]
pub async fn export(
    state: web::Data<AppState>,
    caller: Caller,
    q: GuardedQuery<ExportQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.open(caller.require(&[crate::auth::Role::Admin, crate::auth::Role::Evaluator]))?;
    let body = ledger::export::export(&state, &caller, q.year).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/jsonl"))
        .streaming(futures_util::StreamExt::map(body, |text| {
            Ok::<_, std::io::Error>(web::Bytes::from(text))
        })))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(verify)
        .service(checkpoint)
        .service(checkpoints)
        .service(verifier_key)
        .service(proof)
        .service(leaf)
        .service(consistency)
        .service(export)
        .service(list);
}
