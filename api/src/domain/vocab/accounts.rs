use super::vocabulary;

vocabulary!(
    /// What a user may do; fixed by the kind of the user's organisation.
    Role {
        /// Runs the platform: organisations, users, rules.
        Admin = "admin",
        /// A county office: certifies its county's products.
        Certifier = "certifier",
        /// A cooperative, enterprise or family farm that sells.
        Supplier = "supplier",
        /// An institution that buys in bulk.
        Buyer = "buyer",
        /// An evaluation office: reads ledgers and reports.
        Evaluator = "evaluator",
    }
);

vocabulary!(
    /// The kind of an organisation, which fixes the role of its users.
    OrgKind {
        Platform = "platform",
        CountyOffice = "county_office",
        EvaluationOffice = "evaluation_office",
        Cooperative = "cooperative",
        Enterprise = "enterprise",
        FamilyFarm = "family_farm",
        Canteen = "canteen",
        Union = "union",
        StateEnterprise = "state_enterprise",
        School = "school",
        Hospital = "hospital",
        ArmyUnit = "army_unit",
        PrivateEnterprise = "private_enterprise",
        Government = "government",
    }
);

impl OrgKind {
    /// The one role users of an organisation of this kind have.
    pub const fn role(self) -> Role {
        match self {
            OrgKind::Platform => Role::Admin,
            OrgKind::CountyOffice => Role::Certifier,
            OrgKind::EvaluationOffice => Role::Evaluator,
            OrgKind::Cooperative | OrgKind::Enterprise | OrgKind::FamilyFarm => Role::Supplier,
            OrgKind::Canteen
            | OrgKind::Union
            | OrgKind::StateEnterprise
            | OrgKind::School
            | OrgKind::Hospital
            | OrgKind::ArmyUnit
            | OrgKind::PrivateEnterprise
            | OrgKind::Government => Role::Buyer,
        }
    }

    pub const fn is_supplier(self) -> bool {
        matches!(self.role(), Role::Supplier)
    }

    pub const fn is_buyer(self) -> bool {
        matches!(self.role(), Role::Buyer)
    }
}

vocabulary!(
    /// Whether an organisation may act.
    OrgStatus {
        Active = "active",
        /// Its users cannot log in; its products leave the catalogue.
        Suspended = "suspended",
    }
);
