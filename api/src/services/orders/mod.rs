//! Bulk orders, the supplier-order lifecycle, acceptance into the ledger,
//! returns and ratings.
//!
//! `place_order` is the one path that creates orders: `POST /orders`, standing
//! agreements and alert pledges all call it with their own transaction, so
//! validation, stock reservation and idempotency are the same everywhere and
//! whatever they write beside the order commits with it.
mod accept;
mod accept_queries;
mod after_sale;
mod after_sale_queries;
mod keyed;
mod lifecycle;
mod place;
mod queries;
mod read;
mod return_parts;
mod returns;
mod suspended;
mod types;
mod write;

pub use accept::{accept, accept_as, AcceptLine, Acceptance};
pub use after_sale::{
    get_rating, get_return, list_ratings, list_returns, may_list_ratings, may_read_after_sale, RatingPage, ReturnPage,
};
pub use lifecycle::{
    may_act, may_act_as_buyer, may_act_as_supplier, ship, ship_as, transition, transition_as, Acting, Action,
    ActionNote,
};
pub use place::{place_direct, place_order, place_order_keyed, stock_changed, sweep_expired_keys, KEY_TTL_HOURS};
pub use read::{
    get_order, get_supplier_order, list_orders, list_supplier_orders, may_list_orders, may_list_supplier_orders,
    SupplierOrderFilter,
};
pub use returns::{create_return, rate, NewRating, NewReturn, Rating, Return, ReturnLine, ReturnedLine};
pub use types::{
    IdempotencyKey, NewOrder, NewOrderLine, Order, OrderLine, OrderSource, Placed, Purchaser, SupplierOrder,
};

crate::page_type!(OrderPage, Order);
crate::page_type!(SupplierOrderPage, SupplierOrder);
