//! Demo data of supervision: one finance office per level of Hebei (province, city,
//! county) and the budget units whose plans the demo year shows in every state.
use super::data::OrgRow;
use crate::domain::{OrgKind, PlanAction, PlanDeclaration, PlanStatus, Role};
use crate::error::{AppError, AppResult};
use crate::services::{now, plans};
use crate::state::AppState;
use sea_orm::Set;
use std::collections::HashMap;

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
    (
        "changan_school",
        "石家庄市长安区实验学校",
        OrgKind::School,
        "130102",
        None,
        "buyer.school@demo.assist",
        Role::Buyer,
    ),
    (
        "changan_hospital",
        "长安区人民医院",
        OrgKind::Hospital,
        "130102",
        None,
        "buyer.hospital@demo.assist",
        Role::Buyer,
    ),
    (
        "catering",
        "河北惠民餐饮服务有限公司",
        OrgKind::CanteenContractor,
        "130102",
        None,
        "buyer.catering@demo.assist",
        Role::Buyer,
    ),
    (
        "lingshou_school",
        "灵寿县第一中学",
        OrgKind::School,
        "130126",
        None,
        "buyer.lingshou@demo.assist",
        Role::Buyer,
    ),
    (
        "lingshou_archive",
        "灵寿县档案馆",
        OrgKind::Government,
        "130126",
        None,
        "buyer.archive@demo.assist",
        Role::Buyer,
    ),
    (
        "lingshou_gov",
        "灵寿县人民政府",
        OrgKind::Government,
        "130126",
        None,
        "buyer.lingshou.gov@demo.assist",
        Role::Buyer,
    ),
];

/// (unit key, status, declaration, budget fen, share ppm, contractor key, late)
type PlanRow = (
    &'static str,
    PlanStatus,
    Option<PlanDeclaration>,
    Option<i64>,
    Option<i64>,
    Option<&'static str>,
    bool,
);

/// The demo year's plans: one in every state, a late filer, a unit without a canteen and a contractor.
const PLANS: &[PlanRow] = &[
    (
        "agency",
        PlanStatus::Approved,
        None,
        Some(200_000_000),
        Some(300_000),
        None,
        false,
    ),
    (
        "changan_school",
        PlanStatus::Approved,
        None,
        Some(80_000_000),
        Some(250_000),
        None,
        false,
    ),
    (
        "changan_hospital",
        PlanStatus::Filed,
        Some(PlanDeclaration::ContractedCanteen),
        Some(150_000_000),
        Some(200_000),
        Some("catering"),
        true,
    ),
    (
        "lingshou_school",
        PlanStatus::Returned,
        None,
        Some(50_000_000),
        Some(50_000),
        None,
        false,
    ),
    (
        "lingshou_archive",
        PlanStatus::Approved,
        Some(PlanDeclaration::NoCanteen),
        None,
        None,
        None,
        false,
    ),
    (
        "lingshou_gov",
        PlanStatus::Draft,
        None,
        Some(60_000_000),
        Some(300_000),
        None,
        false,
    ),
];

/// Writes the demo year's plans that are not there yet.
pub async fn seed_plans(state: &AppState, ids: &HashMap<&str, String>) -> AppResult<()> {
    let t = now();
    let year = crate::services::clock::year(t);
    for (key, status, declaration, budget, share, contractor, late) in PLANS {
        let Some(id) = ids.get(key) else { continue };
        let target = match (budget, share) {
            (Some(b), Some(s)) => {
                Some(i64::try_from(i128::from(*b) * i128::from(*s) / 1_000_000).map_err(AppError::internal)?)
            }
            _ => Some(0),
        };
        let approved = *status == PlanStatus::Approved;
        let filed = *status != PlanStatus::Draft;
        let am = entity::plans::ActiveModel {
            buyer_org_id: Set(id.clone()),
            year: Set(year),
            status: Set(status.as_str().to_string()),
            declaration: Set(declaration.map(|d| d.as_str().to_string())),
            food_budget_fen: Set(*budget),
            reserved_share_ppm: Set(*share),
            explanation: Set((*key == "lingshou_school").then(|| "食堂仅供午餐".to_string())),
            lead_org_id: Set(None),
            contractor_org_id: Set(contractor.and_then(|c| ids.get(c).cloned())),
            members: Set("[]".into()),
            late: Set(*late),
            below_floor: Set(share.is_some_and(|s| s < 100_000)),
            amendment_reason: Set(None),
            return_reason: Set((*status == PlanStatus::Returned).then(|| "低于下限，请补充说明依据".to_string())),
            filed_at: Set(filed.then_some(t)),
            approved_at: Set(approved.then_some(t)),
            approved_target_fen: Set(if approved { target } else { None }),
            approved_budget_fen: Set(if approved { *budget } else { None }),
            approved_share_ppm: Set(if approved { *share } else { None }),
            approved_lead_org_id: Set(None),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
        };
        let steps = history(state, ids, key, *status).await?;
        let mut am = am;
        am.version = Set(i32::try_from(steps.len()).map_err(AppError::internal)?);
        if plans::queries::insert(&state.db, am).await? {
            if let Some(p) = plans::queries::plan(&state.db, super::parse_org_id(id)?, year).await? {
                plans::seed_history(&state.db, &p, steps).await?;
            }
        }
    }
    Ok(())
}

/// The user id of the demo login of organisation `key`, and the organisation's id.
async fn actor(state: &AppState, ids: &HashMap<&str, String>, key: &str) -> AppResult<(String, String)> {
    let email = super::ORGS
        .iter()
        .chain(ORGS.iter())
        .find(|r| r.0 == key)
        .map(|r| r.5)
        .ok_or_else(|| AppError::internal(format!("no demo organisation {key}")))?;
    let user = crate::services::accounts::queries::user_by_email(&state.db, email)
        .await?
        .ok_or_else(|| AppError::internal(format!("no demo user {email}")))?;
    let org = ids.get(key).cloned().unwrap_or_default();
    Ok((user.id, org))
}

/// The history a plan in `status` has: saved, then filed, then approved or returned by the
/// finance office over the unit (Chang'an's for its units, Shijiazhuang's for Lingshou's).
async fn history(
    state: &AppState,
    ids: &HashMap<&str, String>,
    key: &str,
    status: PlanStatus,
) -> AppResult<Vec<plans::Step>> {
    let (unit_user, unit_org) = actor(state, ids, key).await?;
    let office = if key.starts_with("lingshou") {
        "shijiazhuang_finance"
    } else {
        "changan_finance"
    };
    let (sup_user, sup_org) = actor(state, ids, office).await?;
    let step = |action, status, reason: Option<&str>, user: &String, org: &String| plans::Step {
        action,
        status,
        reason: reason.map(str::to_string),
        by_user_id: user.clone(),
        by_org_id: org.clone(),
    };
    let mut steps = vec![step(PlanAction::Saved, PlanStatus::Draft, None, &unit_user, &unit_org)];
    if status != PlanStatus::Draft {
        steps.push(step(PlanAction::Filed, PlanStatus::Filed, None, &unit_user, &unit_org));
    }
    match status {
        PlanStatus::Approved => steps.push(step(PlanAction::Approved, status, None, &sup_user, &sup_org)),
        PlanStatus::Returned => steps.push(step(
            PlanAction::Returned,
            status,
            Some("低于下限，请补充说明依据"),
            &sup_user,
            &sup_org,
        )),
        _ => {}
    }
    Ok(steps)
}
