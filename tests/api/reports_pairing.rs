//! The pairing recorded on each ledger entry (`credited_pairing_id`) and the summary
//! grouped by it: each entry counts once, entries of no pairing have a row of their
//! own, the totals equal the ledger's; migration 070 backfills older entries with the
//! same rule.
use crate::credit::{make_pairing, this_year};
use crate::helpers::*;
use crate::reports::NONE;
use assist_market::services::ledger::{self, NewEntry};
use assist_market::services::sql;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use std::collections::BTreeMap;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// An entry through the real append path with real ids (so `GET /ledger` reads it back):
/// a credit, or with `reverses` a reversal of that order line; `named` as an order names a
/// pairing. Gives the entry's order line and the pairing recorded (or [`NONE`]).
async fn entry(
    app: &TestApp,
    buyer: &str,
    supplier: &str,
    county: &str,
    fen: i64,
    reverses: Option<&str>,
    named: Option<&str>,
) -> (String, String) {
    let line = reverses.map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_string);
    let e = ledger::append(
        app.db(),
        NewEntry {
            buyer_org_id: buyer.into(),
            supplier_org_id: supplier.into(),
            product_id: uuid::Uuid::now_v7().to_string(),
            category: "grain".into(),
            supplier_order_id: uuid::Uuid::now_v7().to_string(),
            order_line_id: line.clone(),
            origin_region_code: county.into(),
            origin_county_code: county.into(),
            origin_poverty_status: "none".into(),
            quantity_milli: fen.signum() * 1000,
            amount_fen: fen,
            kind: if reverses.is_some() { "reversal" } else { "credit" }.into(),
            credit_category: "purchase".into(),
            pairing_id: named.map(str::to_string),
        },
    )
    .await
    .unwrap();
    (line, e.credited_pairing_id.unwrap_or_else(|| NONE.into()))
}

/// key -> (total fen, entry count, name) of a summary's rows.
fn rows(json: &Value) -> BTreeMap<String, (String, i64, String)> {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or(NONE).to_string(),
                (
                    r["total"].as_str().unwrap().to_string(),
                    r["entry_count"].as_i64().unwrap(),
                    r["name"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn pairing_rows_count_each_entry_once_with_a_row_for_no_pairing() {
    let app = spawn_app().await;
    let parent = app.create_org("government", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let sup = app.create_org("cooperative", YANGYUAN).await;
    // Three pairings help Yangyuan for this family: the parent's (two kinds) and the child's.
    let a = id(&make_pairing(&app, &parent.org_id, YANGYUAN, "east_west").await);
    let b = id(&make_pairing(&app, &child.org_id, YANGYUAN, "designated").await);
    let c = id(&make_pairing(&app, &parent.org_id, YANGYUAN, "paired_county").await);
    let (s, p, c_, ch) = (&sup.org_id, &parent.org_id, &c, &child.org_id);
    // The child's entry matches a, b and c: its own pairing wins.
    let (line, got) = entry(&app, ch, s, YANGYUAN, 10_000, None, None).await;
    assert_eq!(got, b);
    // The parent's matches a and c: the older wins.
    assert_eq!(entry(&app, p, s, YANGYUAN, 20_000, None, None).await.1, a);
    // No pairing helps Pingquan.
    assert_eq!(entry(&app, ch, s, PINGQUAN, 4_000, None, None).await.1, NONE);
    // A reversal carries the pairing of the credit it reverses.
    assert_eq!(entry(&app, ch, s, YANGYUAN, -3_000, Some(&line), None).await.1, b);
    // The pairing the order named wins when it matches; when it does not, the rule decides.
    assert_eq!(entry(&app, p, s, YANGYUAN, 5_000, None, Some(c_)).await.1, c);
    assert_eq!(entry(&app, p, s, PINGQUAN, 6_000, None, Some(&a)).await.1, NONE);

    // The ledger shows the recorded pairing beside the one the order named.
    let l = app.get("/ledger", Some(&app.admin_token)).await.expect(200).json;
    let recorded: Vec<Value> = l["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["credited_pairing_id"].clone())
        .collect();
    assert_eq!(
        recorded,
        [Some(&b), Some(&a), None, Some(&b), Some(&c), None]
            .iter()
            .map(|p| p.map_or(Value::Null, |p| Value::String(p.clone())))
            .collect::<Vec<_>>()
    );

    assert_eq!(
        l["items"][4]["pairing_id"],
        c.as_str(),
        "the named pairing stays beside it"
    );
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let r = app
        .get(
            &format!("/reports/summary?year={}&group_by=pairing", this_year()),
            ev.t(),
        )
        .await
        .expect(200)
        .json;
    let got = rows(&r);
    let names: Vec<&str> = got.values().map(|v| v.2.as_str()).collect();
    assert!(names.iter().all(|n| !n.is_empty()), "{names:?}");
    let got: BTreeMap<String, (String, i64)> = got.into_iter().map(|(k, v)| (k, (v.0, v.1))).collect();
    let want: BTreeMap<String, (String, i64)> = [
        (a.clone(), ("200.00".to_string(), 1)),
        (b.clone(), ("70.00".to_string(), 2)),
        (c.clone(), ("50.00".to_string(), 1)),
        (NONE.to_string(), ("100.00".to_string(), 2)),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    // The row of no pairing is last, key null, labelled.
    let last = r["rows"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["key"], Value::Null);
    assert_eq!(last["name"], "no pairing");
    // The totals are the ledger's: every entry once.
    assert_eq!(r["totals"]["total"], "420.00");
    assert_eq!(r["totals"]["entry_count"], 6);

    // The progress endpoint keeps its own rule (helper and children, helped county): the parent's
    // pairing a counts e1, e2, e4 and e5, which the report puts under b, a, b and c.
    let p = app
        .get(&format!("/pairings/{a}/progress"), Some(&app.admin_token))
        .await
        .expect(200)
        .json;
    assert_eq!(p["total"], "320.00");
}

/// (seq, buyer, county, kind, amount, order line, named pairing) of an entry written before 070.
type OldRow<'a> = (i64, &'a str, &'a str, &'a str, i64, &'a str, Option<&'a str>);

/// Rolls the schema back to before migration 070, writes entries as they were then, and
/// migrates again: the backfill records the same pairings the append would.
#[tokio::test]
async fn migration_070_backfills_the_recorded_pairing_by_the_same_rule() {
    let app = spawn_app().await;
    let db = app.db();
    let parent = app.create_org("government", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let sup = app.create_org("cooperative", YANGYUAN).await;
    let a = id(&make_pairing(&app, &parent.org_id, YANGYUAN, "east_west").await);
    let b = id(&make_pairing(&app, &child.org_id, YANGYUAN, "designated").await);
    let c = id(&make_pairing(&app, &parent.org_id, YANGYUAN, "paired_county").await);

    let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_string()).collect();
    let at = names
        .iter()
        .position(|n| n.contains("000070_ledger_credited_pairing"))
        .unwrap();
    Migrator::down(db, Some((names.len() - at) as u32)).await.unwrap();

    let y = this_year();
    // (seq, buyer, county, kind, amount, order line, named pairing)
    let rows: [OldRow; 6] = [
        (1, &child.org_id, YANGYUAN, "credit", 100, "l1", None),
        (2, &parent.org_id, YANGYUAN, "credit", 200, "l2", None),
        (3, &child.org_id, PINGQUAN, "credit", 300, "l3", None),
        (4, &child.org_id, YANGYUAN, "reversal", -50, "l1", None),
        (5, &parent.org_id, YANGYUAN, "credit", 400, "l5", Some(&c)),
        (6, &parent.org_id, PINGQUAN, "credit", 500, "l6", Some(&a)),
    ];
    for (seq, buyer, county, kind, fen, line, named) in rows {
        let text = "INSERT INTO ledger_entries (seq, occurred_at, year, month, buyer_org_id, supplier_org_id, \
             product_id, category, supplier_order_id, order_line_id, origin_region_code, origin_county_code, \
             origin_poverty_status, quantity_milli, amount_fen, kind, credit_category, pairing_id, prev_hash, hash) \
             VALUES ($1, $2, $3, 1, $4, $5, 'p', 'grain', 'so', $6, $7, $7, 'none', 1000, $8, $9, 'purchase', $10, 'x', 'x')";
        let values = vec![
            seq.into(),
            chrono::Utc::now().into(),
            y.into(),
            buyer.into(),
            sup.org_id.clone().into(),
            line.into(),
            county.into(),
            fen.into(),
            kind.into(),
            named.map(str::to_string).into(),
        ];
        db.execute_raw(sql(db, text, values)).await.unwrap();
    }
    Migrator::up(db, None).await.unwrap();

    // Migration 120 keeps the hash chain as `ledger_chain` (the service moves it into the tree).
    let got: Vec<Option<String>> = db
        .query_all_raw(sql(
            db,
            "SELECT credited_pairing_id FROM ledger_chain ORDER BY seq",
            vec![],
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get("", "credited_pairing_id").unwrap())
        .collect();
    let want: Vec<Option<String>> = vec![Some(b.clone()), Some(a), None, Some(b), Some(c), None];
    assert_eq!(got, want);
    // The ledger is append-only again.
    assert!(db
        .execute_unprepared("UPDATE ledger_chain SET amount_fen = 1 WHERE seq = 1")
        .await
        .is_err());
}

/// A line whose credit is split among buyers with different pairings: each reversal carries
/// the pairing of the credit its own buyer holds, so the report by pairing and the pairing's
/// progress agree after a return.
#[tokio::test]
async fn a_reversal_carries_the_pairing_of_its_own_buyers_credit() {
    use crate::orders::{delivered_so, product, World};
    use serde_json::json;
    let app = spawn_app().await;
    let y = this_year();
    // A shared canteen of Chang'an: two members of a third each, the lead keeps the rest.
    let c = crate::supervision_corrections::canteen(&app).await;
    let (lead, supplier) = (c.lead, c.supplier);
    // The lead is paired with the origin county; its members are not.
    let pairing = id(&make_pairing(&app, &lead.org_id, YANGYUAN, "paired_county").await);
    let product = product(&app, &supplier.org_id, 1000, 1_000, 1_000_000).await;
    let w = World {
        app,
        buyer: lead,
        supplier,
        product,
    };
    let (order, so) = delivered_so(&w, "10").await;
    crate::ledger_log::accept(&w, &so, &order).await;
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    let app = &w.app;
    let by_pairing = || async {
        let path = format!("/reports/summary?year={y}&group_by=pairing");
        let r = app.get(&path, Some(&app.admin_token)).await.expect(200).json;
        let got = rows(&r);
        let total = |k: &str| got.get(k).map_or("0.00".to_string(), |v| v.0.clone());
        (total(&pairing), total(NONE))
    };
    let progress = || async {
        let path = format!("/pairings/{pairing}/progress");
        app.get(&path, Some(&app.admin_token)).await.expect(200).json["total"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // 100.00 accepted: the members' 33.33 each count under no pairing, the lead's 33.34 under
    // its own.
    assert_eq!(by_pairing().await, ("33.34".to_string(), "66.66".to_string()));
    assert_eq!(progress().await, "33.34");
    // Everything comes back: each reversal leaves the pairing its buyer's credit counted under.
    app.post(
        &format!("/supplier-orders/{so}/returns"),
        w.buyer.t(),
        json!({"lines": [{"line_id": line, "quantity": "10"}], "reason": "spoiled"}),
    )
    .await
    .expect(201);
    assert_eq!(by_pairing().await, ("0.00".to_string(), "0.00".to_string()));
    assert_eq!(progress().await, "0.00");
    let reversals = entity::ledger_entries::Entity::find()
        .filter(entity::ledger_entries::Column::OrderLineId.eq(line))
        .filter(entity::ledger_entries::Column::Kind.eq("reversal"))
        .all(app.db())
        .await
        .unwrap();
    assert_eq!(reversals.len(), 3);
    for r in reversals {
        let want = (r.buyer_org_id == w.buyer.org_id).then(|| pairing.clone());
        assert_eq!(r.credited_pairing_id, want, "{}", r.buyer_org_id);
    }
}
