use super::vocabulary;

vocabulary!(
    /// A supplier organisation's size, which decides whether the SME payment
    /// rules (保障中小企业款项支付条例) apply to a budget unit's orders.
    SupplierSize {
        /// A small or medium enterprise (most cooperatives and family farms).
        Sme = "sme",
        Large = "large",
    }
);

vocabulary!(
    /// When an order is paid.
    PaymentTerms {
        /// Invoiced on confirmation; shipped only once the buyer has recorded payment in full.
        Prepay = "prepay",
        /// Invoiced on delivery; due a number of days after delivery.
        OnAccount = "on_account",
    }
);

vocabulary!(
    /// A payment reminder sent once per supplier order.
    ReminderStage {
        /// On the due date, to the buyer.
        Due = "due",
        /// Seven days overdue, to the buyer.
        Overdue7 = "overdue_7",
        /// Thirty days overdue, to the buyer.
        Overdue30 = "overdue_30",
        /// Thirty days overdue, to the buyer's supervisor.
        Supervisor30 = "supervisor_30",
    }
);

vocabulary!(
    /// Under what a late payment is late: a budget unit paying an SME supplier is
    /// bound by the regulation; every other order by its contract terms.
    LateUnder {
        Regulation = "regulation",
        Contract = "contract",
    }
);
