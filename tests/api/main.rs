#![allow(clippy::unwrap_used, clippy::expect_used, clippy::field_reassign_with_default)]
//! Black-box tests over HTTP. One binary, one module per capability.
mod helpers;

mod agreements;
mod alerts;
mod authz_matrix;
mod contract;
mod conventions;
mod credit;
mod deadlines;
mod faults_basic;
mod foundation;
mod house;
mod ledger;
mod orders;
mod payments;
mod plans;
mod products;
mod reports;
mod supervision;
