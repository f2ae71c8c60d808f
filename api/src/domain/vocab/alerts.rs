use super::vocabulary;

vocabulary!(
    /// How serious an unsold-produce alert is.
    AlertLevel {
        Yellow = "yellow",
        Orange = "orange",
        Red = "red",
    }
);

impl AlertLevel {
    /// 1 (yellow) to 3 (red), as stored.
    pub const fn rank(self) -> i32 {
        match self {
            AlertLevel::Yellow => 1,
            AlertLevel::Orange => 2,
            AlertLevel::Red => 3,
        }
    }

    pub const fn from_rank(rank: i32) -> Option<AlertLevel> {
        match rank {
            1 => Some(AlertLevel::Yellow),
            2 => Some(AlertLevel::Orange),
            3 => Some(AlertLevel::Red),
            _ => None,
        }
    }
}

vocabulary!(
    /// The state of an alert.
    AlertStatus {
        Open = "open",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
);

impl AlertStatus {
    pub const fn can_become(self, next: AlertStatus) -> bool {
        use AlertStatus::*;
        matches!((self, next), (Open, Acknowledged | Resolved) | (Acknowledged, Resolved))
    }

    /// The states from which an alert may move to `next`.
    pub fn sources_of(next: AlertStatus) -> Vec<AlertStatus> {
        Self::ALL.iter().copied().filter(|s| s.can_become(next)).collect()
    }

    /// An unresolved alert is its product's one open alert (the scan may still raise it).
    pub const fn is_unresolved(self) -> bool {
        !matches!(self, AlertStatus::Resolved)
    }

    /// The states of an unresolved alert.
    pub fn unresolved() -> Vec<AlertStatus> {
        Self::ALL.iter().copied().filter(|s| s.is_unresolved()).collect()
    }
}

vocabulary!(
    /// Why an alert was raised.
    AlertReason {
        DaysOfCover = "days_of_cover",
        NoSales = "no_sales",
        ExpiryRisk = "expiry_risk",
        UnsoldReport = "unsold_report",
    }
);

vocabulary!(
    /// What happened to an alert.
    AlertEventKind {
        Opened = "opened",
        Raised = "raised",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
        Pledged = "pledged",
    }
);

vocabulary!(
    /// The state of an unsold report: closed when its product's alert is resolved.
    UnsoldReportStatus {
        Open = "open",
        Closed = "closed",
    }
);
