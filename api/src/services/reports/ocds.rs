//! The year's accepted supplier orders as an Open Contracting Data Standard 1.1
//! release package.
use super::queries;
use crate::auth::{Caller, Role};
use crate::domain::{Money, Quantity};
use crate::error::{AppError, AppResult};
use crate::services::credit::{check_year, too_large};
use crate::state::AppState;
use entity::{ledger_entries, order_lines};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OcdsQuery {
    /// The year of acceptance (default: the current year).
    pub year: Option<i32>,
}

pub const OCID_PREFIX: &str = "ocds-amkt01";

/// Values of the OCDS codelists used here (OCDS vocabularies, not this service's).
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum OcdsStatus {
    Active,
}

/// The OCDS party roles of a release.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum PartyRole {
    Buyer,
    Supplier,
}

fn amount(fen: i64) -> serde_json::Value {
    json!({ "amount": fen as f64 / 100.0, "currency": "CNY" })
}

/// The year's accepted supplier orders as an OCDS 1.1 release package (evaluators and admin).
pub async fn ocds(state: &AppState, caller: &Caller, year: Option<i32>) -> AppResult<serde_json::Value> {
    use chrono::Datelike;
    may_export_ocds(caller)?;
    let year = year.unwrap_or_else(|| crate::services::today().year());
    let mut errors = Vec::new();
    check_year(&mut errors, "year", year);
    AppError::check_query(errors)?;
    let db = &state.db;
    // Every URI and release id is built from ASSIST_PUBLIC_URL, so they name this deployment.
    let base = state.settings.public_url();
    let package_uri = base.join(&format!("/api/v1/reports/ocds?year={year}"));
    // The budget year of the business calendar (China time).
    let bound =
        |y: i32| crate::services::clock::start_of_year(y).ok_or_else(|| AppError::field("year", "out of range"));
    let (from, to) = (bound(year)?, bound(year + 1)?);
    let sos = queries::accepted_between(db, from, to).await?;
    let ids: Vec<String> = sos.iter().map(|s| s.id.clone()).collect();
    let mut lines: HashMap<String, Vec<order_lines::Model>> = HashMap::new();
    let mut entries: HashMap<String, Vec<ledger_entries::Model>> = HashMap::new();
    let mut product_ids = Vec::new();
    for chunk in ids.chunks(500) {
        for l in queries::lines_of(db, chunk).await? {
            product_ids.push(l.product_id.clone());
            lines.entry(l.supplier_order_id.clone()).or_default().push(l);
        }
        for e in queries::entries_of(db, chunk).await? {
            entries.entry(e.supplier_order_id.clone()).or_default().push(e);
        }
    }
    product_ids.sort();
    product_ids.dedup();
    let products_by_id = queries::products_by_id(db, &product_ids).await?;
    let mut org_ids: Vec<String> = sos
        .iter()
        .flat_map(|s| [s.buyer_org_id.clone(), s.supplier_org_id.clone()])
        .collect();
    org_ids.sort();
    org_ids.dedup();
    let orgs = queries::orgs_by_id(db, &org_ids).await?;
    let party = |id: &str, role: PartyRole| {
        let o = orgs.get(id);
        json!({
            "id": id,
            "name": o.map(|o| o.name.clone()).unwrap_or_default(),
            "identifier": {
                "scheme": "CN-USCC",
                "id": o.map(|o| o.credit_code.clone()).unwrap_or_default(),
                "legalName": o.map(|o| o.name.clone()).unwrap_or_default(),
            },
            "address": { "region": o.map(|o| o.region_code.clone()).unwrap_or_default(), "countryName": "China" },
            "roles": [role],
        })
    };
    let org_ref = |id: &str| json!({ "id": id, "name": orgs.get(id).map(|o| o.name.clone()).unwrap_or_default() });
    // Lines sold by weight are worth their actual amount, not pieces x price per kg.
    let line_ids = lines.values().flatten().map(|l| l.id.clone()).collect();
    let weighed = crate::services::weight::actual_amounts(db, line_ids).await?;
    let mut releases = Vec::with_capacity(sos.len());
    for so in &sos {
        let accepted_at = so.accepted_at.unwrap_or(so.updated_at);
        let date = accepted_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let my_lines = lines.get(&so.id).cloned().unwrap_or_default();
        let mut accepted_total = Money::ZERO;
        let mut items = Vec::new();
        for l in &my_lines {
            let qty = Quantity::from_minor(l.accepted_quantity_milli.unwrap_or(l.quantity_milli))
                .map_err(AppError::internal)?;
            let price = Money::from_minor(l.unit_price_fen).map_err(AppError::internal)?;
            let worth = match weighed.get(&l.id) {
                Some(a) => Ok(*a),
                None => Money::line_amount(price, qty),
            };
            accepted_total = worth
                .and_then(|a| accepted_total.checked_add(a))
                .map_err(|e| too_large(&format!("accepted total of supplier order {}", so.id), e))?;
            let p = products_by_id.get(&l.product_id);
            let qty_num: f64 = qty.to_string().parse().unwrap_or(0.0);
            items.push(json!({
                "id": l.id,
                "description": p.map(|p| p.name.clone()).unwrap_or_default(),
                "classification": {
                    "scheme": "CPV",
                    "id": "03000000",
                    "description": p.map(|p| p.category.clone()).unwrap_or_default(),
                },
                "quantity": qty_num,
                "unit": {
                    "name": p.map(|p| p.unit.clone()).unwrap_or_default(),
                    "value": amount(l.unit_price_fen),
                },
            }));
        }
        let my_entries = entries.get(&so.id).cloned().unwrap_or_default();
        let transactions: Vec<serde_json::Value> = if my_entries.is_empty() {
            vec![json!({
                "id": format!("{}-accepted", so.id),
                "source": base.join("/api/v1/supplier-orders"),
                "date": date,
                "value": amount(accepted_total.minor()),
                "payer": org_ref(&so.buyer_org_id),
                "payee": org_ref(&so.supplier_org_id),
                "uri": base.join(&format!("/api/v1/supplier-orders/{}", so.id)),
            })]
        } else {
            my_entries
                .iter()
                .map(|e| {
                    json!({
                        "id": format!("ledger-{}", e.id),
                        "source": base.join("/api/v1/ledger"),
                        "date": e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        "value": amount(e.amount_fen),
                        "payer": org_ref(&e.buyer_org_id),
                        "payee": org_ref(&e.supplier_org_id),
                        // The supplier order the entry credits (the ledger has no page per entry).
                        "uri": base.join(&format!("/api/v1/supplier-orders/{}", e.supplier_order_id)),
                    })
                })
                .collect()
        };
        let award_id = format!("{}-award", so.id);
        releases.push(json!({
            "ocid": format!("{OCID_PREFIX}-{}", so.id),
            // Unique across deployments and resolvable: the package that holds the release.
            "id": format!("{package_uri}#{}-{}", so.id, accepted_at.timestamp()),
            "date": date,
            "tag": ["award", "contract", "implementation"],
            "initiationType": "tender",
            "language": "zh",
            "parties": [party(&so.buyer_org_id, PartyRole::Buyer), party(&so.supplier_org_id, PartyRole::Supplier)],
            "buyer": org_ref(&so.buyer_org_id),
            "awards": [{
                "id": award_id,
                "title": format!("Supplier order {}", so.id),
                "status": OcdsStatus::Active,
                "date": date,
                "value": amount(accepted_total.minor()),
                "suppliers": [org_ref(&so.supplier_org_id)],
                "items": items,
            }],
            "contracts": [{
                "id": format!("{}-contract", so.id),
                "awardID": award_id,
                "title": format!("Supplier order {}", so.id),
                "status": OcdsStatus::Active,
                "value": amount(accepted_total.minor()),
                "dateSigned": so.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "items": items,
                "implementation": { "transactions": transactions },
            }],
        }));
    }
    Ok(json!({
        "uri": package_uri,
        "version": "1.1",
        "publishedDate": crate::services::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "publisher": { "name": "Assist Market", "uri": base.as_str() },
        "license": "https://opendatacommons.org/licenses/pddl/1.0/",
        "releases": releases,
    }))
}

/// Who may export OCDS, checked before the query is read: authorise, then validate.
pub fn may_export_ocds(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Admin, Role::Evaluator])
}
