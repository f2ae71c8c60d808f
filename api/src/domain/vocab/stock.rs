use super::vocabulary;

vocabulary!(
    /// Why a product's stock moved (one row of `stock_movements`).
    StockMovementKind {
        /// A lot was added.
        Lot = "lot",
        /// A supplier corrected the stock by hand.
        Adjustment = "adjustment",
        /// Accepted by a buyer: the goods left stock.
        Sale = "sale",
    }
);
