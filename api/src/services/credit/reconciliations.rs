//! Yearly reconciliation statements (每年对账) of a pairing: made by either side or
//! the admin over the ledger up to its head, confirmed once by each side, then locked.
//! A newer statement supersedes the pending ones of the same pairing and year.
use super::pairings::{find_pairing, sees_pairing};
use super::queries;
use super::reconciliation_queries as rq;
use super::{check_year, net, stored_id, Split, SplitFilter};
use crate::auth::{Caller, Role};
use crate::domain::{Money, PairingId, ReconciliationId, ReconciliationStatus, SignedMoney, UserId};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{ledger, now, paginate, PageParams};
use crate::state::AppState;
use entity::{pairings, reconciliations};
use sea_orm::{Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReconciliation {
    /// The pairing's year.
    pub year: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerRange {
    /// The statement covers the chain from this seq ...
    pub from_seq: i64,
    /// ... up to and including this seq (the head when the statement was made).
    pub to_seq: i64,
    /// The hash of entry `to_seq` (the genesis hash for an empty ledger).
    pub head_hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Adjustments {
    /// The locked statement these adjustments follow (none for a first statement).
    pub after_reconciliation_id: Option<ReconciliationId>,
    /// Reversals from this seq on are counted here.
    pub from_seq: Option<i64>,
    /// Net amounts (negative) of reversals appended after that locked statement that touch the year's credits.
    pub purchase: SignedMoney,
    pub helped_sale: SignedMoney,
    pub total: SignedMoney,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciliation {
    pub id: ReconciliationId,
    pub pairing_id: PairingId,
    pub year: i32,
    pub status: ReconciliationStatus,
    pub purchase: SignedMoney,
    pub helped_sale: SignedMoney,
    pub total: SignedMoney,
    pub purchase_target: Money,
    pub helped_sale_target: Money,
    pub purchase_count: i64,
    pub helped_sale_count: i64,
    pub entry_count: i64,
    pub ledger: LedgerRange,
    pub adjustments: Adjustments,
    pub helper_confirmed_by: Option<UserId>,
    pub helper_confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub county_confirmed_by: Option<UserId>,
    pub county_confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub locked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_by: UserId,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(ReconciliationPage, Reconciliation);

fn status_of(m: &reconciliations::Model) -> AppResult<ReconciliationStatus> {
    ReconciliationStatus::parse(&m.status).ok_or_else(|| AppError::internal("stored reconciliation status unknown"))
}

fn opt_id<T: std::str::FromStr>(s: Option<&str>) -> AppResult<Option<T>> {
    s.map(stored_id).transpose()
}

fn sum(a: i64, b: i64, what: &str) -> AppResult<SignedMoney> {
    net(a, what)?
        .checked_add(net(b, what)?)
        .map_err(|e| super::too_large(what, e))
}

fn reconciliation_view(m: reconciliations::Model, p: &pairings::Model) -> AppResult<Reconciliation> {
    let count = |a: i64, b: i64| {
        a.checked_add(b)
            .ok_or_else(|| AppError::internal("entry count out of range"))
    };
    Ok(Reconciliation {
        id: stored_id(&m.id)?,
        pairing_id: stored_id(&m.pairing_id)?,
        year: m.year,
        status: status_of(&m)?,
        purchase: net(m.purchase_fen, "purchase amount")?,
        helped_sale: net(m.helped_sale_fen, "helped-sale amount")?,
        total: sum(m.purchase_fen, m.helped_sale_fen, "total")?,
        purchase_target: Money::from_minor(p.purchase_target_fen).map_err(AppError::internal)?,
        helped_sale_target: Money::from_minor(p.helped_sale_target_fen).map_err(AppError::internal)?,
        purchase_count: m.purchase_count,
        helped_sale_count: m.helped_sale_count,
        entry_count: count(m.purchase_count, m.helped_sale_count)?,
        ledger: LedgerRange {
            from_seq: m.seq_from,
            to_seq: m.seq_to,
            head_hash: m.head_hash,
        },
        adjustments: Adjustments {
            after_reconciliation_id: opt_id(m.previous_locked_id.as_deref())?,
            from_seq: m.adjustment_from_seq,
            purchase: net(m.adjustment_purchase_fen, "adjustment")?,
            helped_sale: net(m.adjustment_helped_sale_fen, "adjustment")?,
            total: sum(m.adjustment_purchase_fen, m.adjustment_helped_sale_fen, "adjustment")?,
            count: m.adjustment_count,
        },
        helper_confirmed_by: opt_id(m.helper_confirmed_by.as_deref())?,
        helper_confirmed_at: m.helper_confirmed_at,
        county_confirmed_by: opt_id(m.county_confirmed_by.as_deref())?,
        county_confirmed_at: m.county_confirmed_at,
        locked_at: m.locked_at,
        created_by: stored_id(&m.created_by)?,
        created_at: m.created_at,
    })
}

/// Refuses (409) when the tree up to `seq` no longer verifies or no longer has the root `hash`.
async fn check_range(state: &AppState, seq: i64, hash: &str) -> AppResult<String> {
    let vk = ledger::checkpoint::parse_verifier_key(&state.ledger_key.verifier_key()).map_err(AppError::internal)?;
    let v = ledger::verify::verify_upto_recorded(&state.db, &vk, seq).await?;
    if !v.ok || v.tree_size != seq {
        return Err(AppError::Conflict(format!(
            "the ledger range 1..{seq} this statement covers no longer verifies (first bad entry: seq {}); \
             the ledger has been altered and the statement cannot be confirmed",
            v.first_bad_seq.unwrap_or(v.tree_size + 1)
        )));
    }
    if v.head_hash != hash {
        return Err(AppError::Conflict(format!(
            "the ledger range 1..{seq} this statement covers no longer ends in the hash it recorded; \
             the ledger has been altered and the statement cannot be confirmed"
        )));
    }
    Ok(v.head_hash)
}

/// Whether the caller may make a statement of the pairing (403 for other roles, 404 when it
/// cannot see the pairing), checked before the body is read: authorise, then validate.
pub async fn may_reconcile(state: &AppState, caller: &Caller, pairing_id: PairingId) -> AppResult<()> {
    caller.require(&[Role::Admin, Role::Buyer, Role::Certifier])?;
    find_pairing(state, caller, pairing_id).await.map(drop)
}

pub async fn create_reconciliation(
    state: &AppState,
    caller: &Caller,
    pairing_id: PairingId,
    body: NewReconciliation,
) -> AppResult<Reconciliation> {
    caller.require(&[Role::Admin, Role::Buyer, Role::Certifier])?;
    let p = find_pairing(state, caller, pairing_id).await?;
    let mut errors = Vec::new();
    check_year(&mut errors, "year", body.year);
    if errors.is_empty() && body.year != p.year {
        errors.push(FieldError::new("year", format!("the pairing is for {}", p.year)));
    }
    AppError::check(errors)?;
    let db = &state.db;
    // The statement pins a signed checkpoint that covers every entry committed so far.
    if let Err(e) = ledger::sequence(state).await {
        tracing::info!(error = %e, "sequencing before a statement (another sequencer may have run)");
    }
    let (head_seq, head_hash) = queries::ledger_head(db).await?;
    check_range(state, head_seq, &head_hash).await?;
    let helpers = queries::with_children(db, &p.helper_org_id).await?;
    let mut filter = SplitFilter {
        county: Some(&p.helped_region_code),
        max_seq: Some(head_seq),
        reversals_after: None,
    };
    let totals = queries::split_sums(db, p.year, &helpers, filter.clone()).await?;
    // One transaction holding the pairing: the last locked statement, the adjustments after it,
    // the insert and the superseding. A confirmation of the pairing's statements waits for it
    // (or it for the confirmation), so a statement locked meanwhile is never superseded nor
    // missed as the baseline of the adjustments.
    let txn = db.begin().await?;
    rq::hold_pairing(&txn, pairing_id).await?;
    let prev = rq::last_locked(&txn, pairing_id, p.year).await?;
    let adj = match &prev {
        Some(prev) => {
            filter.reversals_after = Some(prev.seq_to);
            queries::split_sums(&txn, p.year, &helpers, filter).await?
        }
        None => Split::default(),
    };
    let id = ReconciliationId::new();
    let adjustment_count = adj
        .purchase_count
        .checked_add(adj.helped_sale_count)
        .ok_or_else(|| AppError::internal("entry count out of range"))?;
    let m = rq::insert_reconciliation(
        &txn,
        reconciliations::ActiveModel {
            id: Set(id.to_string()),
            pairing_id: Set(p.id.clone()),
            year: Set(p.year),
            status: Set(ReconciliationStatus::Pending.as_str().to_string()),
            purchase_fen: Set(totals.purchase_fen),
            helped_sale_fen: Set(totals.helped_sale_fen),
            purchase_count: Set(totals.purchase_count),
            helped_sale_count: Set(totals.helped_sale_count),
            seq_from: Set(1),
            seq_to: Set(head_seq),
            head_hash: Set(head_hash),
            previous_locked_id: Set(prev.as_ref().map(|r| r.id.clone())),
            adjustment_from_seq: Set(prev.as_ref().map(|r| r.seq_to + 1)),
            adjustment_purchase_fen: Set(adj.purchase_fen),
            adjustment_helped_sale_fen: Set(adj.helped_sale_fen),
            adjustment_count: Set(adjustment_count),
            created_by: Set(caller.user_id.to_string()),
            created_at: Set(now()),
            helper_confirmed_by: Set(None),
            helper_confirmed_at: Set(None),
            county_confirmed_by: Set(None),
            county_confirmed_at: Set(None),
            locked_at: Set(None),
        },
    )
    .await?;
    // The newest statement supersedes every older pending one of the same pairing and year.
    rq::supersede_older(&txn, pairing_id, p.year, id).await?;
    // Ids are time-ordered but taken before the pairing is held: a statement with an older id
    // written after a newer one supersedes itself, so that exactly the newest stays pending.
    let m = if rq::newer_exists(&txn, pairing_id, p.year, id).await? {
        rq::supersede(&txn, id).await?;
        rq::reconciliation(&txn, id)
            .await?
            .ok_or(AppError::NotFound("reconciliation"))?
    } else {
        m
    };
    txn.commit().await?;
    reconciliation_view(m, &p)
}

async fn find_reconciliation(
    state: &AppState,
    caller: &Caller,
    id: ReconciliationId,
) -> AppResult<(reconciliations::Model, pairings::Model)> {
    let r = rq::reconciliation(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("reconciliation"))?;
    let p = queries::pairing(&state.db, stored_id(&r.pairing_id)?)
        .await?
        .ok_or(AppError::NotFound("reconciliation"))?;
    if !sees_pairing(state, caller, &p).await? {
        return Err(AppError::NotFound("reconciliation"));
    }
    Ok((r, p))
}

pub async fn get_reconciliation(state: &AppState, caller: &Caller, id: ReconciliationId) -> AppResult<Reconciliation> {
    let (r, p) = find_reconciliation(state, caller, id).await?;
    reconciliation_view(r, &p)
}

pub async fn list_reconciliations(
    state: &AppState,
    caller: &Caller,
    pairing_id: PairingId,
    page: &PageParams,
) -> AppResult<(Vec<Reconciliation>, Option<String>)> {
    let p = find_pairing(state, caller, pairing_id).await?;
    let limit = page.limit()?;
    let rows = rq::list_reconciliations(&state.db, pairing_id, page.cursor()?, limit).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(|r| reconciliation_view(r, &p))
        .collect::<AppResult<Vec<_>>>()?;
    Ok((items, next))
}

const SUPERSEDED: &str = "this statement was superseded by a newer one; confirm the newest statement";

/// One side confirms: the helper organisation (buyer) or the helped county's office
/// (certifier). Admin and evaluators are refused (forbidden: not a party); any other
/// organisation gets not-found (the statement is not theirs to see).
pub async fn confirm(state: &AppState, caller: &Caller, id: ReconciliationId) -> AppResult<Reconciliation> {
    caller.require(&[Role::Buyer, Role::Certifier])?;
    let (r, p) = find_reconciliation(state, caller, id).await?;
    let helper_side = caller.role == Role::Buyer;
    let side = if helper_side {
        "the helper organisation"
    } else {
        "the helped county office"
    };
    let already = if helper_side {
        r.helper_confirmed_at.is_some()
    } else {
        r.county_confirmed_at.is_some()
    };
    // Confirmed by both sides but still pending (the two writes were once separate and the
    // second could fail): a confirmation by either side retries the lock.
    let unlocked = r.helper_confirmed_at.is_some()
        && r.county_confirmed_at.is_some()
        && status_of(&r)? == ReconciliationStatus::Pending;
    if already && !unlocked {
        return Err(AppError::Conflict(format!(
            "{side} has already confirmed this statement"
        )));
    }
    match status_of(&r)? {
        ReconciliationStatus::Superseded => return Err(AppError::Conflict(SUPERSEDED.into())),
        s if !s.can_become(ReconciliationStatus::Locked) => {
            return Err(AppError::Conflict(format!("the statement is {s}")))
        }
        _ => {}
    }
    check_range(state, r.seq_to, &r.head_hash).await?;
    let db = &state.db;
    let t = now();
    let by: UserId = stored_id(&caller.user_id.to_string())?;
    // The confirmation and the lock are one statement, under the pairing a new statement holds.
    let txn = db.begin().await?;
    rq::hold_pairing(&txn, stored_id(&r.pairing_id)?).await?;
    let done = if unlocked {
        rq::lock_if_confirmed(&txn, id, t).await?
    } else {
        rq::confirm_side(&txn, id, helper_side, by, t).await?
    };
    let m = rq::reconciliation(&txn, id)
        .await?
        .ok_or(AppError::NotFound("reconciliation"))?;
    if !done {
        txn.rollback().await?;
        // Lost a race: another request of the same side confirmed, or a newer statement superseded it.
        return Err(AppError::Conflict(
            if status_of(&m)? == ReconciliationStatus::Superseded {
                SUPERSEDED.into()
            } else {
                format!("{side} has already confirmed this statement")
            },
        ));
    }
    txn.commit().await?;
    reconciliation_view(m, &p)
}
