#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Black-box tests over HTTP. One binary, one module per capability.
mod helpers;

mod foundation;
mod credit;
mod reports;
