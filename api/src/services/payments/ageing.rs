//! `GET /payments/ageing`: what is invoiced and unpaid, and what was accepted on account and
//! not invoiced yet (due all the same, delivery plus the payment days), per buyer and
//! supplier, in buckets of days overdue, with the overdue part split by what it is late under.
use super::queries::{self, Open, Scope, Uninvoiced};
use super::terms::overdue_under;
use crate::auth::{Caller, Role};
use crate::domain::{LateUnder, Money, OrgId};
use crate::error::{AppError, AppResult};
use crate::services::supervision::{self, OrgSet};
use crate::services::{organizations, stored, today};
use crate::state::AppState;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct AgeingQuery {
    /// The day the report is drawn up for (default today).
    #[serde(default, deserialize_with = "crate::domain::day::de_opt")]
    pub as_of: Option<NaiveDate>,
}

/// Outstanding amounts by days overdue.
#[derive(Debug, Clone, Serialize, ToSchema, Default, PartialEq)]
pub struct AgeingAmounts {
    /// Not yet due.
    pub current: Money,
    pub days_1_30: Money,
    pub days_31_60: Money,
    pub days_61_90: Money,
    pub over_90: Money,
    pub total: Money,
    /// Overdue by a budget unit to an SME supplier: late under 保障中小企业款项支付条例.
    pub overdue_under_regulation: Money,
    /// Overdue under the contract's own terms only.
    pub overdue_under_contract: Money,
    /// The part of `total` accepted on account and not invoiced yet (in the buckets by its
    /// due date, delivery plus the payment days): an unpaid delivery shows whether or not
    /// it was invoiced.
    pub not_invoiced: Money,
}

impl AgeingAmounts {
    fn add(&mut self, fen: i64, overdue_days: i64, under: Option<LateUnder>, invoiced: bool) -> AppResult<()> {
        let m = Money::from_minor(fen).map_err(AppError::internal)?;
        let plus = |a: Money| a.checked_add(m).map_err(AppError::internal);
        let bucket = match overdue_days {
            d if d <= 0 => &mut self.current,
            1..=30 => &mut self.days_1_30,
            31..=60 => &mut self.days_31_60,
            61..=90 => &mut self.days_61_90,
            _ => &mut self.over_90,
        };
        *bucket = plus(*bucket)?;
        self.total = plus(self.total)?;
        if !invoiced {
            self.not_invoiced = plus(self.not_invoiced)?;
        }
        match under {
            Some(LateUnder::Regulation) => self.overdue_under_regulation = plus(self.overdue_under_regulation)?,
            Some(LateUnder::Contract) => self.overdue_under_contract = plus(self.overdue_under_contract)?,
            None => {}
        }
        Ok(())
    }
}

/// One buyer and supplier pair: for a buyer, one row per supplier it owes; for a supplier,
/// one per buyer that owes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgeingRow {
    pub buyer_org_id: OrgId,
    pub buyer_name: String,
    pub supplier_org_id: OrgId,
    pub supplier_name: String,
    /// Supplier orders with an unpaid invoice, or accepted on account and not invoiced in full.
    pub supplier_orders: u32,
    /// Of those, accepted on account and not invoiced in full yet.
    pub not_invoiced_orders: u32,
    pub amounts: AgeingAmounts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ageing {
    pub as_of: NaiveDate,
    pub items: Vec<AgeingRow>,
    pub totals: AgeingAmounts,
}

/// Buyers (their payables and their children's), suppliers (their receivables), supervisors
/// (the budget units of their region), admin and evaluators (everything). Checked before the
/// query is read.
pub fn may_read_ageing(caller: &Caller) -> AppResult<()> {
    caller.require(&[
        Role::Buyer,
        Role::Supplier,
        Role::Supervisor,
        Role::Admin,
        Role::Evaluator,
    ])
}

pub async fn ageing(state: &AppState, caller: &Caller, q: &AgeingQuery) -> AppResult<Ageing> {
    may_read_ageing(caller)?;
    let as_of = q.as_of.unwrap_or_else(today);
    let scope = match caller.role {
        Role::Buyer => Scope::Buyers(OrgSet::Ids(
            organizations::with_children(&state.db, &caller.org_id).await?,
        )),
        Role::Supplier => Scope::Supplier(caller.org_id.to_string()),
        Role::Supervisor => {
            let region = supervision::region_of(&state.db, caller).await?;
            Scope::Buyers(supervision::scope_orgs(&region, true))
        }
        _ => Scope::All,
    };
    let open = queries::outstanding(&state.db, scope.clone()).await?;
    let uninvoiced = queries::uninvoiced(&state.db, scope).await?;
    build(state, as_of, open, uninvoiced).await
}

/// A supplier order's line of the report: who owes whom, how much, when due, and whether
/// it is invoiced.
struct Owed {
    id: String,
    buyer: String,
    supplier: String,
    fen: i64,
    due_on: Option<NaiveDate>,
    regulated: bool,
    invoiced: bool,
}

fn owed(open: Vec<Open>, uninvoiced: Vec<Uninvoiced>) -> Vec<Owed> {
    let mut out: Vec<Owed> = open
        .into_iter()
        .map(|o| Owed {
            id: o.id,
            fen: o.owed_fen,
            buyer: o.buyer_org_id,
            supplier: o.supplier_org_id,
            due_on: o.due_on,
            regulated: o.regulated,
            invoiced: true,
        })
        .collect();
    out.extend(uninvoiced.into_iter().map(|u| Owed {
        due_on: u.due_on.or_else(|| {
            u.delivered_on
                .map(|d| d + chrono::Duration::days(i64::from(u.payment_days)))
        }),
        id: u.id,
        fen: u.not_invoiced_fen,
        buyer: u.buyer_org_id,
        supplier: u.supplier_org_id,
        regulated: u.regulated,
        invoiced: false,
    }));
    out
}

async fn build(state: &AppState, as_of: NaiveDate, open: Vec<Open>, uninvoiced: Vec<Uninvoiced>) -> AppResult<Ageing> {
    // A supplier order invoiced in part has a line of each kind: it counts once.
    let mut pairs: BTreeMap<(String, String), (BTreeSet<String>, u32, AgeingAmounts)> = BTreeMap::new();
    let mut totals = AgeingAmounts::default();
    for o in owed(open, uninvoiced) {
        let days = o.due_on.map(|d| (as_of - d).num_days()).unwrap_or(0);
        let under = overdue_under(o.regulated, o.due_on, as_of);
        let e = pairs.entry((o.buyer, o.supplier)).or_default();
        e.0.insert(o.id);
        e.2.add(o.fen, days, under, o.invoiced)?;
        totals.add(o.fen, days, under, o.invoiced)?;
        if !o.invoiced {
            e.1 += 1;
        }
    }
    let mut ids: Vec<String> = pairs.keys().flat_map(|(b, s)| [b.clone(), s.clone()]).collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<String, String> = queries::orgs_by_ids(&state.db, ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    let items = pairs
        .into_iter()
        .map(|((b, s), (orders, not_invoiced_orders, amounts))| {
            Ok(AgeingRow {
                buyer_name: name(&b),
                supplier_name: name(&s),
                buyer_org_id: stored(&b)?,
                supplier_org_id: stored(&s)?,
                supplier_orders: u32::try_from(orders.len()).unwrap_or(u32::MAX),
                not_invoiced_orders,
                amounts,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok(Ageing { as_of, items, totals })
}
