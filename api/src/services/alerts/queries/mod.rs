//! Every SQL statement of the alerts capability. The sea-orm query builder where
//! it expresses the statement; raw SQL (through `services::sql`) for the grouped
//! signal queries and the multi-row inserts that skip conflicts and return what
//! they inserted. States are bound from their enums, never written in the SQL.
//!
//! `read` holds what the listing, reports and pledges read and write; `write`
//! what the scan and the response write to alerts.
mod read;
mod write;

pub use read::*;
pub use write::*;

use crate::domain::{AlertStatus, LedgerKind, OrgStatus, ProductCategory, ProductStatus, UnsoldReportStatus};
use crate::error::AppResult;
use crate::services::sql;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{alert_rules, alerts};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QueryResult,
    QuerySelect, Value,
};

type Time = DateTime<Utc>;

/// Appends `v` to `values` and returns its placeholder.
fn ph(values: &mut Vec<Value>, v: impl Into<Value>) -> String {
    values.push(v.into());
    format!("${}", values.len())
}

// ---------------------------------------------------------------- rules

pub async fn all_rules(conn: &impl ConnectionTrait) -> AppResult<Vec<alert_rules::Model>> {
    Ok(alert_rules::Entity::find()
        .order_by_asc(alert_rules::Column::Category)
        .all(conn)
        .await?)
}

pub async fn find_rule(conn: &impl ConnectionTrait, c: ProductCategory) -> AppResult<Option<alert_rules::Model>> {
    Ok(alert_rules::Entity::find_by_id(c.as_str().to_string())
        .one(conn)
        .await?)
}

/// Inserts the rule when none is stored (`version` `None`), or replaces its thresholds when
/// `version` is the stored one, bumping it. Returns whether a row was written.
pub async fn upsert_rule(
    conn: &impl ConnectionTrait,
    rule: alert_rules::Model,
    version: Option<i32>,
) -> AppResult<bool> {
    use alert_rules::Column as C;
    let stored = Expr::col((alert_rules::Entity, C::Version));
    let mut on_conflict = OnConflict::column(C::Category);
    match version {
        None => on_conflict.do_nothing(),
        Some(v) => on_conflict
            .update_columns([
                C::YellowDays,
                C::OrangeDays,
                C::RedDays,
                C::NoSalesDays,
                C::ExpiryWindowDays,
                C::UpdatedAt,
            ])
            .value(C::Version, stored.clone().add(1))
            .action_and_where(stored.eq(v)),
    };
    let written = alert_rules::Entity::insert(alert_rules::ActiveModel::from(rule).reset_all())
        .on_conflict(on_conflict.to_owned())
        .exec_without_returning(conn)
        .await?;
    Ok(written > 0)
}

// ---------------------------------------------------------------- signals and matching

/// Per certified, unexpired product of an active supplier with stock in unexpired lots: stock, earliest
/// best-before, net sales since `since` and the last sale (a correction's credit, which moves
/// a sale to another buyer, is none). A confirmed flag's reversal, dated when the flag was
/// confirmed, takes back credit for a sale made whenever: no goods moved, so it is no lost sale.
pub async fn signal_rows(conn: &impl ConnectionTrait, day: NaiveDate, since: Time) -> AppResult<Vec<QueryResult>> {
    Ok(conn
        .query_all_raw(sql(
            conn,
            "SELECT p.id, p.name, p.category, p.unit, p.supplier_org_id, p.origin_region_code, p.origin_county_code, \
             p.reserved_milli, p.certified_at, p.created_at, s.on_hand, s.earliest, \
             COALESCE(l.sold, 0) AS sold, l.last_sale \
             FROM products p \
             JOIN (SELECT product_id, SUM(remaining_milli) AS on_hand, MIN(best_before) AS earliest FROM lots \
                   WHERE remaining_milli > 0 AND best_before >= $1 AND NOT uncertified_batch GROUP BY product_id) s ON s.product_id = p.id \
             LEFT JOIN (SELECT e.product_id, SUM(CASE WHEN e.occurred_at >= $2 AND fr.reversal_entry_id IS NULL \
                   THEN e.quantity_milli ELSE 0 END) AS sold, \
                   MAX(CASE WHEN e.kind = $3 AND c.entry_id IS NULL THEN e.occurred_at END) AS last_sale \
                   FROM ledger_entries e LEFT JOIN attribution_correction_credits c ON c.entry_id = e.id \
                   LEFT JOIN flag_reversals fr ON fr.reversal_entry_id = e.id \
                   GROUP BY e.product_id) l \
                   ON l.product_id = p.id \
             JOIN organizations o ON o.id = p.supplier_org_id AND o.status = $5 \
             WHERE p.status = $4 AND (p.valid_until IS NULL OR p.valid_until >= $1) \
             ORDER BY p.id",
            vec![
                day.into(),
                since.into(),
                LedgerKind::Credit.into(),
                ProductStatus::Certified.into(),
                OrgStatus::Active.into(),
            ],
        ))
        .await?)
}

/// Backlog reports open and made by `at` (the scan's time: one filed while the scan writes is
/// weighed by the next), with what sold of their product since each was made (flag reversals
/// left out, as in [`signal_rows`]).
pub async fn open_report_rows(conn: &impl ConnectionTrait, at: Time) -> AppResult<Vec<QueryResult>> {
    Ok(conn
        .query_all_raw(sql(
            conn,
            "SELECT r.id, r.product_id, r.quantity_milli, \
             COALESCE((SELECT SUM(e.quantity_milli) FROM ledger_entries e WHERE e.product_id = r.product_id AND e.occurred_at >= r.created_at \
             AND NOT EXISTS (SELECT 1 FROM flag_reversals fr WHERE fr.reversal_entry_id = e.id)), 0) AS sold_since \
             FROM unsold_reports r WHERE r.status = $1 AND r.created_at <= $2",
            vec![UnsoldReportStatus::Open.into(), at.into()],
        ))
        .await?)
}

pub async fn active_org_rows(conn: &impl ConnectionTrait) -> AppResult<Vec<QueryResult>> {
    Ok(conn
        .query_all_raw(sql(
            conn,
            "SELECT id, name, kind, region_code, contact_email FROM organizations WHERE status = $1",
            vec![OrgStatus::Active.into()],
        ))
        .await?)
}

pub async fn pairing_rows(conn: &impl ConnectionTrait, year: i32) -> AppResult<Vec<QueryResult>> {
    Ok(conn
        .query_all_raw(sql(
            conn,
            "SELECT helper_org_id, helped_region_code, kind FROM pairings WHERE year = $1 ORDER BY created_at, id",
            vec![year.into()],
        ))
        .await?)
}

/// Each buyer's quota target of `year` (`credit::targets_sql`: its approved plan's, else its
/// quota's) with what the buyer and its children were credited.
pub async fn quota_rows(conn: &impl ConnectionTrait, year: i32) -> AppResult<Vec<QueryResult>> {
    let text = format!(
        "SELECT q.buyer_org_id, q.target_fen, \
         COALESCE((SELECT SUM(e.amount_fen) FROM ledger_entries e JOIN organizations c ON c.id = e.buyer_org_id \
           WHERE e.year = $1 AND (c.id = q.buyer_org_id OR c.parent_org_id = q.buyer_org_id)), 0) AS credited \
         FROM ({}) q",
        crate::services::credit::targets_sql("$1")
    );
    Ok(conn.query_all_raw(sql(conn, &text, vec![year.into()])).await?)
}

/// Net quantity each buyer bought of each category.
pub async fn bought_rows(conn: &impl ConnectionTrait) -> AppResult<Vec<QueryResult>> {
    Ok(conn
        .query_all_raw(sql(
            conn,
            "SELECT buyer_org_id, category, SUM(quantity_milli) AS qty FROM ledger_entries GROUP BY buyer_org_id, category",
            vec![],
        ))
        .await?)
}

// ---------------------------------------------------------------- writing alerts

/// (id, product id, level rank) of every unresolved alert.
/// (product id, level rank) of the alerts a person resolved since `since`.
pub async fn resolved_by_hand_since(conn: &impl ConnectionTrait, since: Time) -> AppResult<Vec<(String, i32)>> {
    Ok(alerts::Entity::find()
        .select_only()
        .columns([alerts::Column::ProductId, alerts::Column::LevelRank])
        .filter(alerts::Column::Status.eq(AlertStatus::Resolved.as_str()))
        .filter(alerts::Column::ResolvedBy.is_not_null())
        .filter(alerts::Column::ResolvedAt.gte(since))
        .into_tuple()
        .all(conn)
        .await?)
}

pub async fn unresolved_alerts(conn: &impl ConnectionTrait) -> AppResult<Vec<(String, String, i32)>> {
    Ok(alerts::Entity::find()
        .select_only()
        .columns([alerts::Column::Id, alerts::Column::ProductId, alerts::Column::LevelRank])
        .filter(alerts::Column::Status.is_in(AlertStatus::unresolved()))
        .into_tuple()
        .all(conn)
        .await?)
}
