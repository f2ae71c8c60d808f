//! Whose quota target a year has, and what it is: the approved plan is a budget unit's quota
//! target for the year (issue 13; `PUT …/quotas` answers 409 once a plan exists), and a buyer
//! without an approved plan keeps the quota it set. `GET /buyers/{org}/quotas/{year}` reads
//! this rule for one buyer (`quotas::get_quota`); the report's ranking, the alerts' matching
//! and the fraud flags read it for many at once through [`targets_sql`].

/// The SQL of every buyer's quota target of a year, one row per buyer with a target
/// (`buyer_org_id`, `target_fen`): its approved plan's target (the last approved content,
/// kept while an amendment is under way), else its quota's. `year` is the placeholder bound
/// to the year (such as `$2`), written twice. A target of zero (a unit with no canteen) is a
/// row too: callers that rank by progress leave it out.
pub fn targets_sql(year: &str) -> String {
    format!(
        "SELECT pl.buyer_org_id AS buyer_org_id, pl.approved_target_fen AS target_fen FROM plans pl \
         WHERE pl.year = {year} AND pl.approved_target_fen IS NOT NULL \
         UNION ALL SELECT q.buyer_org_id AS buyer_org_id, q.target_fen AS target_fen FROM quotas q \
         WHERE q.year = {year} AND NOT EXISTS (SELECT 1 FROM plans pp WHERE pp.buyer_org_id = q.buyer_org_id \
         AND pp.year = q.year AND pp.approved_target_fen IS NOT NULL)"
    )
}
