//! What can be created can be read back, by whom: returns and ratings (as their supplier
//! order is visible), unsold reports (as their product is, buyers not at all), lots; and a
//! draft product withdrawn with `DELETE`.
use crate::helpers::*;
use crate::orders::{count, delivered_so, world};
use serde_json::json;

fn ids(r: &Resp) -> Vec<String> {
    r.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items in {}", r.text))
        .iter()
        .map(|x| {
            x["id"]
                .as_str()
                .or(x["supplier_order_id"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn returns_and_ratings_read_back_as_their_supplier_order_is_visible() {
    let w = world().await;
    let app = &w.app;
    let (order, so) = delivered_so(&w, "20").await;
    let line = order["supplier_orders"][0]["lines"][0]["id"].as_str().unwrap();
    app.post(
        &format!("/supplier-orders/{so}/accept"),
        w.buyer.t(),
        json!({"lines": [{"line_id": line, "accepted_quantity": "20"}], "invoice_number": "INV-9"}),
    )
    .await
    .expect(200);
    let other_buyer = app.create_org("school", CHANGAN).await;
    let other_supplier = app.create_org("cooperative", PINGQUAN).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let rating_path = format!("/supplier-orders/{so}/rating");
    app.get(&rating_path, w.buyer.t()).await.problem(404);

    let mut returns = Vec::new();
    for q in ["2", "3"] {
        let r = app
            .post(
                &format!("/supplier-orders/{so}/returns"),
                w.buyer.t(),
                json!({"lines": [{"line_id": line, "quantity": q}], "reason": "torn bags"}),
            )
            .await
            .expect(201);
        assert_eq!(
            r.header("location").unwrap(),
            format!(
                "/api/v1/supplier-orders/{so}/returns/{}",
                r.json["id"].as_str().unwrap()
            )
        );
        returns.push(r.json);
    }
    let list = format!("/supplier-orders/{so}/returns");
    for who in [
        w.buyer.t(),
        w.supplier.t(),
        evaluator.t(),
        Some(app.admin_token.as_str()),
    ] {
        let r = app.get(&list, who).await.expect(200);
        assert_eq!(
            ids(&r),
            returns
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(r.json["items"][1]["lines"][0]["quantity"], "3");
    }
    // Pages, with `Link` to the next.
    let first = app.get(&format!("{list}?limit=1"), w.buyer.t()).await.expect(200);
    assert!(first.header("link").unwrap().contains("rel=\"next\""));
    let cursor = first.json["next_cursor"].as_str().unwrap().to_string();
    let second = app
        .get(&format!("{list}?limit=1&cursor={cursor}"), w.buyer.t())
        .await
        .expect(200);
    assert_eq!(ids(&second), vec![returns[1]["id"].as_str().unwrap().to_string()]);
    assert!(second.json["next_cursor"].is_null());
    app.get(&format!("{list}?limit=abc"), w.buyer.t()).await.problem(400);

    // One return, with its ETag; a repeated read is 304.
    let one = format!("{list}/{}", returns[0]["id"].as_str().unwrap());
    let r = app.get(&one, w.supplier.t()).await.expect(200);
    assert_eq!(r.json["lines"], returns[0]["lines"]);
    let tag = r.header("etag").unwrap();
    let again = app
        .send(
            app.client
                .get(app.url(&one))
                .bearer_auth(&w.supplier.token)
                .header("If-None-Match", tag),
        )
        .await;
    assert_eq!(again.status, 304);
    for who in [other_buyer.t(), other_supplier.t()] {
        app.get(&one, who).await.problem(404);
        app.get(&list, who).await.problem(404);
    }
    app.get(&one, certifier.t()).await.problem(403);
    app.get(&one, None).await.problem(401);
    let nobody = uuid::Uuid::now_v7();
    app.get(&format!("{list}/{nobody}"), w.buyer.t()).await.problem(404);
    // A return of this order under another supplier order of the same buyer: 404.
    let (_, so2) = delivered_so(&w, "10").await;
    app.get(
        &format!("/supplier-orders/{so2}/returns/{}", returns[0]["id"].as_str().unwrap()),
        w.buyer.t(),
    )
    .await
    .problem(404);

    // The rating, then the supplier's ratings.
    app.post(&rating_path, w.buyer.t(), json!({"score": 5, "comment": "good"}))
        .await
        .expect(201);
    for who in [w.buyer.t(), w.supplier.t(), evaluator.t()] {
        let r = app.get(&rating_path, who).await.expect(200);
        assert_eq!(r.json["score"], 5);
    }
    app.get(&rating_path, other_buyer.t()).await.problem(404);
    let ratings = format!("/suppliers/{}/ratings", w.supplier.org_id);
    for (who, n) in [
        (w.supplier.t(), 1),
        (w.buyer.t(), 1),
        (other_buyer.t(), 0),
        (evaluator.t(), 1),
    ] {
        let r = app.get(&ratings, who).await.expect(200);
        assert_eq!(ids(&r).len(), n, "{}", r.text);
    }
    app.get(&ratings, other_supplier.t()).await.problem(404);
    app.get(&ratings, certifier.t()).await.problem(403);
    app.get(&format!("/suppliers/{}/ratings", w.buyer.org_id), evaluator.t())
        .await
        .problem(404);
    let r = app.get(&format!("{ratings}?limit=0"), w.supplier.t()).await;
    assert_eq!(r.fields(), vec!["limit"]);
    r.problem(400);
}

#[tokio::test]
async fn unsold_reports_read_back_by_supplier_county_office_and_overseers() {
    let app = spawn_app().await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let p = crate::orders::product(&app, &supplier.org_id, 1000, 1000, 100_000).await;
    let q = crate::orders::product(&app, &supplier.org_id, 1000, 1000, 100_000).await;
    let mut made = Vec::new();
    for n in ["40", "50"] {
        let r = app
            .post(
                &format!("/products/{p}/unsold-reports"),
                supplier.t(),
                json!({"quantity": n, "note": "cold store full"}),
            )
            .await
            .expect(201);
        made.push(r.json["id"].as_str().unwrap().to_string());
    }
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let certifier2 = app.create_org("county_office", PINGQUAN).await;
    let evaluator = app.create_org("evaluation_office", CHANGAN).await;
    let other = app.create_org("cooperative", PINGQUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let list = format!("/products/{p}/unsold-reports");
    for who in [
        supplier.t(),
        certifier.t(),
        evaluator.t(),
        Some(app.admin_token.as_str()),
    ] {
        let r = app.get(&list, who).await.expect(200);
        assert_eq!(ids(&r), made);
        let one = app.get(&format!("{list}/{}", made[1]), who).await.expect(200);
        assert_eq!(one.json["quantity"], "50");
        assert!(one.header("etag").is_some());
    }
    for who in [certifier2.t(), other.t()] {
        app.get(&list, who).await.problem(404);
        app.get(&format!("{list}/{}", made[0]), who).await.problem(404);
    }
    app.get(&list, buyer.t()).await.problem(403);
    app.get(&format!("{list}?cursor=%ZZ"), buyer.t()).await.problem(403);
    app.get(&list, None).await.problem(401);
    // A report is read under its own product only.
    app.get(&format!("/products/{q}/unsold-reports/{}", made[0]), supplier.t())
        .await
        .problem(404);
    let page = app.get(&format!("{list}?limit=1"), supplier.t()).await.expect(200);
    assert_eq!(ids(&page), vec![made[0].clone()]);
    let r = app.get(&format!("{list}?cursor=%ZZ"), supplier.t()).await;
    assert_eq!(r.fields(), vec!["cursor"]);
    r.problem(400);
}

async fn draft(app: &TestApp, supplier: &OrgUser) -> (String, String) {
    let r = app
        .post(
            "/products",
            supplier.t(),
            json!({"name": "Millet", "category": "grain", "unit": "kg", "price": "9.50",
                   "min_order_qty": "10", "origin_region_code": YANGYUAN_VILLAGE}),
        )
        .await
        .expect(201);
    (r.json["id"].as_str().unwrap().to_string(), r.header("etag").unwrap())
}

async fn delete(app: &TestApp, path: &str, token: Option<&str>, if_match: Option<&str>) -> Resp {
    let mut rb = app.client.delete(app.url(path));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(m) = if_match {
        rb = rb.header("If-Match", m);
    }
    app.send(rb).await
}

async fn rows_of(app: &TestApp, table: &str, product: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE product_id = '{product}'");
    let row = app
        .db()
        .query_one_raw(sea_orm::Statement::from_string(app.db().get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn a_draft_product_is_deleted_by_its_supplier_with_its_history() {
    let app = spawn_app().await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let other = app.create_org("cooperative", YANGYUAN).await;
    let certifier = app.create_org("county_office", YANGYUAN).await;
    let buyer = app.create_org("canteen", CHANGAN).await;
    let (p, tag) = draft(&app, &supplier).await;
    let best_before = (chrono::Utc::now().date_naive() + chrono::Days::new(100)).to_string();
    app.post(
        &format!("/products/{p}/lots"),
        supplier.t(),
        json!({"quantity": "100", "best_before": best_before}),
    )
    .await
    .expect(201);
    let path = format!("/products/{p}");
    // Refused before anything else: another supplier, other roles, no token.
    delete(&app, &path, other.t(), Some(&tag)).await.problem(404);
    for who in [buyer.t(), certifier.t()] {
        delete(&app, &path, who, Some(&tag)).await.problem(403);
    }
    delete(&app, &path, None, Some(&tag)).await.problem(401);
    // If-Match as for PATCH: required, and must be current.
    delete(&app, &path, supplier.t(), None).await.problem(428);
    delete(&app, &path, supplier.t(), Some("\"999\"")).await.problem(412);
    assert_eq!(rows_of(&app, "lots", &p).await, 1);

    let r = delete(&app, &path, supplier.t(), Some(&tag)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get(&path, supplier.t()).await.problem(404);
    app.get(&format!("{path}/events"), supplier.t()).await.problem(404);
    let list = app.get("/products", supplier.t()).await.expect(200);
    assert!(!list.text.contains(&p));
    for table in ["lots", "stock_movements", "product_events"] {
        assert_eq!(rows_of(&app, table, &p).await, 0, "{table}");
    }
    delete(&app, &path, supplier.t(), Some("*")).await.problem(404);

    // Past draft it stays: 409, and nothing is removed.
    let (q, _) = draft(&app, &supplier).await;
    app.post(&format!("/products/{q}/submit"), supplier.t(), json!({}))
        .await
        .expect(200);
    let events = count(&app, "product_events").await;
    delete(&app, &format!("/products/{q}"), supplier.t(), Some("*"))
        .await
        .problem(409);
    app.get(&format!("/products/{q}"), supplier.t()).await.expect(200);
    assert_eq!(count(&app, "product_events").await, events);
    // `If-Match: *` deletes whatever the current version of a draft.
    let (d, _) = draft(&app, &supplier).await;
    app.patch(
        &format!("/products/{d}"),
        supplier.t(),
        json!({"description": "x"}),
        Some("*"),
    )
    .await
    .expect(200);
    let r = delete(&app, &format!("/products/{d}"), supplier.t(), Some("*")).await;
    assert_eq!(r.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_racing_new_stock_leaves_no_orphans_and_no_5xx() {
    let app = spawn_app().await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    let best_before = (chrono::Utc::now().date_naive() + chrono::Days::new(100)).to_string();
    for _ in 0..5 {
        let (p, _) = draft(&app, &supplier).await;
        let lots = format!("/products/{p}/lots");
        let body = json!({"quantity": "10", "best_before": best_before});
        let first = app.post(&lots, supplier.t(), body.clone()).await.expect(201);
        let adjustments = format!("/products/{p}/stock-adjustments");
        let found = json!({"quantity": "1", "reason": "found", "lot_id": first.json["id"]});
        let loss = json!({"quantity": "-1", "reason": "spoilt"});
        let path = format!("/products/{p}");
        let (d, a, b, c, e) = tokio::join!(
            delete(&app, &path, supplier.t(), Some("*")),
            app.post(&lots, supplier.t(), body.clone()),
            app.post(&lots, supplier.t(), body.clone()),
            app.post(&adjustments, supplier.t(), found),
            app.post(&adjustments, supplier.t(), loss),
        );
        assert_eq!(d.status, 204, "{}", d.text);
        for r in [a, b, e] {
            assert!(matches!(r.status.as_u16(), 201 | 404), "{} {}", r.status, r.text);
        }
        // Into a lot that went with the product: the product is gone (404) or the lot is (422).
        assert!(matches!(c.status.as_u16(), 201 | 404 | 422), "{} {}", c.status, c.text);
        for table in ["lots", "stock_movements", "product_events"] {
            assert_eq!(rows_of(&app, table, &p).await, 0, "{table}");
        }
    }
}
