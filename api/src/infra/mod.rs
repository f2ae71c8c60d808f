//! Connections to the outside: database, cache (Redis or in-process), mailer.
pub mod cache;
pub mod db;
pub mod gauges;
pub mod lru;
pub mod mailer;
pub mod metrics;
pub mod pool_wait;
