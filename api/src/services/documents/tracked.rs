//! Every current document: the licence of each kind a supplier holds longest, and the
//! certificates on its live products. One place decides what is tracked, for the pass, the
//! county offices' list and the scorecard.
use super::queries;
use crate::auth::{Caller, Role};
use crate::domain::{CertificateKind, DocumentKind, DocumentStage, OrgId, ProductId, SupplierDocumentId};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::products::Certificate;
use crate::services::{organizations, regions, stored, today};
use crate::state::AppState;
use chrono::NaiveDate;
use entity::{products, supplier_documents};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// A document and how long it has left.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpiringDocument {
    pub kind: DocumentKind,
    /// A product certificate's own kind (green food, organic, …).
    pub certificate_kind: Option<CertificateKind>,
    pub number: String,
    pub issued_on: Option<NaiveDate>,
    /// Its last valid day.
    pub valid_until: NaiveDate,
    /// Days from the list's day to `valid_until`; negative once expired.
    pub days_left: i64,
    pub supplier_org_id: OrgId,
    /// The licence's id (licences only).
    pub document_id: Option<SupplierDocumentId>,
    /// The product that carries it (product certificates and certifications only).
    pub product_id: Option<ProductId>,
    pub product_name: Option<String>,
    /// Identifies this version of the document in `document_reminders`.
    #[serde(skip)]
    pub(super) key: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExpiringList {
    /// The day the list is drawn up for (today).
    pub as_of: NaiveDate,
    pub within: u32,
    /// Soonest first; documents already expired come first.
    pub items: Vec<ExpiringDocument>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpiringQuery {
    /// Documents whose last valid day is at most this many days away (0 to 366, default
    /// 90); documents already expired are included.
    #[param(minimum = 0, maximum = 366)]
    pub within: Option<u32>,
}

/// Whose documents a list covers.
pub(super) enum Scope<'a> {
    All,
    Supplier(&'a str),
    /// A county office's county: its suppliers' licences and its products' certificates.
    County(&'a str),
}

pub(super) fn licence_key(id: &str) -> String {
    format!("licence:{id}")
}

fn certificate_key(product: &str, c: &Certificate) -> String {
    format!(
        "product_certificate:{product}:{}:{}:{}",
        c.kind.as_str(),
        c.number,
        c.valid_until
    )
}

fn certification_key(product: &str, number: &str, valid_until: NaiveDate) -> String {
    format!("product_certification:{product}:{number}:{valid_until}")
}

fn certificates_of(p: &products::Model) -> Vec<Certificate> {
    serde_json::from_str(&p.certificates).unwrap_or_default()
}

/// The current licence of each (supplier, kind): the one valid longest. `rows` come
/// ordered by supplier, kind and validity (newest first), as `queries::licences` reads them.
pub(super) fn current(rows: Vec<supplier_documents::Model>) -> Vec<supplier_documents::Model> {
    let mut out: Vec<supplier_documents::Model> = Vec::new();
    for r in rows {
        if out
            .last()
            .is_some_and(|l| l.supplier_org_id == r.supplier_org_id && l.kind == r.kind)
        {
            continue;
        }
        out.push(r);
    }
    out
}

fn licence(m: &supplier_documents::Model, day: NaiveDate) -> AppResult<ExpiringDocument> {
    Ok(ExpiringDocument {
        kind: stored(&m.kind)?,
        certificate_kind: None,
        number: m.number.clone(),
        issued_on: Some(m.issued_on),
        valid_until: m.valid_until,
        days_left: (m.valid_until - day).num_days(),
        supplier_org_id: stored(&m.supplier_org_id)?,
        document_id: Some(stored(&m.id)?),
        product_id: None,
        product_name: None,
        key: licence_key(&m.id),
    })
}

fn of_product(p: &products::Model, day: NaiveDate) -> AppResult<Vec<ExpiringDocument>> {
    let base = |kind, number: &str, valid_until: NaiveDate, key| -> AppResult<ExpiringDocument> {
        Ok(ExpiringDocument {
            kind,
            certificate_kind: None,
            number: number.to_string(),
            issued_on: None,
            valid_until,
            days_left: (valid_until - day).num_days(),
            supplier_org_id: stored(&p.supplier_org_id)?,
            document_id: None,
            product_id: Some(stored(&p.id)?),
            product_name: Some(p.name.clone()),
            key,
        })
    };
    let mut out = Vec::new();
    let certificates = certificates_of(p);
    // A certification that ends with one of its certificates (certify caps it there) is
    // reminded of through that certificate: one email per lapse, not two.
    let ends_with_a_certificate = p
        .valid_until
        .is_some_and(|until| certificates.iter().any(|c| c.valid_until == until));
    for c in certificates {
        let mut d = base(
            DocumentKind::ProductCertificate,
            &c.number,
            c.valid_until,
            certificate_key(&p.id, &c),
        )?;
        d.certificate_kind = Some(c.kind);
        d.issued_on = c.issued_on;
        out.push(d);
    }
    if let (Some(number), Some(until), false) = (&p.certificate_number, p.valid_until, ends_with_a_certificate) {
        out.push(base(
            DocumentKind::ProductCertification,
            number,
            until,
            certification_key(&p.id, number, until),
        )?);
    }
    Ok(out)
}

/// Every current document in `scope`, with days left counted from `day`, soonest first.
pub(super) async fn collect(
    conn: &impl ConnectionTrait,
    scope: Scope<'_>,
    day: NaiveDate,
) -> AppResult<Vec<ExpiringDocument>> {
    let (org, county) = match scope {
        Scope::All => (None, None),
        Scope::Supplier(o) => (Some(o), None),
        Scope::County(c) => (None, Some(c)),
    };
    let mut out = Vec::new();
    let mut counties: HashMap<String, Option<String>> = HashMap::new();
    for m in current(queries::licences(conn, org).await?) {
        if let Some(c) = county {
            if !counties.contains_key(&m.supplier_org_id) {
                let region = organizations::find(conn, &m.supplier_org_id).await?.region_code;
                let of = regions::county_of(conn, &region).await?.map(|r| r.code);
                counties.insert(m.supplier_org_id.clone(), of);
            }
            if counties.get(&m.supplier_org_id).and_then(|o| o.as_deref()) != Some(c) {
                continue;
            }
        }
        out.push(licence(&m, day)?);
    }
    for p in queries::live_products(conn, org, county).await? {
        out.extend(of_product(&p, day)?);
    }
    out.sort_by(|a, b| a.valid_until.cmp(&b.valid_until).then_with(|| a.key.cmp(&b.key)));
    Ok(out)
}

pub fn may_list_expiring(caller: &Caller) -> AppResult<()> {
    caller.require(&[Role::Admin, Role::Certifier])
}

/// `GET /documents/expiring`: admin sees every supplier, a county office its county's
/// suppliers' licences and its county's products' certificates.
pub async fn expiring(state: &AppState, caller: &Caller, q: &ExpiringQuery) -> AppResult<ExpiringList> {
    may_list_expiring(caller)?;
    let within = q.within.unwrap_or(90);
    if within > 366 {
        return Err(AppError::query_param("within", "must be between 0 and 366"));
    }
    let day = today();
    let region;
    let scope = if caller.is(Role::Certifier) {
        region = organizations::find(&state.db, caller.org_id).await?.region_code;
        Scope::County(&region)
    } else {
        Scope::All
    };
    let items = collect(&state.db, scope, day)
        .await?
        .into_iter()
        .filter(|d| d.days_left <= i64::from(within))
        .collect();
    Ok(ExpiringList {
        as_of: day,
        within,
        items,
    })
}

/// A county office may not certify a product while a certificate the pass has seen expire
/// is still on it: 422 naming `certificates` until the supplier records a new one.
pub async fn check_renewed(conn: &impl ConnectionTrait, product: &products::Model) -> AppResult<()> {
    let certs = certificates_of(product);
    let keys: Vec<String> = certs.iter().map(|c| certificate_key(&product.id, c)).collect();
    let lapsed = queries::reached(conn, &keys, DocumentStage::Expired).await?;
    let errors: Vec<FieldError> = certs
        .iter()
        .zip(&keys)
        .enumerate()
        .filter(|(_, (_, k))| lapsed.contains(k))
        .map(|(i, (c, _))| {
            FieldError::new(
                format!("certificates[{i}]"),
                format!(
                    "certificate {} expired on {}; the supplier must record a new one first",
                    c.number, c.valid_until
                ),
            )
        })
        .collect();
    AppError::check(errors)
}

/// The supplier's current documents valid on `day`, and how many it has: `(valid, total)`.
pub async fn valid_counts(conn: &impl ConnectionTrait, org: &str, day: NaiveDate) -> AppResult<(i64, i64)> {
    let docs = collect(conn, Scope::Supplier(org), day).await?;
    let valid = docs.iter().filter(|d| d.days_left >= 0).count();
    Ok((valid as i64, docs.len() as i64))
}
