use super::vocabulary;

vocabulary!(
    /// The state of a budget unit's yearly plan: `draft → filed → approved | returned → filed …`.
    PlanStatus {
        /// Being written (also an approved plan being amended: the approved target stays in force).
        Draft = "draft",
        /// Filed with the supervisor of the unit's region.
        Filed = "filed",
        /// Approved: its target is the unit's quota target for the year.
        Approved = "approved",
        /// Returned by the supervisor with a reason; edited and filed again.
        Returned = "returned",
    }
);

impl PlanStatus {
    /// Whether a plan in this state may move to `next`.
    pub const fn can_become(self, next: PlanStatus) -> bool {
        matches!(
            (self, next),
            (PlanStatus::Draft | PlanStatus::Returned, PlanStatus::Filed)
                | (PlanStatus::Filed, PlanStatus::Approved | PlanStatus::Returned)
                | (PlanStatus::Approved, PlanStatus::Draft)
        )
    }

    /// Whether the unit (or its parent) may edit the plan's content in this state.
    pub const fn editable(self) -> bool {
        matches!(self, PlanStatus::Draft | PlanStatus::Returned)
    }
}

vocabulary!(
    /// What a unit declares instead of (or beside) its own canteen budget.
    PlanDeclaration {
        /// The unit has no canteen: no target.
        NoCanteen = "no_canteen",
        /// The unit eats at another unit's canteen (`lead_org_id`): its target is its share of the lead's.
        SharedCanteen = "shared_canteen",
        /// A `canteen_contractor` (`contractor_org_id`) runs its canteen: its orders are credited to the unit.
        ContractedCanteen = "contracted_canteen",
    }
);

vocabulary!(
    /// What happened to a plan, in its history.
    PlanAction {
        Saved = "saved",
        Filed = "filed",
        Approved = "approved",
        Returned = "returned",
        /// An approved plan reopened for a new filing, with the reason.
        Amended = "amended",
        /// A shared canteen member's approved target set again by its lead's approval (the
        /// reason names the lead and the targets before and after).
        Retargeted = "retargeted",
    }
);

vocabulary!(
    /// Why a budget unit lags behind the calendar.
    LaggardReason {
        /// No plan filed by the year's filing deadline.
        NoPlanByDeadline = "no_plan_by_deadline",
        /// A plan exists but is not approved.
        PlanNotApproved = "plan_not_approved",
        /// Nothing credited yet this year.
        NoOrderYet = "no_order_yet",
        /// Credited below the expected-by-today figure of the pace curve.
        BehindPace = "behind_pace",
        /// It placed orders but accepted none of them.
        OrderedNeverAccepted = "ordered_never_accepted",
    }
);
