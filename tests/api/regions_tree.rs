//! The region tree has no loops: a region with regions under it keeps its level, and no
//! region is its own parent. A loop made the supervision walks of the tree run forever (on
//! SQLite holding the one connection): the fuzzer found it by re-filing province 130000
//! as a city under itself.
use crate::helpers::*;
use crate::supervision::this_year;
use serde_json::json;

#[tokio::test]
async fn a_region_with_regions_under_it_keeps_its_level_and_none_is_its_own_parent() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let before = app.get("/regions/130000", None).await.expect(200).json;
    assert_eq!(before["level"], "province");
    // Itself as parent, at a level that could sit under the province it is stored as.
    let r = app
        .put(
            "/regions/130000",
            admin,
            json!({"name": "x", "level": "city", "parent_code": "130000"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["level", "parent_code"], "{}", r.text);
    // A loop of two: the province as a county under its own city.
    let r = app
        .put(
            "/regions/130000",
            admin,
            json!({"name": "x", "level": "county", "parent_code": "130700"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["level"], "{}", r.text);
    // A city with counties under it cannot become a county either.
    let r = app
        .put(
            "/regions/130700",
            admin,
            json!({"name": "x", "level": "county", "parent_code": "130000"}),
        )
        .await;
    assert_eq!(r.fields(), vec!["level"], "{}", r.text);
    // Nothing was written.
    assert_eq!(app.get("/regions/130000", None).await.expect(200).json, before);
    assert_eq!(app.get("/regions/130700", None).await.expect(200).json["level"], "city");
    // A region with nothing under it may change level, and keeps its name and code.
    let county = json!({"name": "新县", "level": "county", "parent_code": "130700"});
    app.put("/regions/130799", admin, county).await.expect(201);
    let city = json!({"name": "新市", "level": "city", "parent_code": "130000"});
    let r = app.put_if("/regions/130799", admin, city, "*").await.expect(200);
    assert_eq!(
        (r.json["level"].as_str(), r.json["parent_code"].as_str()),
        (Some("city"), Some("130000"))
    );
    // The walks of the tree answer, and still end on a loop written behind the service's back
    // (the province under its own city): each region is walked once.
    use sea_orm::ConnectionTrait;
    let y = this_year();
    let paths = [
        format!("/supervision/{y}/units?region=130000"),
        format!("/supervision/{y}/counties?region=130000"),
    ];
    let mut answers = Vec::new();
    for path in &paths {
        answers.push(app.get(path, admin).await.expect(200).json);
    }
    app.db()
        .execute_unprepared("UPDATE regions SET parent_code = '130700' WHERE code = '130000'")
        .await
        .expect("the loop is written");
    for (path, answer) in paths.iter().zip(answers) {
        let walk = tokio::time::timeout(std::time::Duration::from_secs(20), app.get(path, admin));
        let r = walk.await.expect("the walk ends").expect(200);
        assert_eq!(r.json["items"], answer["items"], "{path}");
    }
}

/// A township moved to another county takes its products with it: the county office that
/// certified them no longer may act on them, the new county's may, and a certified product
/// goes back to review by its new office (its credits would otherwise name the old county and
/// its poverty status).
#[tokio::test]
async fn a_township_moved_to_another_county_takes_its_products_to_that_county() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let sup = app.create_org("cooperative", YANGYUAN_VILLAGE).await;
    let old_office = app.create_org("county_office", YANGYUAN).await;
    let new_office = app.create_org("county_office", PINGQUAN).await;
    let p = ProductRow::certified(&sup.org_id).insert(&app).await;
    let path = format!("/products/{p}");
    assert_eq!(
        app.get(&path, old_office.t()).await.expect(200).json["origin_county_code"],
        YANGYUAN
    );
    // A lot stating the product's county, truthfully.
    let lot = crate::compliance::new_lot(
        &app,
        &sup,
        &p,
        json!({"quantity": "5", "best_before": crate::compliance::day(30), "origin_county_code": YANGYUAN}),
    )
    .await;
    app.put_if(
        "/regions/130727100",
        admin,
        json!({"name": "西城镇", "level": "township", "parent_code": PINGQUAN}),
        "*",
    )
    .await
    .expect(200);
    let now = app.get(&path, new_office.t()).await.expect(200).json;
    assert_eq!(now["origin_county_code"], PINGQUAN);
    assert_eq!(now["status"], "pending_review", "{now}");
    let ev = app.get(&format!("{path}/events"), sup.t()).await.expect(200);
    let last = ev.json["items"].as_array().unwrap().last().unwrap().clone();
    assert!(last["reason"].as_str().unwrap().contains(PINGQUAN), "{last}");
    // The lot moved with it: no origin mismatch is raised against it.
    assert_eq!(crate::flags::scan(&app, true).await["raised"], 0, "lot {lot}");
    // The old office has lost it; the new one certifies it.
    let certify = json!({"valid_until": (chrono::Utc::now().date_naive() + chrono::Days::new(200)).to_string()});
    app.post(&format!("{path}/certify"), old_office.t(), certify.clone())
        .await
        .problem(404);
    app.post(&format!("{path}/certify"), new_office.t(), certify)
        .await
        .expect(200);
    // Renaming a region in place moves nothing.
    app.put_if(
        "/regions/130727100",
        admin,
        json!({"name": "西城镇 (新)", "level": "township", "parent_code": PINGQUAN}),
        "*",
    )
    .await
    .expect(200);
    assert_eq!(
        app.get(&path, new_office.t()).await.expect(200).json["status"],
        "certified"
    );
}

#[tokio::test]
async fn a_county_that_something_names_stays_a_county() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let county = json!({"name": "新县", "level": "county", "parent_code": "130700", "poverty_status": "poverty"});
    app.put("/regions/130799", admin, county).await.expect(201);
    app.create_org("cooperative", "130799").await;
    let city = json!({"name": "新市", "level": "city", "parent_code": "130000"});
    let r = app.put_if("/regions/130799", admin, city, "*").await;
    assert_eq!(r.fields(), vec!["level"], "{}", r.text);
    r.problem(422);
    assert_eq!(
        app.get("/regions/130799", None).await.expect(200).json["level"],
        "county"
    );
}

/// A county re-filed as a city while a township is added under it: the level check and the
/// new child raced, and both could be written (a township under a city). Exactly one wins.
#[tokio::test]
async fn a_level_change_and_a_new_child_at_once_do_not_both_land() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    for i in 0..10 {
        let county = format!("1307{}", 80 + i);
        app.put(
            &format!("/regions/{county}"),
            admin,
            json!({"name": "县", "level": "county", "parent_code": "130700"}),
        )
        .await
        .expect(201);
        let (path, child) = (format!("/regions/{county}"), format!("/regions/{county}001"));
        let as_city = app.put_if(
            &path,
            admin,
            json!({"name": "市", "level": "city", "parent_code": "130000"}),
            "*",
        );
        let township = app.put(
            &child,
            admin,
            json!({"name": "镇", "level": "township", "parent_code": county}),
        );
        let (a, b) = tokio::join!(as_city, township);
        let codes = (a.status.as_u16(), b.status.as_u16());
        assert!(
            codes == (200, 422) || codes == (422, 201),
            "{codes:?}: {} / {}",
            a.text,
            b.text
        );
    }
}

/// A county re-filed as a city while a pairing, a county office and a product naming it are
/// created: the re-filing checked that nothing names the county, the creators that it is a
/// county, and both could land (a pairing with a city). Exactly one side wins each round; 40
/// rounds fail 2 of 2 runs on PostgreSQL without the fix.
#[tokio::test]
async fn a_county_re_filed_while_something_names_it_does_not_both_land() {
    let app = spawn_app().await;
    let admin = Some(app.admin_token.as_str());
    let helper = app.create_org("canteen", CHANGAN).await;
    let supplier = app.create_org("cooperative", YANGYUAN).await;
    for i in 0..40 {
        let county = format!("1306{:02}", 50 + i);
        let path = format!("/regions/{county}");
        let body = json!({"name": "县", "level": "county", "parent_code": "130700", "poverty_status": "poverty"});
        app.put(&path, admin, body).await.expect(201);
        let as_city = app.put_if(
            &path,
            admin,
            json!({"name": "市", "level": "city", "parent_code": "130000"}),
            "*",
        );
        let n = unique();
        let pairing = json!({"kind": "paired_county", "helper_org_id": helper.org_id, "helped_region_code": county,
            "year": this_year(), "purchase_target": "1000.00", "helped_sale_target": "500.00"});
        let office = json!({"name": format!("县办 {n}"), "kind": "county_office", "region_code": county,
            "contact_email": format!("office-{n}@org.test"),
            "credit_code": assist_market::services::organizations::make_credit_code(&county, n)});
        let product = json!({"name": format!("小米 {n}"), "category": "grain", "unit": "kg", "price": "12.50",
            "min_order_qty": "10", "origin_region_code": county, "certificates": []});
        let (a, b, c, d) = tokio::join!(
            as_city,
            app.post("/pairings", admin, pairing),
            app.post("/organizations", admin, office),
            app.post("/products", supplier.t(), product)
        );
        let level = app.get(&path, None).await.expect(200).json["level"].clone();
        let named = [b.status.as_u16(), c.status.as_u16(), d.status.as_u16()];
        let why = format!("{} / {} / {} / {}", a.text, b.text, c.text, d.text);
        if level == "city" {
            assert_eq!((a.status.as_u16(), named), (200, [422, 422, 422]), "{why}");
        } else {
            assert_eq!((a.status.as_u16(), named), (422, [201, 201, 201]), "{why}");
        }
    }
}
