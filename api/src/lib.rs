//! Assist Market: certified products from poverty-stricken counties for
//! institutional buyers, the consumption-assistance ledger, unsold-produce alerts.
//!
//! Data flows one way: routes -> services -> entities/database. Jobs call services.
pub mod auth;
pub mod config;
pub mod conventions;
pub mod domain;
pub mod error;
pub mod infra;
pub mod jobs;
pub mod openapi;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
