//! Every `Location` resolves: each route that answers 201 (users excepted: their read-back
//! is another slice's) is called through the API, and its `Location` is followed with the
//! creator's token: 200, and the same resource.
use crate::credit::this_year;
use crate::helpers::*;
use crate::orders::new_key;
use assist_market::services::organizations::make_credit_code;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// What one creation answered, and how to recognise the same resource when it is read back.
struct Created {
    /// The route's template as the OpenAPI document names it (without `/api/v1`).
    template: &'static str,
    method: &'static str,
    resp: Resp,
    token: Option<String>,
    /// JSON pointers of the identity in the creation's body and in the read's body.
    id_at: (&'static str, &'static str),
}

async fn follow(app: &TestApp, c: &Created) -> Result<(), String> {
    let what = format!("{} {}", c.method, c.template);
    if c.resp.status.as_u16() != 201 {
        return Err(format!("{what}: {} {}", c.resp.status, c.resp.text));
    }
    let Some(location) = c.resp.header("location") else {
        return Err(format!("{what}: no Location"));
    };
    let Some(path) = location.strip_prefix("/api/v1") else {
        return Err(format!("{what}: Location {location} is not under /api/v1"));
    };
    let read = app.get(path, c.token.as_deref()).await;
    if read.status.as_u16() != 200 {
        return Err(format!("{what}: GET {location} answered {} {}", read.status, read.text));
    }
    let made = c.resp.json.pointer(c.id_at.0);
    let got = read.json.pointer(c.id_at.1);
    if made.is_none() || made != got {
        return Err(format!("{what}: GET {location} is {got:?}, created {made:?}"));
    }
    Ok(())
}

fn post(template: &'static str, resp: Resp, who: &OrgUser) -> Created {
    Created {
        template,
        method: "POST",
        resp,
        token: Some(who.token.clone()),
        id_at: ("/id", "/id"),
    }
}

fn id(r: &Resp, pointer: &str) -> String {
    r.json
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} in {}", r.text))
        .to_string()
}

#[tokio::test]
async fn every_location_resolves_for_its_creator() {
    let app = spawn_app().await;
    let admin = OrgUser {
        org_id: String::new(),
        email: ADMIN_EMAIL.into(),
        token: app.admin_token.clone(),
        contact_email: String::new(),
    };
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let mut made = Vec::new();

    // Organisations and regions (admin).
    let n = unique();
    let org = app
        .post(
            "/organizations",
            admin.t(),
            json!({"name": format!("Canteen {n}"), "kind": "canteen", "region_code": CHANGAN,
                   "contact_email": format!("c{n}@org.test"), "credit_code": make_credit_code(CHANGAN, n)}),
        )
        .await;
    made.push(post("/organizations", org, &admin));
    let region = app
        .put(
            "/regions/130798",
            admin.t(),
            json!({"name": "新县", "level": "county", "parent_code": "130700", "poverty_status": "poverty", "exited_year": 2020}),
        )
        .await;
    made.push(Created {
        method: "PUT",
        id_at: ("/code", "/code"),
        ..post("/regions/{code}", region, &admin)
    });

    // A product through its certification, its lot and a stock adjustment.
    let product_body = json!({"name": "阳原黄小米 5kg", "category": "grain", "unit": "bag", "price": "45.00",
        "min_order_qty": "10", "origin_region_code": YANGYUAN_VILLAGE, "description": "Yangyuan yellow millet"});
    let product = app.post("/products", supplier.t(), product_body).await;
    let p = id(&product, "/id");
    made.push(post("/products", product, &supplier));
    app.post(&format!("/products/{p}/submit"), supplier.t(), json!({}))
        .await
        .expect(200);
    let valid = (chrono::Utc::now().date_naive() + chrono::Days::new(365)).to_string();
    app.post(
        &format!("/products/{p}/certify"),
        certifier.t(),
        json!({"valid_until": valid, "note": "seen"}),
    )
    .await
    .expect(200);
    let lot = app
        .post(
            &format!("/products/{p}/lots"),
            supplier.t(),
            json!({"quantity": "500", "best_before": valid}),
        )
        .await;
    let lot_id = id(&lot, "/id");
    made.push(post("/products/{id}/lots", lot, &supplier));
    let adjustment = app
        .post(
            &format!("/products/{p}/stock-adjustments"),
            supplier.t(),
            json!({"quantity": "5", "reason": "found in the store", "lot_id": lot_id}),
        )
        .await;
    made.push(Created {
        id_at: ("/stock/product_id", "/product_id"),
        ..post("/products/{id}/stock-adjustments", adjustment, &supplier)
    });

    // An order, through acceptance, a return and a rating.
    let year = this_year();
    let pairing = app
        .post(
            "/pairings",
            admin.t(),
            json!({"kind": "east_west", "helper_org_id": buyer.org_id, "helped_region_code": YANGYUAN,
                   "year": year, "purchase_target": "1000.00", "helped_sale_target": "500.00"}),
        )
        .await;
    let pairing_id = id(&pairing, "/id");
    made.push(post("/pairings", pairing, &admin));
    let order = app
        .post_with(
            "/orders",
            buyer.t(),
            crate::orders::order_body(&[(&p, "40")]),
            &[("Idempotency-Key", &new_key())],
        )
        .await;
    let so = id(&order, "/supplier_orders/0/id");
    let line = id(&order, "/supplier_orders/0/lines/0/id");
    made.push(post("/orders", order, &buyer));
    for a in ["confirm", "ship", "deliver"] {
        crate::orders::act(&app, &supplier, &so, a).await.expect(200);
    }
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "40"}], "invoice_number": "INV-1"}),
    )
    .await
    .expect(200);
    let ret = app
        .post(
            &format!("/supplier-orders/{so}/returns"),
            buyer.t(),
            json!({"lines": [{"line_id": line, "quantity": "2"}], "reason": "two bags torn"}),
        )
        .await;
    made.push(post("/supplier-orders/{id}/returns", ret, &buyer));
    let rating = app
        .post(
            &format!("/supplier-orders/{so}/rating"),
            buyer.t(),
            json!({"score": 4, "comment": "on time"}),
        )
        .await;
    made.push(Created {
        id_at: ("/supplier_order_id", "/supplier_order_id"),
        ..post("/supplier-orders/{id}/rating", rating, &buyer)
    });
    let reconciliation = app
        .post(
            &format!("/pairings/{pairing_id}/reconciliations"),
            buyer.t(),
            json!({"year": year}),
        )
        .await;
    made.push(post("/pairings/{id}/reconciliations", reconciliation, &buyer));
    let quota = app
        .put(
            &format!("/buyers/{}/quotas/{year}", buyer.org_id),
            buyer.t(),
            json!({"food_budget": "200000.00", "reserved_share": "0.3"}),
        )
        .await;
    made.push(Created {
        method: "PUT",
        id_at: ("/buyer_org_id", "/buyer_org_id"),
        ..post("/buyers/{org_id}/quotas/{year}", quota, &buyer)
    });
    let agreement = app
        .post(
            "/agreements",
            buyer.t(),
            json!({"supplier_org_id": supplier.org_id, "lines": [{"product_id": p, "quantity": "10"}],
                   "every": "month", "starts_on": chrono::Utc::now().date_naive().to_string(),
                   "ends_on": (chrono::Utc::now().date_naive() + chrono::Days::new(90)).to_string()}),
        )
        .await;
    made.push(post("/agreements", agreement, &buyer));

    // Unsold produce: a report, the alert it opens, a pledge (which places an order).
    let report = app
        .post(
            &format!("/products/{p}/unsold-reports"),
            supplier.t(),
            json!({"quantity": "400", "note": "buyers cancelled"}),
        )
        .await;
    made.push(post("/products/{id}/unsold-reports", report, &supplier));
    app.post("/alerts/scan", admin.t(), json!({})).await.expect(200);
    let alerts = app.get("/alerts?status=open", buyer.t()).await.expect(200);
    let alert = alerts.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["product_id"] == p.as_str()))
        .and_then(|a| a["id"].as_str())
        .unwrap_or_else(|| panic!("the buyer is matched to the alert: {}", alerts.text))
        .to_string();
    let pledge = app
        .post_with(
            &format!("/alerts/{alert}/pledges"),
            buyer.t(),
            json!({"quantity": "20"}),
            &[("Idempotency-Key", &new_key())],
        )
        .await;
    made.push(Created {
        id_at: ("/order/id", "/id"),
        ..post("/alerts/{id}/pledges", pledge, &buyer)
    });

    // Invoices and payments of the accepted supplier order; their Location is the order's list.
    let today = chrono::Utc::now().date_naive().to_string();
    let invoice = app
        .post(
            &format!("/supplier-orders/{so}/invoices"),
            supplier.t(),
            json!({"number": "INV-L-1", "amount": "10.00", "issued_on": today}),
        )
        .await;
    made.push(Created {
        id_at: ("/id", "/items/0/id"),
        ..post("/supplier-orders/{id}/invoices", invoice, &supplier)
    });
    let payment = app
        .post(
            &format!("/supplier-orders/{so}/payments"),
            buyer.t(),
            json!({"amount": "10.00", "paid_on": today, "reference": "ICBC 1"}),
        )
        .await;
    made.push(Created {
        id_at: ("/id", "/items/0/id"),
        ..post("/supplier-orders/{id}/payments", payment, &buyer)
    });
    // A supplier's licence: its Location is the supplier's documents.
    let until = (chrono::Utc::now().date_naive() + chrono::Duration::days(400)).to_string();
    let licence = app
        .post(
            &format!("/suppliers/{}/documents", supplier.org_id),
            supplier.t(),
            json!({"kind": "business_licence", "number": "LIC-L-1", "issued_on": today, "valid_until": until}),
        )
        .await;
    made.push(Created {
        id_at: ("/id", "/items/0/id"),
        ..post("/suppliers/{id}/documents", licence, &supplier)
    });
    // The buyer's plan (after its quota: a quota cannot be written once a plan exists).
    let plan = app
        .put(
            &format!("/buyers/{}/plans/{year}", buyer.org_id),
            buyer.t(),
            json!({"food_budget": "200000.00", "reserved_share": "0.3"}),
        )
        .await;
    made.push(Created {
        method: "PUT",
        id_at: ("/buyer_org_id", "/buyer_org_id"),
        ..post("/buyers/{org_id}/plans/{year}", plan, &buyer)
    });
    // A supervisor's correction: its Location is the ledger of the unit now credited.
    let supervisor = app.create_org("finance_office", CHANGAN).await;
    let right = app.create_org("canteen", CHANGAN).await;
    let ledger = app
        .get(&format!("/ledger?buyer={}", buyer.org_id), admin.t())
        .await
        .expect(200);
    let entry = ledger.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["kind"] == "credit"))
        .and_then(|e| e["id"].as_str())
        .unwrap_or_else(|| panic!("a credit of the buyer: {}", ledger.text))
        .to_string();
    let correction = app
        .post(
            "/supervision/corrections",
            supervisor.t(),
            json!({"entry_id": entry, "to_org_id": right.org_id, "reason": "its canteen ordered"}),
        )
        .await;
    made.push(Created {
        id_at: ("/credit_entry_id", "/items/0/id"),
        ..post("/supervision/corrections", correction, &supervisor)
    });

    let mut failures = Vec::new();
    for c in &made {
        if let Err(e) = follow(&app, c).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every operation the document says answers 201 was followed above (users excepted).
    let doc = app.get("/api-docs/openapi.json", None).await.expect(200).json;
    let mut creating = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            if op.pointer("/responses/201").is_some() {
                creating.insert(format!(
                    "{} {}",
                    method.to_uppercase(),
                    path.trim_start_matches("/api/v1")
                ));
            }
        }
    }
    let followed: BTreeSet<String> = made.iter().map(|c| format!("{} {}", c.method, c.template)).collect();
    let missing: Vec<_> = creating
        .difference(&followed)
        .filter(|op| op.as_str() != "POST /organizations/{id}/users")
        .collect();
    assert!(
        missing.is_empty(),
        "201 routes whose Location is not followed: {missing:?}"
    );
}
