//! `PATCH /organizations/{id}` (admin): the payment settings of an organisation, a
//! supplier's size and a buyer's payment days. Guarded by `If-Match` on its version tag.
use super::{kind_of, payment_settings, Organization};
use crate::auth::{Caller, Role};
use crate::domain::{Lenient, OrgId, SupplierSize};
use crate::error::{AppError, AppResult};
use crate::services::now;
use crate::state::AppState;
use entity::organizations;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPatch {
    /// A supplier's size; only for supplier kinds.
    #[serde(default)]
    #[schema(value_type = Option<SupplierSize>)]
    pub supplier_size: Option<Lenient<SupplierSize>>,
    /// A buyer's payment days for on-account orders, 1 to 365; only for buyer kinds.
    #[serde(default)]
    pub payment_days: Option<i32>,
    /// The legal representative (法定代表人), at most 100 characters; empty clears it. Compared
    /// between buyer and supplier by the `related_parties` fraud signal.
    #[serde(default)]
    pub legal_representative: Option<String>,
    /// A contact phone, at most 40 characters; empty clears it (also compared by `related_parties`).
    #[serde(default)]
    pub contact_phone: Option<String>,
}

/// The version tag of an organisation (its `ETag`): changes with every write.
pub fn version_tag(org: &Organization) -> String {
    org.updated_at.timestamp_micros().to_string()
}

/// Applies the patch if `if_match` is the current version tag (or `*`); 412 otherwise.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: OrgId,
    body: OrganizationPatch,
    if_match: &str,
) -> AppResult<Organization> {
    caller.require(&[Role::Admin])?;
    let org = super::find(&state.db, id).await?;
    let kind = kind_of(&org)?;
    let mut errors = Vec::new();
    let (size, days) = payment_settings(Some(kind), &body.supplier_size, body.payment_days, &mut errors);
    super::check_related_party_fields(&body.legal_representative, &body.contact_phone, &mut errors);
    AppError::check(errors)?;
    let current: Organization = org.clone().try_into()?;
    if if_match != "*" && if_match != version_tag(&current) {
        return Err(AppError::PreconditionFailed);
    }
    let mut q = organizations::Entity::update_many().col_expr(organizations::Column::UpdatedAt, Expr::value(now()));
    if body.supplier_size.is_some() {
        q = q.col_expr(organizations::Column::SupplierSize, Expr::value(size.as_str()));
    }
    if let Some(d) = days {
        q = q.col_expr(organizations::Column::PaymentDays, Expr::value(Some(d)));
    }
    let res = q
        .filter(organizations::Column::Id.eq(org.id.clone()))
        .filter(organizations::Column::UpdatedAt.eq(org.updated_at))
        .exec(&state.db)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::PreconditionFailed);
    }
    super::queries::set_related_party_fields(&state.db, &org.id, &body.legal_representative, &body.contact_phone)
        .await?;
    super::find(&state.db, id).await?.try_into()
}
