//! Every vocabulary of the service as an enum. Each is stored and serialised as
//! the same snake_case string as before, and documented in the OpenAPI document
//! as an `enum` with every value. State enums carry their transitions.
mod accounts;
mod alerts;
mod audit;
mod compliance;
mod credit;
mod documents;
mod flags;
mod health;
mod orders;
mod outbox;
mod payments;
mod plans;
mod products;
mod regions;
mod stock;

pub use accounts::*;
pub use alerts::*;
pub use audit::*;
pub use compliance::*;
pub use credit::*;
pub use documents::*;
pub use flags::*;
pub use health::*;
pub use orders::*;
pub use outbox::*;
pub use payments::*;
pub use plans::*;
pub use products::*;
pub use regions::*;
pub use stock::*;

/// A string that is not a value of the vocabulary it was read as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {expected}")]
pub struct UnknownValue {
    pub expected: String,
}

/// Defines a vocabulary enum: serde and OpenAPI names, `ALL`, `as_str`,
/// `parse`, `Display`, `FromStr` and binding into SQL as its string.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:tt),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and serialised form.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }

            /// The values joined for a message: `a, b, c`.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::vocab::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::domain::vocab::UnknownValue { expected: Self::expected() })
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(v: $name) -> sea_orm::Value {
                sea_orm::Value::from(v.as_str())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }
    };
}
pub(crate) use vocabulary;

/// Every vocabulary by its OpenAPI schema name with its values: the contract
/// test compares these with the served document.
pub fn all() -> Vec<(&'static str, Vec<&'static str>)> {
    macro_rules! list {
        ($($t:ident),+ $(,)?) => { vec![$((stringify!($t), $t::ALL.iter().map(|v| v.as_str()).collect())),+] };
    }
    list!(
        Role,
        AuditKind,
        OrgKind,
        OrgStatus,
        RegionLevel,
        PovertyStatus,
        ProductCategory,
        Unit,
        SaleMode,
        CertificateKind,
        ProductStatus,
        SupplierOrderStatus,
        OrderStatus,
        CreditCategory,
        LedgerKind,
        AgreementStatus,
        AgreementPeriod,
        AlertLevel,
        AlertStatus,
        AlertReason,
        AlertEventKind,
        UnsoldReportStatus,
        AgreementRunStatus,
        OutboxStatus,
        ServiceStatus,
        ProbeStatus,
        PairingKind,
        ReconciliationStatus,
        ReportGroup,
        ReportFormat,
        ReportScope,
        StockMovementKind,
        SupplierSize,
        PaymentTerms,
        ReminderStage,
        LateUnder,
        PlanStatus,
        PlanDeclaration,
        PlanAction,
        LaggardReason,
        TraceFormat,
        DocumentKind,
        DocumentStage,
        FlagKind,
        FlagState,
    )
}

/// A vocabulary value read from a request body without failing the whole body
/// on an unknown value, so that validation can name it together with the other
/// bad fields. Document the field with `#[schema(value_type = TheEnum)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lenient<T> {
    Known(T),
    Unknown(String),
}

impl<T: Copy> Lenient<T> {
    /// The value, when it is one of the vocabulary.
    pub fn known(&self) -> Option<T> {
        match self {
            Lenient::Known(v) => Some(*v),
            Lenient::Unknown(_) => None,
        }
    }
}

impl<'de, T: std::str::FromStr> serde::Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Ok(match s.parse() {
            Ok(v) => Lenient::Known(v),
            Err(_) => Lenient::Unknown(s),
        })
    }
}
