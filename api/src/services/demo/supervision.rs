//! Demo data of supervision: one finance office per level of Hebei (province, city,
//! county) and the budget units whose plans the demo year shows in every state.
use super::data::OrgRow;
use crate::domain::{OrgKind, Role};

/// Finance offices and more budget units, seeded after [`super::ORGS`] (parents are keys of either).
pub const ORGS: &[OrgRow] = &[
    (
        "hebei_finance",
        "河北省财政厅",
        OrgKind::FinanceOffice,
        "130000",
        None,
        "supervisor@demo.assist",
        Role::Supervisor,
    ),
    (
        "shijiazhuang_finance",
        "石家庄市财政局",
        OrgKind::FinanceOffice,
        "130100",
        None,
        "supervisor.shijiazhuang@demo.assist",
        Role::Supervisor,
    ),
    (
        "changan_finance",
        "长安区财政局",
        OrgKind::FinanceOffice,
        "130102",
        None,
        "supervisor.changan@demo.assist",
        Role::Supervisor,
    ),
];
