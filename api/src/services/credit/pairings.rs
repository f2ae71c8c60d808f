//! Pairings (结对帮扶) of a helping buyer with a helped county for a year, and their
//! progress against the purchase and helped-sale targets.
use super::queries::{self, PairingsOf};
use super::{check_year, net, stored_id, too_large, Field, Ratio, SplitFilter};
use crate::auth::{Caller, Role};
use crate::domain::{Money, OrgId, OrgKind, PairingId, PairingKind, RegionLevel, SignedMoney};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::{now, paginate, PageParams};
use crate::state::AppState;
use entity::{organizations, pairings};
use sea_orm::{ConnectionTrait, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPairing {
    #[schema(value_type = PairingKind)]
    pub kind: Field<PairingKind>,
    /// The helping buyer organisation.
    #[schema(value_type = OrgId)]
    pub helper_org_id: Field<OrgId>,
    /// The helped county (6-digit code).
    pub helped_region_code: String,
    pub year: i32,
    #[schema(value_type = Money)]
    pub purchase_target: Field<Money>,
    #[schema(value_type = Money)]
    pub helped_sale_target: Field<Money>,
}

#[derive(Debug, Serialize, ToSchema, Clone)]
pub struct Pairing {
    pub id: PairingId,
    pub kind: PairingKind,
    pub helper_org_id: OrgId,
    pub helper_name: String,
    pub helped_region_code: String,
    pub helped_region_name: String,
    pub year: i32,
    pub purchase_target: Money,
    pub helped_sale_target: Money,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

crate::page_type!(PairingPage, Pairing);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PairingFilter {
    pub year: Option<i32>,
    pub kind: Option<PairingKind>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryProgress {
    pub target: Money,
    /// Net amount (credits minus reversals).
    pub credited: SignedMoney,
    pub progress: Ratio,
    pub shortfall: Money,
    /// Ledger entries counted (credits and reversals).
    pub entries: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PairingProgress {
    pub pairing_id: PairingId,
    pub year: i32,
    pub helper_org_id: OrgId,
    pub helped_region_code: String,
    pub purchase: CategoryProgress,
    pub helped_sale: CategoryProgress,
    pub total: SignedMoney,
}

fn stored_money(fen: i64) -> AppResult<Money> {
    Money::from_minor(fen).map_err(AppError::internal)
}

async fn pairing_view(conn: &impl ConnectionTrait, p: pairings::Model) -> AppResult<Pairing> {
    let helper = queries::org(conn, &p.helper_org_id).await?;
    let region = queries::region(conn, &p.helped_region_code).await?;
    Ok(Pairing {
        id: stored_id(&p.id)?,
        kind: PairingKind::parse(&p.kind).ok_or_else(|| AppError::internal("stored pairing kind unknown"))?,
        helper_org_id: stored_id(&p.helper_org_id)?,
        helper_name: helper.map(|h| h.name).unwrap_or_default(),
        helped_region_code: p.helped_region_code,
        helped_region_name: region.map(|r| r.name).unwrap_or_default(),
        year: p.year,
        purchase_target: stored_money(p.purchase_target_fen)?,
        helped_sale_target: stored_money(p.helped_sale_target_fen)?,
        created_at: p.created_at,
    })
}

pub async fn create_pairing(state: &AppState, caller: &Caller, body: NewPairing) -> AppResult<Pairing> {
    caller.require(&[Role::Admin])?;
    let db = &state.db;
    let mut errors = Vec::new();
    let kind = body.kind.take(&mut errors, "kind");
    let helper = body.helper_org_id.take(&mut errors, "helper_org_id");
    if let Some(h) = helper {
        match queries::org(db, &h.to_string()).await? {
            None => errors.push(FieldError::new("helper_org_id", "no such organisation")),
            Some(o) if !OrgKind::parse(&o.kind).is_some_and(OrgKind::is_buyer) => errors.push(FieldError::new(
                "helper_org_id",
                "the helper must be a buyer organisation",
            )),
            Some(_) => {}
        }
    }
    check_helped(db, &body.helped_region_code, &mut errors).await?;
    check_year(&mut errors, "year", body.year);
    let purchase = body.purchase_target.take(&mut errors, "purchase_target");
    let helped = body.helped_sale_target.take(&mut errors, "helped_sale_target");
    AppError::check(errors)?;
    let (Some(kind), Some(helper), Some(purchase), Some(helped)) = (kind, helper, purchase, helped) else {
        return Err(AppError::internal("validated values missing"));
    };
    // Checked and written with every other new pairing held off: two identical requests at
    // once both found none and both wrote one.
    let txn = db.begin().await?;
    // The county checked again with the region tree held still (before the pairings' lock), so
    // that it is not re-filed as a township before this commits.
    crate::services::regions::hold_tree_shared(&txn).await?;
    let mut late = Vec::new();
    check_helped(&txn, &body.helped_region_code, &mut late).await?;
    AppError::check(late)?;
    crate::services::hold(&txn, PAIRING_LOCK).await?;
    if let Some(d) = queries::same_pairing(&txn, kind, helper, &body.helped_region_code, body.year).await? {
        return Err(AppError::Conflict(format!(
            "a {kind} pairing of this helper with this county for {} already exists ({})",
            body.year, d.id
        )));
    }
    let m = queries::insert_pairing(
        &txn,
        pairings::ActiveModel {
            id: Set(PairingId::new().to_string()),
            kind: Set(kind.as_str().to_string()),
            helper_org_id: Set(helper.to_string()),
            helped_region_code: Set(body.helped_region_code),
            year: Set(body.year),
            purchase_target_fen: Set(purchase.minor()),
            helped_sale_target_fen: Set(helped.minor()),
            created_at: Set(now()),
        },
    )
    .await?;
    txn.commit().await?;
    pairing_view(db, m).await
}

/// The helped region is a county.
async fn check_helped(conn: &impl ConnectionTrait, code: &str, errors: &mut Vec<FieldError>) -> AppResult<()> {
    match queries::region(conn, code).await? {
        None => errors.push(FieldError::new("helped_region_code", "no such region")),
        Some(r) if RegionLevel::County != r.level => errors.push(FieldError::new(
            "helped_region_code",
            "the helped region must be a county",
        )),
        Some(_) => {}
    }
    Ok(())
}

/// The advisory lock key that serialises creating pairings.
const PAIRING_LOCK: i64 = 0x7061_6972_696E; // "pairin"

async fn caller_org(state: &AppState, caller: &Caller) -> AppResult<organizations::Model> {
    queries::org(&state.db, &caller.org_id.to_string())
        .await?
        .ok_or(AppError::NotFound("organization"))
}

/// Whether the caller may see the pairing: admin and evaluators all; the helper
/// organisation its own; the county office of the helped county.
pub(super) async fn sees_pairing(state: &AppState, caller: &Caller, p: &pairings::Model) -> AppResult<bool> {
    Ok(match caller.role {
        Role::Admin | Role::Evaluator => true,
        Role::Buyer => {
            let me = caller.org_id.to_string();
            p.helper_org_id == me
        }
        Role::Certifier => {
            let org = caller_org(state, caller).await?;
            OrgKind::CountyOffice == org.kind && org.region_code == p.helped_region_code
        }
        Role::Supplier | Role::Supervisor => false,
    })
}

pub async fn find_pairing(state: &AppState, caller: &Caller, id: PairingId) -> AppResult<pairings::Model> {
    let p = queries::pairing(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("pairing"))?;
    if !sees_pairing(state, caller, &p).await? {
        return Err(AppError::NotFound("pairing"));
    }
    Ok(p)
}

pub async fn get_pairing(state: &AppState, caller: &Caller, id: PairingId) -> AppResult<Pairing> {
    let p = find_pairing(state, caller, id).await?;
    pairing_view(&state.db, p).await
}

pub async fn list_pairings(
    state: &AppState,
    caller: &Caller,
    f: &PairingFilter,
    page: &PageParams,
) -> AppResult<(Vec<Pairing>, Option<String>)> {
    let limit = page.limit()?;
    let of = match caller.role {
        Role::Admin | Role::Evaluator => PairingsOf::All,
        Role::Buyer => PairingsOf::Helper(caller.org_id.to_string()),
        Role::Certifier => PairingsOf::County(caller_org(state, caller).await?.region_code),
        Role::Supplier | Role::Supervisor => return Ok((Vec::new(), None)),
    };
    let rows = queries::list_pairings(&state.db, of, f.year, f.kind, page.cursor()?, limit).await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(pairing_view(&state.db, r).await?);
    }
    Ok((items, next))
}

fn category_progress(target_fen: i64, credited_fen: i64, entries: i64) -> AppResult<CategoryProgress> {
    let target = stored_money(target_fen)?;
    let credited = net(credited_fen, "credited amount")?;
    let shortfall = i64::try_from((i128::from(target_fen) - i128::from(credited_fen)).max(0))
        .map_err(|_| AppError::Conflict("the shortfall is out of range".into()))?;
    Ok(CategoryProgress {
        target,
        credited,
        progress: Ratio::of(credited_fen, target_fen),
        shortfall: Money::from_minor(shortfall).map_err(|e| too_large("shortfall", e))?,
        entries,
    })
}

pub async fn pairing_progress(state: &AppState, caller: &Caller, id: PairingId) -> AppResult<PairingProgress> {
    let p = find_pairing(state, caller, id).await?;
    let helpers = queries::with_children(&state.db, &p.helper_org_id).await?;
    let filter = SplitFilter {
        county: Some(&p.helped_region_code),
        ..Default::default()
    };
    let s = queries::split_sums(&state.db, p.year, &helpers, filter).await?;
    Ok(PairingProgress {
        pairing_id: id,
        year: p.year,
        helper_org_id: stored_id(&p.helper_org_id)?,
        purchase: category_progress(p.purchase_target_fen, s.purchase_fen, s.purchase_count)?,
        helped_sale: category_progress(p.helped_sale_target_fen, s.helped_sale_fen, s.helped_sale_count)?,
        total: net(s.total()?, "total")?,
        helped_region_code: p.helped_region_code,
    })
}
