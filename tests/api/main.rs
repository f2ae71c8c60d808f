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
mod faults_basic;
mod faults_infra;
mod foundation;
mod house;
mod ledger;
mod orders;
mod outbox;
mod products;
mod reports;
