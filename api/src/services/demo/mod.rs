//! Demo data: Hebei's regions, one organisation and one login per role (a finance office
//! per level), a few
//! more to play with, and certified products with stock (see `data`).
mod data;
mod documents;
mod payments;
mod products;
mod queries;
mod supervision;
mod weighed;

pub use data::{OrgRow, ProductRow, RegionRow, DEMO_PASSWORD, ORGS, PRODUCTS, REGIONS};

use super::accounts::{self, NewUser};
use super::now;
use super::organizations::{self, make_credit_code};
use crate::config::Secret;
use crate::domain::{OrgId, OrgKind, OrgStatus, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use entity::{organizations as orgs, regions};
use sea_orm::Set;
use std::collections::HashMap;

pub struct DemoAccount {
    pub email: &'static str,
    /// The role's name, as printed at start-up.
    pub role: &'static str,
    pub org: &'static str,
}

pub async fn ensure_regions(state: &AppState) -> AppResult<()> {
    for (code, name, level, parent, status, exited, poor) in REGIONS {
        if super::regions::find(&state.db, code).await?.is_some() {
            continue;
        }
        let am = regions::ActiveModel {
            code: Set(code.to_string()),
            name: Set(name.to_string()),
            level: Set(level.as_str().to_string()),
            parent_code: Set(parent.map(str::to_string)),
            poverty_status: Set(status.as_str().to_string()),
            exited_year: Set(*exited),
            registered_poor: Set(*poor),
            updated_at: Set(now()),
        };
        queries::insert_region(&state.db, am).await?;
    }
    Ok(())
}

/// A new active organisation row.
fn new_org(
    name: &str,
    kind: OrgKind,
    region: &str,
    contact_email: String,
    credit_code: String,
    parent: Option<String>,
) -> orgs::ActiveModel {
    let t = now();
    orgs::ActiveModel {
        id: Set(OrgId::new().to_string()),
        name: Set(name.to_string()),
        kind: Set(kind.as_str().to_string()),
        region_code: Set(region.to_string()),
        contact_email: Set(contact_email),
        credit_code: Set(credit_code),
        parent_org_id: Set(parent),
        status: Set(OrgStatus::Active.as_str().to_string()),
        budget_unit: Set(kind.budget_unit_by_default()),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
}

fn parse_org_id(id: &str) -> AppResult<OrgId> {
    id.parse()
        .map_err(|_| AppError::internal("stored organisation id is not a UUID"))
}

/// Loads the demo data unless it is already there. Returns the demo logins.
pub async fn seed(state: &AppState) -> AppResult<Vec<DemoAccount>> {
    ensure_regions(state).await?;
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut accounts_out = Vec::new();
    for (i, (key, name, kind, region, parent, email, role)) in ORGS.iter().chain(supervision::ORGS).enumerate() {
        let org_id = match organizations::queries::find_by_name(&state.db, name).await? {
            Some(o) => o.id,
            None => {
                let am = new_org(
                    name,
                    *kind,
                    region,
                    email.replace('@', ".contact@"),
                    make_credit_code(&region[..6], 20_261_100 + i as u64),
                    parent.and_then(|p| ids.get(p).cloned()),
                );
                organizations::queries::insert(&state.db, am).await?.id
            }
        };
        ids.insert(*key, org_id.clone());
        if accounts::queries::user_by_email(&state.db, email).await?.is_none() {
            accounts::create_user(
                state,
                None,
                parse_org_id(&org_id)?,
                NewUser {
                    email: email.to_string(),
                    name: name.to_string(),
                    role: *role,
                    password: DEMO_PASSWORD.into(),
                },
            )
            .await?;
        }
        accounts_out.push(DemoAccount {
            email,
            role: role.as_str(),
            org: name,
        });
    }
    products::seed_products(state, &ids).await?;
    crate::services::compliance::seed_demo(state).await?;
    payments::seed_payments(state, &ids).await?;
    weighed::seed_order(state, &ids).await?;
    supervision::seed_plans(state, &ids).await?;
    documents::seed_documents(state, &ids).await?;
    Ok(accounts_out)
}

/// Creates the first admin from `ASSIST_ADMIN_EMAIL` / `ASSIST_ADMIN_PASSWORD` when no admin exists.
pub async fn ensure_admin(state: &AppState) -> AppResult<Option<String>> {
    let (Some(email), Some(password)) = (&state.settings.admin_email, &state.settings.admin_password) else {
        return Ok(None);
    };
    if accounts::queries::count_with_role(&state.db, Role::Admin).await? > 0 {
        return Ok(None);
    }
    ensure_regions(state).await?;
    let platform = match organizations::queries::first_of_kind(&state.db, OrgKind::Platform).await? {
        Some(p) => p.id,
        None => {
            let am = new_org(
                "消费帮扶服务平台",
                OrgKind::Platform,
                "130000",
                email.clone(),
                make_credit_code("130000", 1),
                None,
            );
            organizations::queries::insert(&state.db, am).await?.id
        }
    };
    accounts::create_user(
        state,
        None,
        parse_org_id(&platform)?,
        NewUser {
            email: email.clone(),
            name: "Administrator".into(),
            role: Role::Admin,
            password: Secret::expose(password).clone(),
        },
    )
    .await?;
    Ok(Some(email.clone()))
}

/// True when the database holds no organisation yet (first start).
pub async fn is_empty(state: &AppState) -> AppResult<bool> {
    Ok(organizations::queries::count(&state.db).await? == 0)
}
