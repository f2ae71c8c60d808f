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
