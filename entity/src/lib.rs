//! sea-orm entities, one file per table.

pub mod idempotency_keys;
pub mod job_locks;
pub mod ledger_entries;
pub mod ledger_head;
pub mod lots;
pub mod order_lines;
pub mod orders;
pub mod organizations;
pub mod outbox;
pub mod pairings;
pub mod product_events;
pub mod products;
pub mod quota_floors;
pub mod quotas;
pub mod reconciliations;
pub mod refresh_tokens;
pub mod regions;
pub mod stock_movements;
pub mod supplier_orders;
pub mod users;
