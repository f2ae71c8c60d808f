//! A buyer proposes a standing agreement to one supplier.
use super::{queries, to_agreement, Agreement, AgreementLine, NewAgreement};
use crate::auth::{Caller, Role};
use crate::domain::{AgreementStatus, CreditCategory, Money, OrgKind, OrgStatus, ProductStatus, Quantity};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{new_id, now, organizations, outbox, required_text, today};
use crate::state::AppState;
use entity::agreements;
use sea_orm::TransactionTrait;

const MAX_LINES: usize = 50;

pub async fn create(state: &AppState, caller: &Caller, body: NewAgreement) -> AppResult<Agreement> {
    caller.require(&[Role::Buyer])?;
    let db = &state.db;
    let mut errors = Vec::new();
    let supplier_id = body.supplier_org_id.to_string();
    match organizations::find(db, &supplier_id).await {
        Ok(o)
            if o.kind
                .parse::<OrgKind>()
                .map(|k| k.role() == Role::Supplier)
                .unwrap_or(false)
                && o.status == OrgStatus::Active => {}
        Ok(_) | Err(AppError::NotFound(_)) => errors.push(FieldError::new(
            "supplier_org_id",
            "must be an active supplier organisation",
        )),
        Err(e) => return Err(e),
    }
    if body.starts_on < today() {
        errors.push(FieldError::new("starts_on", "must not be in the past"));
    }
    if body.ends_on < body.starts_on {
        errors.push(FieldError::new("ends_on", "must not be before starts_on"));
    } else if (body.ends_on - body.starts_on).num_days() > 5 * 366 {
        errors.push(FieldError::new("ends_on", "must be within five years of starts_on"));
    }
    let credit_category = body.credit_category.unwrap_or(CreditCategory::Purchase);
    if let Some(pid) = &body.pairing_id {
        let buyer = organizations::find(db, &caller.org_id).await?;
        match queries::find_pairing(db, pid.to_string()).await? {
            Some(p) if p.helper_org_id == buyer.id || Some(&p.helper_org_id) == buyer.parent_org_id.as_ref() => {
                // A pairing is for one budget year, and an order names one of its year: every
                // period must fall in it (past New Year each period was refused as a shortfall).
                use chrono::Datelike;
                if body.starts_on.year() != p.year || body.ends_on.year() != p.year {
                    errors.push(FieldError::new(
                        "pairing_id",
                        format!(
                            "is a pairing of {}: the agreement must start and end within that year",
                            p.year
                        ),
                    ));
                }
            }
            _ => errors.push(FieldError::new(
                "pairing_id",
                "must be a pairing whose helper is the buyer or its parent",
            )),
        }
    }
    if let Some(d) = &body.deliver_to {
        required_text(&mut errors, "deliver_to", d, 500);
    }
    if body.lines.is_empty() {
        errors.push(FieldError::new("lines", "must list at least one line"));
    } else if body.lines.len() > MAX_LINES {
        errors.push(FieldError::new("lines", format!("must list at most {MAX_LINES} lines")));
    }
    let mut lines = Vec::new();
    for (i, l) in body.lines.iter().enumerate() {
        let pf = format!("lines[{i}].product_id");
        let qf = format!("lines[{i}].quantity");
        let positive = !l.quantity.is_zero();
        if !positive {
            errors.push(FieldError::new(&qf, "must be greater than zero"));
        }
        match queries::find_product(db, l.product_id.to_string()).await? {
            Some(p) if p.supplier_org_id == supplier_id && p.status == ProductStatus::Certified => {
                let min = Quantity::from_minor(p.min_order_qty_milli).map_err(AppError::internal)?;
                if positive {
                    let price = Money::from_minor(p.price_fen).map_err(AppError::internal)?;
                    if l.quantity < min {
                        errors.push(FieldError::new(
                            qf,
                            format!("is below the product's minimum order quantity ({min})"),
                        ));
                    } else if let Err(msg) = crate::services::weight::estimate(&p, price, l.quantity)? {
                        // As placing each period's order would refuse it (whole pieces of a
                        // product sold by weight; an amount within range): every run a shortfall.
                        errors.push(FieldError::new(qf, msg));
                    }
                    lines.push(AgreementLine {
                        product_id: l.product_id,
                        quantity: l.quantity,
                    });
                }
            }
            _ => errors.push(FieldError::new(pf, "must be a certified product of this supplier")),
        }
    }
    AppError::check(errors)?;
    let buyer = organizations::find(db, &caller.org_id).await?;
    let t = now();
    let m = agreements::Model {
        id: new_id(),
        buyer_org_id: caller.org_id.to_string(),
        supplier_org_id: supplier_id,
        lines: serde_json::to_string(&lines).map_err(AppError::internal)?,
        every: body.every.as_str().to_string(),
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        credit_category: credit_category.as_str().to_string(),
        pairing_id: body.pairing_id.map(|p| p.to_string()),
        deliver_to: body
            .deliver_to
            .as_deref()
            .map(|d| d.trim().to_string())
            .unwrap_or_else(|| buyer.name.clone()),
        status: AgreementStatus::Proposed.as_str().to_string(),
        created_by: Some(caller.user_id.to_string()),
        approved_by: None,
        approved_at: None,
        created_at: t,
        updated_at: t,
    };
    let txn = db.begin().await?;
    queries::insert(&txn, m.clone()).await?;
    outbox::enqueue_to_org(
        &txn,
        &m.supplier_org_id,
        &format!("Standing agreement {} proposed", m.id),
        &format!(
            "{} proposes a standing agreement ({} from {} to {}). Approve it to start the orders.\n",
            buyer.name, m.every, m.starts_on, m.ends_on
        ),
    )
    .await?;
    txn.commit().await?;
    to_agreement(m, Vec::new())
}
