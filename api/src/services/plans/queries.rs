//! Every SQL statement of the plans capability. States are bound from their enums.
use crate::domain::{OrgId, PlanDeclaration, PlanStatus};
use crate::error::AppResult;
use chrono::NaiveDate;
use entity::{organizations, plan_events, plan_settings, plans};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub async fn plan(conn: &impl ConnectionTrait, org: OrgId, year: i32) -> AppResult<Option<plans::Model>> {
    Ok(plans::Entity::find_by_id((org.to_string(), year)).one(conn).await?)
}

/// Inserts a new plan; false when one exists for the unit and year already.
pub async fn insert(conn: &impl ConnectionTrait, am: plans::ActiveModel) -> AppResult<bool> {
    let r = plans::Entity::insert(am)
        .on_conflict(
            OnConflict::columns([plans::Column::BuyerOrgId, plans::Column::Year])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(r == 1)
}

/// Writes `am` over the plan if it is still at `version` and in `status`: false otherwise
/// (another write came first). `am` carries the bumped version.
pub async fn update_if(
    conn: &impl ConnectionTrait,
    am: plans::ActiveModel,
    org: OrgId,
    year: i32,
    version: i32,
    status: PlanStatus,
) -> AppResult<bool> {
    let r = plans::Entity::update_many()
        .set(am)
        .filter(plans::Column::BuyerOrgId.eq(org.to_string()))
        .filter(plans::Column::Year.eq(year))
        .filter(plans::Column::Version.eq(version))
        .filter(plans::Column::Status.eq(status))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

pub async fn add_event(conn: &impl ConnectionTrait, am: plan_events::ActiveModel) -> AppResult<()> {
    am.insert(conn).await?;
    Ok(())
}

pub async fn events(
    conn: &impl ConnectionTrait,
    org: OrgId,
    year: i32,
    after: Option<String>,
    limit: u64,
) -> AppResult<Vec<plan_events::Model>> {
    let mut q = plan_events::Entity::find()
        .filter(plan_events::Column::BuyerOrgId.eq(org.to_string()))
        .filter(plan_events::Column::Year.eq(year));
    if let Some(a) = after {
        q = q.filter(plan_events::Column::Id.gt(a));
    }
    Ok(q.order_by_asc(plan_events::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?)
}

pub async fn settings(conn: &impl ConnectionTrait, year: i32) -> AppResult<Option<plan_settings::Model>> {
    Ok(plan_settings::Entity::find_by_id(year).one(conn).await?)
}

pub async fn save_settings(
    conn: &impl ConnectionTrait,
    year: i32,
    deadline: NaiveDate,
    weights: String,
) -> AppResult<()> {
    plan_settings::Entity::insert(plan_settings::ActiveModel {
        year: Set(year),
        filing_deadline: Set(deadline),
        pace_weights: Set(weights),
        updated_at: Set(crate::services::now()),
    })
    .on_conflict(
        OnConflict::column(plan_settings::Column::Year)
            .update_columns([
                plan_settings::Column::FilingDeadline,
                plan_settings::Column::PaceWeights,
                plan_settings::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Every plan of a year (for the supervision list and attribution).
pub async fn plans_of_year(conn: &impl ConnectionTrait, year: i32) -> AppResult<Vec<plans::Model>> {
    Ok(plans::Entity::find()
        .filter(plans::Column::Year.eq(year))
        .all(conn)
        .await?)
}

/// The units whose approved plan of `year` names `contractor` as their canteen's contractor
/// (a draft, a filing under review or a returned plan redirects nobody's credit).
pub async fn served_by_contractor(conn: &impl ConnectionTrait, contractor: &str, year: i32) -> AppResult<Vec<String>> {
    let rows = plans::Entity::find()
        .filter(plans::Column::ContractorOrgId.eq(contractor.to_string()))
        .filter(plans::Column::Year.eq(year))
        .filter(plans::Column::Declaration.eq(PlanDeclaration::ContractedCanteen))
        .filter(plans::Column::Status.eq(PlanStatus::Approved.as_str()))
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|p| p.buyer_org_id).collect())
}

/// The plan of `org` for `year`, its row share-locked until the transaction ends on PostgreSQL
/// (a shared canteen member's approval reads its lead's plan so, while the lead's approval,
/// which updates that row first, waits or is waited for). SQLite's one writer serialises both.
pub async fn plan_shared_lock(conn: &impl ConnectionTrait, org: OrgId, year: i32) -> AppResult<Option<plans::Model>> {
    let q = plans::Entity::find_by_id((org.to_string(), year));
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(q.one(conn).await?);
    }
    Ok(q.lock(LockType::Share).one(conn).await?)
}

/// Locks the organisation `org` against another such lock until the transaction ends, on
/// PostgreSQL (`FOR NO KEY UPDATE`: foreign keys that name it are not held up). Two approvals
/// naming one contractor take it, so the second reads the first's outcome.
pub async fn lock_org(conn: &impl ConnectionTrait, org: OrgId) -> AppResult<()> {
    if conn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let _: Option<String> = organizations::Entity::find_by_id(org.to_string())
        .select_only()
        .column(organizations::Column::Id)
        .lock(LockType::NoKeyUpdate)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(())
}

/// Whether a unit other than `except` has an approved plan of `year` naming `contractor` as
/// its canteen's contractor.
pub async fn contractor_named_by_other(
    conn: &impl ConnectionTrait,
    contractor: OrgId,
    except: OrgId,
    year: i32,
) -> AppResult<bool> {
    let n = plans::Entity::find()
        .filter(plans::Column::ContractorOrgId.eq(contractor.to_string()))
        .filter(plans::Column::Year.eq(year))
        .filter(plans::Column::BuyerOrgId.ne(except.to_string()))
        .filter(plans::Column::Declaration.eq(PlanDeclaration::ContractedCanteen))
        .filter(plans::Column::Status.eq(PlanStatus::Approved.as_str()))
        .count(conn)
        .await?;
    Ok(n > 0)
}

/// The plans of `year` whose approved content declares a shared canteen led by `lead` (the
/// members whose target the lead's approved plan sets), whatever an amendment under way names.
pub async fn approved_members_of(conn: &impl ConnectionTrait, lead: OrgId, year: i32) -> AppResult<Vec<plans::Model>> {
    Ok(plans::Entity::find()
        .filter(plans::Column::ApprovedLeadOrgId.eq(lead.to_string()))
        .filter(plans::Column::Year.eq(year))
        .filter(plans::Column::ApprovedTargetFen.is_not_null())
        .order_by_asc(plans::Column::BuyerOrgId)
        .all(conn)
        .await?)
}

/// Sets the approved target of `org`'s plan of `year` to `fen`, a new version of the plan
/// (its representation changed) whatever its state, while its approved plan names `lead`;
/// false when it no longer does. An edit racing it gets 412 and reads again.
pub async fn set_approved_target(
    conn: &impl ConnectionTrait,
    org: &str,
    year: i32,
    lead: OrgId,
    fen: i64,
) -> AppResult<bool> {
    let res = plans::Entity::update_many()
        .col_expr(plans::Column::ApprovedTargetFen, Expr::value(fen))
        .col_expr(plans::Column::Version, Expr::col(plans::Column::Version).add(1))
        .col_expr(plans::Column::UpdatedAt, Expr::value(crate::services::now()))
        .filter(plans::Column::BuyerOrgId.eq(org.to_string()))
        .filter(plans::Column::Year.eq(year))
        // Checked again on the row as it is once any other write of it commits: a member whose
        // move to another lead was approved meanwhile is no longer this lead's to retarget.
        .filter(plans::Column::ApprovedLeadOrgId.eq(lead.to_string()))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Those of `members` whose approved plan of `year` names a lead other than `lead`: members
/// that moved to another canteen, which the lead's approved list may still name.
pub async fn moved_away(
    conn: &impl ConnectionTrait,
    lead: &str,
    year: i32,
    members: Vec<String>,
) -> AppResult<Vec<String>> {
    Ok(plans::Entity::find()
        .select_only()
        .column(plans::Column::BuyerOrgId)
        .filter(plans::Column::Year.eq(year))
        .filter(plans::Column::BuyerOrgId.is_in(members))
        .filter(plans::Column::ApprovedLeadOrgId.is_not_null())
        .filter(plans::Column::ApprovedLeadOrgId.ne(lead.to_string()))
        .into_tuple::<String>()
        .all(conn)
        .await?)
}
