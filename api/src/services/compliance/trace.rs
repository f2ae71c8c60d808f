//! `GET /lots/{id}/trace`: one batch from farm to canteen: its origin, its 合格证, the supplier
//! orders it went to and their acceptance. Who may see it: the lot's supplier, the county
//! office of its origin, evaluators and admins (everything); a buyer who received it or is
//! credited with it (only those shipments: see [`Sight::Rows`]). Everyone else: 404 (403 for
//! supervisors, who never see lots).
use super::shipment::{shipped, ShippedLot};
use super::{no_lot, queries, ComplianceCertificate};
use crate::auth::{Caller, Role};
use crate::domain::{
    LotId, OrderId, OrgId, ProductCategory, ProductId, Quantity, SupplierOrderStatus, TraceFormat, Unit,
};
use crate::error::{AppError, AppResult};
use crate::services::{organizations, stored};
use crate::state::AppState;
use entity::{lots, products, shipment_lots};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TraceQuery {
    /// `json` (default) or `epcis` (GS1 EPCIS 2.0 JSON-LD; also chosen by
    /// `Accept: application/ld+json`).
    #[serde(default)]
    pub format: Option<TraceFormat>,
}

/// Where the lot comes from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraceOrigin {
    pub product_id: ProductId,
    pub product_name: String,
    pub category: ProductCategory,
    pub unit: Unit,
    pub supplier_org_id: OrgId,
    pub origin_region_code: String,
    pub origin_county_code: String,
    /// The product's certification number from its county office, if certified.
    pub product_certificate_number: Option<String>,
    pub compliance_certificate_required: bool,
}

/// One supplier order the lot went to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TraceShipment {
    pub supplier_order_id: String,
    pub order_id: OrderId,
    pub buyer_org_id: OrgId,
    pub status: SupplierOrderStatus,
    pub shipped_at: chrono::DateTime<chrono::Utc>,
    /// When the buyer accepted (null until then).
    pub accepted_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(flatten)]
    pub lot: ShippedLot,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotTrace {
    pub lot_id: LotId,
    pub quantity: Quantity,
    pub remaining: Quantity,
    pub harvested_on: Option<chrono::NaiveDate>,
    pub best_before: chrono::NaiveDate,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub compliance_certificate: Option<ComplianceCertificate>,
    /// When the certificate was recorded.
    pub certificate_recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    pub uncertified_batch: bool,
    pub origin: TraceOrigin,
    /// Oldest first; a buyer sees only the shipments to itself or its children, and those of
    /// the lines it (or a child) is credited with in the ledger.
    pub shipments: Vec<TraceShipment>,
}

/// What the caller may see of the lot: everything, or only some of its shipments.
pub(super) enum Sight {
    All,
    /// A buyer's: the ids of the shipment rows whose supplier order it may read (its own or a
    /// child's, as `GET /supplier-orders/{id}` allows) or whose line its ledger, or a child's,
    /// holds an entry of (a budget unit credited through its contractor, a shared canteen's
    /// member), as `GET /ledger` shows it with the lot.
    Rows(HashSet<String>),
}

async fn sight(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: LotId,
) -> AppResult<(lots::Model, products::Model, Vec<shipment_lots::Model>, Sight)> {
    caller.require(&[
        Role::Admin,
        Role::Evaluator,
        Role::Supplier,
        Role::Certifier,
        Role::Buyer,
    ])?;
    let (lot, p) = queries::lot_with_product(conn, &id.to_string())
        .await?
        .ok_or_else(no_lot)?;
    let rows = queries::shipments_of_lot(conn, &lot.id).await?;
    let org = caller.org_id.to_string();
    let s = match caller.role {
        Role::Admin | Role::Evaluator => Sight::All,
        Role::Supplier if p.supplier_org_id == org => Sight::All,
        Role::Certifier if queries::org_region(conn, &org).await?.as_deref() == Some(&p.origin_county_code) => {
            Sight::All
        }
        Role::Buyer => {
            let seen = buyer_rows(conn, caller, &lot.id, &rows).await?;
            if seen.is_empty() {
                return Err(no_lot());
            }
            Sight::Rows(seen)
        }
        _ => return Err(no_lot()),
    };
    Ok((lot, p, rows, s))
}

/// The shipment rows of the lot a buyer may see (see [`Sight::Rows`]).
async fn buyer_rows(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    lot_id: &str,
    rows: &[shipment_lots::Model],
) -> AppResult<HashSet<String>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let orgs = organizations::with_children(conn, &caller.org_id).await?;
    let sos = queries::supplier_orders_by_ids(conn, rows.iter().map(|r| r.supplier_order_id.clone()).collect()).await?;
    let readable: HashSet<&str> = sos
        .iter()
        .filter(|so| orgs.contains(&so.buyer_org_id))
        .map(|so| so.id.as_str())
        .collect();
    let credited = queries::credited_lines_of_lot(conn, lot_id, &orgs).await?;
    Ok(rows
        .iter()
        .filter(|r| readable.contains(r.supplier_order_id.as_str()) || credited.contains(&r.order_line_id))
        .map(|r| r.id.clone())
        .collect())
}

/// Whether the caller may see the lot's trace, checked before the query is read.
pub async fn may_trace(state: &AppState, caller: &Caller, id: LotId) -> AppResult<()> {
    sight(&state.db, caller, id).await.map(drop)
}

/// The lot's trace as the caller may see it.
pub async fn trace(state: &AppState, caller: &Caller, id: LotId) -> AppResult<LotTrace> {
    let conn = &state.db;
    let (lot, p, rows, s) = sight(conn, caller, id).await?;
    let sos: HashMap<String, entity::supplier_orders::Model> =
        queries::supplier_orders_by_ids(conn, rows.iter().map(|r| r.supplier_order_id.clone()).collect())
            .await?
            .into_iter()
            .map(|so| (so.id.clone(), so))
            .collect();
    let mut shipments = Vec::new();
    for r in &rows {
        let Some(so) = sos.get(&r.supplier_order_id) else {
            continue;
        };
        if let Sight::Rows(seen) = &s {
            if !seen.contains(&r.id) {
                continue;
            }
        }
        shipments.push(TraceShipment {
            supplier_order_id: so.id.clone(),
            order_id: stored(&so.order_id)?,
            buyer_org_id: stored(&so.buyer_org_id)?,
            status: stored(&so.status)?,
            shipped_at: r.created_at,
            accepted_at: so.accepted_at,
            lot: shipped(r, &lot)?,
        });
    }
    let q = |m: i64| Quantity::from_minor(m).map_err(AppError::internal);
    Ok(LotTrace {
        lot_id: stored(&lot.id)?,
        quantity: q(lot.quantity_milli)?,
        remaining: q(lot.remaining_milli)?,
        harvested_on: lot.harvested_on,
        best_before: lot.best_before,
        recorded_at: lot.created_at,
        compliance_certificate: ComplianceCertificate::of_lot(&lot),
        certificate_recorded_at: lot.cc_recorded_at,
        uncertified_batch: lot.uncertified_batch,
        origin: TraceOrigin {
            product_id: stored(&p.id)?,
            product_name: p.name.clone(),
            category: stored(&p.category)?,
            unit: stored(&p.unit)?,
            supplier_org_id: stored(&p.supplier_org_id)?,
            origin_region_code: p.origin_region_code.clone(),
            origin_county_code: p.origin_county_code.clone(),
            product_certificate_number: p.certificate_number.clone(),
            compliance_certificate_required: p.compliance_certificate_required,
        },
        shipments,
    })
}
