//! What the rules make of a product's signals: pure, unit-tested below.
use super::rules::Rule;
use super::{saturating_qty, SALES_WINDOW_DAYS};
use crate::domain::{AlertLevel, AlertReason, OrgId, ProductCategory, ProductId, Quantity, Unit};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The signals of one product at scan time.
#[derive(Debug, Clone)]
pub struct Signal {
    pub product_id: ProductId,
    pub product_name: String,
    pub category: ProductCategory,
    pub supplier_org_id: OrgId,
    pub origin_region_code: String,
    pub origin_county_code: String,
    pub unit: Unit,
    pub available: Quantity,
    /// Net accepted quantity of the last 28 days (none when returns outweigh sales).
    pub sold_window: Quantity,
    pub days_to_expiry: Option<i64>,
    /// Days since the last sale, or since the product was listed when it never sold.
    pub days_without_sale: i64,
    pub days_since_last_sale: Option<i64>,
    /// Open backlog reports not yet sold since they were made.
    pub reported: Quantity,
}

/// One reason an alert fired, with the figures behind it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct AlertReasonDetail {
    pub code: AlertReason,
    pub detail: String,
}

/// What the rules make of a product's signals.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// None: no alert.
    pub level: Option<AlertLevel>,
    pub reasons: Vec<AlertReasonDetail>,
    pub days_of_cover: Option<i64>,
    pub avg_daily: Quantity,
}

impl Evaluation {
    /// The reason codes, for an event's note.
    pub fn codes(&self) -> String {
        self.reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn qty(q: Quantity, unit: Unit) -> String {
    format!("{q} {unit}")
}

/// Applies a rule to a product's signals.
pub fn evaluate(s: &Signal, r: &Rule) -> Evaluation {
    let sold = s.sold_window.minor();
    let avg_daily = saturating_qty(sold / SALES_WINDOW_DAYS);
    let days_of_cover = (sold > 0).then(|| {
        // Both factors are bounded by 10¹², so the i128 product cannot overflow; the
        // quotient is at most 28 × 10¹⁵ and fits an i64.
        (i128::from(s.available.minor()) * i128::from(SALES_WINDOW_DAYS) / i128::from(sold)) as i64
    });
    let mut level: Option<AlertLevel> = None;
    let mut reasons = Vec::new();
    if s.available.is_zero() {
        return Evaluation {
            level,
            reasons,
            days_of_cover,
            avg_daily,
        };
    }
    if let Some(doc) = days_of_cover {
        let hit = if doc >= r.red_days {
            Some((AlertLevel::Red, r.red_days))
        } else if doc >= r.orange_days {
            Some((AlertLevel::Orange, r.orange_days))
        } else if doc >= r.yellow_days {
            Some((AlertLevel::Yellow, r.yellow_days))
        } else {
            None
        };
        if let Some((lvl, threshold)) = hit {
            level = level.max(Some(lvl));
            reasons.push(AlertReasonDetail {
                code: AlertReason::DaysOfCover,
                detail: format!(
                    "{} available last {doc} days at the 28-day average of {} a day ({lvl} from {threshold} days)",
                    qty(s.available, s.unit),
                    qty(avg_daily, s.unit),
                ),
            });
        }
    }
    if s.days_without_sale >= r.no_sales_days {
        level = level.max(Some(AlertLevel::Orange));
        reasons.push(AlertReasonDetail {
            code: AlertReason::NoSales,
            detail: match s.days_since_last_sale {
                Some(d) => format!("no accepted sale for {d} days (orange from {} days)", r.no_sales_days),
                None => format!(
                    "never sold in the {} days since it was listed (orange from {} days)",
                    s.days_without_sale, r.no_sales_days
                ),
            },
        });
    }
    if let Some(dte) = s.days_to_expiry {
        let cannot_sell = days_of_cover.is_none_or(|doc| doc > dte);
        if dte <= r.expiry_window_days && cannot_sell {
            level = Some(AlertLevel::Red);
            reasons.push(AlertReasonDetail {
                code: AlertReason::ExpiryRisk,
                detail: match days_of_cover {
                    None => format!(
                        "the earliest lot reaches its best-before in {dte} days (window {} days) and nothing sold in 28 days",
                        r.expiry_window_days
                    ),
                    Some(doc) => format!(
                        "the earliest lot reaches its best-before in {dte} days (window {} days) but the stock lasts {doc} days at the current pace",
                        r.expiry_window_days
                    ),
                },
            });
        }
    }
    if !s.reported.is_zero() {
        level = level.max(Some(AlertLevel::Yellow));
        reasons.push(AlertReasonDetail {
            code: AlertReason::UnsoldReport,
            detail: format!(
                "the supplier reported {} unsold that has not sold since",
                qty(s.reported, s.unit)
            ),
        });
    }
    Evaluation {
        level,
        reasons,
        days_of_cover,
        avg_daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            yellow_days: 7,
            orange_days: 14,
            red_days: 21,
            no_sales_days: 7,
            expiry_window_days: 5,
        }
    }

    fn q(milli: i64) -> Quantity {
        saturating_qty(milli)
    }

    fn sig(available: i64, sold: i64) -> Signal {
        Signal {
            product_id: ProductId::new(),
            product_name: "cabbage".into(),
            category: ProductCategory::Vegetables,
            supplier_org_id: OrgId::new(),
            origin_region_code: "130727".into(),
            origin_county_code: "130727".into(),
            unit: Unit::Kg,
            available: q(available),
            sold_window: q(sold),
            days_since_last_sale: Some(1),
            days_without_sale: 1,
            days_to_expiry: Some(100),
            reported: Quantity::ZERO,
        }
    }

    #[test]
    fn levels_by_days_of_cover() {
        use AlertLevel::*;
        // 28 sold in 28 days: 1 a day.
        assert_eq!(evaluate(&sig(6_000, 28_000), &rule()).level, None);
        assert_eq!(evaluate(&sig(7_000, 28_000), &rule()).level, Some(Yellow));
        assert_eq!(evaluate(&sig(14_000, 28_000), &rule()).level, Some(Orange));
        assert_eq!(evaluate(&sig(21_000, 28_000), &rule()).level, Some(Red));
        assert_eq!(evaluate(&sig(21_000, 28_000), &rule()).days_of_cover, Some(21));
    }

    #[test]
    fn no_sales_expiry_and_reports() {
        let mut s = sig(1_000, 0);
        s.days_without_sale = 8;
        s.days_since_last_sale = Some(8);
        let e = evaluate(&s, &rule());
        assert_eq!(e.level, Some(AlertLevel::Orange));
        assert_eq!(e.reasons[0].code, AlertReason::NoSales);
        let mut s = sig(10_000, 28_000);
        s.days_to_expiry = Some(3);
        let e = evaluate(&s, &rule());
        assert_eq!(e.level, Some(AlertLevel::Red));
        assert!(e.reasons.iter().any(|r| r.code == AlertReason::ExpiryRisk));
        let mut s = sig(1_000, 28_000);
        s.reported = q(500);
        let e = evaluate(&s, &rule());
        assert_eq!(
            (e.level, e.reasons[0].code),
            (Some(AlertLevel::Yellow), AlertReason::UnsoldReport)
        );
        assert_eq!(evaluate(&sig(0, 0), &rule()).level, None);
    }

    #[test]
    fn the_largest_quantities_do_not_overflow() {
        let e = evaluate(&sig(Quantity::MAX, 1), &rule());
        assert_eq!(e.days_of_cover, Some(Quantity::MAX * SALES_WINDOW_DAYS));
        assert_eq!(e.level, Some(AlertLevel::Red));
    }
}
