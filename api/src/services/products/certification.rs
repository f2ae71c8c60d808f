//! Status transitions: submit (supplier), certify, reject and revoke (the county office
//! of the origin). Each is one conditional UPDATE from the states
//! [`ProductStatus::sources_of`] allows, on the version read, so a concurrent change
//! gives a 409. The county office's decisions may name the version it reviewed
//! (`If-Match`): a product edited since is 412, never certified unseen.
use super::access::{in_county, own};
use super::events::record_event;
use super::validate::{check_optional_text, required_reason};
use super::{effective_status, find, queries, Product};
use crate::auth::Caller;
use crate::domain::{ProductId, ProductStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::today;
use crate::state::AppState;
use entity::products;
use sea_orm::TransactionTrait;
use serde::Deserialize;
use utoipa::ToSchema;

/// `{reason}` of a reject or revoke.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Certify {
    /// The last day the certification is valid; after it the product is `expired`. A product
    /// is certified no longer than its quality certificates hold: the certification ends on
    /// the earliest of their `valid_until` when that comes first.
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub valid_until: chrono::NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
}

/// Moves the product from one of `sources` (shown states) to `to` with one conditional
/// UPDATE (plus the certification's columns); 409 when it is no longer in one of them.
async fn transition(
    state: &AppState,
    caller: &Caller,
    current: &products::Model,
    sources: &[ProductStatus],
    to: ProductStatus,
    cert: Option<queries::Certification>,
    reason: Option<&str>,
) -> AppResult<products::Model> {
    let shown = effective_status(current)?;
    if !sources.contains(&shown) || !shown.can_become(to) {
        return Err(AppError::Conflict(format!("a {shown} product cannot become {to}")));
    }
    let txn = state.db.begin().await?;
    if queries::move_status(&txn, &current.id, sources, to, cert, current.version).await? != 1 {
        return Err(AppError::Conflict(format!(
            "the product changed meanwhile and cannot become {to}"
        )));
    }
    record_event(&txn, &current.id, Some(shown), to, Some(caller), reason).await?;
    let id: ProductId = super::stored("product id", &current.id)?;
    let model = find(&txn, id).await?;
    txn.commit().await?;
    Ok(model)
}

/// Submit for review, from [`ProductStatus::submittable`] states.
pub async fn submit(state: &AppState, caller: &Caller, id: ProductId) -> AppResult<Product> {
    let current = own(&state.db, caller, id).await?;
    let m = transition(
        state,
        caller,
        &current,
        &ProductStatus::submittable(),
        ProductStatus::PendingReview,
        None,
        None,
    )
    .await?;
    Product::from_model(m)
}

/// A certificate number: `FP{county}{year}{10 random hex}`, unique by the column's constraint.
fn certificate_number(county: &str) -> String {
    let r = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("FP{county}{}{}", crate::services::today().format("%Y"), &r[..10])
}

/// 412 when the county office names a version (`If-Match`) the product is no longer at.
fn check_reviewed(current: &products::Model, reviewed: Option<&str>) -> AppResult<()> {
    match reviewed {
        Some(v) if v != "*" && v != current.version.to_string() => Err(AppError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// Every certificate on the product must still be valid: 422 naming `certificates[i]` for
/// one past its date, whether or not the documents pass has seen it expire.
fn check_certificates_current(current: &products::Model, errors: &mut Vec<FieldError>) {
    for (i, c) in super::parse_certificates(&current.certificates).iter().enumerate() {
        if c.valid_until < today() {
            errors.push(FieldError::new(
                format!("certificates[{i}]"),
                format!(
                    "certificate {} expired on {}; the supplier must record a new one first",
                    c.number, c.valid_until
                ),
            ));
        }
    }
}

pub async fn certify(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    body: Certify,
    reviewed: Option<&str>,
) -> AppResult<Product> {
    let current = in_county(&state.db, caller, id).await?;
    check_reviewed(&current, reviewed)?;
    crate::services::documents::check_renewed(&state.db, &current).await?;
    let mut errors = Vec::new();
    check_certificates_current(&current, &mut errors);
    if body.valid_until <= today() {
        errors.push(FieldError::new("valid_until", "must be after today"));
    } else if body.valid_until > today() + chrono::Days::new(5 * 366) {
        errors.push(FieldError::new("valid_until", "must be within five years"));
    }
    check_optional_text(&mut errors, "note", body.note.as_deref(), 2000);
    AppError::check(errors)?;
    // Certified no longer than its quality certificates hold: the product leaves the catalogue
    // and orders the day after the first of them lapses, whenever the documents pass runs.
    let valid_until = super::parse_certificates(&current.certificates)
        .iter()
        .map(|c| c.valid_until)
        .fold(body.valid_until, std::cmp::min);
    let cert = queries::Certification {
        number: certificate_number(&current.origin_county_code),
        by: caller.user_id.to_string(),
        valid_until,
    };
    let to = ProductStatus::Certified;
    let m = transition(
        state,
        caller,
        &current,
        &ProductStatus::sources_of(to),
        to,
        Some(cert),
        body.note.as_deref().map(str::trim).filter(|s| !s.is_empty()),
    )
    .await?;
    state.cache.bump_generation("catalog").await;
    Product::from_model(m)
}

pub async fn reject(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    body: Reason,
    reviewed: Option<&str>,
) -> AppResult<Product> {
    decide_against(state, caller, id, body, ProductStatus::Rejected, reviewed).await
}

pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    body: Reason,
    reviewed: Option<&str>,
) -> AppResult<Product> {
    decide_against(state, caller, id, body, ProductStatus::Revoked, reviewed).await
}

/// Rejects a product under review or revokes a certified one, with a required reason.
async fn decide_against(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    body: Reason,
    to: ProductStatus,
    reviewed: Option<&str>,
) -> AppResult<Product> {
    let current = in_county(&state.db, caller, id).await?;
    check_reviewed(&current, reviewed)?;
    let reason = required_reason(&body.reason)?;
    let m = transition(
        state,
        caller,
        &current,
        &ProductStatus::sources_of(to),
        to,
        None,
        Some(&reason),
    )
    .await?;
    if to == ProductStatus::Revoked {
        // A revoked product leaves the catalogue.
        state.cache.bump_generation("catalog").await;
    }
    Product::from_model(m)
}
