#![allow(clippy::unwrap_used, clippy::expect_used, clippy::field_reassign_with_default)]
//! Black-box tests over HTTP. One binary, one module per capability.
mod helpers;

mod accounts_security;
mod agreements;
mod alerts;
mod authz_matrix;
mod contract;
mod conventions;
mod credit;
mod deadlines;
mod faults_basic;
mod faults_infra;
mod flags;
mod flags_orders;
mod foundation;
mod house;
mod ledger;
mod ledger_log;
mod locations;
mod metrics;
mod orders;
mod outbox;
mod payments;
mod plans;
mod products;
mod read_back;
mod readme;
mod reports;
mod reports_pairing;
mod reports_xlsx;
mod supervision;
