use super::vocabulary;

vocabulary!(
    /// A document whose validity runs out: a supplier's licences (recorded on the
    /// supplier organisation) and the certificates stored on its products.
    DocumentKind {
        /// 营业执照.
        BusinessLicence = "business_licence",
        /// 食品生产许可证.
        FoodProductionLicence = "food_production_licence",
        /// 食品经营许可证.
        FoodTradeLicence = "food_trade_licence",
        /// A quality certificate in a product's `certificates` (green food, organic, …).
        ProductCertificate = "product_certificate",
        /// The county office's certification of a product (`certificate_number`, `valid_until`).
        ProductCertification = "product_certification",
    }
);

impl DocumentKind {
    /// The kinds recorded on a supplier organisation; an expired one suspends it.
    pub const LICENCES: [DocumentKind; 3] = [
        DocumentKind::BusinessLicence,
        DocumentKind::FoodProductionLicence,
        DocumentKind::FoodTradeLicence,
    ];

    pub fn is_licence(self) -> bool {
        Self::LICENCES.contains(&self)
    }
}

vocabulary!(
    /// A step of a document's expiry, each taken once per document version.
    DocumentStage {
        /// 90 days before it expires: a reminder to the supplier.
        Days90 = "days_90",
        /// 30 days before.
        Days30 = "days_30",
        /// 7 days before.
        Days7 = "days_7",
        /// The day after its last valid day: the product leaves the catalogue, or the
        /// supplier is suspended for a licence.
        Expired = "expired",
    }
);

impl DocumentStage {
    /// The stages reached with `days_left` days of validity left (negative once expired),
    /// in order.
    pub fn reached(days_left: i64) -> Vec<DocumentStage> {
        let mut out = Vec::new();
        if days_left <= 90 {
            out.push(DocumentStage::Days90);
        }
        if days_left <= 30 {
            out.push(DocumentStage::Days30);
        }
        if days_left <= 7 {
            out.push(DocumentStage::Days7);
        }
        if days_left < 0 {
            out.push(DocumentStage::Expired);
        }
        out
    }
}
