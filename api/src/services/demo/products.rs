//! Certified demo products with a lot each, so the catalogue can be browsed and ordered at once.
use super::data::PRODUCTS;
use super::queries;
use super::weighed::WEIGHED;
use crate::domain::{ProductId, ProductStatus, Quantity, SaleMode, UserId};
use crate::error::{AppError, AppResult};
use crate::services::{accounts, now, today};
use crate::state::AppState;
use entity::products;
use sea_orm::{Set, TransactionTrait};
use std::collections::HashMap;

pub(super) async fn seed_products(state: &AppState, ids: &HashMap<&str, String>) -> AppResult<()> {
    let today = today();
    let rows = PRODUCTS.iter().map(|r| (r, None));
    let weighed = WEIGHED.iter().map(|(r, grams, pct)| (r, Some((*grams, *pct))));
    for (row, weight) in rows.chain(weighed) {
        let (sup_key, certifier, name, category, unit, price, min_qty, origin, description, cert, lot_qty) = row;
        let Some(supplier) = ids.get(sup_key) else { continue };
        if queries::product_exists(&state.db, supplier, name).await? {
            continue;
        }
        let Some(county) = crate::services::regions::county_of(&state.db, origin).await? else {
            continue;
        };
        let cert_user = match certifier {
            Some(email) => accounts::queries::user_by_email(&state.db, email)
                .await?
                .and_then(|u| Some((u.id.parse::<UserId>().ok()?, u.org_id))),
            None => None,
        };
        let valid_until = today + chrono::Days::new(365);
        let certificates = serde_json::json!([{
            "kind": cert.0, "number": cert.1,
            "valid_until": (today + chrono::Days::new(730)).to_string(),
        }])
        .to_string();
        let lot = Quantity::from_minor(*lot_qty).map_err(AppError::internal)?;
        let capacity = lot.checked_add(lot).map_err(AppError::internal)?;
        let t = now();
        let id = ProductId::new().to_string();
        let txn = state.db.begin().await?;
        let am = products::ActiveModel {
            id: Set(id.clone()),
            supplier_org_id: Set(supplier.clone()),
            name: Set(name.to_string()),
            category: Set(category.as_str().to_string()),
            unit: Set(unit.as_str().to_string()),
            price_fen: Set(*price),
            min_order_qty_milli: Set(*min_qty),
            origin_region_code: Set(origin.to_string()),
            origin_county_code: Set(county.code.clone()),
            description: Set(description.to_string()),
            shelf_life_days: Set(Some(365)),
            supply_capacity_per_month_milli: Set(Some(capacity.minor())),
            certificates: Set(certificates),
            poor_households_linked: Set(36),
            benefit_mechanism: Set("保底收购 + 按交易额分红 (guaranteed purchase plus dividends)".into()),
            search_text: Set(crate::services::products::search_text(name, description)),
            status: Set(ProductStatus::Certified.as_str().to_string()),
            certificate_number: Set(Some(format!("FP{}DEMO{}", county.code, &id[id.len() - 6..]))),
            certified_by: Set(cert_user.as_ref().map(|c| c.0.to_string())),
            certified_at: Set(Some(t)),
            valid_until: Set(Some(valid_until)),
            reserved_milli: Set(0),
            version: Set(3),
            created_at: Set(t),
            updated_at: Set(t),
            sale_mode: Set(match weight {
                Some(_) => SaleMode::PiecesByWeight,
                None => SaleMode::PerUnit,
            }
            .as_str()
            .to_string()),
            nominal_weight_milli: Set(weight.map(|w| w.0)),
            weight_tolerance_pct: Set(weight.map(|w| w.1)),
            ..Default::default()
        };
        queries::insert_product(&txn, am).await?;
        // The supplier drafts and submits; the certifier (when there is one) certifies.
        let certifier_actor = (cert_user.as_ref().map(|c| c.0), cert_user.as_ref().map(|c| c.1.clone()));
        let supplier_actor = (None, Some(supplier.clone()));
        for (from, to, reason, (user, org)) in [
            (None, ProductStatus::Draft, None, supplier_actor.clone()),
            (
                Some(ProductStatus::Draft),
                ProductStatus::PendingReview,
                None,
                supplier_actor,
            ),
            (
                Some(ProductStatus::PendingReview),
                ProductStatus::Certified,
                Some("demo data"),
                certifier_actor,
            ),
        ] {
            queries::insert_event(&txn, &id, from, to, user, org, reason, t).await?;
        }
        queries::insert_lot(
            &txn,
            &id,
            lot.minor(),
            today - chrono::Days::new(30),
            today + chrono::Days::new(180),
            t,
        )
        .await?;
        txn.commit().await?;
    }
    state.cache.bump_generation("catalog").await;
    Ok(())
}
