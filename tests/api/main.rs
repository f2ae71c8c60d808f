#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Black-box tests over HTTP. One binary, one module per capability.
mod helpers;

mod credit;
mod foundation;
mod reports;
