//! The vocabulary of the service: typed ids, an enum per state or kind (with its
//! transitions), and exact amounts (`Money`, `Quantity`, `Share`) with checked
//! arithmetic.
//!
//! This module uses nothing above it (no routes, services, HTTP or database
//! handles): every other layer speaks these types. Values are parsed into them
//! once, at the edge; a value of one of these types is valid by construction.
pub mod amount;
pub mod day;
pub mod ids;
pub mod vocab;

pub use amount::{AmountError, Money, Quantity, Share, SignedMoney, SignedQuantity, Weight, MAX_FEN, MAX_MILLI};
pub use ids::*;
pub use vocab::*;
