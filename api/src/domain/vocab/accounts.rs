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
        /// A finance office: reviews the budget units' yearly plans in its region and follows them.
        Supervisor = "supervisor",
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
        /// A finance office (财政部门) of a province, city or county: supervises the budget units of its region.
        FinanceOffice = "finance_office",
        /// A company that runs a unit's canteen; its orders are credited to the unit it serves.
        CanteenContractor = "canteen_contractor",
    }
);

impl OrgKind {
    /// The one role users of an organisation of this kind have.
    pub const fn role(self) -> Role {
        match self {
            OrgKind::Platform => Role::Admin,
            OrgKind::CountyOffice => Role::Certifier,
            OrgKind::EvaluationOffice => Role::Evaluator,
            OrgKind::FinanceOffice => Role::Supervisor,
            OrgKind::Cooperative | OrgKind::Enterprise | OrgKind::FamilyFarm => Role::Supplier,
            OrgKind::Canteen
            | OrgKind::Union
            | OrgKind::StateEnterprise
            | OrgKind::School
            | OrgKind::Hospital
            | OrgKind::ArmyUnit
            | OrgKind::PrivateEnterprise
            | OrgKind::Government
            | OrgKind::CanteenContractor => Role::Buyer,
        }
    }

    pub const fn is_supplier(self) -> bool {
        matches!(self.role(), Role::Supplier)
    }

    pub const fn is_buyer(self) -> bool {
        matches!(self.role(), Role::Buyer)
    }

    /// Whether an organisation of this kind is a budget unit unless told otherwise:
    /// agencies, schools, hospitals and canteens of public institutions.
    pub const fn budget_unit_by_default(self) -> bool {
        matches!(
            self,
            OrgKind::Canteen | OrgKind::School | OrgKind::Hospital | OrgKind::Government
        )
    }

    /// Whether an organisation of this kind may be a budget unit at all (a buyer that is
    /// not a contractor, a union or an enterprise).
    pub const fn may_be_budget_unit(self) -> bool {
        matches!(
            self,
            OrgKind::Canteen | OrgKind::School | OrgKind::Hospital | OrgKind::Government | OrgKind::ArmyUnit
        )
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
