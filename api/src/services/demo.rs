//! Demo data: Hebei's regions (with the counties named in its consumption-assistance
//! plan), one organisation and one login per role, and a few more to play with.
use super::accounts::{self, NewUser};
use super::now;
use super::organizations::make_credit_code;
use crate::error::AppResult;
use crate::state::AppState;
use entity::{organizations, regions, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

pub const DEMO_PASSWORD: &str = "demo-pass-2026";

/// (code, name, level, parent, poverty_status, exited_year, registered_poor)
type RegionRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<i32>,
    bool,
);

pub const REGIONS: &[RegionRow] = &[
    ("130000", "河北省", "province", None, "none", None, false),
    ("130100", "石家庄市", "city", Some("130000"), "none", None, false),
    (
        "130126",
        "灵寿县",
        "county",
        Some("130100"),
        "poverty",
        Some(2019),
        false,
    ),
    ("130102", "长安区", "county", Some("130100"), "none", None, false),
    ("130600", "保定市", "city", Some("130000"), "none", None, false),
    (
        "130636",
        "顺平县",
        "county",
        Some("130600"),
        "poverty",
        Some(2019),
        false,
    ),
    (
        "130624",
        "阜平县",
        "county",
        Some("130600"),
        "deep_poverty",
        Some(2020),
        false,
    ),
    (
        "130630",
        "涞源县",
        "county",
        Some("130600"),
        "poverty",
        Some(2020),
        false,
    ),
    ("130700", "张家口市", "city", Some("130000"), "none", None, false),
    (
        "130727",
        "阳原县",
        "county",
        Some("130700"),
        "deep_poverty",
        Some(2020),
        false,
    ),
    (
        "130723",
        "康保县",
        "county",
        Some("130700"),
        "deep_poverty",
        Some(2020),
        false,
    ),
    ("130800", "承德市", "city", Some("130000"), "none", None, false),
    (
        "130881",
        "平泉市",
        "county",
        Some("130800"),
        "poverty",
        Some(2018),
        false,
    ),
    (
        "130828",
        "围场满族蒙古族自治县",
        "county",
        Some("130800"),
        "deep_poverty",
        Some(2020),
        false,
    ),
    ("131100", "衡水市", "city", Some("130000"), "none", None, false),
    (
        "131124",
        "饶阳县",
        "county",
        Some("131100"),
        "poverty",
        Some(2019),
        false,
    ),
    (
        "131123",
        "武强县",
        "county",
        Some("131100"),
        "poverty",
        Some(2019),
        false,
    ),
    ("130727100", "西城镇", "township", Some("130727"), "none", None, false),
    (
        "130727100201",
        "西城镇东关村",
        "village",
        Some("130727100"),
        "none",
        None,
        true,
    ),
    ("130881100", "平泉镇", "township", Some("130881"), "none", None, false),
    (
        "130881100202",
        "平泉镇杨树岭村",
        "village",
        Some("130881100"),
        "none",
        None,
        true,
    ),
    ("120000", "天津市", "province", None, "none", None, false),
    ("120100", "天津市市辖区", "city", Some("120000"), "none", None, false),
    ("120101", "和平区", "county", Some("120100"), "none", None, false),
];

pub struct DemoAccount {
    pub email: &'static str,
    pub role: &'static str,
    pub org: &'static str,
}

/// (key, name, kind, region, parent key, email, role)
type OrgRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
);

pub const ORGS: &[OrgRow] = &[
    (
        "platform",
        "消费帮扶服务平台",
        "platform",
        "130000",
        None,
        "admin@demo.assist",
        "admin",
    ),
    (
        "yangyuan_office",
        "阳原县乡村振兴局",
        "county_office",
        "130727",
        None,
        "certifier@demo.assist",
        "certifier",
    ),
    (
        "pingquan_office",
        "平泉市乡村振兴局",
        "county_office",
        "130881",
        None,
        "certifier.pingquan@demo.assist",
        "certifier",
    ),
    (
        "evaluation",
        "河北省消费帮扶考核办公室",
        "evaluation_office",
        "130000",
        None,
        "evaluator@demo.assist",
        "evaluator",
    ),
    (
        "millet_coop",
        "阳原县小米专业合作社",
        "cooperative",
        "130727100201",
        None,
        "supplier@demo.assist",
        "supplier",
    ),
    (
        "mushroom_coop",
        "平泉市香菇种植合作社",
        "cooperative",
        "130881100202",
        None,
        "supplier.pingquan@demo.assist",
        "supplier",
    ),
    (
        "raoyang_farm",
        "饶阳县设施蔬菜家庭农场",
        "family_farm",
        "131124",
        None,
        "supplier.raoyang@demo.assist",
        "supplier",
    ),
    (
        "agency",
        "河北省机关事务管理局",
        "government",
        "130102",
        None,
        "buyer.agency@demo.assist",
        "buyer",
    ),
    (
        "canteen",
        "省直机关第一食堂",
        "canteen",
        "130102",
        Some("agency"),
        "buyer@demo.assist",
        "buyer",
    ),
    (
        "union",
        "河北省总工会",
        "union",
        "130102",
        None,
        "buyer.union@demo.assist",
        "buyer",
    ),
    (
        "tianjin_heping",
        "天津市和平区人民政府",
        "government",
        "120101",
        None,
        "buyer.tianjin@demo.assist",
        "buyer",
    ),
];

pub async fn ensure_regions(state: &AppState) -> AppResult<()> {
    for (code, name, level, parent, status, exited, poor) in REGIONS {
        if regions::Entity::find_by_id(code.to_string())
            .one(&state.db)
            .await?
            .is_some()
        {
            continue;
        }
        regions::ActiveModel {
            code: Set(code.to_string()),
            name: Set(name.to_string()),
            level: Set(level.to_string()),
            parent_code: Set(parent.map(str::to_string)),
            poverty_status: Set(status.to_string()),
            exited_year: Set(*exited),
            registered_poor: Set(*poor),
            updated_at: Set(now()),
        }
        .insert(&state.db)
        .await?;
    }
    Ok(())
}

/// Loads the demo data unless it is already there. Returns the demo logins.
pub async fn seed(state: &AppState) -> AppResult<Vec<DemoAccount>> {
    ensure_regions(state).await?;
    let mut ids = std::collections::HashMap::new();
    let mut accounts_out = Vec::new();
    for (i, (key, name, kind, region, parent, email, role)) in ORGS.iter().enumerate() {
        let existing = organizations::Entity::find()
            .filter(organizations::Column::Name.eq(name.to_string()))
            .one(&state.db)
            .await?;
        let org_id = match existing {
            Some(o) => o.id,
            None => {
                let t = now();
                let region6 = &region[..6];
                organizations::ActiveModel {
                    id: Set(super::new_id()),
                    name: Set(name.to_string()),
                    kind: Set(kind.to_string()),
                    region_code: Set(region.to_string()),
                    contact_email: Set(email.replace('@', ".contact@")),
                    credit_code: Set(make_credit_code(region6, 20_261_100 + i as u64)),
                    parent_org_id: Set(parent.and_then(|p| ids.get(p).cloned())),
                    status: Set("active".into()),
                    created_at: Set(t),
                    updated_at: Set(t),
                }
                .insert(&state.db)
                .await?
                .id
            }
        };
        ids.insert(*key, org_id.clone());
        let has_user = users::Entity::find()
            .filter(users::Column::Email.eq(email.to_string()))
            .count(&state.db)
            .await?
            > 0;
        if !has_user {
            accounts::create_user(
                state,
                None,
                &org_id,
                NewUser {
                    email: email.to_string(),
                    name: name.to_string(),
                    role: role.to_string(),
                    password: DEMO_PASSWORD.into(),
                },
            )
            .await?;
        }
        accounts_out.push(DemoAccount { email, role, org: name });
    }
    seed_products(state, &ids).await?;
    Ok(accounts_out)
}

/// (supplier key, certifier email, name, category, unit, price fen, min order milli, origin,
/// description, certificate (kind, number), lot milli)
type ProductRow = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    &'static str,
    &'static str,
    (&'static str, &'static str),
    i64,
);

pub const PRODUCTS: &[ProductRow] = &[
    (
        "millet_coop",
        Some("certifier@demo.assist"),
        "阳原小米",
        "grain",
        "kg",
        880,
        10_000,
        "130727100201",
        "Yangyuan millet from the Sanggan river basin, hulled this season",
        ("geographical_indication", "AGI-02153"),
        5_000_000,
    ),
    (
        "mushroom_coop",
        Some("certifier.pingquan@demo.assist"),
        "平泉香菇",
        "edible_fungi",
        "kg",
        3600,
        5_000,
        "130881100202",
        "Pingquan shiitake mushrooms, dried, grown on oak logs",
        ("green_food", "LB-13-2108130881"),
        2_000_000,
    ),
    (
        "mushroom_coop",
        Some("certifier.pingquan@demo.assist"),
        "平泉黑木耳",
        "edible_fungi",
        "kg",
        6800,
        2_000,
        "130881100202",
        "Pingquan black fungus (wood ear), sun-dried",
        ("green_food", "LB-13-2108130882"),
        800_000,
    ),
    (
        "raoyang_farm",
        None,
        "饶阳设施蔬菜礼盒",
        "vegetables",
        "box",
        4500,
        20_000,
        "131124",
        "Raoyang greenhouse vegetables: tomatoes, cucumbers, peppers (5 kg box)",
        ("other", "HS-131124-0007"),
        1_500_000,
    ),
];

/// Certified demo products with a lot each, so the catalogue can be browsed and ordered at once.
async fn seed_products(state: &AppState, ids: &std::collections::HashMap<&str, String>) -> AppResult<()> {
    use entity::{lots, product_events, products};
    let today = super::today();
    for (sup_key, certifier, name, category, unit, price, min_qty, origin, description, cert, lot_qty) in PRODUCTS {
        let Some(supplier) = ids.get(sup_key) else { continue };
        let exists = products::Entity::find()
            .filter(products::Column::SupplierOrgId.eq(supplier.clone()))
            .filter(products::Column::Name.eq(name.to_string()))
            .count(&state.db)
            .await?
            > 0;
        if exists {
            continue;
        }
        let Some(county) = super::regions::county_of(&state.db, origin).await? else {
            continue;
        };
        let cert_user = match certifier {
            Some(email) => users::Entity::find()
                .filter(users::Column::Email.eq(email.to_string()))
                .one(&state.db)
                .await?
                .map(|u| (u.id, u.org_id)),
            None => None,
        };
        let valid_until = today + chrono::Days::new(365);
        let certificates = serde_json::json!([{
            "kind": cert.0, "number": cert.1,
            "valid_until": (today + chrono::Days::new(730)).to_string(),
        }])
        .to_string();
        let t = now();
        let id = super::new_id();
        let txn = sea_orm::TransactionTrait::begin(&state.db).await?;
        products::ActiveModel {
            id: Set(id.clone()),
            supplier_org_id: Set(supplier.clone()),
            name: Set(name.to_string()),
            category: Set(category.to_string()),
            unit: Set(unit.to_string()),
            price_fen: Set(*price),
            min_order_qty_milli: Set(*min_qty),
            origin_region_code: Set(origin.to_string()),
            origin_county_code: Set(county.code.clone()),
            description: Set(description.to_string()),
            shelf_life_days: Set(Some(365)),
            supply_capacity_per_month_milli: Set(Some(lot_qty * 2)),
            certificates: Set(certificates),
            poor_households_linked: Set(36),
            benefit_mechanism: Set("保底收购 + 按交易额分红 (guaranteed purchase plus dividends)".into()),
            search_text: Set(super::products::search_text(name, description)),
            status: Set("certified".into()),
            certificate_number: Set(Some(format!("FP{}DEMO{}", county.code, &id[id.len() - 6..]))),
            certified_by: Set(cert_user.as_ref().map(|c| c.0.clone())),
            certified_at: Set(Some(t)),
            valid_until: Set(Some(valid_until)),
            reserved_milli: Set(0),
            version: Set(3),
            created_at: Set(t),
            updated_at: Set(t),
        }
        .insert(&txn)
        .await?;
        for (from, to, reason) in [
            (None, "draft", None),
            (Some("draft"), "pending_review", None),
            (Some("pending_review"), "certified", Some("demo data")),
        ] {
            let by_certifier = to == "certified";
            product_events::ActiveModel {
                id: Set(super::new_id()),
                product_id: Set(id.clone()),
                from_status: Set(from.map(str::to_string)),
                to_status: Set(to.to_string()),
                actor_user_id: Set(if by_certifier {
                    cert_user.as_ref().map(|c| c.0.clone())
                } else {
                    None
                }),
                actor_org_id: Set(if by_certifier {
                    cert_user.as_ref().map(|c| c.1.clone())
                } else {
                    Some(supplier.clone())
                }),
                reason: Set(reason.map(str::to_string)),
                occurred_at: Set(t),
            }
            .insert(&txn)
            .await?;
        }
        let lot_id = super::new_id();
        lots::ActiveModel {
            id: Set(lot_id.clone()),
            product_id: Set(id.clone()),
            quantity_milli: Set(*lot_qty),
            remaining_milli: Set(*lot_qty),
            harvested_on: Set(Some(today - chrono::Days::new(30))),
            best_before: Set(today + chrono::Days::new(180)),
            created_at: Set(t),
        }
        .insert(&txn)
        .await?;
        super::stock::record_movement(&txn, &id, Some(&lot_id), *lot_qty, "lot", Some("demo data"), None, None).await?;
        txn.commit().await?;
    }
    state.cache.bump_generation("catalog").await;
    Ok(())
}

/// Creates the first admin from `ASSIST_ADMIN_EMAIL` / `ASSIST_ADMIN_PASSWORD` when no admin exists.
pub async fn ensure_admin(state: &AppState) -> AppResult<Option<String>> {
    let (Some(email), Some(password)) = (
        &state.settings.admin_email,
        state.settings.admin_password.as_ref().map(|p| p.expose()),
    ) else {
        return Ok(None);
    };
    if users::Entity::find()
        .filter(users::Column::Role.eq("admin"))
        .count(&state.db)
        .await?
        > 0
    {
        return Ok(None);
    }
    ensure_regions(state).await?;
    let platform = match organizations::Entity::find()
        .filter(organizations::Column::Kind.eq("platform"))
        .one(&state.db)
        .await?
    {
        Some(p) => p.id,
        None => {
            let t = now();
            organizations::ActiveModel {
                id: Set(super::new_id()),
                name: Set("消费帮扶服务平台".into()),
                kind: Set("platform".into()),
                region_code: Set("130000".into()),
                contact_email: Set(email.clone()),
                credit_code: Set(make_credit_code("130000", 1)),
                parent_org_id: Set(None),
                status: Set("active".into()),
                created_at: Set(t),
                updated_at: Set(t),
            }
            .insert(&state.db)
            .await?
            .id
        }
    };
    accounts::create_user(
        state,
        None,
        &platform,
        NewUser {
            email: email.clone(),
            name: "Administrator".into(),
            role: "admin".into(),
            password: password.clone(),
        },
    )
    .await?;
    Ok(Some(email.clone()))
}

/// True when the database holds no organisation yet (first start).
pub async fn is_empty(state: &AppState) -> AppResult<bool> {
    Ok(organizations::Entity::find().count(&state.db).await? == 0)
}
