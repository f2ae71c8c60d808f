//! Organisations: platform, county offices, evaluation offices, finance offices, suppliers and buyers.
mod create;
mod credit_code;
pub(crate) mod queries;
mod read;
mod status;
mod update;

pub use create::create;
pub use credit_code::{make_credit_code, valid_credit_code};
pub use read::{find, get, list, with_children};
pub use status::set_status;
pub use update::{update, version_tag, OrganizationPatch};

use crate::domain::{Lenient, OrgId, OrgKind, OrgStatus, Role, SupplierSize};
use crate::error::{AppError, AppResult};
use entity::organizations;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The supplier kinds as text (kept for services that still compare stored strings).
pub const SUPPLIER_KINDS: [&str; 3] = [
    OrgKind::Cooperative.as_str(),
    OrgKind::Enterprise.as_str(),
    OrgKind::FamilyFarm.as_str(),
];
/// The buyer kinds as text (kept for services that still compare stored strings).
pub const BUYER_KINDS: [&str; 9] = [
    OrgKind::Canteen.as_str(),
    OrgKind::Union.as_str(),
    OrgKind::StateEnterprise.as_str(),
    OrgKind::School.as_str(),
    OrgKind::Hospital.as_str(),
    OrgKind::ArmyUnit.as_str(),
    OrgKind::PrivateEnterprise.as_str(),
    OrgKind::Government.as_str(),
    OrgKind::CanteenContractor.as_str(),
];

/// The one role a user of an organisation of stored `kind` may have.
pub fn role_for_kind(kind: &str) -> Option<Role> {
    OrgKind::parse(kind).map(OrgKind::role)
}

/// The stored kind of an organisation.
pub fn kind_of(m: &organizations::Model) -> AppResult<OrgKind> {
    OrgKind::parse(&m.kind).ok_or_else(|| AppError::internal("stored organisation kind is unknown"))
}

/// The stored status of an organisation.
pub fn status_of(m: &organizations::Model) -> AppResult<OrgStatus> {
    OrgStatus::parse(&m.status).ok_or_else(|| AppError::internal("stored organisation status is unknown"))
}

fn parse_id(s: &str) -> AppResult<OrgId> {
    s.parse()
        .map_err(|_| AppError::internal("stored organisation id is not a UUID"))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub region_code: String,
    pub contact_email: String,
    /// Unified social credit code (统一社会信用代码).
    pub credit_code: String,
    pub parent_org_id: Option<OrgId>,
    pub status: OrgStatus,
    /// A supplier's size (`sme` or `large`); absent for other kinds.
    pub supplier_size: Option<SupplierSize>,
    /// A buyer's payment days for on-account orders; absent: the default (30 days for a
    /// budget unit buying from an SME, at most 60; otherwise 60).
    pub payment_days: Option<i32>,
    /// A budget unit (预算单位) files a yearly reserved-share plan, reviewed by the finance office of its region.
    pub budget_unit: bool,
    /// The legal representative (法定代表人), which the `related_parties` fraud signal compares;
    /// shown to the admin, evaluators and the organisation itself, absent when not recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_representative: Option<String>,
    /// A contact phone (also compared by `related_parties`); shown as `legal_representative` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Organization {
    /// The organisation as `caller` may see it: the fields the fraud signal compares only
    /// for the admin, evaluators and the organisation itself.
    pub fn shown_to(mut self, caller: &crate::auth::Caller) -> Organization {
        let own = caller.org_id == self.id;
        if !own && !matches!(caller.role, Role::Admin | Role::Evaluator) {
            self.legal_representative = None;
            self.contact_phone = None;
        }
        self
    }
}

impl TryFrom<organizations::Model> for Organization {
    type Error = AppError;

    fn try_from(m: organizations::Model) -> AppResult<Organization> {
        Ok(Organization {
            id: parse_id(&m.id)?,
            kind: kind_of(&m)?,
            status: status_of(&m)?,
            supplier_size: if kind_of(&m)?.is_supplier() {
                Some(SupplierSize::parse(&m.supplier_size).unwrap_or(SupplierSize::Sme))
            } else {
                None
            },
            payment_days: m.payment_days,
            parent_org_id: m.parent_org_id.as_deref().map(parse_id).transpose()?,
            budget_unit: m.budget_unit,
            name: m.name,
            region_code: m.region_code,
            contact_email: m.contact_email,
            credit_code: m.credit_code,
            legal_representative: m.legal_representative,
            contact_phone: m.contact_phone,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

crate::page_type!(OrganizationPage, Organization);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub name: String,
    /// An unknown kind is named with the other invalid fields.
    #[schema(value_type = OrgKind)]
    pub kind: Lenient<OrgKind>,
    pub region_code: String,
    pub contact_email: String,
    pub credit_code: String,
    pub parent_org_id: Option<OrgId>,
    /// A supplier's size (default `sme`); only for supplier kinds.
    #[serde(default)]
    #[schema(value_type = Option<SupplierSize>)]
    pub supplier_size: Option<Lenient<SupplierSize>>,
    /// A buyer's payment days for on-account orders, 1 to 365; only for buyer kinds.
    #[serde(default)]
    pub payment_days: Option<i32>,
    /// Whether a buyer is a budget unit; by default agencies (`government`), schools, hospitals and
    /// canteens are, other kinds are not. Only `canteen`, `school`, `hospital`, `government` and
    /// `army_unit` may be.
    pub budget_unit: Option<bool>,
    /// The legal representative (法定代表人), at most 100 characters.
    #[serde(default)]
    pub legal_representative: Option<String>,
    /// A contact phone, at most 40 characters.
    #[serde(default)]
    pub contact_phone: Option<String>,
}

/// Checks the fields the `related_parties` fraud signal compares (each at most its length).
pub(crate) fn check_related_party_fields(
    legal_representative: &Option<String>,
    contact_phone: &Option<String>,
    errors: &mut Vec<crate::error::FieldError>,
) {
    for (field, v, max) in [
        ("legal_representative", legal_representative, 100),
        ("contact_phone", contact_phone, 40),
    ] {
        if v.as_deref().is_some_and(|v| v.trim().chars().count() > max) {
            errors.push(crate::error::FieldError::new(
                field,
                format!("must be at most {max} characters"),
            ));
        }
    }
}

/// A stored form of a related-party field: trimmed, empty as none.
pub(crate) fn related_party_value(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    pub kind: Option<OrgKind>,
    pub status: Option<OrgStatus>,
}

/// Checks a supplier's size and a buyer's payment days against the kind: each only for its
/// side, days 1 to 365. Returns what to store (size `sme` unless given).
pub(crate) fn payment_settings(
    kind: Option<OrgKind>,
    size: &Option<Lenient<SupplierSize>>,
    days: Option<i32>,
    errors: &mut Vec<crate::error::FieldError>,
) -> (SupplierSize, Option<i32>) {
    use crate::error::FieldError;
    let mut out = SupplierSize::Sme;
    match size {
        Some(_) if kind.is_some_and(|k| !k.is_supplier()) => errors.push(FieldError::new(
            "supplier_size",
            "only a supplier organisation has a size",
        )),
        Some(Lenient::Unknown(_)) => errors.push(FieldError::new(
            "supplier_size",
            format!("must be one of: {}", SupplierSize::expected()),
        )),
        Some(Lenient::Known(s)) => out = *s,
        None => {}
    }
    match days {
        Some(_) if kind.is_some_and(|k| !k.is_buyer()) => errors.push(FieldError::new(
            "payment_days",
            "only a buyer organisation has payment days",
        )),
        Some(d) if !(1..=365).contains(&d) => errors.push(FieldError::new("payment_days", "must be between 1 and 365")),
        _ => {}
    }
    (out, days)
}
