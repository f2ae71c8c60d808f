//! The order benchmark's world: buyers, suppliers and their products loaded in bulk with
//! ids the pgbench replay scripts can compute (`bench_id`), and the consistency check run
//! after the load (stock, reservations and ledger agree).
use assist_market::domain::{Money, Quantity, SupplierOrderStatus};
use assist_market::services::organizations::make_credit_code;
use assist_market::services::{now, sql};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, TransactionTrait, Value};
use std::collections::HashMap;

pub const PASSWORD: &str = "bench-pass-2026";
/// Every product has one lot this large (a million units): stock never runs out.
pub const LOT_MILLI: i64 = 1_000_000_000;
pub const COUNTIES: [&str; 4] = ["130727", "130881", "131124", "130636"];
pub const BUYER_REGION: &str = "130102";

/// Kinds of seeded ids (the fourth group of the UUID).
pub const BUYER: u32 = 1;
pub const BUYER_USER: u32 = 2;
pub const SUPPLIER: u32 = 3;
pub const SUPPLIER_USER: u32 = 4;
pub const PRODUCT: u32 = 5;
pub const LOT: u32 = 6;
pub const EVALUATOR: u32 = 9;
pub const SESSION: u32 = 10;

/// A UUID-shaped id the replay scripts compute the same way (`bench_id(kind, n)` in SQL).
pub fn bench_id(kind: u32, n: usize) -> String {
    format!("00000000-0000-4000-8{kind:03}-{n:012}")
}

pub const BENCH_ID_FN: &str = "CREATE OR REPLACE FUNCTION bench_id(k int, n bigint) RETURNS text \
    LANGUAGE sql IMMUTABLE AS $$ SELECT '00000000-0000-4000-8' || lpad(k::text, 3, '0') || '-' || lpad(n::text, 12, '0') $$";

#[derive(Clone, Copy)]
pub struct World {
    pub buyers: usize,
    pub suppliers: usize,
    /// Products per supplier: product `s * per + j` belongs to supplier `s`.
    pub per: usize,
}

impl World {
    pub fn product(&self, supplier: usize, j: usize) -> String {
        bench_id(PRODUCT, supplier * self.per + j)
    }
    pub fn price_fen(k: usize) -> i64 {
        500 + (k as i64 * 7919) % 4500
    }
}

pub fn buyer_email(i: usize) -> String {
    format!("buyer{i}@bench.test")
}
pub fn supplier_email(i: usize) -> String {
    format!("supplier{i}@bench.test")
}
pub const EVALUATOR_EMAIL: &str = "evaluator@bench.test";

fn placeholders(row: usize, width: usize) -> String {
    let cols: Vec<String> = (1..=width).map(|c| format!("${}", row * width + c)).collect();
    format!("({})", cols.join(", "))
}

async fn insert(db: &impl ConnectionTrait, table: &str, cols: &str, rows: Vec<Vec<Value>>) {
    for chunk in rows.chunks(200) {
        let width = chunk[0].len();
        let text: Vec<String> = (0..chunk.len()).map(|r| placeholders(r, width)).collect();
        let values: Vec<Value> = chunk.iter().flatten().cloned().collect();
        let stmt = sql(
            db,
            &format!("INSERT INTO {table} ({cols}) VALUES {}", text.join(", ")),
            values,
        );
        db.execute_raw(stmt)
            .await
            .unwrap_or_else(|e| panic!("seeding {table}: {e}"));
    }
}

fn org(id: String, name: String, kind: &str, region: &str, n: u64) -> Vec<Value> {
    let t = now();
    vec![
        id.into(),
        name.into(),
        kind.into(),
        region.into(),
        format!("contact{n}@bench.test").into(),
        make_credit_code(&region[..6], 30_000_000 + n).into(),
        "active".into(),
        false.into(),
        t.into(),
        t.into(),
    ]
}

fn user(id: String, org: String, email: String, role: &str, hash: &str) -> Vec<Value> {
    vec![
        id.into(),
        org.into(),
        email.clone().into(),
        email.into(),
        role.into(),
        hash.into(),
        now().into(),
    ]
}

/// Loads the world in a few multi-row INSERTs, plus one session (for the replay scripts).
pub async fn seed(db: &DatabaseConnection, w: World) {
    let hash = assist_market::auth::password::hash(PASSWORD).unwrap();
    let txn = db.begin().await.unwrap();
    let mut orgs = Vec::new();
    let mut users = Vec::new();
    for i in 0..w.buyers {
        orgs.push(org(
            bench_id(BUYER, i),
            format!("采购单位 {i}"),
            "canteen",
            BUYER_REGION,
            i as u64,
        ));
        users.push(user(
            bench_id(BUYER_USER, i),
            bench_id(BUYER, i),
            buyer_email(i),
            "buyer",
            &hash,
        ));
    }
    for i in 0..w.suppliers {
        let county = COUNTIES[i % COUNTIES.len()];
        orgs.push(org(
            bench_id(SUPPLIER, i),
            format!("合作社 {i}"),
            "cooperative",
            county,
            10_000 + i as u64,
        ));
        users.push(user(
            bench_id(SUPPLIER_USER, i),
            bench_id(SUPPLIER, i),
            supplier_email(i),
            "supplier",
            &hash,
        ));
    }
    orgs.push(org(
        bench_id(EVALUATOR, 0),
        "评估机构".into(),
        "evaluation_office",
        BUYER_REGION,
        99_999,
    ));
    users.push(user(
        bench_id(EVALUATOR, 1),
        bench_id(EVALUATOR, 0),
        EVALUATOR_EMAIL.into(),
        "evaluator",
        &hash,
    ));
    let org_cols =
        "id, name, kind, region_code, contact_email, credit_code, status, budget_unit, created_at, updated_at";
    insert(&txn, "organizations", org_cols, orgs).await;
    let user_cols = "id, org_id, email, name, role, password_hash, created_at";
    insert(&txn, "users", user_cols, users).await;
    let today = chrono::Utc::now().date_naive();
    let certs = r#"[{"kind":"green_food","number":"LB-1","valid_until":"2030-12-31"}]"#;
    let (mut products, mut lots) = (Vec::new(), Vec::new());
    for s in 0..w.suppliers {
        let county = COUNTIES[s % COUNTIES.len()];
        for j in 0..w.per {
            let k = s * w.per + j;
            let name = format!("阳原小米 {k}号");
            let description = format!("millet from {county}, batch {j}");
            let t = now();
            products.push(vec![
                bench_id(PRODUCT, k).into(),
                bench_id(SUPPLIER, s).into(),
                name.clone().into(),
                "grain".into(),
                "kg".into(),
                World::price_fen(k).into(),
                1000i64.into(),
                county.into(),
                county.into(),
                description.clone().into(),
                certs.into(),
                assist_market::services::products::search_text(&name, &description).into(),
                "certified".into(),
                format!("FPORDERS{k:08}").into(),
                t.into(),
                (today + chrono::Days::new(365)).into(),
                0i64.into(),
                1i32.into(),
                t.into(),
                t.into(),
            ]);
            lots.push(vec![
                bench_id(LOT, k).into(),
                bench_id(PRODUCT, k).into(),
                LOT_MILLI.into(),
                LOT_MILLI.into(),
                (today + chrono::Days::new(180)).into(),
                t.into(),
            ]);
        }
    }
    let product_cols = "id, supplier_org_id, name, category, unit, price_fen, min_order_qty_milli, \
        origin_region_code, origin_county_code, description, certificates, search_text, status, \
        certificate_number, certified_at, valid_until, reserved_milli, version, created_at, updated_at";
    insert(&txn, "products", product_cols, products).await;
    let lot_cols = "id, product_id, quantity_milli, remaining_milli, best_before, created_at";
    insert(&txn, "lots", lot_cols, lots).await;
    let session = vec![
        bench_id(SESSION, 0).into(),
        bench_id(BUYER_USER, 0).into(),
        now().into(),
    ];
    insert(&txn, "sessions", "id, user_id, created_at", vec![session]).await;
    txn.commit().await.unwrap();
}

async fn rows(db: &impl ConnectionTrait, text: &str) -> Vec<QueryResult> {
    db.query_all_raw(sql(db, text, vec![]))
        .await
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn i(r: &QueryResult, col: &str) -> i64 {
    r.try_get::<i64>("", col).unwrap_or(0)
}
fn s(r: &QueryResult, col: &str) -> String {
    r.try_get::<String>("", col).unwrap_or_default()
}

/// What the check found: counts, and each disagreement in words (none when all agree).
pub struct Checked {
    pub accepted_lines: usize,
    pub ledger_entries: usize,
    pub problems: Vec<String>,
}

/// Reservations equal the lines of supplier orders that still hold them; what left the lots
/// equals the sale movements and the accepted quantities; one ledger entry per accepted
/// line, with its quantity and amount.
pub async fn check(db: &DatabaseConnection) -> Checked {
    let mut problems = Vec::new();
    let mut held: HashMap<String, i64> = HashMap::new();
    let mut taken: HashMap<String, i64> = HashMap::new();
    let mut credited: HashMap<String, (i64, i64)> = HashMap::new();
    let lines = rows(
        db,
        "SELECT l.id, l.product_id, l.quantity_milli, l.unit_price_fen, l.accepted_quantity_milli, so.status \
         FROM order_lines l JOIN supplier_orders so ON so.id = l.supplier_order_id",
    )
    .await;
    for l in &lines {
        let status: SupplierOrderStatus = s(l, "status").parse().unwrap();
        let pid = s(l, "product_id");
        if status.holds_reservation() {
            *held.entry(pid).or_default() += i(l, "quantity_milli");
        } else if status == SupplierOrderStatus::Accepted {
            let q = i(l, "accepted_quantity_milli");
            *taken.entry(pid).or_default() += q;
            if q > 0 {
                let price = Money::from_minor(i(l, "unit_price_fen")).unwrap();
                let amount = Money::line_amount(price, Quantity::from_minor(q).unwrap()).unwrap();
                credited.insert(s(l, "id"), (q, amount.minor()));
            }
        }
    }
    for p in rows(db, "SELECT id, reserved_milli FROM products").await {
        let want = held.get(&s(&p, "id")).copied().unwrap_or(0);
        if i(&p, "reserved_milli") != want {
            problems.push(format!(
                "product {}: reserved {} but open lines hold {want}",
                s(&p, "id"),
                i(&p, "reserved_milli")
            ));
        }
    }
    let lots = rows(db, "SELECT product_id, CAST(SUM(quantity_milli - remaining_milli) AS BIGINT) AS gone FROM lots GROUP BY product_id").await;
    let moved = rows(
        db,
        "SELECT product_id, CAST(-SUM(delta_milli) AS BIGINT) AS gone FROM stock_movements GROUP BY product_id",
    )
    .await;
    let moved: HashMap<String, i64> = moved.iter().map(|r| (s(r, "product_id"), i(r, "gone"))).collect();
    for l in &lots {
        let pid = s(l, "product_id");
        let (gone, want) = (i(l, "gone"), taken.get(&pid).copied().unwrap_or(0));
        if gone != want || moved.get(&pid).copied().unwrap_or(0) != want {
            problems.push(format!(
                "product {pid}: lots gave {gone}, movements {:?}, accepted {want}",
                moved.get(&pid)
            ));
        }
    }
    let entries = rows(
        db,
        "SELECT order_line_id, quantity_milli, amount_fen FROM ledger_entries",
    )
    .await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for e in &entries {
        let line = s(e, "order_line_id");
        *seen.entry(line.clone()).or_default() += 1;
        match credited.get(&line) {
            Some(&(q, a)) if q == i(e, "quantity_milli") && a == i(e, "amount_fen") => {}
            other => problems.push(format!(
                "ledger entry for line {line} does not match the line ({other:?})"
            )),
        }
    }
    for line in credited.keys() {
        match seen.get(line) {
            Some(1) => {}
            n => problems.push(format!("line {line} has {} ledger entries", n.copied().unwrap_or(0))),
        }
    }
    Checked {
        accepted_lines: credited.len(),
        ledger_entries: entries.len(),
        problems,
    }
}
