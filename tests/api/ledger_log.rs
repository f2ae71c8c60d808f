//! The ledger as a verifiable log: dense positions under concurrency, signed checkpoints,
//! proofs checked with the pure RFC 9162 verifiers, bad inputs, tampering, incremental
//! verification and the offline export check.
use crate::helpers::*;
use crate::orders::*;
use assist_market::services::ledger::{checkpoint, merkle, offline};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub async fn accept(w: &World, so: &str, order: &Value) {
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    w.app
        .post(
            &format!("/supplier-orders/{so}/accept"),
            w.buyer.t(),
            json!({"lines": [{"line_id": line, "accepted_quantity": "10"}], "invoice_number": "INV"}),
        )
        .await
        .expect(200);
}

fn h(v: &Value) -> merkle::Hash {
    B64.decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

async fn latest(app: &TestApp) -> checkpoint::Checkpoint {
    let key = app.get("/ledger/verifier-key", None).await.expect(200).text;
    let vk = checkpoint::parse_verifier_key(&key).unwrap();
    let note = app.get("/ledger/checkpoint", None).await.expect(200).text;
    checkpoint::open(&note, &vk).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_acceptances_get_a_dense_tree_and_a_checkpoint_within_two_seconds() {
    let app = spawn_app().await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let product = product(&app, &supplier.org_id, 1000, 1_000, 100_000_000).await;
    let w = World {
        app,
        buyer,
        supplier,
        product,
    };
    let mut todo = Vec::new();
    for _ in 0..200 {
        todo.push(delivered_so(&w, "10").await);
    }
    let before = latest(&w.app).await.size;
    futures_util::future::join_all(todo.iter().map(|(o, so)| accept(&w, so, o))).await;
    let done = Instant::now();
    // The sequencer job (jobs run in tests) covers them all within 2 s.
    loop {
        if latest(&w.app).await.size >= before + 200 {
            break;
        }
        assert!(
            done.elapsed() < Duration::from_secs(2),
            "no checkpoint covers the acceptances after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = latest(&w.app).await;
    assert_eq!(c.size, before + 200);
    let db = w.app.db();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, COUNT(DISTINCT entry_id) AS d, MIN(seq) AS lo, MAX(seq) AS hi FROM ledger_positions",
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    assert_eq!(n, c.size as i64);
    assert_eq!(row.try_get::<i64>("", "d").unwrap(), n, "an entry has two positions");
    assert_eq!(row.try_get::<i64>("", "lo").unwrap(), 1);
    assert_eq!(row.try_get::<i64>("", "hi").unwrap(), n, "a gap in the positions");
    let v = w.app.get("/ledger/verify", Some(&w.app.admin_token)).await.expect(200);
    assert_eq!(v.json["ok"], true, "{}", v.text);
    assert_eq!(v.json["root_hash"], B64.encode(c.root));
}

#[tokio::test]
async fn proofs_verify_and_bad_requests_are_refused() {
    let w = world().await;
    let app = &w.app;
    for _ in 0..5 {
        let (o, so) = delivered_so(&w, "10").await;
        accept(&w, &so, &o).await;
        app.sequence().await;
    }
    let c = latest(app).await;
    assert_eq!(c.size, 5);
    let admin = Some(app.admin_token.as_str());
    for seq in 1..=5u64 {
        for size in seq..=5 {
            let p = app
                .get(&format!("/ledger/entries/{seq}/proof?tree_size={size}"), w.buyer.t())
                .await
                .expect(200)
                .json;
            assert_eq!(p["leaf_index"], seq - 1);
            let leaf = app
                .get(&format!("/ledger/entries/{seq}/leaf"), w.supplier.t())
                .await
                .expect(200);
            let bytes = app
                .send(
                    app.client
                        .get(app.url(&format!("/ledger/entries/{seq}/leaf")))
                        .bearer_auth(&app.admin_token),
                )
                .await;
            assert_eq!(leaf.text, bytes.text);
            let lh = h(&p["leaf_hash"]);
            let path: Vec<merkle::Hash> = p["hashes"].as_array().unwrap().iter().map(h).collect();
            let cps = app.get("/ledger/checkpoints?from=0", None).await.expect(200).json;
            let root = cps
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["tree_size"] == size)
                .map(|c| h(&c["root_hash"]))
                .unwrap();
            assert!(merkle::verify_inclusion(seq - 1, size, &lh, &path, &root));
        }
    }
    let cps = app.get("/ledger/checkpoints", None).await.expect(200).json;
    let root = |n: u64| {
        cps.as_array()
            .unwrap()
            .iter()
            .find(|c| c["tree_size"] == n)
            .map(|c| h(&c["root_hash"]))
            .unwrap()
    };
    for from in 1..=5u64 {
        let p = app
            .get(&format!("/ledger/consistency?from={from}&to=5"), None)
            .await
            .expect(200)
            .json;
        let path: Vec<merkle::Hash> = p["hashes"].as_array().unwrap().iter().map(h).collect();
        assert!(merkle::verify_consistency(from, 5, &root(from), &root(5), &path));
    }
    assert!(cps[0]["created_at"].is_string());
    // Bad inputs.
    app.get("/ledger/consistency?from=4&to=2", None).await.problem(422);
    app.get("/ledger/consistency?from=1&to=99", None).await.problem(409);
    app.get("/ledger/entries/1/proof?tree_size=99", admin)
        .await
        .problem(409);
    app.get("/ledger/entries/4/proof?tree_size=2", admin).await.problem(422);
    app.get("/ledger/entries/99/proof", admin).await.problem(404);
    app.get("/ledger/entries/0/leaf", admin).await.problem(404);
    // Another organisation's entry, or no account: 404 / 401.
    let other = app.create_org("canteen", CHANGAN).await;
    app.get("/ledger/entries/1/proof", other.t()).await.problem(404);
    app.get("/ledger/entries/1/proof?tree_size=x", other.t())
        .await
        .problem(404);
    app.get("/ledger/entries/1/leaf", other.t()).await.problem(404);
    app.get("/ledger/entries/1/leaf", None).await.problem(401);
    app.get("/ledger/verify?since=7", admin).await.problem(422);
    app.get("/ledger/export?year=1900", admin).await.problem(422);
}

/// `n` acceptances, each sequenced on its own: a checkpoint at every size.
pub async fn sequenced(w: &World, n: usize) {
    for _ in 0..n {
        let (o, so) = delivered_so(w, "10").await;
        accept(w, &so, &o).await;
        w.app.sequence().await;
    }
}

pub async fn verify(app: &TestApp) -> Value {
    app.get("/ledger/verify", Some(&app.admin_token)).await.expect(200).json
}

#[tokio::test]
async fn deleting_or_reordering_positions_is_found_at_the_first_bad_position() {
    let w = world().await;
    sequenced(&w, 5).await;
    let app = &w.app;
    app.lift_append_only("ledger_positions").await;
    // Reorder: swap the entries at 3 and 4 (with their stored hashes).
    let db = app.db();
    for s in [
        "UPDATE ledger_positions SET seq = -3 WHERE seq = 3",
        "UPDATE ledger_positions SET seq = 3 WHERE seq = 4",
        "UPDATE ledger_positions SET seq = 4 WHERE seq = -3",
    ] {
        db.execute_unprepared(s).await.unwrap();
    }
    let v = verify(app).await;
    assert_eq!(
        (v["ok"].clone(), v["first_bad_seq"].clone()),
        (json!(false), json!(3)),
        "{v}"
    );
    // Delete the entry at 2.
    app.lift_append_only("ledger_entries").await;
    db.execute_unprepared(
        "DELETE FROM ledger_entries WHERE id = (SELECT entry_id FROM ledger_positions WHERE seq = 2)",
    )
    .await
    .unwrap();
    let v = verify(app).await;
    assert_eq!(v["first_bad_seq"], 2, "{v}");
}

/// Rewrites the signed notes of the checkpoints of size `from` and more with another key
/// under the log's name (the roots kept).
pub async fn re_sign_from(app: &TestApp, from: i64) {
    app.lift_append_only("ledger_checkpoints").await;
    let forger = checkpoint::LogKey::from_seed("assist-market.local/ledger", [42; 32]);
    let db = app.db();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT tree_size, root_hash FROM ledger_checkpoints WHERE tree_size >= {from}"),
        ))
        .await
        .unwrap();
    for r in rows {
        let size: i64 = r.try_get("", "tree_size").unwrap();
        let root: String = r.try_get("", "root_hash").unwrap();
        let note = forger.sign(size as u64, &hex::decode(root).unwrap().try_into().unwrap());
        db.execute_unprepared(&format!(
            "UPDATE ledger_checkpoints SET note = '{note}' WHERE tree_size = {size}"
        ))
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_tail_re_signed_with_another_key_is_found() {
    let w = world().await;
    sequenced(&w, 5).await;
    let app = &w.app;
    re_sign_from(app, 4).await;
    let v = verify(app).await;
    assert_eq!(v["first_bad_seq"], 4, "{v}");
}

#[tokio::test]
async fn incremental_verification_reads_only_new_entries_and_the_export_verifies_offline() {
    let w = world().await;
    sequenced(&w, 5).await;
    let app = &w.app;
    let full = assist_market::services::ledger::verify::verify_recorded(&app.state, true)
        .await
        .unwrap();
    assert!(full.ok);
    assert_eq!(full.entries, 5);
    for _ in 0..3 {
        let (o, so) = delivered_so(&w, "10").await;
        accept(&w, &so, &o).await;
    }
    app.sequence().await;
    let inc = assist_market::services::ledger::verify::verify_recorded(&app.state, false)
        .await
        .unwrap();
    assert!(inc.ok, "{inc:?}");
    assert_eq!((inc.entries, inc.tree_size), (3, 8));
    let v = app.get("/ledger/verify?since=5", Some(&app.admin_token)).await;
    let v = v.expect(200).json;
    assert_eq!((v["entries"].clone(), v["ok"].clone()), (json!(3), json!(true)));

    // The export verifies offline against the checkpoint; an edited line is found by its position.
    let year = chrono::Utc::now().format("%Y").to_string();
    let export = app
        .get(&format!("/ledger/export?year={year}"), Some(&app.admin_token))
        .await
        .expect(200)
        .text;
    let note = app.get("/ledger/checkpoint", None).await.text;
    let vk = checkpoint::parse_verifier_key(&app.get("/ledger/verifier-key", None).await.text).unwrap();
    let r = offline::verify_export(&export, &note, &vk).unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!((r.entries, r.with_fields), (8, 8));
    let lines: Vec<&str> = export.lines().collect();
    let sixth = lines
        .iter()
        .position(|l| serde_json::from_str::<Value>(l).unwrap()["seq"] == 6)
        .unwrap();
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[sixth] = edited[sixth].replacen("\"amount_fen\":\"", "\"amount_fen\":\"1", 1);
    let r = offline::verify_export(&edited.join("\n"), &note, &vk).unwrap();
    assert_eq!((r.ok, r.first_bad_seq), (false, Some(6)), "{r:?}");
    let err = offline::verify_export("{\"seq\":1}\nnot json", &note, &vk).unwrap_err();
    assert!(err.starts_with("line 1") || err.starts_with("line 2"), "{err}");
    let other = checkpoint::parse_verifier_key(
        &checkpoint::LogKey::from_seed("assist-market.local/ledger", [1; 32]).verifier_key(),
    )
    .unwrap();
    // Checked with another key, no checkpoint proves anything from position 1 on.
    let r = offline::verify_export(&export, &note, &other).unwrap();
    assert_eq!((r.ok, r.first_bad_seq), (false, Some(1)), "{r:?}");
}

/// An entry whose transaction commits after the sequencer's low-water mark has passed it (a
/// transaction held open past `STRAGGLER_SECS`) is still placed, by the wide scan
/// (`ledger_wide_scan_secs`), not left out of the tree until the next change of leader.
#[tokio::test]
async fn an_entry_committed_behind_the_low_water_mark_is_still_sequenced() {
    let app = spawn_app_with(|s| s.ledger_wide_scan_secs = 1).await;
    let w = World {
        buyer: app.create_org("canteen", CHANGAN).await,
        supplier: app.create_org("cooperative", YANGYUAN).await,
        product: String::new(),
        app,
    };
    let w = World {
        product: product(&w.app, &w.supplier.org_id, 1250, 10_000, 1_000_000).await,
        ..w
    };
    let (o, so) = delivered_so(&w, "10").await;
    accept(&w, &so, &o).await;
    w.app.sequence().await;
    // The mark passes every entry written so far and the next one.
    w.app
        .db()
        .execute_unprepared("UPDATE ledger_tail SET low_ins = 1000000000000000 WHERE id = 1")
        .await
        .unwrap();
    let (o, so) = delivered_so(&w, "10").await;
    accept(&w, &so, &o).await;
    let start = std::time::Instant::now();
    loop {
        let l = w.app.get("/ledger", Some(&w.app.admin_token)).await.expect(200);
        let items = l.json["items"].as_array().unwrap().clone();
        if items.len() == 2 && items.iter().all(|e| e["seq"].is_i64()) {
            break;
        }
        assert!(start.elapsed().as_secs() < 15, "not sequenced: {}", l.text);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(verify(&w.app).await["ok"], true);
}
