//! The supplier-order lifecycle: confirm, reject, ship, deliver, cancel; who may act,
//! and the emails each step sends.
use super::queries;
use super::read::{reload, visible_supplier_order, visible_with_order};
use super::suspended;
use super::types::SupplierOrder;
use crate::auth::{Caller, Role};
use crate::domain::{ProductId, Quantity, SupplierOrderId, SupplierOrderStatus};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::compliance::{self, ShipBody, ShipLot};
use crate::services::{now, outbox, payments, stock, stored};
use crate::state::AppState;
use entity::{orders, supplier_orders};
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The simple actions of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Confirm,
    Reject,
    Ship,
    Deliver,
    Cancel,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Reject => "reject",
            Action::Ship => "ship",
            Action::Deliver => "deliver",
            Action::Cancel => "cancel",
        }
    }

    /// The state this action leads to, and the side that takes it. Where it may start
    /// from is `SupplierOrderStatus::sources_of(target)`.
    fn rule(&self) -> (SupplierOrderStatus, Role) {
        use SupplierOrderStatus as S;
        match self {
            Action::Confirm => (S::Confirmed, Role::Supplier),
            Action::Reject => (S::Rejected, Role::Supplier),
            Action::Ship => (S::Shipped, Role::Supplier),
            Action::Deliver => (S::Delivered, Role::Supplier),
            Action::Cancel => (S::Cancelled, Role::Buyer),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionNote {
    /// Optional note (for `ship`: the shipment note).
    pub note: Option<String>,
}

pub(super) fn check_note(errors: &mut Vec<FieldError>, field: &str, note: &Option<String>) {
    if let Some(n) = note {
        if n.chars().count() > 2000 {
            errors.push(FieldError::new(field, "must be at most 2000 characters"));
        }
    }
}

pub(super) fn clean_note(note: Option<String>) -> Option<String> {
    note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}

/// Whether the caller may take `action` on the supplier order (404 unless visible, 403 unless
/// it is the acting side), checked before the body is read: authorise, then validate.
/// The proof is the order as read, which [`transition_as`] and [`ship_as`] take.
pub async fn may_act(state: &AppState, caller: &Caller, id: SupplierOrderId, action: Action) -> AppResult<Acting> {
    let so = visible_supplier_order(&state.db, caller, id).await?;
    let role = acting_role(&state.db, caller, &so, action).await?;
    Ok(Acting { so, role, order: None })
}

/// The side that takes `action` on the visible supplier order `so` (403 unless the caller is
/// it): the action's side, and for a cancellation also the supplier while the buyer is
/// suspended (its users cannot sign in to cancel).
async fn acting_role(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    so: &supplier_orders::Model,
    action: Action,
) -> AppResult<Role> {
    let role = action.rule().1;
    if action == Action::Cancel
        && own_side(caller, so, Role::Supplier).is_ok()
        && suspended::sides(conn, so).await?.buyer
    {
        return Ok(Role::Supplier);
    }
    own_side(caller, so, role)?;
    Ok(role)
}

/// Whether the caller is the supplier of the supplier order (invoices), checked before the
/// body is read.
pub async fn may_act_as_supplier(state: &AppState, caller: &Caller, id: SupplierOrderId) -> AppResult<()> {
    acting_on(&state.db, caller, id, Role::Supplier).await.map(drop)
}

/// A supplier order the caller was found to be the acting side of, by the route's check
/// before the body was read; the service takes it instead of reading the order again.
pub struct Acting {
    pub(super) so: supplier_orders::Model,
    pub(super) role: Role,
    /// Its order, where the check read it too (orders never change once placed).
    pub(super) order: Option<orders::Model>,
}

impl Acting {
    /// The supplier order, if the check was made for the side `role` (it always is: the
    /// routes pass each service the proof of its own check).
    pub(super) fn into_side(self, role: Role) -> AppResult<supplier_orders::Model> {
        self.into_parts(role).map(|(so, _)| so)
    }

    /// As [`Acting::into_side`], with the order if the check read it.
    pub(super) fn into_parts(self, role: Role) -> AppResult<(supplier_orders::Model, Option<orders::Model>)> {
        if self.role != role {
            return Err(AppError::Forbidden("this check does not allow this action".into()));
        }
        Ok((self.so, self.order))
    }
}

/// Whether the caller is the buyer of the supplier order (accept, return, rate), checked
/// before the body is read; the proof is the order as read.
pub async fn may_act_as_buyer(state: &AppState, caller: &Caller, id: SupplierOrderId) -> AppResult<Acting> {
    let (so, order) = visible_with_order(&state.db, caller, id).await?;
    own_side(caller, &so, Role::Buyer)?;
    Ok(Acting {
        so,
        role: Role::Buyer,
        order,
    })
}

/// 404 unless visible; 403 unless the caller is the acting side of the order.
pub(super) async fn acting_on(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: SupplierOrderId,
    role: Role,
) -> AppResult<supplier_orders::Model> {
    let so = visible_supplier_order(conn, caller, id).await?;
    own_side(caller, &so, role)?;
    Ok(so)
}

/// 403 unless the caller is the `role` side of the supplier order.
fn own_side(caller: &Caller, so: &supplier_orders::Model, role: Role) -> AppResult<()> {
    let own = match role {
        Role::Supplier => caller.is(Role::Supplier) && so.supplier_org_id == caller.org_id,
        _ => caller.is(Role::Buyer) && so.buyer_org_id == caller.org_id,
    };
    if !own {
        return Err(AppError::Forbidden(format!(
            "only the {} of this order may do this",
            if role == Role::Supplier { "supplier" } else { "buyer" }
        )));
    }
    Ok(())
}

pub(super) async fn conflict(conn: &impl ConnectionTrait, id: &str, action: &str) -> AppResult<AppError> {
    let cur = queries::find_supplier_order(conn, id.to_string())
        .await?
        .map(|s| s.status)
        .unwrap_or_default();
    Ok(AppError::Conflict(format!(
        "cannot {action} a supplier order that is {cur}"
    )))
}

/// Gives back every line's reservation, in one statement.
async fn release_all(txn: &DatabaseTransaction, so_id: &str) -> AppResult<()> {
    let lines = queries::lines_of(txn, vec![so_id.to_string()]).await?;
    let items = lines
        .iter()
        .map(|l| {
            Ok((
                stored::<ProductId>(&l.product_id)?,
                Quantity::from_minor(l.quantity_milli).map_err(AppError::internal)?,
            ))
        })
        .collect::<AppResult<Vec<_>>>()?;
    stock::release_many(txn, &items).await
}

/// The subject and body of the email telling the buyer the order moved to `status`.
pub(super) fn buyer_mail(
    so: &supplier_orders::Model,
    status: SupplierOrderStatus,
    note: Option<&str>,
) -> (String, String) {
    let mut body = format!("Supplier order {} (order {}) is now {status}.\n", so.id, so.order_id);
    if let Some(n) = note {
        body.push_str(&format!("\nNote: {n}\n"));
    }
    (format!("Supplier order {} is {status}", so.id), body)
}

/// The subject and body of the email telling the supplier the buyer moved the order.
pub(super) fn supplier_mail(
    so: &supplier_orders::Model,
    status: SupplierOrderStatus,
    note: Option<&str>,
) -> (String, String) {
    let mut body = format!("The buyer marked supplier order {} as {status}.\n", so.id);
    if let Some(n) = note {
        body.push_str(&format!("\nNote: {n}\n"));
    }
    (format!("Supplier order {} was {status} by the buyer", so.id), body)
}

pub(super) async fn email_buyer(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    status: SupplierOrderStatus,
    note: Option<&str>,
) -> AppResult<()> {
    let (subject, body) = buyer_mail(so, status, note);
    outbox::enqueue_to_org(conn, &so.buyer_org_id, &subject, &body).await
}

pub(super) async fn email_supplier(
    conn: &impl ConnectionTrait,
    so: &supplier_orders::Model,
    status: SupplierOrderStatus,
    note: Option<&str>,
) -> AppResult<()> {
    let (subject, body) = supplier_mail(so, status, note);
    outbox::enqueue_to_org(conn, &so.supplier_org_id, &subject, &body).await
}

/// confirm | reject | ship | deliver | cancel. Race-safe: the UPDATE re-checks the state.
/// A shipment through here ships the lots chosen soonest best-before first.
pub async fn transition(
    state: &AppState,
    caller: &Caller,
    id: SupplierOrderId,
    action: Action,
    body: ActionNote,
) -> AppResult<SupplierOrder> {
    let so = visible_supplier_order(&state.db, caller, id).await?;
    let role = acting_role(&state.db, caller, &so, action).await?;
    transition_with(state, so, role, action, body, None).await
}

/// As [`transition`], for the supplier order the route's check already read ([`may_act`]).
pub async fn transition_as(
    state: &AppState,
    acting: Acting,
    action: Action,
    body: ActionNote,
) -> AppResult<SupplierOrder> {
    let role = acting.role;
    if role != action.rule().1 && action != Action::Cancel {
        return Err(AppError::Forbidden("this check does not allow this action".into()));
    }
    transition_with(state, acting.so, role, action, body, None).await
}

/// Ship, with the lots named in the body (or chosen): they commit with the transition.
pub async fn ship(state: &AppState, caller: &Caller, id: SupplierOrderId, body: ShipBody) -> AppResult<SupplierOrder> {
    let so = acting_on(&state.db, caller, id, Role::Supplier).await?;
    ship_with(state, so, body).await
}

/// As [`ship`], for the supplier order the route's check already read ([`may_act`]).
pub async fn ship_as(state: &AppState, acting: Acting, body: ShipBody) -> AppResult<SupplierOrder> {
    let so = acting.into_side(Role::Supplier)?;
    ship_with(state, so, body).await
}

async fn ship_with(state: &AppState, so: supplier_orders::Model, body: ShipBody) -> AppResult<SupplierOrder> {
    let note = ActionNote { note: body.note };
    transition_with(state, so, Role::Supplier, Action::Ship, note, body.lots).await
}

/// The transition `action` taken by the side `role` (for a cancellation, the supplier's while
/// the buyer is suspended, else the buyer's).
async fn transition_with(
    state: &AppState,
    so: supplier_orders::Model,
    role: Role,
    action: Action,
    body: ActionNote,
    lots: Option<Vec<ShipLot>>,
) -> AppResult<SupplierOrder> {
    let (to, _) = action.rule();
    let mut errors = Vec::new();
    check_note(&mut errors, "note", &body.note);
    AppError::check(errors)?;
    let mut note = clean_note(body.note);
    let sides = suspended::sides(&state.db, &so).await?;
    if role != action.rule().1 && !sides.other_than(role) {
        // The supplier's cancellation of a buyer reinstated since the check.
        return Err(AppError::Forbidden("only the buyer of this order may do this".into()));
    }
    suspended::refuse_forward(sides, to)?;
    // The lifecycle's sources, and `shipped` for cancelling a late delivery (or one whose
    // other side is suspended); the prepay rule.
    let mut from = payments::sources_for(&state.db, &so, to).await?;
    if action == Action::Cancel {
        from = suspended::cancel_sources(sides, role, from);
        note = suspended::cancel_note(sides, role, note);
    }
    payments::before_transition(&state.db, &so, to).await?;
    let txn = state.db.begin().await?;
    let changed = queries::set_status(&txn, &so.id, &from, to, note.clone(), action == Action::Ship, now()).await?;
    if changed != 1 {
        let e = conflict(&txn, &so.id, action.name()).await?;
        txn.rollback().await?;
        return Err(e);
    }
    if action == Action::Ship {
        compliance::ship_lots_of(&txn, &so, lots).await?;
    }
    payments::after_transition(&txn, &so.id, stored(&so.status)?, to).await?;
    crate::services::scorecards::after_transition(&txn, &so.id, to).await?;
    let releases = !to.holds_reservation();
    if releases {
        release_all(&txn, &so.id).await?;
    }
    email_buyer(&txn, &so, to, note.as_deref()).await?;
    if action == Action::Cancel && role == Role::Buyer {
        email_supplier(&txn, &so, to, note.as_deref()).await?;
    }
    txn.commit().await?;
    if releases {
        // Released stock is available again in the catalogue.
        super::stock_changed(state).await;
    }
    reload(&state.db, &so.id).await
}
