use super::vocabulary;

vocabulary!(
    /// The state of an email in the outbox.
    OutboxStatus {
        /// Waiting to be sent (or retried).
        Pending = "pending",
        Sent = "sent",
        /// Given up: the mail server refused it for good (a 5xx reply, a malformed address)
        /// or it failed `outbox_max_attempts` times. The admin may send it back to `pending`.
        Failed = "failed",
    }
);
