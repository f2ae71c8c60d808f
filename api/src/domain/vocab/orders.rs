use super::vocabulary;

vocabulary!(
    /// The state of one supplier's part of an order.
    SupplierOrderStatus {
        Placed = "placed",
        Confirmed = "confirmed",
        Shipped = "shipped",
        Delivered = "delivered",
        /// Accepted by the buyer: credited to the ledger.
        Accepted = "accepted",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
);

impl SupplierOrderStatus {
    /// The lifecycle: placed → confirmed → shipped → delivered → accepted;
    /// placed → rejected; placed | confirmed → cancelled.
    pub const fn can_become(self, next: SupplierOrderStatus) -> bool {
        use SupplierOrderStatus::*;
        matches!(
            (self, next),
            (Placed, Confirmed | Rejected | Cancelled)
                | (Confirmed, Shipped | Cancelled)
                | (Shipped, Delivered)
                | (Delivered, Accepted)
        )
    }

    /// The states from which `next` can be reached.
    pub fn sources_of(next: SupplierOrderStatus) -> Vec<SupplierOrderStatus> {
        Self::ALL.iter().copied().filter(|s| s.can_become(next)).collect()
    }

    /// No transition leaves this state.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Accepted | Self::Rejected | Self::Cancelled)
    }

    /// Stock is still reserved for the lines.
    pub const fn holds_reservation(self) -> bool {
        matches!(self, Self::Placed | Self::Confirmed | Self::Shipped | Self::Delivered)
    }
}

vocabulary!(
    /// The state of a whole order, derived from its supplier orders.
    OrderStatus {
        Placed = "placed",
        InProgress = "in_progress",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

impl OrderStatus {
    /// Every supplier order placed: placed; every one ended without acceptance:
    /// cancelled; every one final with one accepted: completed; else in progress.
    pub fn derive(parts: &[SupplierOrderStatus]) -> OrderStatus {
        use SupplierOrderStatus as S;
        if parts.is_empty() || parts.iter().all(|s| *s == S::Placed) {
            OrderStatus::Placed
        } else if parts.iter().all(|s| matches!(s, S::Rejected | S::Cancelled)) {
            OrderStatus::Cancelled
        } else if parts.iter().all(|s| s.is_final()) {
            OrderStatus::Completed
        } else {
            OrderStatus::InProgress
        }
    }
}

vocabulary!(
    /// How a purchase is credited: bought for the buyer's own use, or helped to sell.
    CreditCategory {
        Purchase = "purchase",
        HelpedSale = "helped_sale",
    }
);

vocabulary!(
    /// A ledger entry's kind.
    LedgerKind {
        /// An accepted line.
        Credit = "credit",
        /// A return against an accepted line (negative amount).
        Reversal = "reversal",
    }
);

vocabulary!(
    /// The state of a standing agreement.
    AgreementStatus {
        Proposed = "proposed",
        Active = "active",
        Cancelled = "cancelled",
    }
);

impl AgreementStatus {
    pub const fn can_become(self, next: AgreementStatus) -> bool {
        use AgreementStatus::*;
        matches!((self, next), (Proposed, Active | Cancelled) | (Active, Cancelled))
    }
}

vocabulary!(
    /// How often a standing agreement places an order.
    AgreementPeriod {
        Week = "week",
        Month = "month",
    }
);

vocabulary!(
    /// What a standing agreement's period produced.
    AgreementRunStatus {
        /// The order was placed.
        Placed = "placed",
        /// Stock fell short: no order this period.
        Shortfall = "shortfall",
    }
);
