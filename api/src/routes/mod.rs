//! HTTP routes, one module per resource. Handlers stay thin: parse, take the
//! caller, call a service, shape the response.
pub mod after_sale;
pub mod agreements;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod caller;
pub mod compliance;
pub mod console;
pub mod credit;
pub mod documents;
pub mod extract;
pub mod flags;
pub mod health;
pub mod ledger;
pub mod orders;
pub mod organizations;
pub mod outbox;
pub mod payments;
pub mod plans;
pub mod products;
pub mod regions;
pub mod reports;
pub mod scorecards;
pub mod supervision;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub fn api_v1(cfg: &mut ServiceConfig) {
    auth::configure(cfg);
    organizations::configure(cfg);
    regions::configure(cfg);
    orders::configure(cfg);
    after_sale::configure(cfg);
    ledger::configure(cfg);
    agreements::configure(cfg);
    products::configure(cfg);
    compliance::configure(cfg);
    alerts::configure(cfg);
    credit::configure(cfg);
    plans::configure(cfg);
    reports::configure(cfg);
    outbox::configure(cfg);
    audit::configure(cfg);
    payments::configure(cfg);
    supervision::configure(cfg);
    documents::configure(cfg);
    scorecards::configure(cfg);
    flags::configure(cfg);
}
