//! Standing agreements (长期定向采购): a buyer proposes lines and a period, the supplier
//! approves, and the generator places each due period's order through `orders::place_order`
//! with the key `agreement:{id}:{period}`, so a period yields one order however many
//! generators run. Short stock records a shortfall on the period's run and emails the buyer.
use super::orders::{self, NewOrder, NewOrderLine, OrderSource, CREDIT_CATEGORIES};
use super::{new_id, now, organizations, outbox, required_text, sql, today, PageParams};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::money::{from_milli, to_positive_milli};
use crate::state::AppState;
use entity::{agreement_runs, agreements, pairings, products};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgreementLine {
    pub product_id: String,
    #[schema(value_type = String, example = "50")]
    pub quantity: Decimal,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreement {
    pub supplier_org_id: String,
    pub lines: Vec<AgreementLine>,
    /// week | month
    pub every: String,
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
    /// purchase (default) | helped_sale
    pub credit_category: Option<String>,
    pub pairing_id: Option<String>,
    /// Defaults to the buyer organisation's name.
    pub deliver_to: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct AgreementRun {
    /// The period's first day.
    pub period: String,
    /// placed | shortfall
    pub status: String,
    pub order_id: Option<String>,
    /// Why the period's order could not be placed (stock short, product no longer orderable).
    pub shortfall: Option<Vec<Shortfall>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One reason a period's order could not be placed (the field of the order it concerns).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Shortfall {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agreement {
    pub id: String,
    pub buyer_org_id: String,
    pub supplier_org_id: String,
    pub lines: Vec<AgreementLine>,
    pub every: String,
    pub starts_on: chrono::NaiveDate,
    pub ends_on: chrono::NaiveDate,
    pub credit_category: String,
    pub pairing_id: Option<String>,
    pub deliver_to: String,
    /// proposed | active | cancelled
    pub status: String,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub runs: Vec<AgreementRun>,
}

crate::page_type!(AgreementPage, Agreement);

#[derive(Debug, Clone, Serialize, ToSchema, Default)]
pub struct RunSummary {
    /// Orders placed by this run.
    pub placed: u32,
    /// Periods recorded as short by this run.
    pub shortfalls: u32,
    /// Periods another run had already handled.
    pub skipped: u32,
}

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct AgreementFilter {
    /// proposed | active | cancelled
    pub status: Option<String>,
}

fn to_run(m: agreement_runs::Model) -> AgreementRun {
    AgreementRun {
        period: m.period,
        status: m.status,
        order_id: m.order_id,
        shortfall: m.shortfall.and_then(|s| serde_json::from_str(&s).ok()),
        created_at: m.created_at,
    }
}

fn to_agreement(m: agreements::Model, runs: Vec<agreement_runs::Model>) -> Agreement {
    Agreement {
        lines: serde_json::from_str(&m.lines).unwrap_or_default(),
        id: m.id,
        buyer_org_id: m.buyer_org_id,
        supplier_org_id: m.supplier_org_id,
        every: m.every,
        starts_on: m.starts_on,
        ends_on: m.ends_on,
        credit_category: m.credit_category,
        pairing_id: m.pairing_id,
        deliver_to: m.deliver_to,
        status: m.status,
        approved_at: m.approved_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        runs: runs.into_iter().map(to_run).collect(),
    }
}

async fn runs_of(conn: &impl ConnectionTrait, id: &str) -> AppResult<Vec<agreement_runs::Model>> {
    Ok(agreement_runs::Entity::find()
        .filter(agreement_runs::Column::AgreementId.eq(id.to_string()))
        .order_by_asc(agreement_runs::Column::Period)
        .all(conn)
        .await?)
}

/// A buyer proposes a standing agreement to one supplier.
pub async fn create(state: &AppState, caller: &Caller, body: NewAgreement) -> AppResult<Agreement> {
    caller.require(&[Role::Buyer])?;
    let db = &state.db;
    let mut errors = Vec::new();
    match organizations::find(db, &body.supplier_org_id).await {
        Ok(o) if organizations::SUPPLIER_KINDS.contains(&o.kind.as_str()) && o.status == "active" => {}
        Ok(_) | Err(AppError::NotFound(_)) => errors.push(FieldError::new(
            "supplier_org_id",
            "must be an active supplier organisation",
        )),
        Err(e) => return Err(e),
    }
    if !["week", "month"].contains(&body.every.as_str()) {
        errors.push(FieldError::new("every", "must be week or month"));
    }
    if body.starts_on < today() {
        errors.push(FieldError::new("starts_on", "must not be in the past"));
    }
    if body.ends_on < body.starts_on {
        errors.push(FieldError::new("ends_on", "must not be before starts_on"));
    } else if (body.ends_on - body.starts_on).num_days() > 5 * 366 {
        errors.push(FieldError::new("ends_on", "must be within five years of starts_on"));
    }
    let credit_category = body.credit_category.clone().unwrap_or_else(|| "purchase".into());
    if !CREDIT_CATEGORIES.contains(&credit_category.as_str()) {
        errors.push(FieldError::new("credit_category", "must be purchase or helped_sale"));
    }
    if let Some(pid) = &body.pairing_id {
        let buyer = organizations::find(db, &caller.org_id).await?;
        let ok = match pairings::Entity::find_by_id(pid.clone()).one(db).await? {
            Some(p) => p.helper_org_id == buyer.id || Some(&p.helper_org_id) == buyer.parent_org_id.as_ref(),
            None => false,
        };
        if !ok {
            errors.push(FieldError::new(
                "pairing_id",
                "must be a pairing whose helper is the buyer or its parent",
            ));
        }
    }
    if let Some(d) = &body.deliver_to {
        required_text(&mut errors, "deliver_to", d, 500);
    }
    if body.lines.is_empty() {
        errors.push(FieldError::new("lines", "must list at least one line"));
    } else if body.lines.len() > 50 {
        errors.push(FieldError::new("lines", "must list at most 50 lines"));
    }
    let mut lines = Vec::new();
    for (i, l) in body.lines.iter().enumerate() {
        let pf = format!("lines[{i}].product_id");
        let qf = format!("lines[{i}].quantity");
        let qty = match to_positive_milli(l.quantity, &qf) {
            Ok(q) => Some(q),
            Err(AppError::Validation { errors: e, .. }) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        };
        match products::Entity::find_by_id(l.product_id.clone()).one(db).await? {
            Some(p) if p.supplier_org_id == body.supplier_org_id && p.status == "certified" => {
                if let Some(q) = qty {
                    if q < p.min_order_qty_milli {
                        errors.push(FieldError::new(
                            qf,
                            format!(
                                "is below the product's minimum order quantity ({})",
                                from_milli(p.min_order_qty_milli)
                            ),
                        ));
                    }
                    lines.push(AgreementLine {
                        product_id: p.id.clone(),
                        quantity: from_milli(q),
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
        buyer_org_id: caller.org_id.clone(),
        supplier_org_id: body.supplier_org_id.clone(),
        lines: serde_json::to_string(&lines).map_err(AppError::internal)?,
        every: body.every.clone(),
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        credit_category,
        pairing_id: body.pairing_id.clone(),
        deliver_to: body
            .deliver_to
            .as_deref()
            .map(|d| d.trim().to_string())
            .unwrap_or_else(|| buyer.name.clone()),
        status: "proposed".into(),
        created_by: Some(caller.user_id.clone()),
        approved_by: None,
        approved_at: None,
        created_at: t,
        updated_at: t,
    };
    let txn = db.begin().await?;
    agreements::ActiveModel::from(m.clone()).insert(&txn).await?;
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
    Ok(to_agreement(m, Vec::new()))
}

async fn visible(conn: &impl ConnectionTrait, caller: &Caller, id: &str) -> AppResult<agreements::Model> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    let a = agreements::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("agreement"))?;
    let ok = match caller.role {
        Role::Buyer => organizations::with_children(conn, &caller.org_id)
            .await?
            .contains(&a.buyer_org_id),
        Role::Supplier => a.supplier_org_id == caller.org_id,
        _ => true,
    };
    if !ok {
        return Err(AppError::NotFound("agreement"));
    }
    Ok(a)
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> AppResult<Agreement> {
    let a = visible(&state.db, caller, id).await?;
    let runs = runs_of(&state.db, &a.id).await?;
    Ok(to_agreement(a, runs))
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &AgreementFilter,
    page: &PageParams,
) -> AppResult<(Vec<Agreement>, Option<String>)> {
    caller.require(&[Role::Buyer, Role::Supplier, Role::Admin, Role::Evaluator])?;
    let limit = page.limit()?;
    let db = &state.db;
    let mut q = agreements::Entity::find();
    match caller.role {
        Role::Buyer => {
            q = q.filter(agreements::Column::BuyerOrgId.is_in(organizations::with_children(db, &caller.org_id).await?))
        }
        Role::Supplier => q = q.filter(agreements::Column::SupplierOrgId.eq(caller.org_id.clone())),
        _ => {}
    }
    if let Some(s) = &f.status {
        q = q.filter(agreements::Column::Status.eq(s.clone()));
    }
    if let Some(c) = page.cursor()? {
        q = q.filter(agreements::Column::Id.lt(c));
    }
    let rows = q.order_by_desc(agreements::Column::Id).limit(limit + 1).all(db).await?;
    let (rows, next) = super::paginate(rows, limit, |r| r.id.clone());
    let mut out = Vec::new();
    for a in rows {
        let runs = runs_of(db, &a.id).await?;
        out.push(to_agreement(a, runs));
    }
    Ok((out, next))
}

/// The supplier approves a proposed agreement: from now on the generator places its orders.
pub async fn approve(state: &AppState, caller: &Caller, id: &str) -> AppResult<Agreement> {
    let a = visible(&state.db, caller, id).await?;
    if !(caller.is(Role::Supplier) && a.supplier_org_id == caller.org_id) {
        return Err(AppError::Forbidden(
            "only the agreement's supplier may approve it".into(),
        ));
    }
    let t = now();
    let txn = state.db.begin().await?;
    let res = txn
        .execute_raw(sql(
            &txn,
            "UPDATE agreements SET status = 'active', approved_by = $1, approved_at = $2, updated_at = $2 WHERE id = $3 AND status = 'proposed'",
            vec![caller.user_id.clone().into(), t.into(), a.id.clone().into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        txn.rollback().await?;
        return Err(AppError::Conflict(format!(
            "cannot approve an agreement that is {}",
            a.status
        )));
    }
    outbox::enqueue_to_org(
        &txn,
        &a.buyer_org_id,
        &format!("Standing agreement {} approved", a.id),
        &format!(
            "The supplier approved standing agreement {}; orders start on {}.\n",
            a.id, a.starts_on
        ),
    )
    .await?;
    txn.commit().await?;
    get(state, caller, id).await
}

/// Either party cancels a proposed or active agreement; no further periods are placed.
pub async fn cancel(state: &AppState, caller: &Caller, id: &str) -> AppResult<Agreement> {
    let a = visible(&state.db, caller, id).await?;
    let party = (caller.is(Role::Supplier) && a.supplier_org_id == caller.org_id)
        || (caller.is(Role::Buyer) && a.buyer_org_id == caller.org_id);
    if !party {
        return Err(AppError::Forbidden(
            "only the agreement's buyer or supplier may cancel it".into(),
        ));
    }
    let db = &state.db;
    let res = db
        .execute_raw(sql(
            db,
            "UPDATE agreements SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND status IN ('proposed', 'active')",
            vec![now().into(), a.id.clone().into()],
        ))
        .await?;
    if res.rows_affected() != 1 {
        return Err(AppError::Conflict(format!(
            "cannot cancel an agreement that is {}",
            a.status
        )));
    }
    get(state, caller, id).await
}

/// The periods of `a` that have started by `upto` (first days, in order).
pub fn due_periods(a: &agreements::Model, upto: chrono::NaiveDate) -> Vec<chrono::NaiveDate> {
    let last = upto.min(a.ends_on);
    let mut out = Vec::new();
    for n in 0u32..2000 {
        let start = if a.every == "week" {
            a.starts_on.checked_add_days(chrono::Days::new(7 * n as u64))
        } else {
            a.starts_on.checked_add_months(chrono::Months::new(n))
        };
        match start {
            Some(s) if s <= last => out.push(s),
            _ => break,
        }
    }
    out
}

/// Places every due period's order of every active agreement (admin trigger and scheduled job).
pub async fn run_due(state: &AppState) -> AppResult<RunSummary> {
    let db = &state.db;
    let today = today();
    let active = agreements::Entity::find()
        .filter(agreements::Column::Status.eq("active"))
        .filter(agreements::Column::StartsOn.lte(today))
        .all(db)
        .await?;
    let mut sum = RunSummary::default();
    for a in active {
        let done: Vec<String> = runs_of(db, &a.id).await?.into_iter().map(|r| r.period).collect();
        for start in due_periods(&a, today) {
            let period = start.to_string();
            if done.contains(&period) {
                sum.skipped += 1;
                continue;
            }
            run_period(state, &a, start, &period, &mut sum).await?;
        }
    }
    Ok(sum)
}

async fn run_period(
    state: &AppState,
    a: &agreements::Model,
    start: chrono::NaiveDate,
    period: &str,
    sum: &mut RunSummary,
) -> AppResult<()> {
    let db = &state.db;
    let lines: Vec<AgreementLine> = serde_json::from_str(&a.lines).map_err(AppError::internal)?;
    let caller = Caller {
        user_id: a.created_by.clone().unwrap_or_default(),
        org_id: a.buyer_org_id.clone(),
        role: Role::Buyer,
        jti: String::new(),
        exp: 0,
    };
    let req = NewOrder {
        lines: lines
            .iter()
            .map(|l| NewOrderLine {
                product_id: l.product_id.clone(),
                quantity: l.quantity,
            })
            .collect(),
        credit_category: a.credit_category.clone(),
        pairing_id: a.pairing_id.clone(),
        deliver_to: a.deliver_to.clone(),
        requested_date: start,
    };
    let key = format!("agreement:{}:{}", a.id, period);
    let source = OrderSource::Agreement {
        agreement_id: a.id.clone(),
        period: period.to_string(),
    };
    let insert_run = "INSERT INTO agreement_runs (id, agreement_id, period, status, order_id, shortfall, created_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (agreement_id, period) DO NOTHING";
    match orders::place_order(state, &caller, req, &key, source).await {
        Ok(placed) => {
            db.execute_raw(sql(
                db,
                insert_run,
                vec![
                    new_id().into(),
                    a.id.clone().into(),
                    period.into(),
                    "placed".into(),
                    Some(placed.order.id.clone()).into(),
                    Option::<String>::None.into(),
                    now().into(),
                ],
            ))
            .await?;
            // The order is this run's when it was not a replay (a racing generator may have
            // recorded the run row first; either row names the same order).
            if placed.replayed {
                sum.skipped += 1;
            } else {
                sum.placed += 1;
            }
        }
        Err(AppError::Validation { errors, .. }) => {
            let txn = db.begin().await?;
            let res = txn
                .execute_raw(sql(
                    &txn,
                    insert_run,
                    vec![
                        new_id().into(),
                        a.id.clone().into(),
                        period.into(),
                        "shortfall".into(),
                        Option::<String>::None.into(),
                        Some(
                            serde_json::to_string(
                                &errors
                                    .iter()
                                    .map(|e| Shortfall {
                                        field: e.field.clone(),
                                        message: e.message.clone(),
                                    })
                                    .collect::<Vec<_>>(),
                            )
                            .map_err(AppError::internal)?,
                        )
                        .into(),
                        now().into(),
                    ],
                ))
                .await?;
            if res.rows_affected() == 1 {
                let mut body = format!(
                    "The order of standing agreement {} for the period starting {} could not be placed:\n\n",
                    a.id, period
                );
                for e in &errors {
                    body.push_str(&format!("- {}: {}\n", e.field, e.message));
                }
                outbox::enqueue_to_org(
                    &txn,
                    &a.buyer_org_id,
                    &format!("Shortfall on standing agreement {} ({period})", a.id),
                    &body,
                )
                .await?;
                sum.shortfalls += 1;
            } else {
                sum.skipped += 1;
            }
            txn.commit().await?;
        }
        Err(e) => {
            tracing::warn!(agreement = %a.id, period, error = %e, "standing order not placed; will retry");
        }
    }
    Ok(())
}

/// Runs the generator now (admin).
pub async fn run_now(state: &AppState, caller: &Caller) -> AppResult<RunSummary> {
    caller.require(&[Role::Admin])?;
    run_due(state).await
}
