//! A set of organisations a listing is narrowed to, written as SQL. A supervisor's region is
//! a subquery binding one value: an `IN` list of its organisations' ids would stop at the
//! 65,535 values a PostgreSQL statement may bind (and SQLite's 32,766), a 500 for a
//! province-wide finance office.
use sea_orm::sea_query::Expr;
use sea_orm::{DbBackend, Value};

/// Organisations by id, or by where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgSet {
    /// These organisations (a buyer and its children).
    Ids(Vec<String>),
    /// The organisations located in the region `code` or under it; only budget units with
    /// `budget_units`.
    Region { code: String, budget_units: bool },
}

impl OrgSet {
    /// Whether the set is empty without asking the database (an empty id list).
    pub fn is_known_empty(&self) -> bool {
        matches!(self, OrgSet::Ids(ids) if ids.is_empty())
    }

    /// `col IN (…)` written with placeholders `$first, $first+1, …`, and the values they bind.
    pub fn sql_in(&self, col: &str, first: usize) -> (String, Vec<Value>) {
        match self {
            OrgSet::Ids(ids) if ids.is_empty() => ("1 = 0".to_string(), Vec::new()),
            OrgSet::Ids(ids) => {
                let marks: Vec<String> = (first..first + ids.len()).map(|i| format!("${i}")).collect();
                let values = ids.iter().map(|i| Value::from(i.clone())).collect();
                (format!("{col} IN ({})", marks.join(", ")), values)
            }
            OrgSet::Region { code, budget_units } => {
                let mut values = vec![Value::from(code.clone())];
                let units = if *budget_units {
                    values.push(true.into());
                    format!(" AND o.budget_unit = ${}", first + 1)
                } else {
                    String::new()
                };
                let text = format!(
                    "{col} IN (SELECT o.id FROM organizations o WHERE o.region_code IN \
                     (WITH RECURSIVE sub(code) AS (SELECT code FROM regions WHERE code = ${first} \
                     UNION SELECT r.code FROM regions r JOIN sub ON r.parent_code = sub.code) \
                     SELECT code FROM sub){units})"
                );
                (text, values)
            }
        }
    }

    /// The same condition for a query built with sea-orm on `backend`.
    pub fn condition(&self, backend: DbBackend, col: &str) -> Expr {
        let (text, values) = self.sql_in(col, 1);
        let text = if backend == DbBackend::Sqlite {
            unnumbered(&text)
        } else {
            text
        };
        Expr::cust_with_values(text, values)
    }
}

/// `$1 … $n` as `?`: sea-query numbers only PostgreSQL's placeholders, and [`OrgSet::sql_in`]
/// uses each value once, in order.
fn unnumbered(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_binds_its_code_and_the_budget_unit_flag_only() {
        let set = OrgSet::Region {
            code: "110000".into(),
            budget_units: true,
        };
        let (text, values) = set.sql_in("l.buyer_org_id", 3);
        assert_eq!(values.len(), 2);
        assert!(
            text.contains("code = $3") && text.contains(") AND o.budget_unit = $4)"),
            "{text}"
        );
        assert!(unnumbered(&text).contains("code = ? ") && !unnumbered(&text).contains('$'));
    }

    #[test]
    fn an_empty_list_matches_nothing() {
        assert!(OrgSet::Ids(vec![]).is_known_empty());
        assert_eq!(OrgSet::Ids(vec![]).sql_in("c", 1), ("1 = 0".to_string(), vec![]));
        let (text, values) = OrgSet::Ids(vec!["a".into(), "b".into()]).sql_in("c", 2);
        assert_eq!((text.as_str(), values.len()), ("c IN ($2, $3)", 2));
    }
}
