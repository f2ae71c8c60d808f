use super::vocabulary;

vocabulary!(
    /// How a lot's trace is given: the service's JSON, or GS1 EPCIS 2.0 JSON-LD events.
    TraceFormat {
        Json = "json",
        Epcis = "epcis",
    }
);
