//! Creating an organisation: kind, region and parent must fit together.
use super::{queries, NewOrganization, Organization};
use crate::auth::{Caller, Role};
use crate::domain::{OrgId, OrgKind, OrgStatus, RegionLevel};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{now, regions, required_text, valid_email};
use crate::state::AppState;
use entity::organizations;
use sea_orm::{ConnectionTrait, Set, TransactionTrait};

pub async fn create(state: &AppState, caller: &Caller, body: NewOrganization) -> AppResult<Organization> {
    caller.require(&[Role::Admin])?;
    let db = &state.db;
    let mut errors = Vec::new();
    required_text(&mut errors, "name", &body.name, 200);
    let kind = body.kind.known();
    if kind.is_none() {
        errors.push(FieldError::new("kind", "unknown organisation kind"));
    }
    if !valid_email(&body.contact_email) {
        errors.push(FieldError::new("contact_email", "is not an email address"));
    }
    let code = body.credit_code.trim().to_uppercase();
    if !super::valid_credit_code(&code) {
        errors.push(FieldError::new(
            "credit_code",
            "is not a valid unified social credit code (18 characters with GB 32100-2015 check digits)",
        ));
    }
    check_region(db, &body.region_code, kind, &mut errors).await?;
    super::check_related_party_fields(&body.legal_representative, &body.contact_phone, &mut errors);
    let (supplier_size, payment_days) =
        super::payment_settings(kind, &body.supplier_size, body.payment_days, &mut errors);
    let budget_unit = match (kind, body.budget_unit) {
        (Some(k), Some(true)) if !k.may_be_budget_unit() => {
            errors.push(FieldError::new(
                "budget_unit",
                format!("a {k} organisation cannot be a budget unit"),
            ));
            false
        }
        (_, Some(b)) => b,
        (Some(k), None) => k.budget_unit_by_default(),
        (None, None) => false,
    };
    if let Some(pid) = body.parent_org_id {
        check_parent(db, pid, kind, &mut errors).await?;
    }
    AppError::check(errors)?;
    let Some(kind) = kind else {
        return Err(AppError::field("kind", "unknown organisation kind"));
    };
    if queries::find_by_credit_code(db, &code).await?.is_some() {
        return Err(AppError::Validation {
            detail: "credit_code: another organisation has this credit code".into(),
            errors: vec![FieldError::new(
                "credit_code",
                "another organisation has this credit code",
            )],
        });
    }
    let t = now();
    let body_region = body.region_code.clone();
    let am = organizations::ActiveModel {
        id: Set(OrgId::new().to_string()),
        name: Set(body.name.trim().to_string()),
        kind: Set(kind.as_str().to_string()),
        region_code: Set(body.region_code),
        contact_email: Set(body.contact_email.trim().to_string()),
        credit_code: Set(code),
        parent_org_id: Set(body.parent_org_id.map(|p| p.to_string())),
        status: Set(OrgStatus::Active.as_str().to_string()),
        supplier_size: Set(supplier_size.as_str().to_string()),
        payment_days: Set(payment_days),
        budget_unit: Set(budget_unit),
        legal_representative: Set(super::related_party_value(&body.legal_representative)),
        contact_phone: Set(super::related_party_value(&body.contact_phone)),
        created_at: Set(t),
        updated_at: Set(t),
    };
    // The region checked again with the region tree held still, so that a county this names is
    // not re-filed as a township before it commits.
    let txn = db.begin().await?;
    regions::hold_tree_shared(&txn).await?;
    let mut late = Vec::new();
    check_region(&txn, &body_region, Some(kind), &mut late).await?;
    AppError::check(late)?;
    let model = queries::insert(&txn, am).await.map_err(|e| {
        if e.to_string().to_lowercase().contains("unique") {
            AppError::field("credit_code", "another organisation has this credit code")
        } else {
            e.into()
        }
    })?;
    txn.commit().await?;
    model.try_into()
}

/// A supplier lies in a poverty county (or below one); a county office's region is a county;
/// a finance office's a province, city or county.
async fn check_region(
    db: &impl ConnectionTrait,
    code: &str,
    kind: Option<OrgKind>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    let Some(region) = regions::find(db, code).await? else {
        errors.push(FieldError::new("region_code", "no such region"));
        return Ok(());
    };
    match kind {
        Some(k) if k.is_supplier() => match regions::county_of(db, code).await? {
            Some(c) if regions::poverty_of(&c)?.is_poor() => {}
            Some(_) => errors.push(FieldError::new(
                "region_code",
                "a supplier must be located in a poverty or deep-poverty county",
            )),
            None => errors.push(FieldError::new(
                "region_code",
                "a supplier must be located in a county, township or village",
            )),
        },
        Some(OrgKind::CountyOffice) if regions::level_of(&region)? != RegionLevel::County => errors.push(
            FieldError::new("region_code", "a county office's region must be a county"),
        ),
        Some(OrgKind::FinanceOffice)
            if !matches!(
                regions::level_of(&region)?,
                RegionLevel::Province | RegionLevel::City | RegionLevel::County
            ) =>
        {
            errors.push(FieldError::new(
                "region_code",
                "a finance office's region must be a province, city or county",
            ))
        }
        _ => {}
    }
    Ok(())
}

/// Only a buyer organisation may sit under a buyer organisation.
async fn check_parent(
    db: &impl ConnectionTrait,
    parent: OrgId,
    kind: Option<OrgKind>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    match queries::find(db, parent.to_string()).await? {
        None => errors.push(FieldError::new("parent_org_id", "no such organisation")),
        Some(p) => {
            let both_buyers = super::kind_of(&p)?.is_buyer() && kind.is_some_and(OrgKind::is_buyer);
            if !both_buyers {
                errors.push(FieldError::new(
                    "parent_org_id",
                    "only a buyer organisation may sit under a buyer organisation",
                ));
            }
        }
    }
    Ok(())
}
