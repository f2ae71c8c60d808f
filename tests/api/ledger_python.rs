//! The independent Python verifier (tests/ledger/verify.py, written from docs/ledger-format.md)
//! against the service: the export verifies, each tampering of it is found at its first bad
//! position, and inclusion and consistency proofs for every size verify (a bent one does not).
use crate::ledger_log::sequenced;
use crate::orders::*;
use assist_market::services::ledger::checkpoint::{self, LogKey};
use assist_market::services::ledger::{leaf, merkle, offline};
use serde_json::{json, Value};
use std::path::Path;

/// Runs `verify.py ARGS` with files in `dir`: (exit code, stdout).
fn python(dir: &Path, args: &[&str]) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ledger/verify.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("python3 runs");
    // stderr (a traceback) after stdout, so that it shows in a failed assertion.
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Verifies `lines` as an export against `note` and `key`.
fn check_export(dir: &Path, lines: &[String], note: &str, key: &str) -> (i32, String) {
    std::fs::write(dir.join("export.jsonl"), lines.join("\n")).unwrap();
    std::fs::write(dir.join("note.txt"), note).unwrap();
    python(
        dir,
        &["export", "export.jsonl", "--checkpoint", "note.txt", "--key", key],
    )
}

fn index_of(lines: &[String], seq: u64) -> usize {
    lines
        .iter()
        .position(|l| serde_json::from_str::<Value>(l).unwrap()["seq"] == seq)
        .unwrap()
}

/// The roots at every size of an export's entries, recomputed from their fields.
fn roots(lines: &[String]) -> Vec<merkle::Hash> {
    let mut f = merkle::Frontier::default();
    let mut out = vec![];
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        if let Some(fields) = v.get("fields") {
            let values: Vec<Option<String>> = leaf::FIELDS_V1
                .iter()
                .map(|n| fields[*n].as_str().map(String::from))
                .collect();
            f.push(
                merkle::leaf_hash(&leaf::encode_values(1, &values).unwrap()),
                &mut |_, _| {},
            );
            out.push(f.root());
        }
    }
    out
}

#[tokio::test]
async fn the_python_verifier_checks_the_export_and_finds_each_tampering() {
    let w = world().await;
    sequenced(&w, 6).await;
    let app = &w.app;
    let dir = tempfile::tempdir().unwrap();
    let year = chrono::Utc::now().format("%Y").to_string();
    let export = app
        .get(&format!("/ledger/export?year={year}"), Some(&app.admin_token))
        .await;
    let lines: Vec<String> = export.expect(200).text.lines().map(String::from).collect();
    let note = app.get("/ledger/checkpoint", None).await.expect(200).text;
    let key = app.get("/ledger/verifier-key", None).await.expect(200).text;
    let (code, out) = check_export(dir.path(), &lines, &note, &key);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: 6 positions, tree size 6"), "{out}");

    // Python and `verify-export` (the Rust offline verifier) agree on each.
    let vk = checkpoint::parse_verifier_key(&key).unwrap();
    let bad_at = |lines: &[String], note: &str, seq: u64, what: &str| {
        let (code, out) = check_export(dir.path(), lines, note, &key);
        assert_eq!(code, 1, "{what}: {out}");
        assert!(
            out.starts_with(&format!("bad: first bad position {seq}:")),
            "{what}: {out}"
        );
        let r = offline::verify_export(&lines.join("\n"), note, &vk).unwrap();
        assert_eq!(
            (r.ok, r.first_bad_seq),
            (false, Some(seq)),
            "{what} (verify-export): {r:?}"
        );
    };
    // Edit: an amount.
    let mut t = lines.clone();
    let i = index_of(&t, 4);
    t[i] = t[i].replacen("\"amount_fen\":\"", "\"amount_fen\":\"9", 1);
    bad_at(&t, &note, 4, "edit");
    // Delete a line.
    let mut t = lines.clone();
    t.remove(index_of(&t, 3));
    bad_at(&t, &note, 3, "delete");
    // Insert a line (a copy of 2 with another amount) at 3, renumbering the rest.
    let mut t = lines.clone();
    let copy = t[index_of(&t, 2)].replacen("\"amount_fen\":\"", "\"amount_fen\":\"1", 1);
    for l in t.iter_mut() {
        let mut v: Value = serde_json::from_str(l).unwrap();
        if let Some(s) = v["seq"].as_u64().filter(|s| *s >= 3) {
            v["seq"] = json!(s + 1);
            *l = v.to_string();
        }
    }
    t.insert(index_of(&t, 4), copy.replace("\"seq\":2", "\"seq\":3"));
    bad_at(&t, &note, 3, "insert");
    // Reorder: 4 and 5 swap places, with their numbers, or with the numbers left in place.
    let mut t = lines.clone();
    let (a, b) = (index_of(&t, 4), index_of(&t, 5));
    t.swap(a, b);
    bad_at(&t, &note, 4, "reorder");
    let fields = |l: &str| serde_json::from_str::<Value>(l).unwrap()["fields"].clone();
    let mut t = lines.clone();
    let (fa, fb) = (fields(&t[a]), fields(&t[b]));
    for (i, f) in [(a, fb), (b, fa)] {
        let mut v: Value = serde_json::from_str(&t[i]).unwrap();
        v["fields"] = f;
        t[i] = v.to_string();
    }
    bad_at(&t, &note, 4, "reorder in place");
    // The tail rewritten from 4 on and re-signed with another key under the same name: every
    // root matches the rewritten entries, only the signatures give it away.
    let forger = LogKey::from_seed("assist-market.local/ledger", [42; 32]);
    let mut t = lines.clone();
    let i = index_of(&t, 5);
    t[i] = t[i].replacen("\"amount_fen\":\"", "\"amount_fen\":\"7", 1);
    let forged = roots(&t);
    for l in t.iter_mut() {
        let v: Value = serde_json::from_str(l).unwrap();
        if let Some(n) = v["checkpoint"].as_str() {
            let size: u64 = n.lines().nth(1).unwrap().parse().unwrap();
            if size >= 4 {
                *l = json!({"checkpoint": forger.sign(size, &forged[size as usize - 1])}).to_string();
            }
        }
    }
    bad_at(&t, &forger.sign(6, &forged[5]), 4, "re-signed tail");
    // Entries appended after the last checkpoint line are covered by no checkpoint.
    let mut t = lines.clone();
    let sixth = t[index_of(&t, 6)].clone();
    t.push(sixth.replace("\"seq\":6", "\"seq\":7"));
    bad_at(&t, &note, 7, "appended after the last checkpoint");
    // A note with a blank line after its signature is not a signed note (C2SP signed-note).
    bad_at(&lines, &format!("{note}\n"), 7, "a blank line after the signatures");
    // A position with its fields and a leaf_hash: the fields shown would not be the ones
    // verified (the hash of the true leaf beside edited fields), so the line is refused.
    let mut t = lines.clone();
    let i = index_of(&t, 4);
    let mut v: Value = serde_json::from_str(&t[i]).unwrap();
    let mut f = v["fields"].clone();
    let values: Vec<Option<String>> = leaf::FIELDS_V1
        .iter()
        .map(|n| f[*n].as_str().map(String::from))
        .collect();
    let h = merkle::leaf_hash(&leaf::encode_values(1, &values).unwrap());
    f["amount_fen"] = json!("999999");
    v["fields"] = f;
    v["leaf_hash"] = json!(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, h));
    t[i] = v.to_string();
    let (code, out) = check_export(dir.path(), &t, &note, &key);
    assert_eq!(
        (code, out.starts_with(&format!("unreadable: line {}:", i + 1))),
        (2, true),
        "{out}"
    );
    let err = offline::verify_export(&t.join("\n"), &note, &vk).unwrap_err();
    assert!(err.starts_with(&format!("line {}:", i + 1)), "{err}");
    // A corrupted file is named by its line, never a traceback.
    let mut t = lines.clone();
    t[2] = "{\"seq\": 2, \"leaf_version\": 1, \"fields\": {}}".into();
    let (code, out) = check_export(dir.path(), &t, &note, &key);
    assert_eq!((code, out.starts_with("unreadable: line 3:")), (2, true), "{out}");
    // A line separator (U+2028) inside a field is text, not the end of a line (JSON Lines end
    // at \n only): both verifiers read the line and find its leaf changed.
    let mut t = lines.clone();
    let i = index_of(&t, 4);
    t[i] = t[i].replacen("\"buyer_org_id\":\"", "\"buyer_org_id\":\"\u{2028}", 1);
    bad_at(&t, &note, 4, "a line separator inside a field");
    // A byte that is not UTF-8 (a download cut inside a character) is named by its line.
    let mut bytes = Vec::new();
    for (n, l) in lines.iter().enumerate() {
        bytes.extend_from_slice(l.as_bytes());
        if n == 2 {
            bytes.extend_from_slice(&[0xe5, 0x90]);
        }
        bytes.push(b'\n');
    }
    std::fs::write(dir.path().join("export.jsonl"), &bytes).unwrap();
    let (code, out) = python(
        dir.path(),
        &["export", "export.jsonl", "--checkpoint", "note.txt", "--key", &key],
    );
    assert_eq!((code, out.starts_with("unreadable: line 3:")), (2, true), "{out}");
    let err = offline::verify_export_from(&bytes[..], &note, &vk).unwrap_err();
    assert!(err.starts_with("line 3: not UTF-8"), "{err}");
}

#[tokio::test]
async fn inclusion_and_consistency_proofs_of_every_size_verify_in_python() {
    let w = world().await;
    let n = 9u64;
    sequenced(&w, n as usize).await;
    let app = &w.app;
    let cps = app.get("/ledger/checkpoints?from=0", None).await.expect(200).json;
    let note = |size: u64| -> Value {
        cps.as_array().unwrap().iter().find(|c| c["tree_size"] == size).unwrap()["note"].clone()
    };
    let mut items = vec![];
    for size in 1..=n {
        for seq in 1..=size {
            let p = app
                .get(&format!("/ledger/entries/{seq}/proof?tree_size={size}"), w.buyer.t())
                .await;
            let leaf = app
                .client
                .get(app.url(&format!("/ledger/entries/{seq}/leaf")))
                .bearer_auth(&app.admin_token)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            use base64::Engine;
            let leaf = base64::engine::general_purpose::STANDARD.encode(leaf);
            items.push(json!({"inclusion": p.expect(200).json, "checkpoint": note(size), "leaf": leaf}));
            let c = app
                .get(&format!("/ledger/consistency?from={seq}&to={size}"), None)
                .await;
            items.push(json!({"consistency": c.expect(200).json, "old": note(seq), "new": note(size)}));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let key = app.get("/ledger/verifier-key", None).await.expect(200).text;
    std::fs::write(dir.path().join("proofs.json"), Value::Array(items.clone()).to_string()).unwrap();
    let (code, out) = python(dir.path(), &["proofs", "proofs.json", "--key", &key]);
    assert_eq!((code, out.trim()), (0, format!("ok: {} proofs", items.len()).as_str()));
    // A proof with one hash replaced (by another of its own hashes, or its leaf's) fails, and
    // only that one; so does a proof checked against the checkpoint of another size.
    let bent = |i: usize, items: &mut Vec<Value>| {
        let kind = if items[i].get("inclusion").is_some() {
            "inclusion"
        } else {
            "consistency"
        };
        let hashes = items[i][kind]["hashes"].as_array_mut().unwrap();
        hashes[0] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    };
    let with_path: Vec<usize> = (0..items.len())
        .filter(|i| {
            let v = &items[*i];
            let p = v.get("inclusion").or(v.get("consistency")).unwrap();
            !p["hashes"].as_array().unwrap().is_empty()
        })
        .collect();
    let mut t = items.clone();
    let chosen = [
        with_path[3],
        with_path[with_path.len() / 2],
        with_path[with_path.len() - 1],
    ];
    for i in chosen {
        bent(i, &mut t);
    }
    t[0]["checkpoint"] = note(2);
    // A consistency proof with no hashes where some are needed is a bad proof, not a file the
    // verifier cannot read (RFC 9162 2.1.4.2: an empty path fails).
    let emptied = *with_path
        .iter()
        .rev()
        .find(|i| {
            // From a size that is not a power of two: the path is then all there is to check.
            let from = t[**i]["consistency"]["from"].as_u64().unwrap_or(1);
            !from.is_power_of_two() && !chosen.contains(i)
        })
        .unwrap();
    t[emptied]["consistency"]["hashes"] = json!([]);
    std::fs::write(dir.path().join("proofs.json"), Value::Array(t).to_string()).unwrap();
    let (code, out) = python(dir.path(), &["proofs", "proofs.json", "--key", &key]);
    let named: Vec<usize> = out
        .lines()
        .map(|l| {
            l.strip_prefix("bad: proof ")
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let mut want = vec![0];
    want.extend(chosen);
    want.push(emptied);
    want.sort();
    assert_eq!((code, named), (1, want), "{out}");
}
