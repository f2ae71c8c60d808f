//! The scheduled pass (leader-locked, see `jobs`): reminds suppliers 90, 30 and 7 days
//! before a document expires and acts on each expiry, every step once per document version.
use super::tracked::{collect, ExpiringDocument, Scope};
use super::{queries, suspension};
use crate::domain::{DocumentKind, DocumentStage};
use crate::error::AppResult;
use crate::services::{now, outbox, products};
use crate::state::AppState;
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, TransactionTrait};

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Reminders emailed (at most one per document per pass: the furthest stage reached).
    pub reminders: usize,
    /// Products sent back to review because a certificate expired.
    pub withdrawn: usize,
    /// Suppliers suspended because a licence expired.
    pub suspended: usize,
    /// Suppliers reinstated because a new licence was recorded.
    pub reinstated: usize,
    /// Documents or suppliers whose step failed (logged; tried again on the next pass).
    pub failed: usize,
}

fn describe(d: &ExpiringDocument) -> String {
    let what = match d.kind {
        DocumentKind::BusinessLicence => "business licence".to_string(),
        DocumentKind::FoodProductionLicence => "food production licence".to_string(),
        DocumentKind::FoodTradeLicence => "food trade licence".to_string(),
        DocumentKind::ProductCertificate => format!(
            "{} certificate of product {}",
            d.certificate_kind.map(|k| k.as_str()).unwrap_or("quality"),
            d.product_name.as_deref().unwrap_or("")
        ),
        DocumentKind::ProductCertification => {
            format!("certification of product {}", d.product_name.as_deref().unwrap_or(""))
        }
    };
    format!("{what} {}", d.number)
}

/// One pass for `day` (today, in the scheduled job). Safe to run again and from several
/// processes: each stage is claimed with a conditional insert keyed by the document version
/// and the stage, and its email queued (and its action taken) in the same transaction.
pub async fn run_due(state: &AppState, day: NaiveDate) -> AppResult<RunSummary> {
    let mut sum = RunSummary::default();
    for d in collect(&state.db, Scope::All, day).await? {
        let stages = DocumentStage::reached(d.days_left);
        if stages.is_empty() {
            continue;
        }
        // One document's failure must not hold back every later one's reminder or expiry.
        let mut done = sum;
        let outcome = async {
            let txn = state.db.begin().await?;
            step(&txn, &d, &stages, &mut done).await?;
            txn.commit().await?;
            AppResult::Ok(())
        };
        match outcome.await {
            Ok(()) => sum = done,
            Err(e) => {
                tracing::warn!(document = %d.key, error = %e, "document step failed");
                sum.failed += 1;
            }
        }
    }
    for org in suspension::suspended(&state.db).await? {
        let outcome = async {
            let txn = state.db.begin().await?;
            let renewed = suspension::reinstate_if_renewed(&txn, &org).await?;
            txn.commit().await?;
            AppResult::Ok(renewed)
        };
        match outcome.await {
            Ok(true) => sum.reinstated += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(org = %org, error = %e, "reinstating failed");
                sum.failed += 1;
            }
        }
    }
    if sum.withdrawn + sum.suspended + sum.reinstated > 0 {
        state.cache.bump_generation("catalog").await;
    }
    Ok(sum)
}

/// Claims each stage reached and not yet taken; emails the supplier once, for the furthest
/// of them (a pass that finds a document 20 days from expiry sends one email, not two).
async fn step(
    conn: &impl ConnectionTrait,
    d: &ExpiringDocument,
    stages: &[DocumentStage],
    sum: &mut RunSummary,
) -> AppResult<()> {
    let t = now();
    if !matches!(
        d.kind,
        DocumentKind::ProductCertificate | DocumentKind::ProductCertification
    ) {
        // A renewal of another licence, recorded at this moment, must see this one's expiry
        // (and not reinstate the supplier past it), or come first and be suspended after.
        queries::lock_org(conn, &d.supplier_org_id.to_string()).await?;
    }
    let mut newest = None;
    for s in stages {
        if queries::claim(conn, &d.key, *s, t).await? == 1 {
            newest = Some(*s);
        }
    }
    let Some(stage) = newest else { return Ok(()) };
    let what = describe(d);
    let org = d.supplier_org_id.to_string();
    let (subject, body) = if stage == DocumentStage::Expired {
        let consequence = match d.kind {
            DocumentKind::ProductCertificate => {
                let product = d.product_id.map(|p| p.to_string()).unwrap_or_default();
                let reason = format!(
                    "{what} expired on {}; record a new certificate for review",
                    d.valid_until
                );
                if products::lapse(conn, &product, &reason).await? {
                    sum.withdrawn += 1;
                }
                "The product has left the catalogue until you record a new certificate and the county office certifies it again."
            }
            DocumentKind::ProductCertification => {
                "The product has left the catalogue until the county office certifies it again."
            }
            _ => {
                if suspension::suspend(conn, &org, &d.key, &what).await? {
                    sum.suspended += 1;
                }
                "Your organisation is suspended until a new licence is recorded (send it to the platform)."
            }
        };
        (
            format!("Expired: {what}"),
            format!("Your {what} expired on {}.\n{consequence}\n", d.valid_until),
        )
    } else {
        (
            format!("Expires in {} days: {what}", d.days_left),
            format!(
                "Your {what} is valid until {} ({} days left). Record its renewal before then.\n",
                d.valid_until, d.days_left
            ),
        )
    };
    outbox::enqueue_to_org(conn, &org, &subject, &body).await?;
    sum.reminders += 1;
    Ok(())
}
