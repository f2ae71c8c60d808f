//! The scan: evaluates every certified product with stock and decides which
//! alerts open, rise or resolve; the writes go in chunks of one transaction each.
use super::changes::{open_batch, raise_alert, resolve_alert, Opening};
use super::evaluate::evaluate;
use super::matching::Matcher;
use super::rules::{load_rules, Rule};
use super::signals::signals_and_reports;
use super::{queries, stored};
use crate::auth::{Caller, Role};
use crate::domain::{AlertId, AlertLevel, AlertReason, ProductId};
use crate::error::{AppError, AppResult};
use crate::services::now;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::TransactionTrait;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// Changes written per transaction by the scan.
const CHUNK: usize = 200;

#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct ScanSummary {
    /// Products evaluated (certified, with stock).
    pub scanned: i64,
    pub opened: i64,
    pub raised: i64,
    pub resolved: i64,
}

enum Change {
    Open(Opening),
    Raise(AlertId, AlertLevel, Opening),
    Resolve(AlertId, ProductId, &'static str),
}

/// One scan over every certified product with stock.
pub async fn scan(state: &AppState) -> AppResult<ScanSummary> {
    scan_with_links(&state.db, now(), Some(state.settings.public_url())).await
}

/// Admin-only manual scan.
pub async fn scan_now(state: &AppState, caller: &Caller) -> AppResult<ScanSummary> {
    caller.require(&[Role::Admin])?;
    scan(state).await
}

/// The unresolved alert of each product: (alert, level).
async fn unresolved(db: &sea_orm::DatabaseConnection) -> AppResult<HashMap<ProductId, (AlertId, AlertLevel)>> {
    let mut open = HashMap::new();
    for (id, product, rank) in queries::unresolved_alerts(db).await? {
        let level = AlertLevel::from_rank(rank)
            .ok_or_else(|| AppError::internal(format!("alert {id} has level rank {rank}")))?;
        open.insert(stored(&product, "product id")?, (stored(&id, "alert id")?, level));
    }
    Ok(open)
}

/// How long a person's resolution holds: within it the scan opens no new alert for the product
/// unless the level would be higher than the one resolved (else each scan reopened it, and
/// emailed every matched buyer and the county office again).
pub const RESOLUTION_HOLDS_DAYS: i64 = 7;

/// The highest level a person resolved per product within [`RESOLUTION_HOLDS_DAYS`] of `at`.
async fn held(db: &sea_orm::DatabaseConnection, at: DateTime<Utc>) -> AppResult<HashMap<ProductId, AlertLevel>> {
    let since = at - chrono::Duration::days(RESOLUTION_HOLDS_DAYS);
    let mut out: HashMap<ProductId, AlertLevel> = HashMap::new();
    for (product, rank) in queries::resolved_by_hand_since(db, since).await? {
        let Some(level) = AlertLevel::from_rank(rank) else {
            continue;
        };
        let e = out.entry(stored(&product, "product id")?).or_insert(level);
        if level > *e {
            *e = level;
        }
    }
    Ok(out)
}

/// The scan as of `at` (the benchmark and tests may pass another time); its emails carry
/// paths, not links.
pub async fn scan_at(db: &sea_orm::DatabaseConnection, at: DateTime<Utc>) -> AppResult<ScanSummary> {
    scan_with_links(db, at, None).await
}

/// The scan as of `at`, with email links built from `links` (`ASSIST_PUBLIC_URL`).
async fn scan_with_links(
    db: &sea_orm::DatabaseConnection,
    at: DateTime<Utc>,
    links: Option<crate::config::PublicUrl>,
) -> AppResult<ScanSummary> {
    let rules = load_rules(db).await?;
    let (signals, reports) = signals_and_reports(db, at).await?;
    let open = unresolved(db).await?;
    let held = held(db, at).await?;
    let mut summary = ScanSummary {
        scanned: signals.len() as i64,
        ..Default::default()
    };
    let mut changes = Vec::new();
    let mut seen = HashSet::with_capacity(signals.len());
    for signal in signals {
        let rule = rules.get(&signal.category).copied().unwrap_or(Rule::FALLBACK);
        let eval = evaluate(&signal, &rule);
        seen.insert(signal.product_id);
        match (open.get(&signal.product_id), eval.level) {
            // A supplier's new unsold report is news the resolution did not weigh: it opens one.
            (None, Some(level))
                if held.get(&signal.product_id).is_some_and(|h| level <= *h)
                    && !eval.reasons.iter().any(|r| r.code == AlertReason::UnsoldReport) => {}
            (None, Some(level)) => changes.push(Change::Open(Opening { signal, eval, level })),
            (Some((id, _)), None) => changes.push(Change::Resolve(
                *id,
                signal.product_id,
                "resolved by the scan: every signal is back under its threshold",
            )),
            (Some((id, from)), Some(level)) if level > *from => {
                changes.push(Change::Raise(*id, *from, Opening { signal, eval, level }))
            }
            _ => {}
        }
    }
    for (pid, (id, _)) in &open {
        if !seen.contains(pid) {
            changes.push(Change::Resolve(
                *id,
                *pid,
                "resolved by the scan: no stock left to sell, the product is no longer certified, or its supplier is suspended",
            ));
        }
    }
    if changes.is_empty() {
        return Ok(summary);
    }
    let needs_matching = changes.iter().any(|c| !matches!(c, Change::Resolve(..)));
    let matcher = if needs_matching {
        let mut m = Matcher::load(db, crate::services::clock::year(at)).await?;
        m.links = links;
        Some(m)
    } else {
        None
    };
    let mut iter = changes.into_iter().peekable();
    while iter.peek().is_some() {
        let chunk: Vec<Change> = iter.by_ref().take(CHUNK).collect();
        let txn = db.begin().await?;
        let mut opens = Vec::new();
        for c in chunk {
            match c {
                Change::Open(o) => opens.push(o),
                Change::Raise(id, from, o) => {
                    if let Some(m) = &matcher {
                        if raise_alert(&txn, m, id, from, &o, at).await? {
                            summary.raised += 1;
                        }
                    }
                }
                Change::Resolve(id, pid, note) => {
                    let weighed = queries::Weighed::Only(reports.get(&pid).map_or(&[], Vec::as_slice));
                    if resolve_alert(&txn, id, None, note, weighed, at).await? {
                        summary.resolved += 1;
                    }
                }
            }
        }
        if let Some(m) = &matcher {
            summary.opened += open_batch(&txn, m, &opens, at).await?;
        }
        txn.commit().await?;
    }
    Ok(summary)
}
