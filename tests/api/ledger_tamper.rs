//! Tampering behind the service's back, found at the first bad position both by
//! `GET /ledger/verify` and by the `assist-market verify-ledger` binary: an entry inserted
//! into the middle, a stored inner node changed or removed, and an edit, a deletion, a
//! reordering and a re-signed tail; and incremental verification reading only new entries.
use crate::helpers::*;
use crate::ledger_log::{accept, re_sign_from, sequenced, verify};
use crate::orders::*;
use assist_market::services::ledger::leaf;
use entity::ledger_entries;
use sea_orm::{ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::Value;

/// Runs `assist-market verify-ledger ARGS` on the app's database: (exit code, its report).
async fn cli(app: &TestApp, args: &[&str]) -> (i32, Value) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_assist-market"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ASSIST_")) {
        cmd.env_remove(k);
    }
    cmd.arg("verify-ledger")
        .args(args)
        .env("ASSIST_DATABASE_URL", &app.database_url)
        .env("ASSIST_DATA_DIR", app.tmp.path().join("data"))
        .env("ASSIST_DEMO", "false")
        .env("RUST_LOG", "error");
    if let Some(key) = &app.state.settings.ledger_signing_key {
        cmd.env("ASSIST_LEDGER_SIGNING_KEY", key.expose());
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let report = text
        .find('{')
        .and_then(|i| serde_json::from_str(&text[i..]).ok())
        .unwrap_or_else(|| panic!("no report: {text} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

/// Both the service and the binary (`--full`) report `seq` as the first bad position.
async fn found_at(app: &TestApp, seq: i64, what: &str) {
    let v = verify(app).await;
    assert_eq!(
        (v["ok"].as_bool(), v["first_bad_seq"].as_i64()),
        (Some(false), Some(seq)),
        "{what}: {v}"
    );
    let (code, r) = cli(app, &["--full"]).await;
    assert_eq!(
        (code, r["first_bad_seq"].as_i64()),
        (1, Some(seq)),
        "{what} (verify-ledger): {r}"
    );
}

async fn exec(app: &TestApp, sql: &str) {
    app.db()
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

async fn entry_at(app: &TestApp, seq: i64) -> ledger_entries::Model {
    let db = app.db();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT entry_id FROM ledger_positions WHERE seq = {seq}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let id: String = row.try_get("", "entry_id").unwrap();
    let q = ledger_entries::Entity::find().filter(ledger_entries::Column::Id.eq(id));
    q.one(db).await.unwrap().unwrap()
}

#[tokio::test]
async fn an_entry_inserted_into_the_middle_is_found_at_its_position() {
    let w = world().await;
    sequenced(&w, 5).await;
    let app = &w.app;
    assert_eq!(cli(app, &["--full"]).await.0, 0);
    // A new entry (a copy of 3 with another amount, its leaf hash computed correctly) at
    // position 3, the later positions moved up by one.
    let mut m = entry_at(app, 3).await;
    m.id = uuid::Uuid::now_v7().to_string();
    m.amount_fen += 100;
    m.leaf_hash = hex::encode(leaf::leaf_hash(&m).unwrap());
    let mut a = ledger_entries::ActiveModel::from(m.clone());
    a.ins = NotSet;
    app.lift_append_only("ledger_positions").await;
    // The entry and its position in one transaction: the running sequencer never sees the
    // entry without one (it would give it position 6, and the insert at 3 would fail).
    let txn = app.db().begin().await.unwrap();
    ledger_entries::Entity::insert(a)
        .exec_without_returning(&txn)
        .await
        .unwrap();
    for sql in [
        "UPDATE ledger_positions SET seq = -seq - 1 WHERE seq >= 3".to_string(),
        "UPDATE ledger_positions SET seq = -seq WHERE seq < 0".to_string(),
        format!(
            "INSERT INTO ledger_positions (seq, entry_id, leaf_hash) VALUES (3, '{}', '{}')",
            m.id, m.leaf_hash
        ),
    ] {
        txn.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    txn.commit().await.unwrap();
    found_at(app, 3, "insert").await;
    // verify-ledger from its recorded checkpoint finds it too (the root at 5 changed).
    let (code, r) = cli(app, &[]).await;
    assert_eq!((code, r["first_bad_seq"].as_i64()), (1, Some(3)), "{r}");
}

#[tokio::test]
async fn a_changed_or_missing_stored_tree_node_is_found() {
    let w = world().await;
    sequenced(&w, 5).await;
    let app = &w.app;
    assert_eq!(verify(app).await["ok"], true);
    app.lift_append_only("ledger_tree_nodes").await;
    // The node over positions 3 and 4 (which proofs of 1..4 are served from).
    let other = "ab".repeat(32);
    exec(
        app,
        &format!("UPDATE ledger_tree_nodes SET hash = '{other}' WHERE level = 1 AND idx = 1"),
    )
    .await;
    found_at(app, 3, "changed node").await;
    // The node over 1..4, gone.
    exec(app, "DELETE FROM ledger_tree_nodes WHERE level = 2 AND idx = 0").await;
    found_at(app, 1, "missing node").await;
}

#[tokio::test]
async fn the_binary_finds_a_re_signed_tail_a_reordering_an_edit_and_a_deletion() {
    let w = world().await;
    sequenced(&w, 6).await;
    let app = &w.app;
    let (code, r) = cli(app, &["--full"]).await;
    assert_eq!((code, r["entries"].as_i64()), (0, Some(6)), "{r}");
    // Each tampering is earlier than the one before, so each is the first bad position.
    re_sign_from(app, 5).await;
    for table in ["ledger_positions", "ledger_entries"] {
        app.lift_append_only(table).await;
    }
    found_at(app, 5, "re-signed").await;
    for s in [
        "UPDATE ledger_positions SET seq = -3 WHERE seq = 3",
        "UPDATE ledger_positions SET seq = 3 WHERE seq = 4",
        "UPDATE ledger_positions SET seq = 4 WHERE seq = -3",
    ] {
        exec(app, s).await;
    }
    found_at(app, 3, "reordered").await;
    let id = entry_at(app, 2).await.id;
    exec(
        app,
        &format!("UPDATE ledger_entries SET amount_fen = amount_fen + 1 WHERE id = '{id}'"),
    )
    .await;
    found_at(app, 2, "edited").await;
    // The export recomputes every leaf: it will not hide the edited entry behind its stored
    // hash (a line of another year shows only its hash). The file, streamed, ends at that
    // position with a line naming it, which the offline verifier refuses by its number.
    let year = chrono::Utc::now().format("%Y").to_string();
    let r = app
        .get(&format!("/ledger/export?year={year}"), Some(&app.admin_token))
        .await
        .expect(200);
    let last = r.text.lines().last().unwrap_or_default().to_string();
    assert!(
        last.starts_with("{\"error\"") && last.contains("position 2"),
        "{}",
        r.text
    );
    let note = app.get("/ledger/checkpoint", None).await.expect(200).text;
    let key = app.get("/ledger/verifier-key", None).await.expect(200).text;
    let vk = assist_market::services::ledger::checkpoint::parse_verifier_key(&key).unwrap();
    let err = assist_market::services::ledger::offline::verify_export(&r.text, &note, &vk).unwrap_err();
    assert!(err.starts_with(&format!("line {}:", r.text.lines().count())), "{err}");
    let id = entry_at(app, 1).await.id;
    exec(app, &format!("DELETE FROM ledger_entries WHERE id = '{id}'")).await;
    found_at(app, 1, "deleted").await;
}

#[tokio::test]
async fn incremental_verification_reads_only_the_entries_after_the_last_verified_checkpoint() {
    let w = world().await;
    sequenced(&w, 5).await;
    let app = &w.app;
    let (code, r) = cli(app, &["--full"]).await;
    assert_eq!(
        (code, r["entries"].as_i64(), r["tree_size"].as_i64()),
        (0, Some(5), Some(5))
    );
    // An entry before the verified checkpoint is edited: had the incremental run read it,
    // it would fail. It reads the 3 new entries only; --full reads all 8 and finds it.
    app.lift_append_only("ledger_entries").await;
    let id = entry_at(app, 2).await.id;
    exec(
        app,
        &format!("UPDATE ledger_entries SET amount_fen = amount_fen + 1 WHERE id = '{id}'"),
    )
    .await;
    for _ in 0..3 {
        let (o, so) = delivered_so(&w, "10").await;
        accept(&w, &so, &o).await;
    }
    app.sequence().await;
    let (code, r) = cli(app, &[]).await;
    assert_eq!(
        (code, r["entries"].as_i64(), r["tree_size"].as_i64()),
        (0, Some(3), Some(8)),
        "{r}"
    );
    let (code, r) = cli(app, &["--full"]).await;
    assert_eq!(
        (code, r["entries"].as_i64(), r["first_bad_seq"].as_i64()),
        (1, Some(8), Some(2)),
        "{r}"
    );
}
