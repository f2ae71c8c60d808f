//! Fraud signals: what a flag is about and where it stands.
use super::vocabulary;

vocabulary!(
    /// The kind of a fraud signal.
    FlagKind {
        /// A line priced below 50 % or above 200 % of the certified median of its category and unit.
        PriceOutlier = "price_outlier",
        /// Accepted then fully returned within 30 days, twice or more between the same pair in a year.
        RoundTrip = "round_trip",
        /// A buyer crediting more than half of its year's target in the last 30 days of the year.
        YearEndSpike = "year_end_spike",
        /// Buyer and supplier share a legal representative, a contact phone or email, or a user.
        RelatedParties = "related_parties",
        /// A lot whose stated origin county differs from its product's certified origin.
        OriginMismatch = "origin_mismatch",
        /// Five or more orders in one day between the same pair, each under the review threshold, together above it.
        OrderSplitting = "order_splitting",
    }
);

vocabulary!(
    /// Where a flag stands: `open -> dismissed | confirmed`, by an evaluator (or the supervisor of the buyer's region) with a note.
    FlagState {
        Open = "open",
        Dismissed = "dismissed",
        /// The entries it names are reversed out of the credit totals.
        Confirmed = "confirmed",
    }
);

impl FlagState {
    /// Whether a flag in this state may move to `next`.
    pub const fn can_become(self, next: FlagState) -> bool {
        matches!(
            (self, next),
            (FlagState::Open, FlagState::Dismissed | FlagState::Confirmed)
        )
    }
}
