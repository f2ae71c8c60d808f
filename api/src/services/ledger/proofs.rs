//! Inclusion and consistency proofs, and the leaf bytes, served from the stored tree.
//! The nodes a proof needs depend only on the sizes, so they are listed first (a
//! dry run of the pure math), read in one go, then the proof is computed.
use super::merkle::{self, Hash, NodeId};
use super::{leaf, queries};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::services::organizations;
use crate::state::AppState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use entity::ledger_entries;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    /// `seq - 1`.
    pub leaf_index: i64,
    pub tree_size: i64,
    /// Base64 `SHA-256(0x00 || leaf bytes)`.
    pub leaf_hash: String,
    /// The RFC 9162 audit path, bottom first, base64.
    pub hashes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: i64,
    pub to: i64,
    /// The RFC 9162 consistency proof, base64.
    pub hashes: Vec<String>,
}

/// Runs `f` against the stored tree: once to learn the nodes it reads, once with them.
async fn with_nodes<T>(conn: &impl ConnectionTrait, f: impl Fn(&mut dyn FnMut(NodeId) -> Hash) -> T) -> AppResult<T> {
    let mut wanted = Vec::new();
    f(&mut |id| {
        wanted.push(id);
        [0u8; 32]
    });
    let have = queries::node_hashes(conn, &wanted).await?;
    Ok(f(&mut |id| have.get(&id).copied().unwrap_or_default()))
}

/// The tree size of the latest checkpoint.
async fn latest_size(conn: &impl ConnectionTrait) -> AppResult<i64> {
    Ok(queries::latest_checkpoint(conn).await?.map_or(0, |c| c.tree_size))
}

/// A size a proof may use: at most the latest checkpoint's (409 beyond it).
fn covered(field: &str, size: i64, latest: i64) -> AppResult<u64> {
    if size < 0 {
        return Err(AppError::field(field, "must not be negative"));
    }
    if size > latest {
        return Err(AppError::Conflict(format!(
            "no checkpoint covers tree size {size} yet (the latest is {latest}); retry after the next checkpoint"
        )));
    }
    Ok(size as u64)
}

/// The sequenced entry at `seq` if the caller may see it (404 otherwise and for a
/// seq not yet sequenced): evaluators and admins all, a buyer its own and its
/// children's, a supplier its own.
pub async fn visible_entry(state: &AppState, caller: &Caller, seq: i64) -> AppResult<ledger_entries::Model> {
    let not_found = || AppError::NotFound("ledger entry");
    if seq < 1 {
        return Err(not_found());
    }
    let e = queries::entry_at(&state.db, seq).await?.ok_or_else(not_found)?;
    let ok = match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Buyer => organizations::with_children(&state.db, &caller.org_id)
            .await?
            .contains(&e.buyer_org_id),
        Role::Supplier => e.supplier_org_id == caller.org_id,
        // A supervisor reads the entries of the budget units of its region.
        Role::Supervisor => {
            let buyer = organizations::find(&state.db, &e.buyer_org_id).await?;
            crate::services::supervision::may_supervise(&state.db, caller, &buyer).await?
        }
        Role::Certifier => false,
    };
    if ok {
        Ok(e)
    } else {
        Err(not_found())
    }
}

pub async fn inclusion(
    state: &AppState,
    caller: &Caller,
    seq: i64,
    tree_size: Option<i64>,
) -> AppResult<InclusionProof> {
    let e = visible_entry(state, caller, seq).await?;
    let conn = &state.db;
    let latest = latest_size(conn).await?;
    let size = covered("tree_size", tree_size.unwrap_or(latest), latest)?;
    if (seq as u64) > size {
        return Err(AppError::field(
            "tree_size",
            format!("must be at least the entry's seq ({seq})"),
        ));
    }
    let index = seq as u64 - 1;
    let hashes = with_nodes(conn, |get| merkle::inclusion_proof(index, size, &mut |id| get(id))).await?;
    let leaf = leaf::parse_hex(&e.leaf_hash).ok_or_else(|| AppError::internal("malformed leaf hash"))?;
    Ok(InclusionProof {
        leaf_index: index as i64,
        tree_size: size as i64,
        leaf_hash: B64.encode(leaf),
        hashes: hashes.iter().map(|h| B64.encode(h)).collect(),
    })
}

pub async fn consistency(state: &AppState, from: i64, to: Option<i64>) -> AppResult<ConsistencyProof> {
    let conn = &state.db;
    let latest = latest_size(conn).await?;
    let to_v = to.unwrap_or(latest);
    if from > to_v {
        return Err(AppError::field("from", "must not be greater than to"));
    }
    let from_u = covered("from", from, latest)?;
    let to_u = covered("to", to_v, latest)?;
    let hashes = with_nodes(conn, |get| merkle::consistency_proof(from_u, to_u, &mut |id| get(id))).await?;
    Ok(ConsistencyProof {
        from,
        to: to_v,
        hashes: hashes.iter().map(|h| B64.encode(h)).collect(),
    })
}

/// The exact bytes hashed into the leaf at `seq`.
pub async fn leaf_bytes(state: &AppState, caller: &Caller, seq: i64) -> AppResult<Vec<u8>> {
    leaf::leaf_bytes(&visible_entry(state, caller, seq).await?)
}

/// The root hash of the tree at `size` (at most the latest checkpoint's), from the stored nodes.
pub async fn root_at(conn: &impl ConnectionTrait, size: i64) -> AppResult<Hash> {
    let latest = latest_size(conn).await?;
    let size = covered("tree_size", size, latest)?;
    with_nodes(conn, |get| merkle::root(size, &mut |id| get(id))).await
}
