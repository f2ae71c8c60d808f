//! Request values parsed into domain types at the edge, each keeping its refusal
//! so that one answer names every bad field (serde alone stops at the first).
use crate::error::FieldError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use std::fmt::Display;
use std::str::FromStr;

/// A field of a JSON body: its domain value, or why it was refused.
#[derive(Debug, Clone)]
pub struct Field<T>(Result<T, String>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Field(T::deserialize(v).map_err(|e| e.to_string())))
    }
}

impl<T> Field<T> {
    pub fn new(v: T) -> Self {
        Field(Ok(v))
    }

    /// The value, or `None` with the refusal added to `errors` under `name`.
    pub fn take(self, errors: &mut Vec<FieldError>, name: &str) -> Option<T> {
        match self.0 {
            Ok(v) => Some(v),
            Err(msg) => {
                errors.push(FieldError::new(name, msg));
                None
            }
        }
    }
}

/// A query parameter parsed with `FromStr` (an enum, a year), keeping its refusal.
#[derive(Debug, Clone)]
pub struct Param<T>(Result<T, String>);

impl<'de, T> Deserialize<'de> for Param<T>
where
    T: FromStr,
    T::Err: Display,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Param(s.parse::<T>().map_err(|e| e.to_string())))
    }
}

impl<T> Param<T> {
    pub fn new(v: T) -> Self {
        Param(Ok(v))
    }

    /// The value, or `None` with the refusal added to `errors` under `name`.
    pub fn take(self, errors: &mut Vec<FieldError>, name: &str) -> Option<T> {
        Field(self.0).take(errors, name)
    }
}

/// An optional parameter: absent is `Ok(None)`; refused is `None` with the error added.
pub fn take_opt<T>(p: Option<Param<T>>, errors: &mut Vec<FieldError>, name: &str) -> Option<Option<T>> {
    match p {
        None => Some(None),
        Some(p) => p.take(errors, name).map(Some),
    }
}
