//! A supplier order whose buyer or supplier organisation is suspended: the suspended side's
//! users cannot sign in, so the other side may end the order before delivery, and the
//! supplier may not move an order of a suspended buyer forward.
use super::queries;
use crate::auth::Role;
use crate::domain::{OrgStatus, SupplierOrderStatus};
use crate::error::{AppError, AppResult};
use crate::services::organizations;
use entity::supplier_orders;
use sea_orm::ConnectionTrait;

/// Which sides of a supplier order are suspended.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sides {
    pub buyer: bool,
    pub supplier: bool,
}

impl Sides {
    /// Whether the side other than `role` (the one acting) is suspended.
    pub(super) fn other_than(&self, role: Role) -> bool {
        if role == Role::Supplier {
            self.buyer
        } else {
            self.supplier
        }
    }
}

/// Reads the status of the order's buyer and supplier organisations.
pub(super) async fn sides(conn: &impl ConnectionTrait, so: &supplier_orders::Model) -> AppResult<Sides> {
    let orgs = queries::orgs_by_ids(conn, vec![so.buyer_org_id.clone(), so.supplier_org_id.clone()]).await?;
    let mut sides = Sides::default();
    for o in &orgs {
        let suspended = organizations::status_of(o)? == OrgStatus::Suspended;
        if o.id == so.buyer_org_id {
            sides.buyer = suspended;
        }
        if o.id == so.supplier_org_id {
            sides.supplier = suspended;
        }
    }
    Ok(sides)
}

/// Confirm, ship and deliver move the order towards a buyer that cannot sign in to accept it
/// (nor to cancel it): refused while the buyer is suspended (409).
pub(super) fn refuse_forward(sides: Sides, to: SupplierOrderStatus) -> AppResult<()> {
    use SupplierOrderStatus as S;
    if sides.buyer && matches!(to, S::Confirmed | S::Shipped | S::Delivered) {
        return Err(AppError::Conflict(
            "the buyer organisation is suspended: the order cannot move forward until it is \
             reinstated; the supplier may cancel it (or reject it while placed)"
                .into(),
        ));
    }
    Ok(())
}

/// The states a cancellation by `role` may start from, given the lifecycle's `from`: while
/// the other side is suspended, also `shipped` (the same cancellation as a late delivery's).
pub(super) fn cancel_sources(sides: Sides, role: Role, mut from: Vec<SupplierOrderStatus>) -> Vec<SupplierOrderStatus> {
    if sides.other_than(role) && !from.contains(&SupplierOrderStatus::Shipped) {
        from.push(SupplierOrderStatus::Shipped);
    }
    from
}

/// The note recorded on a cancellation: who cancelled and, when the other side is suspended,
/// why, before the caller's own note.
pub(super) fn cancel_note(sides: Sides, role: Role, note: Option<String>) -> Option<String> {
    if !sides.other_than(role) {
        return note;
    }
    let why = if role == Role::Supplier {
        "cancelled by the supplier: the buyer organisation is suspended"
    } else {
        "cancelled by the buyer: the supplier organisation is suspended"
    };
    Some(match note {
        Some(n) => format!("{why}. {n}"),
        None => why.to_string(),
    })
}
