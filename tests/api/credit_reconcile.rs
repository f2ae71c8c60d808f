//! Reconciliation statements confirmed and locked in one write, and new statements made under
//! the pairing a confirmation holds: a statement is never left confirmed by both sides and
//! pending, nor superseded after both confirmed, nor made over a stale last locked statement.
use crate::credit::{append, reconciliation_fixture, s, this_year, Fixture};
use crate::helpers::*;
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{json, Value};

async fn statement(f: &Fixture, who: &OrgUser) -> Value {
    f.app
        .post(
            &format!("/pairings/{}/reconciliations", f.pairing),
            who.t(),
            json!({"year": this_year()}),
        )
        .await
        .expect(201)
        .json
}

async fn confirm(f: &Fixture, who: &OrgUser, id: &str) -> Resp {
    f.app
        .post(&format!("/reconciliations/{id}/confirm"), who.t(), json!({}))
        .await
}

async fn read(f: &Fixture, id: &str) -> Value {
    f.app
        .get(&format!("/reconciliations/{id}"), f.helper.t())
        .await
        .expect(200)
        .json
}

async fn fixture() -> Fixture {
    let f = reconciliation_fixture().await;
    let (h, sup) = (&f.helper.org_id, &f.sup.org_id);
    append(&f.app, h, sup, SHUNPING, "poverty", "purchase", 10_000, None).await;
    f
}

/// Makes every write that locks a statement fail (a fault between the confirmation and the
/// lock), or lifts that again.
async fn fail_locks(app: &TestApp, on: bool) {
    let pg = app.db().get_database_backend() == DbBackend::Postgres;
    let sql = match (pg, on) {
        (false, true) => "CREATE TRIGGER no_lock BEFORE UPDATE ON reconciliations \
             WHEN NEW.status = 'locked' BEGIN SELECT RAISE(ABORT, 'injected'); END"
            .to_string(),
        (false, false) => "DROP TRIGGER no_lock".to_string(),
        (true, true) => "CREATE FUNCTION no_lock() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.status = 'locked' THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER no_lock BEFORE UPDATE ON reconciliations FOR EACH ROW EXECUTE FUNCTION no_lock()"
            .to_string(),
        (true, false) => "DROP TRIGGER no_lock ON reconciliations".to_string(),
    };
    app.db().execute_unprepared(&sql).await.unwrap();
}

#[tokio::test]
async fn a_confirmation_whose_lock_fails_is_not_recorded_and_may_be_retried() {
    let f = fixture().await;
    let id = s(&statement(&f, &f.helper).await["id"]).to_string();
    confirm(&f, &f.helper, &id).await.expect(200);
    fail_locks(&f.app, true).await;
    let r = confirm(&f, &f.county, &id).await;
    assert!(r.status.is_server_error(), "{}: {}", r.status, r.text);
    let st = read(&f, &id).await;
    assert_eq!(st["status"], "pending");
    assert!(st["county_confirmed_at"].is_null(), "nothing recorded: {st}");
    fail_locks(&f.app, false).await;
    let r = confirm(&f, &f.county, &id).await.expect(200);
    assert_eq!(r.json["status"], "locked", "{}", r.text);
    assert!(r.json["locked_at"].is_string());
}

/// A statement left confirmed by both sides and pending (by the separate writes of before):
/// a confirmation by either side locks it.
#[tokio::test]
async fn a_statement_confirmed_by_both_sides_but_pending_is_locked_by_a_retry() {
    let f = fixture().await;
    let id = s(&statement(&f, &f.helper).await["id"]).to_string();
    confirm(&f, &f.helper, &id).await.expect(200);
    f.app
        .db()
        .execute_unprepared(&format!(
            "UPDATE reconciliations SET county_confirmed_by = helper_confirmed_by, \
             county_confirmed_at = helper_confirmed_at WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    let r = confirm(&f, &f.county, &id).await.expect(200);
    assert_eq!(r.json["status"], "locked", "{}", r.text);
    // Locked: confirming again is refused.
    confirm(&f, &f.helper, &id).await.problem(409);
}

/// The last confirmation races a new statement: either the confirmation wins (the statement is
/// locked and the new one follows it) or the new statement does (the older one is superseded
/// and the confirmation refused); never a superseded statement both sides confirmed, nor a new
/// statement blind to the one locked meanwhile.
#[tokio::test]
async fn the_last_confirmation_racing_a_new_statement_is_either_locked_or_refused() {
    let f = fixture().await;
    let mut current = s(&statement(&f, &f.helper).await["id"]).to_string();
    let path = format!("/pairings/{}/reconciliations", f.pairing);
    for round in 0..8 {
        confirm(&f, &f.helper, &current).await.expect(200);
        let (c, n) = tokio::join!(
            confirm(&f, &f.county, &current),
            f.app
                .post(&path, Some(&f.app.admin_token), json!({"year": this_year()}))
        );
        let n = n.expect(201).json;
        let old = read(&f, &current).await;
        let newer = read(&f, s(&n["id"])).await;
        assert_eq!(newer["status"], "pending", "round {round}: {newer}");
        if c.status.as_u16() == 200 {
            assert_eq!(old["status"], "locked", "round {round}: {old}");
            assert_eq!(
                newer["adjustments"]["after_reconciliation_id"], old["id"],
                "round {round}: the new statement follows the one locked: {newer}"
            );
        } else {
            assert_eq!(c.status.as_u16(), 409, "round {round}: {}", c.text);
            assert_eq!(old["status"], "superseded", "round {round}: {old}");
            assert!(old["county_confirmed_at"].is_null(), "round {round}: {old}");
        }
        current = s(&n["id"]).to_string();
    }
}

/// A statement checks the ledger as `verify-ledger` does without `--full`: from the last
/// recorded verification on, so its cost follows the entries since, not the ledger's age. An
/// edit after that point is refused; one inside the verified prefix is `--full`'s to find.
#[tokio::test]
async fn a_statement_verifies_the_entries_since_the_last_recorded_verification() {
    use assist_market::services::ledger::{self, verify::verify_recorded};
    let f = fixture().await;
    let (h, sup) = (&f.helper.org_id, &f.sup.org_id);
    for _ in 0..3 {
        append(&f.app, h, sup, SHUNPING, "poverty", "purchase", 1_000, None).await;
    }
    f.app.sequence().await;
    let recorded = verify_recorded(&f.app.state, false).await.unwrap();
    assert!(recorded.ok, "{recorded:?}");
    // Inside the verified prefix: not read again, the statement is made.
    crate::credit::tamper(&f.app, 2).await;
    statement(&f, &f.helper).await;
    // After it: read, and refused.
    for _ in 0..2 {
        append(&f.app, h, sup, SHUNPING, "poverty", "purchase", 1_000, None).await;
    }
    f.app.sequence().await;
    let size = ledger::verify(f.app.db(), None).await.unwrap().tree_size;
    assert!(size > recorded.tree_size, "{size}");
    // (the append-only trigger is already lifted)
    f.app
        .db()
        .execute_unprepared(&format!(
            "UPDATE ledger_entries SET amount_fen = amount_fen + 1 \
             WHERE id = (SELECT entry_id FROM ledger_positions WHERE seq = {size})"
        ))
        .await
        .unwrap();
    let p = f
        .app
        .post(
            &format!("/pairings/{}/reconciliations", f.pairing),
            f.helper.t(),
            json!({"year": this_year()}),
        )
        .await
        .problem(409);
    assert!(s(&p["detail"]).contains("no longer verifies"), "{p}");
    // The full check finds both edits, the first first.
    let full = verify_recorded(&f.app.state, true).await.unwrap();
    assert_eq!((full.ok, full.first_bad_seq), (false, Some(2)), "{full:?}");
}
