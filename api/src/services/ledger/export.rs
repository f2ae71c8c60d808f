//! `GET /ledger/export?year=`: the tree up to the latest checkpoint as JSON Lines, one
//! line per position in order. An entry of the year carries its leaf version and
//! every field of its leaf (`fields`, the names of `leaf::fields_of(version)`); any other
//! entry carries only its `leaf_hash`, so that the whole root can be recomputed
//! offline from the file (`assist-market verify-export`, tests/ledger/verify.py).
//! After the line of each position a checkpoint was signed at comes a line
//! `{"checkpoint": "<signed note>"}`, so that an offline verifier can locate a
//! change to within one batch.
//!
//! The file is streamed a page of positions at a time, each page read as the client takes
//! the one before, so memory stays one page whatever the ledger's size.
use super::{leaf, queries};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use serde_json::{json, Map, Value};

/// Positions per page (one read of positions with their entries, one of checkpoints).
const PAGE: i64 = 5000;

/// The export of `year` (admins and evaluators) as a stream of JSON Lines chunks (text). A position
/// whose entry is missing or no longer hashes to its stored leaf ends the file with a line
/// `{"error": "..."}` naming it (the answer's status was sent with the first page), which
/// both offline verifiers refuse.
pub async fn export(state: &AppState, caller: &Caller, year: i32) -> AppResult<impl Stream<Item = String> + use<>> {
    caller.require(&[Role::Admin, Role::Evaluator])?;
    if !(2000..=2100).contains(&year) {
        return Err(AppError::field("year", "must be between 2000 and 2100"));
    }
    let db = state.db.clone();
    let size = queries::latest_checkpoint(&db).await?.map_or(0, |c| c.tree_size);
    Ok(futures_util::stream::unfold(Some(1i64), move |next| {
        let db = db.clone();
        async move {
            let from = next.filter(|n| *n <= size)?;
            let to = (from + PAGE - 1).min(size);
            let (chunk, then) = match page(&db, year, from, to).await {
                Ok(text) => (text, Some(to + 1)),
                Err(e) => (format!("{}\n", json!({ "error": e.to_string() })), None),
            };
            Some((chunk, then))
        }
    }))
}

/// The lines of positions `from..=to`, with the checkpoints signed at them. Every position's
/// leaf is recomputed from its entry before it is written, whether the file shows its fields
/// or only its hash: a missing entry, or one changed since it was hashed (its year, say, so
/// that it would leave the year's lines), must not hide behind the stored hash, which the
/// offline verifiers would have to take on trust.
async fn page(db: &DatabaseConnection, year: i32, from: i64, to: i64) -> AppResult<String> {
    let notes: std::collections::HashMap<i64, String> =
        queries::checkpoints_from(db, from, u64::try_from(to - from + 1).unwrap_or(0))
            .await?
            .into_iter()
            .filter(|c| c.tree_size <= to)
            .map(|c| (c.tree_size, c.note))
            .collect();
    let mut out = String::new();
    for (p, e) in queries::positioned(db, from, to).await? {
        let stored = leaf::parse_hex(&p.leaf_hash).ok_or_else(|| AppError::internal("malformed leaf hash"))?;
        let sound = e
            .as_ref()
            .map(leaf::leaf_hash)
            .transpose()?
            .is_some_and(|h| h == stored)
            && e.as_ref().is_some_and(|e| e.leaf_hash == p.leaf_hash);
        if !sound {
            return Err(AppError::Conflict(format!(
                "the ledger does not verify at position {}: its entry is missing or changed; \
                 GET /ledger/verify names the first bad position",
                p.seq
            )));
        }
        let line = match e.filter(|e| e.year == year) {
            Some(e) => {
                let mut fields = Map::new();
                let names = leaf::fields_of(e.leaf_version)
                    .ok_or_else(|| AppError::internal(format!("unknown leaf version {}", e.leaf_version)))?;
                for (name, v) in names.iter().zip(leaf::values_of(&e)?) {
                    fields.insert((*name).to_string(), v.map_or(Value::Null, Value::String));
                }
                json!({"seq": p.seq, "leaf_version": e.leaf_version, "fields": fields})
            }
            None => json!({"seq": p.seq, "leaf_hash": B64.encode(stored)}),
        };
        out.push_str(&line.to_string());
        out.push('\n');
        if let Some(note) = notes.get(&p.seq) {
            out.push_str(&json!({ "checkpoint": note }).to_string());
            out.push('\n');
        }
    }
    Ok(out)
}
