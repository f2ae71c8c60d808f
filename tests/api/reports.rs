//! Reports: totals equal ledger sums over random data for every grouping, CSV and
//! XLSX read back, scoping by role, the quota ranking, freshness, and the OCDS
//! export validated against the vendored OCDS 1.1 release-package schema.
use crate::credit::{append, make_pairing, this_year};
use crate::helpers::*;
use entity::ledger_entries::Model as Entry;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const COUNTIES: [(&str, &str); 4] = [
    (YANGYUAN, "deep_poverty"),
    (PINGQUAN, "poverty"),
    (SHUNPING, "poverty"),
    (CHANGAN, "none"),
];

/// The key `rows_of` gives the row of no pairing (whose key is null).
pub const NONE: &str = "<none>";

/// "-12.34" -> -1234 fen.
fn fen(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a money string: {v}"));
    let neg = s.starts_with('-');
    let (a, b) = s.trim_start_matches('-').split_once('.').expect("two places");
    assert_eq!(b.len(), 2, "{s}");
    let n = a.parse::<i64>().unwrap() * 100 + b.parse::<i64>().unwrap();
    if neg {
        -n
    } else {
        n
    }
}

type Sums = [i64; 6]; // purchase, helped_sale, poverty, deep_poverty, none, total; count separately

fn add(m: &mut BTreeMap<String, (Sums, i64)>, key: String, e: &Entry) {
    let s = m.entry(key).or_insert(([0; 6], 0));
    let a = e.amount_fen;
    match e.credit_category.as_str() {
        "purchase" => s.0[0] += a,
        _ => s.0[1] += a,
    }
    match e.origin_poverty_status.as_str() {
        "poverty" => s.0[2] += a,
        "deep_poverty" => s.0[3] += a,
        _ => s.0[4] += a,
    }
    s.0[5] += a;
    s.1 += 1;
}

fn rows_of(json: &Value) -> BTreeMap<String, (Sums, i64)> {
    json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or(NONE).to_string(),
                (
                    [
                        fen(&r["purchase"]),
                        fen(&r["helped_sale"]),
                        fen(&r["poverty"]),
                        fen(&r["deep_poverty"]),
                        fen(&r["none"]),
                        fen(&r["total"]),
                    ],
                    r["entry_count"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

struct World {
    app: TestApp,
    parent: OrgUser,
    child: OrgUser,
    other: OrgUser,
    sups: Vec<OrgUser>,
    pairings: Vec<(String, Vec<String>, String)>, // id, helper set, county
    entries: Vec<Entry>,
}

async fn world(n: usize, seed: u64) -> World {
    let app = spawn_app().await;
    let parent = app.create_org("government", CHANGAN).await;
    let child = app.create_org_with("canteen", CHANGAN, Some(&parent.org_id)).await;
    let other = app.create_org("army_unit", CHANGAN).await;
    let sups = vec![
        app.create_org("cooperative", YANGYUAN).await,
        app.create_org("family_farm", PINGQUAN).await,
    ];
    let p1 = make_pairing(&app, &parent.org_id, YANGYUAN, "east_west").await;
    let p2 = make_pairing(&app, &other.org_id, PINGQUAN, "designated").await;
    let pairings = vec![
        (
            p1["id"].as_str().unwrap().to_string(),
            vec![parent.org_id.clone(), child.org_id.clone()],
            YANGYUAN.to_string(),
        ),
        (
            p2["id"].as_str().unwrap().to_string(),
            vec![other.org_id.clone()],
            PINGQUAN.to_string(),
        ),
    ];
    let buyers = [&parent, &child, &other];
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut entries: Vec<Entry> = Vec::new();
    for _ in 0..n {
        let reverse = !entries.is_empty() && rng.gen_bool(0.2);
        let e = if reverse {
            let c = entries[rng.gen_range(0..entries.len())].clone();
            let amt = -(c.amount_fen.abs() / 2).max(1);
            append(
                &app,
                &c.buyer_org_id,
                &c.supplier_org_id,
                &c.origin_county_code,
                &c.origin_poverty_status,
                &c.credit_category,
                amt,
                Some(&c.order_line_id),
            )
            .await
        } else {
            let b = buyers[rng.gen_range(0..3)];
            let s = &sups[rng.gen_range(0..2)];
            let (county, status) = COUNTIES[rng.gen_range(0..4)];
            let cat = if rng.gen_bool(0.6) { "purchase" } else { "helped_sale" };
            append(
                &app,
                &b.org_id,
                &s.org_id,
                county,
                status,
                cat,
                rng.gen_range(1..5_000_000),
                None,
            )
            .await
        };
        entries.push(e);
    }
    World {
        app,
        parent,
        child,
        other,
        sups,
        pairings,
        entries,
    }
}

fn expected(w: &World, group: &str, keep: impl Fn(&Entry) -> bool) -> BTreeMap<String, (Sums, i64)> {
    let mut m = BTreeMap::new();
    for e in w.entries.iter().filter(|e| keep(e)) {
        match group {
            "buyer" => add(&mut m, e.buyer_org_id.clone(), e),
            "supplier" => add(&mut m, e.supplier_org_id.clone(), e),
            "county" => add(&mut m, e.origin_county_code.clone(), e),
            "month" => add(&mut m, e.month.to_string(), e),
            // The fixture's pairings never overlap: an entry has one matching pairing or none.
            "pairing" => {
                let p = w
                    .pairings
                    .iter()
                    .find(|(_, helpers, county)| helpers.contains(&e.buyer_org_id) && &e.origin_county_code == county);
                add(&mut m, p.map_or(NONE.to_string(), |p| p.0.clone()), e)
            }
            _ => unreachable!(),
        }
    }
    m
}

#[tokio::test]
async fn report_totals_equal_ledger_sums_over_random_data() {
    let w = world(70, 7).await;
    let app = &w.app;
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let y = this_year();
    // The report's head is the sequenced tree's size: sequence every entry first (the totals
    // need no sequencing; they count the tail that is not yet folded in).
    app.sequence().await;
    for group in ["buyer", "supplier", "county", "pairing", "month"] {
        let r = app
            .get(&format!("/reports/summary?year={y}&group_by={group}"), ev.t())
            .await
            .expect(200);
        assert_eq!(r.json["scope"], "all");
        let mut want = expected(&w, group, |_| true);
        if group == "pairing" {
            // Every pairing of the year is listed, with zeros when nothing counts.
            for (id, _, _) in &w.pairings {
                want.entry(id.clone()).or_insert(([0; 6], 0));
            }
        }
        assert_eq!(rows_of(&r.json), want, "group_by={group}");
        // Every entry counts in one row: the totals are the ledger's.
        let total: i64 = w.entries.iter().map(|e| e.amount_fen).sum();
        assert_eq!(fen(&r.json["totals"]["total"]), total, "{group}");
        assert_eq!(r.json["totals"]["entry_count"], w.entries.len() as i64);
        assert_eq!(r.json["ledger_head_seq"], w.entries.len() as i64);
    }
    // Names are filled in.
    let r = app
        .get(&format!("/reports/summary?year={y}&group_by=county"), ev.t())
        .await
        .expect(200);
    assert!(r.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["name"].as_str().unwrap().is_empty()));
    // Another year is empty.
    let r = app
        .get(&format!("/reports/summary?year={}&group_by=buyer", y - 1), ev.t())
        .await
        .expect(200);
    assert_eq!(r.json["rows"].as_array().unwrap().len(), 0);
    assert_eq!(r.json["totals"]["total"], "0.00");
}

#[tokio::test]
async fn reports_are_scoped_by_role() {
    let w = world(40, 11).await;
    let app = &w.app;
    let y = this_year();
    let county = app.create_org("county_office", YANGYUAN).await;
    let fam = [w.parent.org_id.clone(), w.child.org_id.clone()];
    let s0 = w.sups[0].org_id.clone();
    type Keep = Box<dyn Fn(&Entry) -> bool>;
    let cases: Vec<(&OrgUser, &str, Keep)> = vec![
        (
            &w.parent,
            "buyer",
            Box::new(move |e: &Entry| fam.contains(&e.buyer_org_id)),
        ),
        (
            &w.child,
            "buyer",
            Box::new({
                let c = w.child.org_id.clone();
                move |e: &Entry| e.buyer_org_id == c
            }),
        ),
        (
            &w.sups[0],
            "supplier",
            Box::new(move |e: &Entry| e.supplier_org_id == s0),
        ),
        (
            &county,
            "county",
            Box::new(|e: &Entry| e.origin_county_code == YANGYUAN),
        ),
    ];
    for (who, scope, keep) in &cases {
        for group in ["buyer", "supplier", "county", "month"] {
            let r = app
                .get(&format!("/reports/summary?year={y}&group_by={group}"), who.t())
                .await
                .expect(200);
            assert_eq!(r.json["scope"], *scope);
            assert_eq!(rows_of(&r.json), expected(&w, group, keep), "{scope} by {group}");
        }
    }
    // Pairing rows: each caller's slice grouped by the pairing recorded on its entries (no pairing on a
    // row of its own), plus the pairings it may see with zeros: the helper its own, the county office the
    // pairing helping its county, a supplier and a child none.
    let p1 = w.pairings[0].0.clone();
    for (who, _, keep) in &cases {
        let r = app
            .get(&format!("/reports/summary?year={y}&group_by=pairing"), who.t())
            .await
            .expect(200);
        let mut want = expected(&w, "pairing", keep);
        if who.org_id == w.parent.org_id || who.org_id == county.org_id {
            want.entry(p1.clone()).or_insert(([0; 6], 0));
        }
        assert_eq!(rows_of(&r.json), want, "{} by pairing", who.org_id);
        let total: i64 = w.entries.iter().filter(|e| keep(e)).map(|e| e.amount_fen).sum();
        assert_eq!(fen(&r.json["totals"]["total"]), total);
    }
    // The other buyer sees nothing of the first family.
    let r = app
        .get(&format!("/reports/summary?year={y}&group_by=buyer"), w.other.t())
        .await
        .expect(200);
    assert!(rows_of(&r.json).keys().all(|k| k == &w.other.org_id));
}

#[tokio::test]
async fn ranking_by_quota_progress_and_freshness() {
    let app = spawn_app().await;
    let y = this_year();
    let a = app.create_org("school", CHANGAN).await;
    let b = app.create_org("hospital", CHANGAN).await;
    let b_child = app.create_org_with("canteen", CHANGAN, Some(&b.org_id)).await;
    let c = app.create_org("union", CHANGAN).await; // no quota: not ranked
    let sup = app.create_org("cooperative", YANGYUAN).await;
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    for (who, budget) in [(&a, "10000.00"), (&b, "1000.00")] {
        app.put(
            &format!("/buyers/{}/quotas/{y}", who.org_id),
            who.t(),
            json!({"food_budget": budget, "reserved_share": "0.1"}),
        )
        .await
        .expect(201);
    }
    append(
        &app,
        &a.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        50_000,
        None,
    )
    .await; // 500 / 1000
    append(
        &app,
        &b_child.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        8_000,
        None,
    )
    .await; // 80 / 100
    append(
        &app,
        &c.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        1_000,
        None,
    )
    .await;
    let url = format!("/reports/summary?year={y}&group_by=buyer");
    let r = app.get(&url, ev.t()).await.expect(200);
    let rank = r.json["ranking"].as_array().unwrap();
    assert_eq!(rank.len(), 2);
    assert_eq!(rank[0]["buyer_org_id"], b.org_id.as_str());
    assert_eq!(rank[0]["progress"], "0.8000");
    assert_eq!(rank[0]["rank"], 1);
    assert_eq!(rank[1]["buyer_org_id"], a.org_id.as_str());
    assert_eq!(rank[1]["credited"], "500.00");
    // A buyer's ranking holds itself only.
    let r = app.get(&url, a.t()).await.expect(200);
    assert_eq!(r.json["ranking"].as_array().unwrap().len(), 1);
    // No ranking for other groupings.
    let r = app
        .get(&format!("/reports/summary?year={y}&group_by=county"), ev.t())
        .await
        .expect(200);
    assert!(r.json["ranking"].is_null());

    // Freshness: an append that returned is in the next report.
    let before = fen(&app.get(&url, ev.t()).await.expect(200).json["totals"]["total"]);
    append(
        &app,
        &a.org_id,
        &sup.org_id,
        YANGYUAN,
        "deep_poverty",
        "purchase",
        -1_234,
        None,
    )
    .await;
    let after = app.get(&url, ev.t()).await.expect(200);
    assert_eq!(fen(&after.json["totals"]["total"]), before - 1_234);
    assert_eq!(after.json["ranking"][1]["credited"], "487.66");

    // Bad parameters.
    let r = app
        .get("/reports/summary?group_by=product&format=pdf&year=1800", ev.t())
        .await;
    let mut f = r.fields();
    f.sort();
    assert_eq!(f, vec!["format", "group_by", "year"]);
    r.problem(400);
    // A parameter that is not of its type is named too.
    let r = app.get("/reports/summary?year=abc", ev.t()).await;
    assert_eq!(r.fields(), vec!["year"]);
    r.problem(400);
    app.get("/reports/summary", None).await.problem(401);
}

async fn bytes(app: &TestApp, path: &str, token: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let r = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    (h, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn csv_and_xlsx_hold_the_same_figures_with_chinese_headings() {
    let w = world(30, 3).await;
    let app = &w.app;
    let y = this_year();
    for group in ["buyer", "county", "pairing"] {
        let base = format!("/reports/summary?year={y}&group_by={group}");
        let js = app.get(&base, Some(&app.admin_token)).await.expect(200).json;
        let want_rows = js["rows"].as_array().unwrap().clone();

        // CSV
        let (h, body) = bytes(app, &format!("{base}&format=csv"), &app.admin_token).await;
        assert_eq!(h["content-type"], "text/csv; charset=utf-8");
        let cd = h["content-disposition"].to_str().unwrap();
        assert!(cd.contains(&format!("filename=\"summary-{y}-{group}.csv\"")), "{cd}");
        assert_eq!(&body[..3], &[0xEF, 0xBB, 0xBF], "UTF-8 BOM");
        let mut rd = csv::Reader::from_reader(&body[3..]);
        let head: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(
            &head[2..],
            &[
                "采购金额",
                "帮助销售金额",
                "贫困县金额",
                "深度贫困县金额",
                "非贫困县金额",
                "合计",
                "笔数"
            ]
        );
        let recs: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
        assert_eq!(recs.len(), want_rows.len() + 1);
        for (rec, row) in recs.iter().zip(want_rows.iter().chain(std::iter::once(&js["totals"]))) {
            assert_eq!(&rec[0], row["key"].as_str().unwrap_or(""));
            assert_eq!(&rec[1], row["name"].as_str().unwrap());
            for (i, k) in ["purchase", "helped_sale", "poverty", "deep_poverty", "none", "total"]
                .iter()
                .enumerate()
            {
                assert_eq!(&rec[i + 2], row[k].as_str().unwrap(), "{group} {k}");
            }
            assert_eq!(rec[8].parse::<i64>().unwrap(), row["entry_count"].as_i64().unwrap());
        }
        assert_eq!(&recs.last().unwrap()[1], "合计");

        // XLSX
        let (h, body) = bytes(app, &format!("{base}&format=xlsx"), &app.admin_token).await;
        assert_eq!(
            h["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert!(h["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("summary-{y}-{group}.xlsx")));
        use calamine::{Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(body)).unwrap();
        let range = wb.worksheet_range("汇总").unwrap();
        // Row 0 is the title (tests/api/reports_xlsx.rs checks the layout), row 1 the header.
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(rows[1][2], Data::String("采购金额".into()));
        assert_eq!(rows[1][5], Data::String("深度贫困县金额".into()));
        assert_eq!(rows[1][7], Data::String("合计".into()));
        assert_eq!(rows.len(), want_rows.len() + 3);
        for (xr, row) in rows[2..]
            .iter()
            .zip(want_rows.iter().chain(std::iter::once(&js["totals"])))
        {
            match row["key"].as_str() {
                Some(k) => assert_eq!(xr[0], Data::String(k.into())),
                None => assert_eq!(xr[0], Data::Empty),
            }
            for (i, k) in ["purchase", "helped_sale", "poverty", "deep_poverty", "none", "total"]
                .iter()
                .enumerate()
            {
                let Data::Float(f) = xr[i + 2] else {
                    panic!("not a number: {:?}", xr[i + 2])
                };
                assert_eq!((f * 100.0).round() as i64, fen(&row[k]), "{group} {k}");
            }
            assert_eq!(xr[8], Data::Float(row["entry_count"].as_i64().unwrap() as f64));
        }
        if group == "buyer" {
            assert!(wb.sheet_names().contains(&"排名".to_string()));
        }
    }
}

/// Two accepted supplier orders (one with its ledger entry) and a shipped one, by a
/// school from a Yangyuan cooperative: (buyer, supplier, evaluator, accepted ids).
async fn ocds_world(app: &TestApp) -> (OrgUser, OrgUser, OrgUser, Vec<String>) {
    let buyer = app.create_org("school", CHANGAN).await;
    let sup = app.create_org("cooperative", YANGYUAN).await;
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let db = app.db();
    let t = chrono::Utc::now();
    let pid = ProductRow {
        id: format!("p-{}", unique()),
        name: "阳原小米".into(),
        price_fen: 1250,
        valid_days: None,
        certified_days_ago: None,
        poor_households_linked: 3,
        ..ProductRow::certified(&sup.org_id)
    }
    .insert(app)
    .await;
    let mut accepted = Vec::new();
    for (i, status) in ["accepted", "accepted", "shipped"].iter().enumerate() {
        let oid = format!("o-{}", unique());
        entity::orders::ActiveModel {
            id: Set(oid.clone()),
            buyer_org_id: Set(buyer.org_id.clone()),
            buyer_user_id: Set(None),
            credit_category: Set("purchase".into()),
            pairing_id: Set(None),
            deliver_to: Set("食堂".into()),
            requested_date: Set(t.date_naive()),
            total_fen: Set(12_500),
            source: Set("direct".into()),
            source_ref: Set(None),
            created_at: Set(t),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let so = format!("so-{}", unique());
        entity::supplier_orders::ActiveModel {
            id: Set(so.clone()),
            order_id: Set(oid.clone()),
            buyer_org_id: Set(buyer.org_id.clone()),
            supplier_org_id: Set(sup.org_id.clone()),
            status: Set(status.to_string()),
            total_fen: Set(12_500),
            shipment_note: Set(None),
            invoice_number: Set(Some("INV-1".into())),
            acceptance_note: Set(None),
            status_note: Set(None),
            accepted_at: Set((*status == "accepted").then_some(t)),
            created_at: Set(t),
            updated_at: Set(t),
        }
        .insert(db)
        .await
        .unwrap();
        let line = format!("l-{}", unique());
        entity::order_lines::ActiveModel {
            id: Set(line.clone()),
            order_id: Set(oid),
            supplier_order_id: Set(so.clone()),
            product_id: Set(pid.clone()),
            quantity_milli: Set(10_000),
            unit_price_fen: Set(1250),
            amount_fen: Set(12_500),
            accepted_quantity_milli: Set((*status == "accepted").then_some(8_000)),
            returned_quantity_milli: Set(0),
        }
        .insert(db)
        .await
        .unwrap();
        if *status == "accepted" {
            if i == 0 {
                assist_market::services::ledger::append(
                    db,
                    assist_market::services::ledger::NewEntry {
                        buyer_org_id: buyer.org_id.clone(),
                        supplier_org_id: sup.org_id.clone(),
                        product_id: pid.clone(),
                        category: "grain".into(),
                        supplier_order_id: so.clone(),
                        order_line_id: line.clone(),
                        origin_region_code: YANGYUAN_VILLAGE.into(),
                        origin_county_code: YANGYUAN.into(),
                        origin_poverty_status: "deep_poverty".into(),
                        quantity_milli: 8_000,
                        amount_fen: 10_000,
                        kind: "credit".into(),
                        credit_category: "purchase".into(),
                        pairing_id: None,
                    },
                )
                .await
                .unwrap();
            }
            accepted.push(so);
        }
    }
    (buyer, sup, ev, accepted)
}

/// The OCDS 1.1 release-package schema, offline.
fn ocds_validator() -> jsonschema::Validator {
    // The published OCDS 1.1.5 schemas, vendored (see tests/data/ocds-1.1/README.md). The package
    // schema `$ref`s the release schema by URL; it is registered under that URL so nothing is fetched.
    let schema: Value = serde_json::from_str(include_str!("../data/ocds-1.1/release-package-schema.json")).unwrap();
    let release_schema: Value = serde_json::from_str(include_str!("../data/ocds-1.1/release-schema.json")).unwrap();
    let release_url = schema["properties"]["releases"]["items"]["$ref"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(release_schema["id"], release_url.as_str());
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .with_resource(
            release_url,
            jsonschema::Resource::from_contents(release_schema).unwrap(),
        )
        .build(&schema)
        .expect("the vendored schemas compile")
}

/// Every URI of a package (publisher, package, releases' ids, transactions) starts with `base`.
fn assert_links_from(pkg: &Value, base: &str) {
    assert_eq!(pkg["publisher"]["uri"], base);
    assert!(pkg["uri"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{base}/api/v1/reports/ocds?year=")));
    for rel in pkg["releases"].as_array().unwrap() {
        let so = rel["ocid"].as_str().unwrap().strip_prefix("ocds-amkt01-").unwrap();
        let id = rel["id"].as_str().unwrap();
        assert!(
            id.starts_with(&format!("{}#{so}-", pkg["uri"].as_str().unwrap())),
            "{id}"
        );
        for tx in rel["contracts"][0]["implementation"]["transactions"]
            .as_array()
            .unwrap()
        {
            assert_eq!(tx["uri"], format!("{base}/api/v1/supplier-orders/{so}"));
            assert!(tx["source"].as_str().unwrap().starts_with(&format!("{base}/api/v1/")));
        }
    }
    assert!(!pkg.to_string().contains("assist-market.local"));
}

#[tokio::test]
async fn ocds_export_validates_against_the_release_package_schema() {
    let app = spawn_app().await;
    let y = this_year();
    let (buyer, sup, ev, accepted) = ocds_world(&app).await;
    let r = app.get(&format!("/reports/ocds?year={y}"), ev.t()).await.expect(200);
    let pkg = r.json;
    let validator = ocds_validator();
    let errors: Vec<String> = validator
        .iter_errors(&pkg)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "OCDS validation errors: {errors:#?}\n{pkg:#}");
    assert_eq!(pkg["version"], "1.1");
    // No ASSIST_PUBLIC_URL: links name the address the service is bound to.
    assert_links_from(&pkg, &app.addr);
    let rels = pkg["releases"].as_array().unwrap();
    assert_eq!(rels.len(), 2, "only accepted supplier orders");
    for rel in rels {
        let so = rel["ocid"].as_str().unwrap().strip_prefix("ocds-amkt01-").unwrap();
        assert!(accepted.contains(&so.to_string()));
        let roles: Vec<&str> = rel["parties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["roles"][0].as_str().unwrap())
            .collect();
        assert_eq!(roles, vec!["buyer", "supplier"]);
        assert_eq!(rel["buyer"]["id"], buyer.org_id.as_str());
        assert_eq!(rel["awards"][0]["suppliers"][0]["id"], sup.org_id.as_str());
        // 8 kg accepted at 12.50.
        assert_eq!(rel["awards"][0]["value"], json!({"amount": 100.0, "currency": "CNY"}));
        assert_eq!(rel["contracts"][0]["awardID"], rel["awards"][0]["id"]);
        let tx = rel["contracts"][0]["implementation"]["transactions"]
            .as_array()
            .unwrap();
        assert!(!tx.is_empty());
        assert_eq!(tx[0]["value"]["currency"], "CNY");
        assert!(tx[0]["value"]["amount"].is_number());
    }
    // A broken package is caught by the same schema (the check has teeth).
    let mut bad = pkg.clone();
    bad["releases"][0]["tag"] = json!(["bought"]);
    bad["releases"][0].as_object_mut().unwrap().remove("initiationType");
    assert!(!validator.is_valid(&bad));
    // Formats are checked too, inside the referenced release schema.
    let mut bad_date = pkg.clone();
    bad_date["releases"][0]["date"] = json!("2026-13-45");
    assert!(!validator.is_valid(&bad_date));
    // Evaluators and admin only.
    app.get(&format!("/reports/ocds?year={y}"), Some(&app.admin_token))
        .await
        .expect(200);
    app.get(&format!("/reports/ocds?year={y}"), buyer.t())
        .await
        .problem(403);
    app.get(&format!("/reports/ocds?year={y}"), sup.t()).await.problem(403);
    app.get("/reports/ocds?year=1800", ev.t()).await.problem(400);
}

/// With ASSIST_PUBLIC_URL set (a path prefix and a trailing slash included), every URI and
/// release id of the package is built from it, and the package still validates.
#[tokio::test]
async fn ocds_links_come_from_the_public_url() {
    let app =
        spawn_app_with(|s| s.public_url = Some("https://market.example.org/assist/".to_string().try_into().unwrap()))
            .await;
    let (_, _, ev, accepted) = ocds_world(&app).await;
    let pkg = app
        .get(&format!("/reports/ocds?year={}", this_year()), ev.t())
        .await
        .expect(200)
        .json;
    let errors: Vec<String> = ocds_validator().iter_errors(&pkg).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(pkg["releases"].as_array().unwrap().len(), accepted.len());
    assert_links_from(&pkg, "https://market.example.org/assist");
}

/// Report parameters are parsed into their types once: a bad grouping, format or
/// year is 422 naming the parameter; the types' values are what the report says.
#[tokio::test]
async fn report_parameters_are_typed_and_named() {
    let app = spawn_app().await;
    let ev = app.create_org("evaluation_office", CHANGAN).await;
    let y = this_year();
    for (query, field) in [
        ("group_by=product", "group_by"),
        ("group_by=BUYER", "group_by"),
        ("group_by=", "group_by"),
        ("format=pdf", "format"),
        ("format=JSON", "format"),
        ("year=1800", "year"),
        ("year=2024.5", "year"),
        ("year=", "year"),
    ] {
        let r = app.get(&format!("/reports/summary?{query}"), ev.t()).await;
        assert_eq!(r.fields(), vec![field], "{query}");
        r.problem(400);
    }
    let r = app.get("/reports/ocds?year=abc", ev.t()).await;
    assert_eq!(r.fields(), vec!["year"]);
    r.problem(400);

    let s = app
        .get(&format!("/reports/summary?year={y}&group_by=month"), ev.t())
        .await
        .expect(200);
    assert_eq!(s.json["group_by"], "month");
    assert_eq!(s.json["scope"], "all");
    assert_eq!(s.json["totals"]["total"], "0.00");
    assert!(s.json["ranking"].is_null());
    let s = app.get("/reports/summary", ev.t()).await.expect(200);
    assert_eq!(s.json["group_by"], "buyer");
    assert_eq!(s.json["year"], y);
}
