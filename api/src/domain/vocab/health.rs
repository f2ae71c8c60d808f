use super::vocabulary;

vocabulary!(
    /// Whether the service can serve requests (`/readyz`).
    ServiceStatus {
        Ok = "ok",
        /// A dependency is down.
        Unavailable = "unavailable",
    }
);

vocabulary!(
    /// The state of one dependency (database, Redis) in `/readyz`.
    ProbeStatus {
        Ok = "ok",
        Down = "down",
        /// Optional and not answering: the service works without it (Redis: in-process
        /// cache and limits while the breaker is open).
        Degraded = "degraded",
        /// Not used by this deployment (Redis without `ASSIST_REDIS_URL`).
        NotConfigured = "not_configured",
    }
);
