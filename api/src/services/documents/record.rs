//! Recording a supplier's licences and listing them. A renewal is a new document; the
//! current one of a kind is the one valid longest. Recording one may reinstate a supplier
//! suspended because its licence expired.
use super::tracked::{current, licence_key};
use super::{queries, suspension};
use crate::auth::{Caller, Role};
use crate::domain::{DocumentKind, DocumentStage, OrgId, OrgKind, SupplierDocumentId};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{now, organizations, regions, required_text, stored, today};
use crate::state::AppState;
use chrono::NaiveDate;
use entity::{organizations as organizations_entity, supplier_documents};
use sea_orm::{ConnectionTrait, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A licence to record on a supplier organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    /// `business_licence`, `food_production_licence` or `food_trade_licence`.
    pub kind: DocumentKind,
    pub number: String,
    /// Not in the future.
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub issued_on: NaiveDate,
    /// The last valid day: not before `issued_on`, not before today.
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub valid_until: NaiveDate,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierDocument {
    pub id: SupplierDocumentId,
    pub supplier_org_id: OrgId,
    pub kind: DocumentKind,
    pub number: String,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    /// The licence of its kind valid longest (older ones are kept as history).
    pub current: bool,
    /// The expiry pass has acted on it (the supplier was suspended for it).
    pub expired: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplierDocumentList {
    /// Grouped by kind, the current one first.
    pub items: Vec<SupplierDocument>,
}

/// The supplier organisation `id` for a caller who may name it: 404 for another supplier
/// (a supplier sees only itself), for no organisation, or one that is not a supplier.
pub async fn supplier_named(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: OrgId,
) -> AppResult<organizations_entity::Model> {
    if caller.is(Role::Supplier) && caller.org_id != id {
        return Err(AppError::NotFound("supplier"));
    }
    let org = organizations::find(conn, id)
        .await
        .map_err(|_| AppError::NotFound("supplier"))?;
    if stored::<OrgKind>(&org.kind)?.role() != Role::Supplier {
        return Err(AppError::NotFound("supplier"));
    }
    Ok(org)
}

/// As `supplier_named`, and (`county`) for a county office only a supplier of its county.
async fn supplier(state: &AppState, caller: &Caller, id: OrgId, county: bool) -> AppResult<()> {
    let org = supplier_named(&state.db, caller, id).await?;
    if county && caller.is(Role::Certifier) {
        let office = organizations::find(&state.db, caller.org_id).await?.region_code;
        let of = regions::county_of(&state.db, &org.region_code).await?.map(|r| r.code);
        if of.as_deref() != Some(office.as_str()) {
            return Err(AppError::NotFound("supplier"));
        }
    }
    Ok(())
}

/// Who may record a licence: the supplier itself and admin.
pub async fn may_record(state: &AppState, caller: &Caller, id: OrgId) -> AppResult<()> {
    caller.require(&[Role::Supplier, Role::Admin])?;
    supplier(state, caller, id, false).await
}

/// Who may list a supplier's licences: itself, admin, evaluators, its county office.
pub async fn may_list(state: &AppState, caller: &Caller, id: OrgId) -> AppResult<()> {
    caller.require(&[Role::Supplier, Role::Admin, Role::Evaluator, Role::Certifier])?;
    supplier(state, caller, id, true).await
}

fn check(body: &NewDocument) -> AppResult<()> {
    let mut errors = Vec::new();
    if !body.kind.is_licence() {
        errors.push(FieldError::new(
            "kind",
            "must be business_licence, food_production_licence or food_trade_licence",
        ));
    }
    required_text(&mut errors, "number", &body.number, 100);
    if body.issued_on > today() {
        errors.push(FieldError::new("issued_on", "is in the future"));
    }
    if body.valid_until < body.issued_on {
        errors.push(FieldError::new("valid_until", "must not be before issued_on"));
    } else if body.valid_until < today() {
        errors.push(FieldError::new("valid_until", "the document has already expired"));
    }
    AppError::check(errors)
}

pub async fn record(state: &AppState, caller: &Caller, id: OrgId, body: NewDocument) -> AppResult<SupplierDocument> {
    may_record(state, caller, id).await?;
    check(&body)?;
    let org = id.to_string();
    let txn = state.db.begin().await?;
    let m = queries::insert(
        &txn,
        supplier_documents::ActiveModel {
            id: Set(SupplierDocumentId::new().to_string()),
            supplier_org_id: Set(org.clone()),
            kind: Set(body.kind.as_str().to_string()),
            number: Set(body.number.trim().to_string()),
            issued_on: Set(body.issued_on),
            valid_until: Set(body.valid_until),
            created_by: Set(Some(caller.user_id.to_string())),
            created_at: Set(now()),
        },
    )
    .await?;
    let reinstated = suspension::reinstate_if_renewed(&txn, &org).await?;
    txn.commit().await?;
    if reinstated {
        state.cache.bump_generation("catalog").await;
    }
    let docs = list(state, caller, id).await?;
    docs.items
        .into_iter()
        .find(|d| d.id == m.id)
        .ok_or_else(|| AppError::internal("the recorded document was not read back"))
}

pub async fn list(state: &AppState, caller: &Caller, id: OrgId) -> AppResult<SupplierDocumentList> {
    may_list(state, caller, id).await?;
    let rows = queries::licences(&state.db, Some(&id.to_string())).await?;
    let now_current: Vec<String> = current(rows.clone()).into_iter().map(|m| m.id).collect();
    let keys: Vec<String> = rows.iter().map(|m| licence_key(&m.id)).collect();
    let expired = queries::reached(&state.db, &keys, DocumentStage::Expired).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            Ok(SupplierDocument {
                current: now_current.contains(&m.id),
                expired: expired.contains(&licence_key(&m.id)),
                id: stored(&m.id)?,
                supplier_org_id: stored(&m.supplier_org_id)?,
                kind: stored(&m.kind)?,
                number: m.number,
                issued_on: m.issued_on,
                valid_until: m.valid_until,
                created_at: m.created_at,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(SupplierDocumentList { items })
}
