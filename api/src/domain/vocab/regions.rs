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

impl RegionLevel {
    /// How many digits a code of this level has (GB/T 2260, extended below county).
    pub const fn code_len(self) -> usize {
        match self {
            RegionLevel::Township => 9,
            RegionLevel::Village => 12,
            RegionLevel::Province | RegionLevel::City | RegionLevel::County => 6,
        }
    }

    /// The level of a region's parent; `None` for a province. A county may also
    /// sit directly under a province (see [`RegionLevel::may_sit_under`]).
    pub const fn parent(self) -> Option<RegionLevel> {
        match self {
            RegionLevel::Province => None,
            RegionLevel::City => Some(RegionLevel::Province),
            RegionLevel::County => Some(RegionLevel::City),
            RegionLevel::Township => Some(RegionLevel::County),
            RegionLevel::Village => Some(RegionLevel::Township),
        }
    }

    /// Whether a region of this level may have a parent of level `parent`.
    pub fn may_sit_under(self, parent: RegionLevel) -> bool {
        self.parent() == Some(parent) || (self == RegionLevel::County && parent == RegionLevel::Province)
    }

    /// Township and village: regions that lie inside a county.
    pub const fn is_below_county(self) -> bool {
        matches!(self, RegionLevel::Township | RegionLevel::Village)
    }
}

impl PovertyStatus {
    /// A poverty or deep-poverty county: where suppliers may be located.
    pub const fn is_poor(self) -> bool {
        matches!(self, PovertyStatus::Poverty | PovertyStatus::DeepPoverty)
    }
}
