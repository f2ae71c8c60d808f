//! Payment terms, invoices, payments, the ageing report and reminders, and delivery
//! deadlines. This records what happened; no money moves through the service.
//!
//! Each supplier order has one `supplier_order_terms` row, written with the order
//! (`write_terms`): its terms (`prepay` | `on_account`), its payment days, whether the
//! SME regulation applies (a budget-unit buyer and an SME supplier), its latest delivery
//! date, and the running invoiced and paid totals that conditional updates guard (never
//! more invoiced than the order, never more paid than invoiced). The orders service calls
//! in at three points of the lifecycle (`sources_for`, `before_transition`,
//! `after_transition`) and when it reads supplier orders (`attach`).
mod ageing;
mod invoiceable;
mod lateness;
mod owed;
mod queries;
mod record;
mod reminders;
mod supervision;
mod terms;
mod types;

pub use ageing::{ageing, may_read_ageing, Ageing, AgeingAmounts, AgeingQuery, AgeingRow};
pub use invoiceable::{accepted_payable, after_return, fill_payable};
pub use lateness::{delivered_late, lateness_of_supplier, Lateness};
pub use record::{
    create_invoice, create_payment, list_invoices, list_payments, Invoice, InvoicePage, NewInvoice, NewPayment,
    Payment, PaymentPage,
};
pub use reminders::{run_due, RunSummary};
pub use terms::{
    after_transition, attach, attach_one, attach_rows, backdate_delivery, before_transition, is_budget_unit,
    payment_days, sources_for, terms_after, write_terms,
};
pub use types::SupplierOrderTerms;
