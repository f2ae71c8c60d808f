//! Every SQL statement of the credit capability. States and kinds are bound from
//! their enums, never written in the SQL text.
use super::{Split, SplitFilter};
use crate::domain::{CreditCategory, LedgerKind, OrgId, PairingId, PairingKind, Share};
use crate::error::{AppError, AppResult};
use entity::{organizations, pairings, quota_floors, quotas, regions};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set};

/// SUM over BIGINT is NUMERIC on PostgreSQL and INTEGER on SQLite; read either.
pub fn sum_of(row: &sea_orm::QueryResult, col: &str) -> AppResult<i64> {
    if let Ok(v) = row.try_get::<i64>("", col) {
        return Ok(v);
    }
    let d: rust_decimal::Decimal = row.try_get("", col)?;
    use rust_decimal::prelude::ToPrimitive;
    d.to_i64()
        .ok_or_else(|| AppError::Conflict("a ledger sum is out of range".into()))
}

// ---------------------------------------------------------------- ledger sums

pub async fn split_sums(
    conn: &impl ConnectionTrait,
    year: i32,
    buyers: &[String],
    f: SplitFilter<'_>,
) -> AppResult<Split> {
    use entity::ledger_entries::{Column as L, Entity as Ledger};
    use sea_orm::sea_query::{Asterisk, ExprTrait, Func, Query};
    let mut out = Split::default();
    if buyers.is_empty() {
        return Ok(out);
    }
    let mut q = Ledger::find()
        .select_only()
        .column(L::CreditCategory)
        .column_as(
            Expr::from(Func::coalesce([Expr::col(L::AmountFen).sum(), Expr::val(0)])),
            "amt",
        )
        .column_as(Expr::col(Asterisk).count(), "n");
    q = match f.reversals_after {
        // A reversal touches the year when it is of that year or reverses a credit of that year.
        Some(after) => q
            .filter(L::Kind.eq(LedgerKind::Reversal))
            .filter(
                L::Id.not_in_subquery(
                    Query::select()
                        .column(entity::ledger_positions::Column::EntryId)
                        .from(entity::ledger_positions::Entity)
                        .and_where(entity::ledger_positions::Column::Seq.lte(after))
                        .to_owned(),
                ),
            )
            .filter(
                sea_orm::Condition::any().add(L::Year.eq(year)).add(
                    L::OrderLineId.in_subquery(
                        Query::select()
                            .column(L::OrderLineId)
                            .from(Ledger)
                            .and_where(L::Kind.eq(LedgerKind::Credit))
                            .and_where(L::Year.eq(year))
                            .to_owned(),
                    ),
                ),
            ),
        None => q.filter(L::Year.eq(year)),
    };
    q = q.filter(L::BuyerOrgId.is_in(buyers.iter().cloned()));
    if let Some(c) = f.county {
        q = q.filter(L::OriginCountyCode.eq(c.to_string()));
    }
    if let Some(m) = f.max_seq {
        q = q.filter(
            L::Id.in_subquery(
                Query::select()
                    .column(entity::ledger_positions::Column::EntryId)
                    .from(entity::ledger_positions::Entity)
                    .and_where(entity::ledger_positions::Column::Seq.lte(m))
                    .to_owned(),
            ),
        );
    }
    let stmt = q.group_by(L::CreditCategory).build(conn.get_database_backend());
    let overflow = || AppError::Conflict("the ledger total is out of range".into());
    for row in conn.query_all_raw(stmt).await? {
        let cat: String = row.try_get("", "credit_category")?;
        let amt = sum_of(&row, "amt")?;
        let n = sum_of(&row, "n")?;
        let (fen, count) = if CreditCategory::Purchase == cat {
            (&mut out.purchase_fen, &mut out.purchase_count)
        } else {
            (&mut out.helped_sale_fen, &mut out.helped_sale_count)
        };
        *fen = fen.checked_add(amt).ok_or_else(overflow)?;
        *count = count.checked_add(n).ok_or_else(overflow)?;
    }
    Ok(out)
}

/// The ledger's latest checkpoint: its tree size and root hash (base64).
pub async fn ledger_head(conn: &impl ConnectionTrait) -> AppResult<(i64, String)> {
    use base64::Engine;
    let Some(c) = crate::services::ledger::latest_checkpoint(conn).await? else {
        return Err(AppError::Conflict(
            "the ledger has no checkpoint yet; retry shortly".into(),
        ));
    };
    let root = hex::decode(&c.root_hash).map_err(AppError::internal)?;
    Ok((c.tree_size, base64::engine::general_purpose::STANDARD.encode(root)))
}

// ---------------------------------------------------------------- organisations and regions

pub async fn org(conn: &impl ConnectionTrait, id: &str) -> AppResult<Option<organizations::Model>> {
    Ok(organizations::Entity::find_by_id(id.to_string()).one(conn).await?)
}

pub async fn region(conn: &impl ConnectionTrait, code: &str) -> AppResult<Option<regions::Model>> {
    Ok(regions::Entity::find_by_id(code.to_string()).one(conn).await?)
}

/// The organisation ids of `org_id` and its children (a parent's figures count its children's).
pub async fn with_children(conn: &impl ConnectionTrait, org_id: &str) -> AppResult<Vec<String>> {
    let mut ids = vec![org_id.to_string()];
    let children = organizations::Entity::find()
        .filter(organizations::Column::ParentOrgId.eq(org_id.to_string()))
        .all(conn)
        .await?;
    ids.extend(children.into_iter().map(|c| c.id));
    Ok(ids)
}

// ---------------------------------------------------------------- quotas and floors

pub async fn floor(conn: &impl ConnectionTrait, year: i32) -> AppResult<Option<Share>> {
    match quota_floors::Entity::find_by_id(year).one(conn).await? {
        Some(f) => Ok(Some(
            Share::from_minor(i64::from(f.min_share_ppm)).map_err(AppError::internal)?,
        )),
        None => Ok(None),
    }
}

pub async fn set_floor(conn: &impl ConnectionTrait, year: i32, share: Share) -> AppResult<()> {
    let ppm = i32::try_from(share.minor()).map_err(AppError::internal)?;
    quota_floors::Entity::insert(quota_floors::ActiveModel {
        year: Set(year),
        min_share_ppm: Set(ppm),
        updated_at: Set(crate::services::now()),
    })
    .on_conflict(
        OnConflict::column(quota_floors::Column::Year)
            .update_columns([quota_floors::Column::MinSharePpm, quota_floors::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub async fn quota(conn: &impl ConnectionTrait, buyer: OrgId, year: i32) -> AppResult<Option<quotas::Model>> {
    Ok(quotas::Entity::find_by_id((buyer.to_string(), year)).one(conn).await?)
}

/// The figures of a quota as stored.
pub struct QuotaRow {
    pub buyer: OrgId,
    pub year: i32,
    pub food_budget_fen: i64,
    pub share_ppm: i64,
    pub target_fen: i64,
}

/// Inserts the quota when none is stored (`version` `None`), or replaces it when `version` is
/// what is stored, bumping the version. Returns whether a row was written.
pub async fn upsert_quota(conn: &impl ConnectionTrait, q: QuotaRow, version: Option<i32>) -> AppResult<bool> {
    use quotas::Column as C;
    use sea_orm::sea_query::ExprTrait;
    let share = i32::try_from(q.share_ppm).map_err(AppError::internal)?;
    let am = quotas::ActiveModel {
        buyer_org_id: Set(q.buyer.to_string()),
        year: Set(q.year),
        food_budget_fen: Set(q.food_budget_fen),
        reserved_share_ppm: Set(share),
        target_fen: Set(q.target_fen),
        version: Set(1),
        updated_at: Set(crate::services::now()),
    };
    let stored_version = Expr::col((quotas::Entity, C::Version));
    let mut on_conflict = OnConflict::columns([C::BuyerOrgId, C::Year]);
    match version {
        // A first write: a quota written since the caller looked is not overwritten blindly.
        None => on_conflict.do_nothing(),
        Some(v) => on_conflict
            .update_columns([C::FoodBudgetFen, C::ReservedSharePpm, C::TargetFen, C::UpdatedAt])
            .value(C::Version, stored_version.clone().add(1))
            .action_and_where(stored_version.eq(v)),
    };
    let written = quotas::Entity::insert(am)
        .on_conflict(on_conflict.to_owned())
        .exec_without_returning(conn)
        .await?;
    Ok(written > 0)
}

// ---------------------------------------------------------------- pairings

pub async fn pairing(conn: &impl ConnectionTrait, id: PairingId) -> AppResult<Option<pairings::Model>> {
    Ok(pairings::Entity::find_by_id(id.to_string()).one(conn).await?)
}

pub async fn same_pairing(
    conn: &impl ConnectionTrait,
    kind: PairingKind,
    helper: OrgId,
    county: &str,
    year: i32,
) -> AppResult<Option<pairings::Model>> {
    Ok(pairings::Entity::find()
        .filter(pairings::Column::Kind.eq(kind))
        .filter(pairings::Column::HelperOrgId.eq(helper))
        .filter(pairings::Column::HelpedRegionCode.eq(county.to_string()))
        .filter(pairings::Column::Year.eq(year))
        .one(conn)
        .await?)
}

pub async fn insert_pairing(conn: &impl ConnectionTrait, m: pairings::ActiveModel) -> AppResult<pairings::Model> {
    use sea_orm::ActiveModelTrait;
    Ok(m.insert(conn).await?)
}

/// Who sees which pairings in a list.
pub enum PairingsOf {
    All,
    Helper(String),
    County(String),
}

pub async fn list_pairings(
    conn: &impl ConnectionTrait,
    of: PairingsOf,
    year: Option<i32>,
    kind: Option<PairingKind>,
    cursor: Option<String>,
    limit: u64,
) -> AppResult<Vec<pairings::Model>> {
    let mut q = pairings::Entity::find();
    match of {
        PairingsOf::All => {}
        PairingsOf::Helper(org) => q = q.filter(pairings::Column::HelperOrgId.eq(org)),
        PairingsOf::County(code) => q = q.filter(pairings::Column::HelpedRegionCode.eq(code)),
    }
    if let Some(y) = year {
        q = q.filter(pairings::Column::Year.eq(y));
    }
    if let Some(k) = kind {
        q = q.filter(pairings::Column::Kind.eq(k));
    }
    if let Some(c) = cursor {
        q = q.filter(pairings::Column::Id.lt(c));
    }
    Ok(q.order_by_desc(pairings::Column::Id).limit(limit + 1).all(conn).await?)
}
