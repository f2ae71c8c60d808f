use super::vocabulary;

vocabulary!(
    /// The kind of a pairing between a buyer and a county.
    PairingKind {
        /// 东西部协作.
        EastWest = "east_west",
        /// 对口帮扶.
        PairedCounty = "paired_county",
        /// 定点帮扶.
        Designated = "designated",
    }
);

vocabulary!(
    /// The state of a year's reconciliation.
    ReconciliationStatus {
        Pending = "pending",
        Locked = "locked",
        Superseded = "superseded",
    }
);

impl ReconciliationStatus {
    /// The lifecycle: pending → locked (both sides confirmed); pending → superseded
    /// (a newer statement of the same pairing and year was made).
    pub const fn can_become(self, next: ReconciliationStatus) -> bool {
        use ReconciliationStatus::*;
        matches!((self, next), (Pending, Locked | Superseded))
    }

    /// The states from which `next` can be reached.
    pub fn sources_of(next: ReconciliationStatus) -> Vec<ReconciliationStatus> {
        Self::ALL.iter().copied().filter(|s| s.can_become(next)).collect()
    }
}

vocabulary!(
    /// How a summary report groups the ledger.
    ReportGroup {
        Buyer = "buyer",
        Supplier = "supplier",
        County = "county",
        Pairing = "pairing",
        Month = "month",
    }
);

vocabulary!(
    /// The format of a report.
    ReportFormat {
        Json = "json",
        Csv = "csv",
        Xlsx = "xlsx",
    }
);

vocabulary!(
    /// Whose slice of the ledger a report covers.
    ReportScope {
        /// Admin and evaluators: the whole ledger.
        All = "all",
        /// A buyer: its own and its children's entries.
        Buyer = "buyer",
        /// A supplier: its own entries.
        Supplier = "supplier",
        /// A county office: entries from its county.
        County = "county",
        /// A finance office: entries of the buyers located in its region.
        Region = "region",
    }
);
