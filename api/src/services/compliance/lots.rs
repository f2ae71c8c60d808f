//! The 合格证 of a lot: given when the lot is recorded, or later
//! (`PUT /lots/{id}/compliance-certificate`), which makes a flagged lot available stock.
use super::{no_lot, queries, ComplianceCertificate};
use crate::auth::{Caller, Role};
use crate::domain::LotId;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::now;
use crate::services::products::Lot;
use crate::state::AppState;
use entity::{lots, products};
use sea_orm::{ConnectionTrait, Set, TransactionTrait};

/// The lot as it is after its certificate was recorded.
pub type CertifiedLot = Lot;

/// The field errors of an optional certificate in a new lot's body.
pub fn check_certificate(cert: &Option<ComplianceCertificate>) -> Vec<FieldError> {
    cert.as_ref()
        .map(|c| c.errors("compliance_certificate"))
        .unwrap_or_default()
}

/// Fills a new lot's certificate columns; flags it `uncertified_batch` when the product
/// requires a certificate and none was given.
pub fn flag_for_new_lot(am: &mut lots::ActiveModel, p: &products::Model, cert: Option<ComplianceCertificate>) {
    am.uncertified_batch = Set(p.compliance_certificate_required && cert.is_none());
    if let Some(c) = cert.map(ComplianceCertificate::cleaned) {
        am.cc_number = Set(Some(c.number));
        am.cc_issuer = Set(Some(c.issuer));
        am.cc_issued_on = Set(Some(c.issued_on));
        am.cc_trace_code = Set(c.trace_code);
        am.cc_url = Set(c.url);
        am.cc_recorded_at = Set(Some(now()));
    }
}

/// The lot and its product, when the caller's organisation supplies it (403 for other roles,
/// 404 for a lot of another supplier or none).
pub(super) async fn own_lot(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: LotId,
) -> AppResult<(lots::Model, products::Model)> {
    caller.require(&[Role::Supplier])?;
    let (lot, p) = queries::lot_with_product(conn, &id.to_string())
        .await?
        .ok_or_else(no_lot)?;
    if p.supplier_org_id != caller.org_id {
        return Err(no_lot());
    }
    Ok((lot, p))
}

/// Whether the caller may record the lot's certificate, checked before the body is read.
pub async fn may_certify_lot(state: &AppState, caller: &Caller, id: LotId) -> AppResult<()> {
    own_lot(&state.db, caller, id).await.map(drop)
}

/// Records (or corrects) the lot's certificate; a flagged lot becomes available stock. Once the
/// lot has shipped with a certificate, that certificate is what the buyer collected and what
/// its ledger entries name: it is no longer replaced (409), though the same one may be sent
/// again.
pub async fn record_certificate(
    state: &AppState,
    caller: &Caller,
    id: LotId,
    body: ComplianceCertificate,
) -> AppResult<CertifiedLot> {
    let (lot, _) = own_lot(&state.db, caller, id).await?;
    AppError::check(body.errors(""))?;
    let c = body.cleaned();
    let txn = state.db.begin().await?;
    // The lot's row held until this commits: a shipment writes it too, so none lands between
    // the check and the write.
    let held = queries::lock_lot(&txn, &lot.id).await?.ok_or_else(no_lot)?;
    let stored = ComplianceCertificate::of_lot(&held);
    if stored.as_ref() == Some(&c) {
        return Lot::from_model(held);
    }
    if let Some(s) = stored {
        if queries::has_shipped(&txn, &lot.id).await? {
            return Err(AppError::Conflict(format!(
                "the lot has shipped with 合格证 {}: the certificate its buyers collected stays on record and cannot be replaced",
                s.number
            )));
        }
    }
    if queries::set_certificate(&txn, &lot.id, &c, now()).await? != 1 {
        return Err(no_lot());
    }
    let lot = queries::find_lot(&txn, &lot.id).await?.ok_or_else(no_lot)?;
    txn.commit().await?;
    state.cache.bump_generation("catalog").await;
    Lot::from_model(lot)
}
