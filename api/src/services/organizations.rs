//! Organisations: platform, county offices, evaluation offices, suppliers and buyers.
use super::{now, paginate, PageParams};
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use entity::organizations;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const SUPPLIER_KINDS: [&str; 3] = ["cooperative", "enterprise", "family_farm"];
pub const BUYER_KINDS: [&str; 8] = [
    "canteen",
    "union",
    "state_enterprise",
    "school",
    "hospital",
    "army_unit",
    "private_enterprise",
    "government",
];

/// The one role a user of an organisation of `kind` may have.
pub fn role_for_kind(kind: &str) -> Option<Role> {
    match kind {
        "platform" => Some(Role::Admin),
        "county_office" => Some(Role::Certifier),
        "evaluation_office" => Some(Role::Evaluator),
        k if SUPPLIER_KINDS.contains(&k) => Some(Role::Supplier),
        k if BUYER_KINDS.contains(&k) => Some(Role::Buyer),
        _ => None,
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organization {
    pub id: String,
    pub name: String,
    /// platform | county_office | evaluation_office | cooperative | enterprise | family_farm |
    /// canteen | union | state_enterprise | school | hospital | army_unit | private_enterprise | government
    pub kind: String,
    pub region_code: String,
    pub contact_email: String,
    /// Unified social credit code (统一社会信用代码).
    pub credit_code: String,
    pub parent_org_id: Option<String>,
    /// active | suspended
    pub status: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<organizations::Model> for Organization {
    fn from(m: organizations::Model) -> Self {
        Organization {
            id: m.id,
            name: m.name,
            kind: m.kind,
            region_code: m.region_code,
            contact_email: m.contact_email,
            credit_code: m.credit_code,
            parent_org_id: m.parent_org_id,
            status: m.status,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

crate::page_type!(OrganizationPage, Organization);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub name: String,
    pub kind: String,
    pub region_code: String,
    pub contact_email: String,
    pub credit_code: String,
    pub parent_org_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    pub kind: Option<String>,
    pub status: Option<String>,
}

const CODE_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CODE_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

fn org_code_check(body: &str) -> Option<char> {
    let mut sum = 0u32;
    for (c, w) in body.chars().zip(ORG_WEIGHTS) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10)?,
    })
}

fn uscc_check(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(CODE_WEIGHTS) {
        sum += CODE_CHARS.find(c)? as u32 * w;
    }
    CODE_CHARS.chars().nth(((31 - sum % 31) % 31) as usize)
}

/// Validates an 18-character unified social credit code (GB 32100-2015): its
/// alphabet, the organisation code check digit (GB 11714) at position 17 and
/// the final check character.
pub fn valid_credit_code(code: &str) -> bool {
    if code.len() != 18 || !code.chars().all(|c| CODE_CHARS.contains(c)) {
        return false;
    }
    if !code[2..8].chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    if org_code_check(&code[8..16]) != code[16..17].chars().next() {
        return false;
    }
    uscc_check(&code[..17]) == code[17..].chars().next()
}

/// Makes a valid credit code from a number (demo data and tests).
pub fn make_credit_code(region6: &str, n: u64) -> String {
    let body = format!("{:08}", n % 100_000_000);
    let org_check = org_code_check(&body).unwrap_or('0');
    let region = if region6.len() == 6 && region6.chars().all(|c| c.is_ascii_digit()) {
        region6
    } else {
        "110000"
    };
    let first17 = format!("93{region}{body}{org_check}");
    let last = uscc_check(&first17).unwrap_or('0');
    format!("{first17}{last}")
}

pub async fn create(state: &AppState, caller: &Caller, body: NewOrganization) -> AppResult<Organization> {
    caller.require(&[Role::Admin])?;
    let db = &state.db;
    let mut errors = Vec::new();
    super::required_text(&mut errors, "name", &body.name, 200);
    if role_for_kind(&body.kind).is_none() {
        errors.push(FieldError::new("kind", "unknown organisation kind"));
    }
    if !super::valid_email(&body.contact_email) {
        errors.push(FieldError::new("contact_email", "is not an email address"));
    }
    let code = body.credit_code.trim().to_uppercase();
    if !valid_credit_code(&code) {
        errors.push(FieldError::new(
            "credit_code",
            "is not a valid unified social credit code (18 characters with GB 32100-2015 check digits)",
        ));
    }
    let region = entity::regions::Entity::find_by_id(body.region_code.clone())
        .one(db)
        .await?;
    match &region {
        None => errors.push(FieldError::new("region_code", "no such region")),
        Some(_) if SUPPLIER_KINDS.contains(&body.kind.as_str()) => {
            let county = super::regions::county_of(db, &body.region_code).await?;
            match county {
                Some(c) if c.poverty_status == "poverty" || c.poverty_status == "deep_poverty" => {}
                Some(_) => errors.push(FieldError::new(
                    "region_code",
                    "a supplier must be located in a poverty or deep-poverty county",
                )),
                None => errors.push(FieldError::new(
                    "region_code",
                    "a supplier must be located in a county, township or village",
                )),
            }
        }
        Some(r) if body.kind == "county_office" && r.level != "county" => errors.push(FieldError::new(
            "region_code",
            "a county office's region must be a county",
        )),
        Some(_) => {}
    }
    if let Some(pid) = &body.parent_org_id {
        match organizations::Entity::find_by_id(pid.clone()).one(db).await? {
            None => errors.push(FieldError::new("parent_org_id", "no such organisation")),
            Some(p) => {
                let both_buyers = BUYER_KINDS.contains(&p.kind.as_str()) && BUYER_KINDS.contains(&body.kind.as_str());
                if !both_buyers {
                    errors.push(FieldError::new(
                        "parent_org_id",
                        "only a buyer organisation may sit under a buyer organisation",
                    ));
                }
            }
        }
    }
    AppError::check(errors)?;
    if organizations::Entity::find()
        .filter(organizations::Column::CreditCode.eq(code.clone()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(AppError::Validation {
            detail: "credit_code: another organisation has this credit code".into(),
            errors: vec![FieldError::new(
                "credit_code",
                "another organisation has this credit code",
            )],
        });
    }
    let t = now();
    let model = organizations::ActiveModel {
        id: Set(super::new_id()),
        name: Set(body.name.trim().to_string()),
        kind: Set(body.kind),
        region_code: Set(body.region_code),
        contact_email: Set(body.contact_email.trim().to_string()),
        credit_code: Set(code),
        parent_org_id: Set(body.parent_org_id),
        status: Set("active".into()),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if e.to_string().to_lowercase().contains("unique") {
            AppError::field("credit_code", "another organisation has this credit code")
        } else {
            e.into()
        }
    })?;
    Ok(model.into())
}

/// Admin and evaluators see every organisation; anyone else only their own and its children.
fn sees_all(caller: &Caller) -> bool {
    matches!(caller.role, Role::Admin | Role::Evaluator)
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    f: &OrganizationFilter,
    page: &PageParams,
) -> AppResult<(Vec<Organization>, Option<String>)> {
    let limit = page.limit()?;
    let mut q = organizations::Entity::find();
    if !sees_all(caller) {
        q = q.filter(
            Condition::any()
                .add(organizations::Column::Id.eq(caller.org_id.clone()))
                .add(organizations::Column::ParentOrgId.eq(caller.org_id.clone())),
        );
    }
    if let Some(k) = &f.kind {
        q = q.filter(organizations::Column::Kind.eq(k.clone()));
    }
    if let Some(s) = &f.status {
        q = q.filter(organizations::Column::Status.eq(s.clone()));
    }
    if let Some(c) = page.cursor()? {
        q = q.filter(organizations::Column::Id.lt(c));
    }
    let rows = q
        .order_by_desc(organizations::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let (rows, next) = paginate(rows, limit, |r| r.id.clone());
    Ok((rows.into_iter().map(Organization::from).collect(), next))
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> AppResult<organizations::Model> {
    organizations::Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organization"))
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> AppResult<Organization> {
    let org = find(&state.db, id).await?;
    if !sees_all(caller) && org.id != caller.org_id && org.parent_org_id.as_deref() != Some(caller.org_id.as_str()) {
        return Err(AppError::NotFound("organization"));
    }
    Ok(org.into())
}

pub async fn set_status(state: &AppState, caller: &Caller, id: &str, status: &str) -> AppResult<Organization> {
    caller.require(&[Role::Admin])?;
    let org = find(&state.db, id).await?;
    if org.kind == "platform" && status == "suspended" {
        return Err(AppError::Conflict(
            "the platform organisation cannot be suspended".into(),
        ));
    }
    if org.status == status {
        return Err(AppError::Conflict(format!("the organisation is already {status}")));
    }
    let mut am: organizations::ActiveModel = org.into();
    am.status = Set(status.to_string());
    am.updated_at = Set(now());
    let model = am.update(&state.db).await?;
    // Suspension hides a supplier's products from the catalogue at once.
    state.cache.bump_generation("catalog").await;
    Ok(model.into())
}

/// The organisation ids of `org_id` and its children (a parent's figures count its children's).
pub async fn with_children(db: &impl ConnectionTrait, org_id: &str) -> AppResult<Vec<String>> {
    let mut ids = vec![org_id.to_string()];
    let children = organizations::Entity::find()
        .filter(organizations::Column::ParentOrgId.eq(org_id.to_string()))
        .all(db)
        .await?;
    ids.extend(children.into_iter().map(|c| c.id));
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes() {
        let code = make_credit_code("130727", 12345678);
        assert!(valid_credit_code(&code), "{code}");
        assert!(!valid_credit_code("91130727123456789X"));
        // A published code (Alibaba (China) Co., Ltd.).
        assert!(valid_credit_code("91330100799655058B"));
    }
}
