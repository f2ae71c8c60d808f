//! 合格证 (commitment-to-standard compliance certificates) per batch, from the lot to the
//! ledger (the Ministry of Agriculture's order 2025 no. 4).
//!
//! - `categories`: which categories require a certificate by default (admin), and a product's
//!   own setting against its category's (the certifier of its county). The effective value is
//!   kept on the product (`compliance_certificate_required`) and, whenever it changes, every
//!   lot of the product without a certificate is re-flagged (`uncertified_batch`).
//! - `lots`: the certificate of a lot, given when the lot is recorded or later
//!   (`PUT /lots/{id}/compliance-certificate`). A flagged lot is not available stock: the stock
//!   queries (orders, catalogue, alerts) leave it out until its certificate is recorded.
//! - `shipment`: which lots each line of a supplier order ships (named by the supplier, else
//!   soonest best-before first among certified lots), what the buyer sees before accepting,
//!   the refusal to accept a line whose lots lack a required certificate, and the lot and
//!   certificate each accepted ledger entry keeps (leaf format version 2).
//! - `trace`: one lot from farm to canteen, as JSON or GS1 EPCIS 2.0 JSON-LD (`epcis`).
mod categories;
mod epcis;
mod lots;
mod queries;
mod shipment;
mod trace;

pub use categories::{
    category_requires, hold_category, list_categories, put_category, refresh_product, seed_demo, set_requirement,
    CategoryList, CategorySetting, PutCategory, RequirementPatch,
};
pub use epcis::{document as epcis_document, of_trace as epcis_of_trace, EPCIS_CONTEXT};
pub use lots::{check_certificate, flag_for_new_lot, may_certify_lot, record_certificate, CertifiedLot};
pub use shipment::{attach, ship_lots_of, take_and_trace, ShipBody, ShipLot, ShippedLot};
pub use trace::{may_trace, trace, LotTrace, TraceOrigin, TraceQuery, TraceShipment};

use crate::error::{AppError, FieldError};
use crate::services::today;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A 合格证 as the producer issued it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComplianceCertificate {
    /// The certificate's number (1 to 100 characters).
    #[schema(example = "HGZ-130727-20261128-001")]
    pub number: String,
    /// Who issued it: the producer or cooperative (1 to 200 characters).
    #[schema(example = "阳原县东城镇蔬菜专业合作社")]
    pub issuer: String,
    /// When it was issued: not in the future.
    #[serde(deserialize_with = "crate::domain::day::de")]
    pub issued_on: chrono::NaiveDate,
    /// The 追溯码 printed on it, if any (at most 100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_code: Option<String>,
    /// Where it can be checked online, if anywhere (an http(s) URL, at most 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ComplianceCertificate {
    /// The field errors of a certificate given as `prefix` (`compliance_certificate` or empty).
    pub fn errors(&self, prefix: &str) -> Vec<FieldError> {
        let name = |f: &str| {
            if prefix.is_empty() {
                f.to_string()
            } else {
                format!("{prefix}.{f}")
            }
        };
        let mut errors = Vec::new();
        let text = |errors: &mut Vec<FieldError>, f: &str, v: &str, max: usize| {
            let n = v.trim().chars().count();
            if n == 0 {
                errors.push(FieldError::new(name(f), "must not be empty"));
            } else if n > max || v.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    name(f),
                    format!("must be at most {max} characters, without control characters"),
                ));
            }
        };
        text(&mut errors, "number", &self.number, 100);
        text(&mut errors, "issuer", &self.issuer, 200);
        if let Some(t) = &self.trace_code {
            text(&mut errors, "trace_code", t, 100);
        }
        if let Some(u) = &self.url {
            let ok = (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 500 && url_ok(u);
            if !ok {
                errors.push(FieldError::new(
                    name("url"),
                    "must be an http(s) URL of at most 500 characters",
                ));
            }
        }
        if self.issued_on > today() {
            errors.push(FieldError::new(name("issued_on"), "is in the future"));
        }
        errors
    }

    /// The certificate trimmed as it is stored.
    fn cleaned(self) -> ComplianceCertificate {
        ComplianceCertificate {
            number: self.number.trim().to_string(),
            issuer: self.issuer.trim().to_string(),
            issued_on: self.issued_on,
            trace_code: self.trace_code.map(|t| t.trim().to_string()),
            url: self.url.map(|u| u.trim().to_string()),
        }
    }

    /// The certificate stored on a lot, if it has one.
    pub fn of_lot(l: &entity::lots::Model) -> Option<ComplianceCertificate> {
        Some(ComplianceCertificate {
            number: l.cc_number.clone()?,
            issuer: l.cc_issuer.clone().unwrap_or_default(),
            issued_on: l.cc_issued_on?,
            trace_code: l.cc_trace_code.clone(),
            url: l.cc_url.clone(),
        })
    }
}

/// A URL without spaces or characters that never appear in one, with a host.
fn url_ok(u: &str) -> bool {
    let rest = u.split_once("://").map(|(_, r)| r).unwrap_or("");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

/// 404 for a lot that does not exist (or that the caller may not know of).
pub(crate) fn no_lot() -> AppError {
    AppError::NotFound("lot")
}

/// What shipped orders not yet accepted still hold in the lot `lot_id`: a loss may not take it
/// (the acceptance takes it from this lot).
pub async fn held_in_transit(conn: &impl sea_orm::ConnectionTrait, lot_id: &str) -> crate::error::AppResult<i64> {
    let held = queries::held_in_transit(conn, &[lot_id.to_string()], "").await?;
    Ok(held.get(lot_id).copied().unwrap_or(0))
}

/// What shipped orders not yet accepted hold in each lot of `product_id` (lot id -> quantity):
/// a loss that names no lot leaves it.
pub async fn held_in_transit_of_product(
    conn: &impl sea_orm::ConnectionTrait,
    product_id: &str,
) -> crate::error::AppResult<std::collections::HashMap<String, i64>> {
    let lots = queries::lots_with_stock(conn, vec![product_id.to_string()]).await?;
    let ids: Vec<String> = lots.into_iter().map(|l| l.id).collect();
    queries::held_in_transit(conn, &ids, "").await
}
