//! A body field read as its domain type without failing the whole body, so that a
//! request with several bad fields is answered with all of them (a 422 listing
//! `category`, `unit` and `price` at once), as the untyped bodies did.
use crate::error::FieldError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// The value of a JSON field parsed as `T`, or why it is not one.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Valid(T),
    Invalid(String),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(match T::deserialize(value) {
            Ok(v) => Field::Valid(v),
            Err(e) => Field::Invalid(e.to_string()),
        })
    }
}

impl<T> Field<T> {
    /// The value, or `None` with the refusal added to `errors` under `name`.
    pub fn take(self, errors: &mut Vec<FieldError>, name: &str) -> Option<T> {
        match self {
            Field::Valid(v) => Some(v),
            Field::Invalid(msg) => {
                errors.push(FieldError::new(name, msg));
                None
            }
        }
    }
}
