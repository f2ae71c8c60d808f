//! Variable weight at acceptance: refusals, partial acceptance, races, returns.
use super::*;

#[tokio::test]
async fn zero_huge_missing_or_misplaced_weights_are_refused() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    let millet = product(&app, &sup.org_id, 1250, 1000, 100_000).await;
    let d = delivered(&app, &buyer, &sup, &[(&pig, "2"), (&millet, "10")]).await;
    let (p, m) = (d.lines[0].as_str(), d.lines[1].as_str());
    let entries = count(&app, "ledger_entries").await;
    for (lines, field) in [
        (vec![(p, "2", Some("0")), (m, "10", None)], "lines[0].actual_weight"),
        // Above 3 x the nominal weight of the accepted pieces, even with the flag.
        (
            vec![(p, "2", Some("600.001")), (m, "10", None)],
            "lines[0].actual_weight",
        ),
        (
            vec![(p, "1", Some("300.001")), (m, "10", None)],
            "lines[0].actual_weight",
        ),
        (vec![(p, "2", None), (m, "10", None)], "lines[0].actual_weight"),
        (vec![(p, "0", Some("10")), (m, "10", None)], "lines[0].actual_weight"),
        (
            vec![(p, "1.5", Some("150")), (m, "10", None)],
            "lines[0].accepted_quantity",
        ),
        // More pieces than ordered, so many that their nominal weight has no bound: 422, not 500.
        (
            vec![(p, "1000000000", Some("50")), (m, "10", None)],
            "lines[0].accepted_quantity",
        ),
        (
            vec![(p, "2", Some("200")), (m, "10", Some("10"))],
            "lines[1].actual_weight",
        ),
    ] {
        let r = accept(&app, &buyer, &d.so, accept_body(&lines, true)).await;
        let fields = r.fields();
        r.problem(422);
        assert!(fields.contains(&field.to_string()), "{lines:?}: {fields:?}");
    }
    // A JSON number, or a fourth decimal, is not a weight (the body is refused as a whole).
    for bad in [json!(200), json!("200.0001"), json!("-200")] {
        let mut body = accept_body(&[(p, "2", None), (m, "10", None)], false);
        body["lines"][0]["actual_weight"] = bad;
        accept(&app, &buyer, &d.so, body).await.problem(422);
    }
    assert_eq!(count(&app, "ledger_entries").await, entries, "nothing credited");
    assert_eq!(
        count(&app, "order_line_weights WHERE actual_weight_milli IS NOT NULL").await,
        0
    );

    // Refused roles: the supplier, another buyer, nobody.
    let body = accept_body(&[(p, "2", Some("200")), (m, "10", None)], false);
    accept(&app, &sup, &d.so, body.clone()).await.problem(403);
    let (stranger, _) = parties(&app).await;
    accept(&app, &stranger, &d.so, body.clone()).await.problem(404);
    app.post(&format!("/supplier-orders/{}/accept", d.so), None, body.clone())
        .await
        .problem(401);
    // The mixed order is accepted: the per-unit line keeps qty x price.
    accept(&app, &buyer, &d.so, body).await.expect(200);
    assert_eq!(
        credits(&app, &buyer, &d.so).await,
        vec![("10".to_string(), "125.00".to_string()), ("2".into(), "4000.00".into())]
    );
}

#[tokio::test]
async fn a_partial_acceptance_weighs_the_accepted_pieces() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    let d = delivered(&app, &buyer, &sup, &[(&pig, "3")]).await;
    // 190 kg is within 15% of 2 pieces (200 kg) but not of 3 (300 kg).
    let r = accept(
        &app,
        &buyer,
        &d.so,
        accept_body(&[(&d.lines[0], "2", Some("190"))], false),
    )
    .await
    .expect(200);
    let w = &r.json["lines"][0]["weight"];
    assert_eq!(w["estimated_weight_kg"], "200");
    assert_eq!(w["estimated_amount"], "4000.00");
    assert_eq!(w["actual_amount"], "3800.00");
    assert_eq!(w["difference"], "-200.00");
    assert_eq!(
        credits(&app, &buyer, &d.so).await,
        vec![("2".to_string(), "3800.00".to_string())]
    );
    let s = stock_of(&app, &pig).await;
    assert_eq!((s.on_hand_milli, s.reserved_milli), (8_000, 0));

    // No piece accepted: no weight given, nothing credited, actual 0.
    let d = delivered(&app, &buyer, &sup, &[(&pig, "1")]).await;
    let r = accept(&app, &buyer, &d.so, accept_body(&[(&d.lines[0], "0", None)], false))
        .await
        .expect(200);
    assert_eq!(r.json["lines"][0]["weight"]["actual_amount"], "0.00");
    assert!(credits(&app, &buyer, &d.so).await.is_empty());
}

#[tokio::test]
async fn racing_acceptances_with_different_weights_record_one() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    let d = delivered(&app, &buyer, &sup, &[(&pig, "1")]).await;
    let (a, b) = tokio::join!(
        accept(
            &app,
            &buyer,
            &d.so,
            accept_body(&[(&d.lines[0], "1", Some("95"))], false)
        ),
        accept(
            &app,
            &buyer,
            &d.so,
            accept_body(&[(&d.lines[0], "1", Some("105"))], false)
        ),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    let winner = if a.status.as_u16() == 200 { a } else { b };
    let amount = line(&winner.json, &d.lines[0])["weight"]["actual_amount"].clone();
    let c = credits(&app, &buyer, &d.so).await;
    assert_eq!(c.len(), 1);
    assert_eq!(json!(c[0].1), amount, "the credit is the recorded weight's amount");
    let so = app
        .get(&format!("/supplier-orders/{}", d.so), buyer.t())
        .await
        .expect(200);
    assert_eq!(line(&so.json, &d.lines[0])["weight"]["actual_amount"], amount);
}

#[tokio::test]
async fn returning_pieces_reverses_their_share_of_the_actual_amount() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    // 300.001 kg x 20.00 = 6000.02.
    let d = three_pigs_accepted(&app, &buyer, &sup, &pig).await;
    let ret = |q: &str| json!({"lines": [{"line_id": d.lines[0], "quantity": q}], "reason": "one pig sick"});
    let path = format!("/supplier-orders/{}/returns", d.so);
    // One of three: 2000.0066 -> 2000.01; the other two take the rest, 4000.01.
    let r = app.post(&path, buyer.t(), ret("1")).await.expect(201);
    assert_eq!(r.json["lines"][0]["amount"], "2000.01");
    let r = app.post(&path, buyer.t(), ret("2")).await.expect(201);
    assert_eq!(r.json["lines"][0]["amount"], "4000.01");
    let l = app.get("/ledger", buyer.t()).await.expect(200);
    let sum: i64 = l.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["supplier_order_id"] == d.so.as_str())
        .map(|e| {
            let a = e["amount"].as_str().unwrap();
            let m = Money::parse(a.trim_start_matches('-')).unwrap().minor();
            if a.starts_with('-') {
                -m
            } else {
                m
            }
        })
        .sum();
    assert_eq!(sum, 0, "the returns reverse exactly the credit");
}

/// Two returns of one piece each of a weighed line, at once: the second reverses the kg of the
/// second piece (from the returned count as the lock leaves it), not those of the first again,
/// so that once every piece is back the kg net to zero as the amount does.
#[tokio::test]
async fn concurrent_returns_of_a_weighed_line_reverse_each_pieces_own_kg() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    // Three rounds (9 of the 10 pigs in stock): the returns race in each.
    for _ in 0..3 {
        let d = three_pigs_accepted(&app, &buyer, &sup, &pig).await;
        let ret = json!({"lines": [{"line_id": d.lines[0], "quantity": "1"}], "reason": "sick"});
        let path = format!("/supplier-orders/{}/returns", d.so);
        let (a, b) = tokio::join!(
            app.post(&path, buyer.t(), ret.clone()),
            app.post(&path, buyer.t(), ret.clone())
        );
        a.expect(201);
        b.expect(201);
        app.post(&path, buyer.t(), ret).await.expect(201);
        let of_line = format!("ledger_entries WHERE order_line_id = '{}'", d.lines[0]);
        assert_eq!(crate::orders::scalar(&app, "SUM(amount_fen)", &of_line).await, 0);
        // 300.001 kg credited; 100.000 + 100.001 + 100.000 reversed.
        assert_eq!(
            crate::orders::scalar(&app, "SUM(weight_kg_milli)", &of_line).await,
            0,
            "the kg net to zero"
        );
        assert_eq!(
            crate::orders::scalar(&app, "MIN(weight_kg_milli)", &of_line).await,
            -100_001,
            "one piece reverses the odd gram"
        );
    }
}

/// Whole pieces everywhere a product sold by weight is counted: a stock adjustment, a
/// shipment naming its lots and a return of half a pig are refused and write nothing.
#[tokio::test]
async fn half_a_piece_is_refused_in_adjustments_shipments_and_returns() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let pig = weighed(&app, &sup.org_id, 2000, "100", 15).await;
    let lots = app.get(&format!("/products/{pig}/lots"), sup.t()).await.expect(200);
    let lot = lots.json["items"][0]["id"].as_str().unwrap().to_string();
    let adj = format!("/products/{pig}/stock-adjustments");
    for body in [
        json!({"quantity": "0.5", "reason": "recount", "lot_id": lot}),
        json!({"quantity": "-0.5", "reason": "half lost"}),
    ] {
        let r = app.post(&adj, sup.t(), body).await;
        assert_eq!(r.fields(), vec!["quantity".to_string()], "{}", r.text);
        r.problem(422);
    }
    assert_eq!(stock_of(&app, &pig).await.on_hand_milli, 10_000);

    // A shipment splitting a pig across lots.
    let second = crate::compliance::new_lot(
        &app,
        &sup,
        &pig,
        json!({"quantity": "5", "best_before": crate::compliance::day(30)}),
    )
    .await;
    let (so, line) = crate::orders::placed_line(&app, &buyer, &pig, "2").await;
    crate::orders::act(&app, &sup, &so, "confirm").await.expect(200);
    let ship = json!({"lots": [
        {"line_id": line, "lot_id": lot, "quantity": "1.5"},
        {"line_id": line, "lot_id": second, "quantity": "0.5"}
    ]});
    let r = app.post(&format!("/supplier-orders/{so}/ship"), sup.t(), ship).await;
    assert_eq!(
        r.fields(),
        vec!["lots[0].quantity".to_string(), "lots[1].quantity".to_string()],
        "{}",
        r.text
    );
    r.problem(422);

    // A return of half a pig.
    let d = delivered(&app, &buyer, &sup, &[(&pig, "2")]).await;
    accept(
        &app,
        &buyer,
        &d.so,
        accept_body(&[(&d.lines[0], "2", Some("200"))], false),
    )
    .await
    .expect(200);
    let entries = count(&app, "ledger_entries").await;
    let r = app
        .post(
            &format!("/supplier-orders/{}/returns", d.so),
            buyer.t(),
            json!({"lines": [{"line_id": d.lines[0], "quantity": "0.5"}], "reason": "half a pig"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["lines[0].quantity".to_string()], "{}", r.text);
    r.problem(422);
    assert_eq!(count(&app, "ledger_entries").await, entries, "nothing reversed");
}

/// Each supplier order's payable is bounded at acceptance, but the order shows the sum of its
/// weighed lines' actual amounts, which may pass the nominal ones: two acceptances within the
/// tolerance took an order past the largest amount, and reading it was a 500 from then on.
/// The acceptance that would do so is refused, and a stored order is read whatever its sums.
#[tokio::test]
async fn an_acceptance_taking_the_orders_actual_amounts_past_the_bound_is_refused() {
    let app = spawn_app().await;
    let (buyer, sup) = parties(&app).await;
    let other = app.create_org("cooperative", YANGYUAN).await;
    // 10 pieces of 5000 kg at 1,000,000.00 per kg: 50,000,000,000.00 a line, estimated.
    let a = weighed(&app, &sup.org_id, 100_000_000, "5000", 15).await;
    let b = weighed(&app, &other.org_id, 100_000_000, "5000", 15).await;
    let r = place(&app, &buyer, order_body(&[(&a, "10"), (&b, "10")]), &new_key())
        .await
        .expect(201);
    let order = r.json["id"].as_str().unwrap().to_string();
    assert_eq!(r.json["total"], "100000000000.00");
    let mut sos = Vec::new();
    for so in r.json["supplier_orders"].as_array().unwrap() {
        let who = if so["supplier_org_id"] == sup.org_id.as_str() {
            &sup
        } else {
            &other
        };
        let id = so["id"].as_str().unwrap().to_string();
        for act in ["confirm", "ship", "deliver"] {
            crate::orders::act(&app, who, &id, act).await.expect(200);
        }
        sos.push((id, so["lines"][0]["id"].as_str().unwrap().to_string()));
    }
    let (first, second) = (&sos[0], &sos[1]);
    // +14 %, within the tolerance: 57,000,000,000.00.
    accept(
        &app,
        &buyer,
        &first.0,
        accept_body(&[(&first.1, "10", Some("57000"))], false),
    )
    .await
    .expect(200);
    let entries = count(&app, "ledger_entries").await;
    let r = accept(
        &app,
        &buyer,
        &second.0,
        accept_body(&[(&second.1, "10", Some("57000"))], false),
    )
    .await;
    assert_eq!(r.fields(), vec!["lines[0].actual_weight".to_string()], "{}", r.text);
    let p = r.problem(422);
    assert!(p.to_string().contains("57000000000.00"), "{p}");
    assert_eq!(count(&app, "ledger_entries").await, entries, "nothing credited");
    let so = app
        .get(&format!("/supplier-orders/{}", second.0), buyer.t())
        .await
        .expect(200);
    assert_eq!(so.json["status"], "delivered");
    // Up to the bound exactly is accepted.
    accept(
        &app,
        &buyer,
        &second.0,
        accept_body(&[(&second.1, "10", Some("43000"))], false),
    )
    .await
    .expect(200);
    let o = app.get(&format!("/orders/{order}"), buyer.t()).await.expect(200);
    assert_eq!(o.json["weighed"]["actual_amount"], "100000000000.00");

    // Past the bound all the same (two acceptances at once): the order is still read, its
    // actual total null.
    app.db()
        .execute_unprepared(&format!(
            "UPDATE order_line_weights SET actual_amount_fen = 5700000000000 WHERE order_line_id = '{}'",
            second.1
        ))
        .await
        .unwrap();
    let o = app.get(&format!("/orders/{order}"), buyer.t()).await.expect(200);
    assert_eq!(o.json["weighed"]["actual_amount"], Value::Null, "{}", o.text);
    assert_eq!(o.json["weighed"]["difference"], Value::Null);
    assert_eq!(o.json["weighed"]["estimated_amount"], "100000000000.00");
    let l = app.get("/orders", buyer.t()).await.expect(200);
    assert!(l.text.contains(&order));
}

/// Three pigs of `pig` delivered to `buyer` and accepted at 300.001 kg.
async fn three_pigs_accepted(app: &TestApp, buyer: &OrgUser, sup: &OrgUser, pig: &str) -> Delivered {
    let d = delivered(app, buyer, sup, &[(pig, "3")]).await;
    accept(
        app,
        buyer,
        &d.so,
        accept_body(&[(&d.lines[0], "3", Some("300.001"))], false),
    )
    .await
    .expect(200);
    d
}
