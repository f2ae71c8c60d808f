//! The thresholds of each product category (`GET /alert-rules`, `PUT /alert-rules/{category}`).
use super::{queries, stored};
use crate::auth::{Caller, Role};
use crate::domain::ProductCategory;
use crate::error::{AppError, AppResult, FieldError};
use crate::services::now;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// The thresholds applied to one product, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub yellow_days: i64,
    pub orange_days: i64,
    pub red_days: i64,
    pub no_sales_days: i64,
    pub expiry_window_days: i64,
}

impl Rule {
    /// Used for a product whose category has no rule row.
    pub const FALLBACK: Rule = Rule {
        yellow_days: 30,
        orange_days: 60,
        red_days: 90,
        no_sales_days: 21,
        expiry_window_days: 14,
    };
}

/// The thresholds of one product category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertRule {
    pub category: ProductCategory,
    /// Days of cover from which the alert is yellow.
    pub yellow_days: i32,
    /// Days of cover from which the alert is orange (above `yellow_days`).
    pub orange_days: i32,
    /// Days of cover from which the alert is red (above `orange_days`).
    pub red_days: i32,
    /// Days without an accepted sale after which the alert is (at least) orange.
    pub no_sales_days: i32,
    /// Red when the earliest best-before is this close and the stock cannot be sold before it.
    pub expiry_window_days: i32,
    /// The rule's version, its `ETag`: `If-Match` names it to replace the rule.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<entity::alert_rules::Model> for AlertRule {
    type Error = AppError;
    fn try_from(m: entity::alert_rules::Model) -> AppResult<Self> {
        Ok(AlertRule {
            category: stored(&m.category, "category")?,
            yellow_days: m.yellow_days,
            orange_days: m.orange_days,
            red_days: m.red_days,
            no_sales_days: m.no_sales_days,
            expiry_window_days: m.expiry_window_days,
            version: m.version,
            updated_at: m.updated_at,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertRuleList {
    pub items: Vec<AlertRule>,
}

/// `PUT /alert-rules/{category}`: every threshold, in days (0 to 3650).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutAlertRule {
    pub yellow_days: i64,
    pub orange_days: i64,
    pub red_days: i64,
    pub no_sales_days: i64,
    pub expiry_window_days: i64,
}

pub async fn list_rules(state: &AppState, _caller: &Caller) -> AppResult<AlertRuleList> {
    let rows = queries::all_rules(&state.db).await?;
    Ok(AlertRuleList {
        items: rows.into_iter().map(AlertRule::try_from).collect::<AppResult<_>>()?,
    })
}

/// Checks the thresholds: each within 0..=3650, the days of cover rising.
fn check(body: &PutAlertRule) -> AppResult<()> {
    let mut errors = Vec::new();
    for (field, v) in [
        ("yellow_days", body.yellow_days),
        ("orange_days", body.orange_days),
        ("red_days", body.red_days),
        ("no_sales_days", body.no_sales_days),
        ("expiry_window_days", body.expiry_window_days),
    ] {
        if v < 0 {
            errors.push(FieldError::new(field, "must not be negative"));
        } else if v > 3650 {
            errors.push(FieldError::new(field, "must be at most 3650 days"));
        }
    }
    if body.yellow_days == 0 {
        errors.push(FieldError::new("yellow_days", "must be at least 1"));
    }
    if body.no_sales_days == 0 {
        errors.push(FieldError::new("no_sales_days", "must be at least 1"));
    }
    if body.orange_days <= body.yellow_days {
        errors.push(FieldError::new(
            "orange_days",
            "must be greater than yellow_days (thresholds rise: yellow < orange < red days of cover)",
        ));
    }
    if body.red_days <= body.orange_days {
        errors.push(FieldError::new(
            "red_days",
            "must be greater than orange_days (thresholds rise: yellow < orange < red days of cover)",
        ));
    }
    AppError::check(errors)
}

/// Replaces the category's rule when `if_match` names its version (or is `*`): 428 without
/// it, 412 when it no longer matches, so that two admins never overwrite each other blindly.
pub async fn put_rule(
    state: &AppState,
    caller: &Caller,
    category: ProductCategory,
    body: PutAlertRule,
    if_match: Option<String>,
) -> AppResult<AlertRule> {
    caller.require(&[Role::Admin])?;
    check(&body)?;
    let existing = queries::find_rule(&state.db, category).await?;
    let version = match (&existing, if_match.as_deref()) {
        (Some(_), None) => return Err(AppError::PreconditionRequired),
        (Some(e), Some(tag)) if tag != "*" && tag != e.version.to_string() => return Err(AppError::PreconditionFailed),
        (Some(e), Some(_)) => Some(e.version),
        (None, Some(_)) => return Err(AppError::PreconditionFailed),
        (None, None) => None,
    };
    // Every value is within 0..=3650 (checked above), so each fits an i32.
    let days = |v: i64| v as i32;
    let rule = entity::alert_rules::Model {
        category: category.as_str().to_string(),
        yellow_days: days(body.yellow_days),
        orange_days: days(body.orange_days),
        red_days: days(body.red_days),
        no_sales_days: days(body.no_sales_days),
        expiry_window_days: days(body.expiry_window_days),
        version: 1,
        updated_at: now(),
    };
    if !queries::upsert_rule(&state.db, rule, version).await? {
        return Err(match version {
            None => AppError::PreconditionRequired,
            Some(_) => AppError::PreconditionFailed,
        });
    }
    queries::find_rule(&state.db, category)
        .await?
        .ok_or(AppError::NotFound("alert rule"))?
        .try_into()
}

/// Every category's rule, for the scan.
pub(super) async fn load_rules(conn: &impl sea_orm::ConnectionTrait) -> AppResult<HashMap<ProductCategory, Rule>> {
    let mut out = HashMap::new();
    for m in queries::all_rules(conn).await? {
        // A row for a category that no longer exists applies to nothing.
        if let Some(c) = ProductCategory::parse(&m.category) {
            out.insert(
                c,
                Rule {
                    yellow_days: i64::from(m.yellow_days),
                    orange_days: i64::from(m.orange_days),
                    red_days: i64::from(m.red_days),
                    no_sales_days: i64::from(m.no_sales_days),
                    expiry_window_days: i64::from(m.expiry_window_days),
                },
            );
        }
    }
    Ok(out)
}
