//! `GET /ledger/export?year=`: the tree up to the latest checkpoint as JSON Lines, one
//! line per position in order. An entry of the year carries its leaf version and
//! every field of its leaf (`fields`, the names of `leaf::fields_of(version)`); any other
//! entry carries only its `leaf_hash`, so that the whole root can be recomputed
//! offline from the file (`assist-market verify-export`, tests/ledger/verify.py).
//! After the line of each position a checkpoint was signed at comes a line
//! `{"checkpoint": "<signed note>"}`, so that an offline verifier can locate a
//! change to within one batch.
use super::{leaf, queries};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

/// The export of `year` as JSON Lines (admins and evaluators).
pub async fn export(state: &AppState, caller: &Caller, year: i32) -> AppResult<String> {
    caller.require(&[Role::Admin, Role::Evaluator])?;
    if !(2000..=2100).contains(&year) {
        return Err(AppError::field("year", "must be between 2000 and 2100"));
    }
    let conn = &state.db;
    let size = queries::latest_checkpoint(conn).await?.map_or(0, |c| c.tree_size);
    let mut notes = std::collections::HashMap::new();
    let mut from = 1i64;
    loop {
        let page = queries::checkpoints_from(conn, from, 1000).await?;
        let Some(last) = page.last().map(|c| c.tree_size) else {
            break;
        };
        notes.extend(page.into_iter().map(|c| (c.tree_size, c.note)));
        from = last + 1;
    }
    let mut out = String::new();
    let mut next = 1i64;
    while next <= size {
        let to = (next + 4999).min(size);
        for (p, e) in queries::positioned(conn, next, to).await? {
            // Every position's leaf is recomputed from its entry before it is written, whether
            // the file shows its fields or only its hash: a missing entry, or one changed since it
            // was hashed (its year, say, so that it would leave the year's lines), must not hide
            // behind the stored hash, which the offline verifiers would have to take on trust.
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
        next = to + 1;
    }
    Ok(out)
}
