//! Exact amounts. `Money` is integer fen, `Quantity` integer thousandths of a
//! unit, `Share` parts per million of a whole; each has a signed counterpart
//! where the domain is signed. In JSON they are strings only (`"12.50"`,
//! `"100.5"`, `"0.3"`): a JSON number, an exponent (`"1e2"`), a separator
//! (`"1_000"`) or a place too many is refused. Every sum and product is checked
//! against a stated bound, so no amount wraps or panics.
use rust_decimal::Decimal;
use std::fmt;

/// The largest amount of money: 10¹³ fen (one hundred billion yuan).
pub const MAX_FEN: i64 = 10_000_000_000_000;
/// The largest quantity: 10¹² thousandths (one billion units).
pub const MAX_MILLI: i64 = 1_000_000_000_000;
/// A whole, in parts per million.
pub const PPM: i64 = 1_000_000;
/// Longest accepted text of an amount (leading zeros included).
const MAX_TEXT: usize = 24;

/// Why an amount was refused. The caller names the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a decimal string with at most {places} decimal places, such as \"{example}\"")]
    Grammar { places: u32, example: &'static str },
    #[error("must be a decimal string such as \"{example}\", not a JSON number")]
    NotAString { example: &'static str },
    #[error("must not be negative")]
    Negative,
    #[error("is too large (at most {max})")]
    TooLarge { max: &'static str },
    #[error("must be between 0 and 1, such as \"0.3\" for 30%")]
    NotAFraction,
}

/// Parses `^-?[0-9]+(\.[0-9]{1,places})?$` into an integer scaled by 10^places.
fn parse_scaled(s: &str, places: u32, signed: bool, bound: i64) -> Result<i64, Option<bool>> {
    // Err(None): grammar; Err(Some(true)): too large; Err(Some(false)): negative.
    if s.is_empty() || s.len() > MAX_TEXT {
        return Err(
            if s.len() > MAX_TEXT && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                Some(true)
            } else {
                None
            },
        );
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f) || f.len() > places as usize) {
        return Err(None);
    }
    let mut value: i128 = 0;
    for b in int.bytes() {
        value = value * 10 + i128::from(b - b'0');
        if value > i128::from(bound) {
            return Err(Some(true));
        }
    }
    let frac = frac.unwrap_or("");
    for i in 0..places as usize {
        let d = frac.as_bytes().get(i).map(|b| i128::from(b - b'0')).unwrap_or(0);
        value = value * 10 + d;
    }
    if value > i128::from(bound) {
        return Err(Some(true));
    }
    let v = value as i64; // ok: bounded by `bound` above
    if neg && v != 0 {
        if !signed {
            return Err(Some(false));
        }
        return Ok(-v);
    }
    Ok(v)
}

/// Formats an integer scaled by 10^places with exactly `places` decimals.
fn format_fixed(v: i64, places: u32) -> String {
    Decimal::new(v, places).to_string()
}

/// Formats an integer scaled by 10^places with trailing zeros removed.
fn format_trimmed(v: i64, places: u32) -> String {
    Decimal::new(v, places).normalize().to_string()
}

macro_rules! amount_type {
    (
        $(#[$m:meta])* $name:ident, places = $places:expr, signed = $signed:expr,
        bound = $bound:expr, bound_text = $bound_text:expr, example = $example:expr,
        pattern = $pattern:expr, format = $fmt:ident, unit = $unit:expr
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(i64);

        impl $name {
            pub const ZERO: $name = $name(0);
            /// The bound in the smallest unit.
            pub const MAX: i64 = $bound;
            const PLACES: u32 = $places;

            /// From the smallest unit (as stored), refusing values outside the bound.
            pub fn from_minor(v: i64) -> Result<Self, AmountError> {
                if v.unsigned_abs() > $bound as u64 {
                    return Err(AmountError::TooLarge { max: $bound_text });
                }
                if v < 0 && !$signed {
                    return Err(AmountError::Negative);
                }
                Ok($name(v))
            }

            /// The value in the smallest unit, as stored.
            pub const fn minor(self) -> i64 {
                self.0
            }

            pub fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// Parses the API's text form.
            pub fn parse(s: &str) -> Result<Self, AmountError> {
                parse_scaled(s, Self::PLACES, $signed, $bound).map($name).map_err(|e| match e {
                    None => AmountError::Grammar { places: Self::PLACES, example: $example },
                    Some(true) => AmountError::TooLarge { max: $bound_text },
                    Some(false) => AmountError::Negative,
                })
            }

            /// The value as a decimal (for reports and formulas).
            pub fn to_decimal(self) -> Decimal {
                Decimal::new(self.0, Self::PLACES)
            }

            pub fn checked_add(self, other: Self) -> Result<Self, AmountError> {
                self.0.checked_add(other.0).ok_or(AmountError::TooLarge { max: $bound_text }).and_then(Self::from_minor)
            }

            pub fn checked_sub(self, other: Self) -> Result<Self, AmountError> {
                self.0.checked_sub(other.0).ok_or(AmountError::TooLarge { max: $bound_text }).and_then(Self::from_minor)
            }

            /// Sum of many, failing on the first step past the bound.
            pub fn checked_sum<I: IntoIterator<Item = Self>>(items: I) -> Result<Self, AmountError> {
                items.into_iter().try_fold(Self::ZERO, Self::checked_add)
            }

            /// The OpenAPI description of this type's text.
            pub fn describe() -> String {
                format!(
                    "Decimal string, {} with at most {} decimal places, up to {}{}",
                    $unit, Self::PLACES, $bound_text, if $signed { " in absolute value" } else { "" }
                )
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&$fmt(self.0, Self::PLACES))
            }
        }

        impl std::str::FromStr for $name {
            type Err = AmountError;
            fn from_str(s: &str) -> Result<Self, AmountError> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a decimal string such as \"{}\"", $example)
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        $name::parse(s).map_err(E::custom)
                    }
                    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<$name, E> {
                        Err(E::custom(AmountError::NotAString { example: $example }))
                    }
                    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<$name, E> {
                        Err(E::custom(AmountError::NotAString { example: $example }))
                    }
                    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<$name, E> {
                        Err(E::custom(AmountError::NotAString { example: $example }))
                    }
                }
                d.deserialize_str(V)
            }
        }

        impl From<$name> for sea_orm::Value {
            fn from(v: $name) -> sea_orm::Value {
                sea_orm::Value::from(v.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some($pattern))
                    .max_length(Some(MAX_TEXT))
                    .description(Some(Self::describe()))
                    .examples([$example])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

amount_type!(
    /// An amount of money in fen, never negative.
    Money, places = 2, signed = false, bound = MAX_FEN, bound_text = "100000000000.00",
    example = "1234.50", pattern = "^[0-9]+(\\.[0-9]{1,2})?$", format = format_fixed, unit = "yuan"
);
amount_type!(
    /// A signed amount of money in fen (a reversal, a balance).
    SignedMoney, places = 2, signed = true, bound = MAX_FEN, bound_text = "100000000000.00",
    example = "-1234.50", pattern = "^-?[0-9]+(\\.[0-9]{1,2})?$", format = format_fixed, unit = "yuan"
);
amount_type!(
    /// A quantity of a product's unit in thousandths, never negative.
    Quantity, places = 3, signed = false, bound = MAX_MILLI, bound_text = "1000000000",
    example = "100.5", pattern = "^[0-9]+(\\.[0-9]{1,3})?$", format = format_trimmed, unit = "units"
);
amount_type!(
    /// A signed quantity in thousandths (a stock adjustment such as "-12.5").
    SignedQuantity, places = 3, signed = true, bound = MAX_MILLI, bound_text = "1000000000",
    example = "-12.5", pattern = "^-?[0-9]+(\\.[0-9]{1,3})?$", format = format_trimmed, unit = "units"
);
amount_type!(
    /// A fraction of a whole between 0 and 1 in parts per million ("0.3" is 30%).
    Share, places = 6, signed = false, bound = PPM, bound_text = "1",
    example = "0.3", pattern = "^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$", format = format_trimmed, unit = "a fraction"
);

mod weight;
pub use weight::{Weight, MAX_NOMINAL_KG, SANITY_FACTOR};

impl Money {
    /// The amount of `qty` units at `price` per unit, rounded half away from zero to the fen.
    pub fn line_amount(price: Money, qty: Quantity) -> Result<Money, AmountError> {
        let num = i128::from(price.0) * i128::from(qty.0);
        let (q, r) = (num / 1000, num % 1000);
        let rounded = if r * 2 >= 1000 { q + 1 } else { q };
        i64::try_from(rounded)
            .map_err(|_| AmountError::TooLarge { max: "100000000000.00" })
            .and_then(Money::from_minor)
    }

    /// This amount times `share`, rounded half up to the fen.
    pub fn times_share(self, share: Share) -> Money {
        let num = i128::from(self.0) * i128::from(share.0);
        let rounded = (num + i128::from(PPM / 2)) / i128::from(PPM);
        Money(rounded as i64) // ok: share ≤ 1, so the result ≤ self
    }

    pub fn signed(self) -> SignedMoney {
        SignedMoney(self.0)
    }
}

impl SignedMoney {
    pub fn negate(self) -> SignedMoney {
        SignedMoney(-self.0) // ok: the bound is symmetric
    }
}

impl Quantity {
    pub fn signed(self) -> SignedQuantity {
        SignedQuantity(self.0)
    }
}

impl SignedQuantity {
    /// The quantity when it is not negative.
    pub fn non_negative(self) -> Result<Quantity, AmountError> {
        Quantity::from_minor(self.0)
    }
}

impl Share {
    pub const ONE: Share = Share(PPM);
}

#[cfg(test)]
mod tests;
