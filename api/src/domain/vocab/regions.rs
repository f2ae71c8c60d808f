use super::vocabulary;

vocabulary!(
    /// The level of an administrative division (GB/T 2260).
    RegionLevel {
        Province = "province",
        City = "city",
        County = "county",
        Township = "township",
        Village = "village",
    }
);

vocabulary!(
    /// A county's poverty status, copied into each ledger entry when written.
    PovertyStatus {
        None = "none",
        Poverty = "poverty",
        DeepPoverty = "deep_poverty",
    }
);
