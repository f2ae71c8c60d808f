//! A supplier's report of an unsold backlog of its certified product: opens at
//! least a yellow alert at the next scan, closed when the product's alert resolves.
use super::{queries, stored, stored_opt, stored_qty};
use crate::auth::{Caller, Role};
use crate::domain::{AlertId, OrgId, ProductId, ProductStatus, Quantity, UnsoldReportId, UnsoldReportStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::now;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnsoldReport {
    /// The backlog, above zero.
    pub quantity: Quantity,
    /// Up to 2000 characters.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnsoldReport {
    pub id: UnsoldReportId,
    pub product_id: ProductId,
    pub supplier_org_id: OrgId,
    pub quantity: Quantity,
    pub note: String,
    /// Closed when the product's alert is resolved.
    pub status: UnsoldReportStatus,
    pub alert_id: Option<AlertId>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<entity::unsold_reports::Model> for UnsoldReport {
    type Error = AppError;
    fn try_from(m: entity::unsold_reports::Model) -> AppResult<Self> {
        Ok(UnsoldReport {
            id: stored(&m.id, "report id")?,
            product_id: stored(&m.product_id, "product id")?,
            supplier_org_id: stored(&m.supplier_org_id, "organisation id")?,
            quantity: stored_qty(m.quantity_milli, "reported quantity")?,
            note: m.note,
            status: stored(&m.status, "report status")?,
            alert_id: stored_opt(m.alert_id, "alert id")?,
            created_at: m.created_at,
        })
    }
}

pub async fn report_unsold(
    state: &AppState,
    caller: &Caller,
    product_id: ProductId,
    body: NewUnsoldReport,
) -> AppResult<UnsoldReport> {
    caller.require(&[Role::Supplier])?;
    let product = queries::find_product(&state.db, product_id)
        .await?
        .filter(|p| caller.org_id == p.supplier_org_id)
        .ok_or(AppError::NotFound("product"))?;
    let mut errors = Vec::new();
    if body.quantity.is_zero() {
        errors.push(FieldError::new("quantity", "must be greater than zero"));
    }
    if body.note.chars().count() > 2000 {
        errors.push(FieldError::new("note", "must be at most 2000 characters"));
    }
    AppError::check(errors)?;
    if product.status != ProductStatus::Certified {
        return Err(AppError::Conflict(format!(
            "only a certified product can be reported unsold; this one is {}",
            product.status
        )));
    }
    let m = queries::insert_report(
        &state.db,
        entity::unsold_reports::Model {
            id: UnsoldReportId::new().to_string(),
            product_id: product.id,
            supplier_org_id: caller.org_id.to_string(),
            quantity_milli: body.quantity.minor(),
            note: body.note.trim().to_string(),
            status: UnsoldReportStatus::Open.as_str().to_string(),
            alert_id: None,
            reported_by: Some(caller.user_id.to_string()),
            created_at: now(),
            closed_at: None,
        },
    )
    .await?;
    m.try_into()
}

crate::page_type!(UnsoldReportPage, UnsoldReport);

/// Who may read a product's backlog reports, checked before the query is read: its
/// supplier, the county office of its origin, admin and evaluators; buyers may not (403);
/// another supplier's or another county's product is 404.
pub async fn may_read_reports(state: &AppState, caller: &Caller, product_id: ProductId) -> AppResult<()> {
    caller.require(&[Role::Supplier, Role::Certifier, Role::Admin, Role::Evaluator])?;
    crate::services::products::visible(&state.db, caller, product_id)
        .await
        .map(drop)
}

/// One backlog report of a product (404 when it is not this product's).
pub async fn get_report(
    state: &AppState,
    caller: &Caller,
    product_id: ProductId,
    id: UnsoldReportId,
) -> AppResult<UnsoldReport> {
    may_read_reports(state, caller, product_id).await?;
    queries::find_report(&state.db, product_id, id)
        .await?
        .ok_or(AppError::NotFound("unsold report"))?
        .try_into()
}

/// The backlog reports of a product, oldest first.
pub async fn list_reports(
    state: &AppState,
    caller: &Caller,
    product_id: ProductId,
    page: &crate::services::PageParams,
) -> AppResult<(Vec<UnsoldReport>, Option<String>)> {
    may_read_reports(state, caller, product_id).await?;
    let limit = page.limit()?;
    let rows = queries::reports_page(&state.db, product_id, page.cursor()?, limit).await?;
    let (rows, next) = crate::services::paginate(rows, limit, |r| r.id.clone());
    Ok((
        rows.into_iter().map(UnsoldReport::try_from).collect::<AppResult<_>>()?,
        next,
    ))
}
