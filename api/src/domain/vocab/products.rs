use super::vocabulary;

vocabulary!(
    /// A product's category.
    ProductCategory {
        Grain = "grain",
        Vegetables = "vegetables",
        Fruit = "fruit",
        Meat = "meat",
        Eggs = "eggs",
        Dairy = "dairy",
        Aquatic = "aquatic",
        EdibleFungi = "edible_fungi",
        Tea = "tea",
        Oils = "oils",
        Herbs = "herbs",
        ProcessedFood = "processed_food",
        Handicrafts = "handicrafts",
    }
);

vocabulary!(
    /// The unit a product is sold in.
    Unit {
        Kg = "kg",
        Jin = "jin",
        Box = "box",
        Piece = "piece",
        Bag = "bag",
        Bottle = "bottle",
    }
);

vocabulary!(
    /// How a product is sold: `per_unit` (its price is per unit, the default) or
    /// `pieces_by_weight` (counted in pieces, priced per kg of the actual weight).
    SaleMode {
        PerUnit = "per_unit",
        PiecesByWeight = "pieces_by_weight",
    }
);

vocabulary!(
    /// The kind of a quality certificate a product carries.
    CertificateKind {
        GreenFood = "green_food",
        Organic = "organic",
        GeographicalIndication = "geographical_indication",
        Other = "other",
    }
);

vocabulary!(
    /// A product's certification state. `expired` is shown for a certified
    /// product past its `valid_until` (stored as `certified`).
    ProductStatus {
        Draft = "draft",
        PendingReview = "pending_review",
        Certified = "certified",
        Rejected = "rejected",
        Revoked = "revoked",
        Expired = "expired",
    }
);

impl ProductStatus {
    /// Whether a product in this (shown) state may move to `next`.
    pub const fn can_become(self, next: ProductStatus) -> bool {
        use ProductStatus::*;
        matches!(
            (self, next),
            (Draft | Rejected | Expired | Certified, PendingReview)
                | (PendingReview, Certified | Rejected)
                | (Certified | Expired, Revoked)
        )
    }

    /// The states from which `next` can be reached.
    pub fn sources_of(next: ProductStatus) -> Vec<ProductStatus> {
        Self::ALL.iter().copied().filter(|s| s.can_become(next)).collect()
    }

    /// The states a supplier may submit for review from: every source of `pending_review`
    /// but `certified`, which goes back to review only through an edit of what the
    /// certification vouched for (price, origin, certificates).
    pub fn submittable() -> Vec<ProductStatus> {
        Self::sources_of(ProductStatus::PendingReview)
            .into_iter()
            .filter(|s| *s != ProductStatus::Certified)
            .collect()
    }

    /// The value stored for this shown state.
    pub const fn stored(self) -> ProductStatus {
        match self {
            ProductStatus::Expired => ProductStatus::Certified,
            s => s,
        }
    }

    /// A supplier may edit the product's fields in this state.
    pub const fn is_editable(self) -> bool {
        !matches!(self, ProductStatus::PendingReview | ProductStatus::Revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::ProductStatus::*;
    use super::*;

    #[test]
    fn product_transitions() {
        assert_eq!(ProductStatus::submittable(), vec![Draft, Rejected, Expired]);
        assert_eq!(ProductStatus::sources_of(Certified), vec![PendingReview]);
        assert_eq!(ProductStatus::sources_of(Rejected), vec![PendingReview]);
        assert_eq!(ProductStatus::sources_of(Revoked), vec![Certified, Expired]);
        assert!(ProductStatus::sources_of(Draft).is_empty());
        assert!(
            ProductStatus::sources_of(Expired).is_empty(),
            "expiry is computed, never a transition"
        );
        assert_eq!(Expired.stored(), Certified);
        assert!(!Revoked.can_become(PendingReview));
    }
}
