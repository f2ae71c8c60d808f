//! Which buyers to approach for a product: those paired with its origin county,
//! those furthest behind their quota, those who bought its category before.
use super::{queries, saturating_qty, stored};
use crate::domain::{OrgId, OrgKind, PairingKind, ProductCategory, Quantity};
use crate::error::AppResult;
use crate::services::stock::get_sum;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;

/// At most this many buyers from each of the quota and category lists.
const MATCH_PER_GROUP: usize = 10;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct MatchedBuyer {
    pub org_id: OrgId,
    pub name: String,
    /// 1 is approached first.
    pub rank: i32,
    pub reason: String,
}

impl MatchedBuyer {
    /// This match as another organisation sees it: the reason's kind without the buyer's own
    /// figures (its quota, what it was credited, what it bought before), which only the buyer
    /// itself, the admin and evaluators may read.
    pub fn without_figures(mut self) -> MatchedBuyer {
        let cut = [": ", " ("].iter().filter_map(|sep| self.reason.find(sep)).min();
        if let Some(at) = cut {
            self.reason.truncate(at);
        }
        self
    }
}

#[derive(Debug, Clone)]
struct BuyerInfo {
    name: String,
    email: String,
}

/// Everything matching needs, loaded once per scan with grouped queries.
pub struct Matcher {
    year: i32,
    buyers: HashMap<OrgId, BuyerInfo>,
    /// county code -> (buyer, pairing kind)
    paired: HashMap<String, Vec<(OrgId, PairingKind)>>,
    /// (buyer, target fen, credited fen), largest shortfall first, shortfall > 0 only.
    behind: Vec<(OrgId, i64, i64)>,
    /// category -> (buyer, net quantity), largest first.
    bought: HashMap<ProductCategory, Vec<(OrgId, Quantity)>>,
    /// county code -> county office contacts (org id, email).
    offices: HashMap<String, Vec<(OrgId, String)>>,
    /// The base of links in the emails (`ASSIST_PUBLIC_URL`); paths alone when unknown.
    pub links: Option<crate::config::PublicUrl>,
}

/// Fen as yuan with two places (`1234.50`); signed, as a shortfall's parts may be.
fn yuan(fen: i64) -> String {
    rust_decimal::Decimal::new(fen, 2).to_string()
}

impl Matcher {
    pub async fn load(conn: &impl ConnectionTrait, year: i32) -> AppResult<Matcher> {
        let mut buyers = HashMap::new();
        let mut offices: HashMap<String, Vec<(OrgId, String)>> = HashMap::new();
        for row in queries::active_org_rows(conn).await? {
            let id: OrgId = stored(&row.try_get::<String>("", "id")?, "organisation id")?;
            let kind: String = row.try_get("", "kind")?;
            let email: String = row.try_get("", "contact_email")?;
            match OrgKind::parse(&kind) {
                Some(k) if k.is_buyer() => {
                    let name = row.try_get("", "name")?;
                    buyers.insert(id, BuyerInfo { name, email });
                }
                Some(OrgKind::CountyOffice) => {
                    let region: String = row.try_get("", "region_code")?;
                    let county = region.get(..6).unwrap_or(&region).to_string();
                    offices.entry(county).or_default().push((id, email));
                }
                _ => {}
            }
        }
        let mut paired: HashMap<String, Vec<(OrgId, PairingKind)>> = HashMap::new();
        for row in queries::pairing_rows(conn, year).await? {
            let helper: OrgId = stored(&row.try_get::<String>("", "helper_org_id")?, "organisation id")?;
            let region: String = row.try_get("", "helped_region_code")?;
            let kind: PairingKind = stored(&row.try_get::<String>("", "kind")?, "pairing kind")?;
            if buyers.contains_key(&helper) {
                let list = paired.entry(region).or_default();
                if !list.iter().any(|(b, _)| b == &helper) {
                    list.push((helper, kind));
                }
            }
        }
        let mut behind = Vec::new();
        for row in queries::quota_rows(conn, year).await? {
            let b: OrgId = stored(&row.try_get::<String>("", "buyer_org_id")?, "organisation id")?;
            let target: i64 = row.try_get("", "target_fen")?;
            let credited = get_sum(&row, "credited")?;
            if target > credited && buyers.contains_key(&b) {
                behind.push((b, target, credited));
            }
        }
        let shortfall = |t: i64, c: i64| t.saturating_sub(c);
        behind.sort_by(|a, b| shortfall(b.1, b.2).cmp(&shortfall(a.1, a.2)).then(a.0.cmp(&b.0)));
        let mut bought: HashMap<ProductCategory, Vec<(OrgId, Quantity)>> = HashMap::new();
        for row in queries::bought_rows(conn).await? {
            let b: OrgId = stored(&row.try_get::<String>("", "buyer_org_id")?, "organisation id")?;
            let q = get_sum(&row, "qty")?;
            let Some(c) = ProductCategory::parse(&row.try_get::<String>("", "category")?) else {
                continue;
            };
            if q > 0 && buyers.contains_key(&b) {
                bought.entry(c).or_default().push((b, saturating_qty(q)));
            }
        }
        for list in bought.values_mut() {
            list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        Ok(Matcher {
            links: None,
            year,
            buyers,
            paired,
            behind,
            bought,
            offices,
        })
    }

    /// Buyers to approach for a product of `category` from `county`, best first.
    pub fn rank(&self, county: &str, category: ProductCategory) -> Vec<MatchedBuyer> {
        let mut out: Vec<MatchedBuyer> = Vec::new();
        let mut seen = HashSet::new();
        let mut push = |id: OrgId, reason: String, out: &mut Vec<MatchedBuyer>| {
            if seen.insert(id) {
                if let Some(b) = self.buyers.get(&id) {
                    out.push(MatchedBuyer {
                        org_id: id,
                        name: b.name.clone(),
                        rank: out.len() as i32 + 1,
                        reason,
                    });
                }
            }
        };
        if let Some(list) = self.paired.get(county) {
            for (b, kind) in list {
                push(
                    *b,
                    format!("paired with the origin county {county} in {} ({kind})", self.year),
                    &mut out,
                );
            }
        }
        for (b, target, credited) in self.behind.iter().take(MATCH_PER_GROUP) {
            push(
                *b,
                format!(
                    "behind its {} quota: {} short of {} (credited {})",
                    self.year,
                    yuan(target.saturating_sub(*credited)),
                    yuan(*target),
                    yuan(*credited)
                ),
                &mut out,
            );
        }
        if let Some(list) = self.bought.get(&category) {
            for (b, q) in list.iter().take(MATCH_PER_GROUP) {
                push(*b, format!("bought {category} before ({q} in total)"), &mut out);
            }
        }
        out
    }

    /// Who is emailed about an alert: its matched buyers, then the origin county's offices.
    pub(super) fn recipients(&self, county: &str, matched: &[MatchedBuyer]) -> Vec<(OrgId, String)> {
        let mut out: Vec<(OrgId, String)> = matched
            .iter()
            .filter_map(|m| self.buyers.get(&m.org_id).map(|b| (m.org_id, b.email.clone())))
            .collect();
        if let Some(list) = self.offices.get(county) {
            out.extend(list.iter().cloned());
        }
        out
    }
}
