//! Expiring documents: a supplier's licences (recorded on the supplier organisation) and
//! the certificates stored on its products (each quality certificate in `certificates`, and
//! the county office's certification). The scheduled pass (`run`) reminds the supplier 90,
//! 30 and 7 days before a document expires and acts on the expiry, each step once per
//! document version (`document_reminders`, keyed by the document and the stage): an expired
//! product certificate sends its product back to review (out of the catalogue until a new
//! certificate is recorded and the county office certifies it again); an expired licence
//! suspends the supplier until a new licence is recorded, which reinstates it.
//!
//! Files: `record` (recording and listing licences, who may), `tracked` (every current
//! document, for the pass, the county offices' list and the scorecard), `run` (the pass),
//! `suspension` (suspending and reinstating), `queries` (the folder's statements).
mod queries;
mod record;
mod run;
mod suspension;
mod tracked;

pub use record::{
    list, may_list, may_record, record, supplier_named, NewDocument, SupplierDocument, SupplierDocumentList,
};
pub use run::{run_due, RunSummary};
pub use suspension::{admin_decided, expired_licence};
pub use tracked::{
    check_renewed, expiring, may_list_expiring, valid_counts, ExpiringDocument, ExpiringList, ExpiringQuery,
};
