//! One newtype per entity id over `Uuid`. Ids travel as canonical UUID strings
//! (`format: uuid` in the OpenAPI document) and are stored as text.
//!
//! A malformed id never reaches a service: in a path it is 404 (nothing by that
//! name exists), in a body 422 naming the field.
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($($(#[$m:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUID v7): ids sort by creation.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Hyphenated lower case: the form stored in the database.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(id: $name) -> sea_orm::Value {
                sea_orm::Value::from(id.to_string())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                Uuid::parse_str(other).map(|u| u == self.0).unwrap_or(false)
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                other == self
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                uuid_schema()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

fn uuid_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .into()
}

typed_id!(
    /// An organisation.
    OrgId,
    /// A user account.
    UserId,
    /// A product.
    ProductId,
    /// A harvested lot of a product.
    LotId,
    /// A bulk order (one buyer, possibly several suppliers).
    OrderId,
    /// The part of an order addressed to one supplier.
    SupplierOrderId,
    /// One line of a supplier order.
    OrderLineId,
    /// A return against an accepted line.
    ReturnId,
    /// A buyer's rating of a supplier order.
    RatingId,
    /// A standing purchase agreement.
    AgreementId,
    /// An unsold-produce alert.
    AlertId,
    /// An alert rule.
    AlertRuleId,
    /// A pledge to buy against an alert.
    PledgeId,
    /// A report of produce that is not selling.
    UnsoldReportId,
    /// A pairing between a buyer and a county.
    PairingId,
    /// A reconciliation of a buyer's year.
    ReconciliationId,
    /// An invoice recorded against a supplier order.
    InvoiceId,
    /// A payment recorded against a supplier order.
    PaymentId,
    /// A ledger entry.
    LedgerEntryId,
    /// A fraud signal.
    FlagId,
    /// A stock movement.
    StockMovementId,
    /// An email in the outbox.
    OutboxId,
    /// A refresh token.
    RefreshTokenId,
    /// A supplier's licence (business, food production or food trade).
    SupplierDocumentId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_garbage() {
        let id = ProductId::new();
        let s = id.to_string();
        assert_eq!(s.parse::<ProductId>().ok(), Some(id));
        assert!("not-a-uuid".parse::<ProductId>().is_err());
        assert!(id == s);
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(json, format!("\"{s}\""));
        assert!(serde_json::from_str::<OrgId>("\"x\"").is_err());
    }
}
