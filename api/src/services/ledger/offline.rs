//! Verifying an export (`GET /ledger/export`) against a signed checkpoint with nothing
//! but the file, the checkpoint and the verifier key: every leaf is recomputed from its
//! fields, the positions must be dense, each embedded checkpoint must carry a good
//! signature and match the root at its size, and the final root must be the
//! checkpoint's. Never panics on a corrupted file: errors name the line.
use super::checkpoint::{self, Checkpoint, VerifierKey};
use super::leaf;
use super::merkle::{self, Frontier, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Serialize;
use serde_json::Value;
use std::io::BufRead;

#[derive(Debug, Serialize)]
pub struct OfflineReport {
    /// Positions read.
    pub entries: u64,
    /// Positions whose fields were in the file (the year's entries).
    pub with_fields: u64,
    pub tree_size: u64,
    pub ok: bool,
    /// The first position that does not verify (to within a batch when only a root differs).
    pub first_bad_seq: Option<u64>,
    pub problem: Option<String>,
}

fn leaf_of(v: &Value, line: usize) -> Result<Hash, String> {
    // A position is its fields or its hash, never both: with both, the fields shown would not
    // be the ones verified.
    if v.get("leaf_hash").is_some() == v.get("fields").is_some() {
        return Err(format!("line {line}: a position carries either fields or a leaf_hash"));
    }
    if let Some(h) = v.get("leaf_hash") {
        return h
            .as_str()
            .and_then(|s| B64.decode(s).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("line {line}: leaf_hash is not a base64 SHA-256 hash"));
    }
    let version = v.get("leaf_version").and_then(Value::as_u64);
    let (byte, names) = match version.and_then(|n| u8::try_from(n).ok()) {
        Some(b) => match leaf::fields_of(i32::from(b)) {
            Some(names) => (b, names),
            None => return Err(format!("line {line}: unknown leaf_version {version:?}")),
        },
        None => return Err(format!("line {line}: unknown leaf_version {version:?}")),
    };
    let fields = v
        .get("fields")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("line {line}: no fields"))?;
    if fields.len() != names.len() {
        return Err(format!("line {line}: version {byte} has {} fields", names.len()));
    }
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        values.push(match fields.get(*name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) => None,
            _ => return Err(format!("line {line}: field {name} is missing or not a string")),
        });
    }
    let bytes = leaf::encode_values(byte, &values).map_err(|e| format!("line {line}: {e}"))?;
    Ok(merkle::leaf_hash(&bytes))
}

/// Verifies `export` against `note` signed by `vk`.
pub fn verify_export(export: &str, note: &str, vk: &VerifierKey) -> Result<OfflineReport, String> {
    verify_export_from(export.as_bytes(), note, vk)
}

/// The next line of `reader` without its `\n` (or `\r\n`), as text: `None` at the end. A line
/// that is not UTF-8 (a download cut inside a character) is named by its number.
fn next_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, line: usize) -> Result<Option<String>, String> {
    buf.clear();
    let n = reader.read_until(b'\n', buf).map_err(|e| format!("line {line}: {e}"))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    String::from_utf8(std::mem::take(buf))
        .map(Some)
        .map_err(|e| format!("line {line}: not UTF-8 (byte {})", e.utf8_error().valid_up_to() + 1))
}

/// As [`verify_export`], reading the export a line at a time: memory stays that of the
/// tree's frontier, however many positions the file holds.
pub fn verify_export_from(mut export: impl BufRead, note: &str, vk: &VerifierKey) -> Result<OfflineReport, String> {
    // A checkpoint that does not verify with the key (a tail re-signed with another key)
    // leaves everything after the last embedded checkpoint that does unproven.
    let (target, target_problem): (Option<Checkpoint>, String) = match checkpoint::open(note, vk) {
        Ok(c) => (Some(c), String::new()),
        Err(e) => (None, format!("the checkpoint: {e}")),
    };
    let mut frontier = Frontier::default();
    let mut with_fields = 0u64;
    let mut last_good = 0u64;
    let mut first_bad: Option<u64> = None;
    let mut problem: Option<String> = None;
    let fail = |seq: u64, why: String, first_bad: &mut Option<u64>, problem: &mut Option<String>| {
        if first_bad.is_none_or(|b| seq < b) {
            *first_bad = Some(seq);
            *problem = Some(why);
        }
    };
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        line += 1;
        let Some(text) = next_line(&mut export, &mut buf, line)? else {
            break;
        };
        if text.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("line {line}: not JSON ({e})"))?;
        if let Some(n) = v.get("checkpoint") {
            let n = n
                .as_str()
                .ok_or_else(|| format!("line {line}: checkpoint is not text"))?;
            match checkpoint::open(n, vk) {
                Ok(c) if c.size == frontier.size() && c.root == frontier.root() => last_good = c.size,
                Ok(c) if c.size != frontier.size() => fail(
                    last_good + 1,
                    format!(
                        "line {line}: a checkpoint of size {} after position {}",
                        c.size,
                        frontier.size()
                    ),
                    &mut first_bad,
                    &mut problem,
                ),
                Ok(_) => fail(
                    last_good + 1,
                    format!("line {line}: the root at {} differs", frontier.size()),
                    &mut first_bad,
                    &mut problem,
                ),
                Err(e) => fail(last_good + 1, format!("line {line}: {e}"), &mut first_bad, &mut problem),
            }
            continue;
        }
        let seq = v
            .get("seq")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("line {line}: no seq"))?;
        let expected = frontier.size() + 1;
        if seq != expected {
            fail(
                expected.min(seq),
                format!("line {line}: seq {seq} where {expected} was expected"),
                &mut first_bad,
                &mut problem,
            );
        }
        if v.get("fields").is_some() {
            with_fields += 1;
        }
        let h = leaf_of(&v, line)?;
        frontier.push(h, &mut |_, _| {});
        if target
            .as_ref()
            .is_some_and(|t| t.size == frontier.size() && t.root != frontier.root())
        {
            fail(
                last_good + 1,
                "the root at the checkpoint's size differs".into(),
                &mut first_bad,
                &mut problem,
            );
        }
    }
    match &target {
        None => fail(last_good + 1, target_problem, &mut first_bad, &mut problem),
        Some(t) if frontier.size() < t.size => fail(
            frontier.size() + 1,
            format!(
                "the file ends at {} before the checkpoint's {}",
                frontier.size(),
                t.size
            ),
            &mut first_bad,
            &mut problem,
        ),
        // Positions past both the checkpoint and the last embedded checkpoint that verified are
        // proven by nothing: entries appended to a file after its last signed line.
        Some(t) if frontier.size() > t.size.max(last_good) => fail(
            t.size.max(last_good) + 1,
            format!(
                "positions {} to {} follow the last checkpoint that covers them",
                t.size.max(last_good) + 1,
                frontier.size()
            ),
            &mut first_bad,
            &mut problem,
        ),
        Some(_) => {}
    }
    Ok(OfflineReport {
        entries: frontier.size(),
        with_fields,
        tree_size: target.map_or(0, |t| t.size),
        ok: first_bad.is_none(),
        first_bad_seq: first_bad,
        problem,
    })
}
