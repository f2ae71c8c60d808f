use super::vocabulary;

vocabulary!(
    /// The state of an email in the outbox.
    OutboxStatus {
        /// Waiting to be sent (or retried).
        Pending = "pending",
        Sent = "sent",
    }
);
