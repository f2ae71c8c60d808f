//! Calendar days from outside: an RFC 3339 full-date, `YYYY-MM-DD` with a year from 0001 to
//! 9999, which is what the OpenAPI `format: date` promises. chrono alone also takes a signed
//! or five-digit year (`-5000-01-01`, `+10000-01-01`): PostgreSQL refuses the first (the
//! request would fail inside the database) and SQLite sorts the second before `2026-…` as
//! text. Every date a request carries is read through [`de`] or [`de_opt`]
//! (`#[serde(deserialize_with = …)]`), so a bad one is a 422 naming its field.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// Parses `YYYY-MM-DD`, years 0001 to 9999.
pub fn parse(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(format!("expected a date as YYYY-MM-DD (years 0001 to 9999), got {s:?}"));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("{s:?} is not a date: {e}"))?;
    if d.year() < 1 {
        return Err(format!("{s:?}: the year must be 0001 to 9999"));
    }
    Ok(d)
}

/// A date field of a request.
pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).map_err(D::Error::custom)
}

/// An optional date field of a request (with `#[serde(default)]`).
pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse(&s).map_err(D::Error::custom))
        .transpose()
}

/// Parses an RFC 3339 timestamp (`2026-12-02T08:00:00Z`, `…+08:00`) whose year, in UTC too, is
/// 0001 to 9999: chrono's own reading also takes `-5000-01-01T00:00:00Z`, which PostgreSQL
/// refuses inside the query.
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    let b = s.as_bytes();
    let shaped = b.len() >= 20 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
    let t = shaped
        .then(|| DateTime::parse_from_rfc3339(s).ok())
        .flatten()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            format!("expected an RFC 3339 time such as 2026-12-02T08:00:00Z (years 0001 to 9999), got {s:?}")
        })?;
    if !(1..=9999).contains(&t.year()) {
        return Err(format!("{s:?}: the year must be 0001 to 9999"));
    }
    Ok(t)
}

/// An optional timestamp of a request or its query (with `#[serde(default)]`).
pub fn de_opt_instant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| parse_instant(&s).map_err(D::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_instant};
    use proptest::prelude::*;

    #[test]
    fn only_four_digit_years_are_days() {
        assert_eq!(parse("2026-12-02").map(|d| d.to_string()), Ok("2026-12-02".into()));
        assert_eq!(parse("0001-01-01").map(|d| d.to_string()), Ok("0001-01-01".into()));
        for bad in [
            "-5000-01-01",
            "+10000-01-01",
            "0000-01-01",
            "2026-02-30",
            "2026-1-01",
            "20261202",
            "",
            "2026-12-02T00:00:00",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_four_digit_years_are_instants() {
        let ok = parse_instant("2026-12-02T08:00:00+08:00").map(|t| t.to_rfc3339());
        assert_eq!(ok, Ok("2026-12-02T00:00:00+00:00".into()));
        for bad in [
            "-5000-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-02:00",
            "2026-12-02",
            "2026-12-02 08:00",
            "",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_an_instant_or_an_error_never_a_panic(s in "\\PC{0,30}") {
            let _ = parse_instant(&s);
        }


        #[test]
        fn any_text_is_a_day_or_an_error_never_a_panic(s in "\\PC{0,14}") {
            let _ = parse(&s);
        }

        #[test]
        fn every_day_of_years_1_to_9999_reads_back(y in 1i32..=9999, o in 1u32..=365) {
            let d = chrono::NaiveDate::from_yo_opt(y, o).unwrap_or_default();
            prop_assert_eq!(parse(&d.format("%Y-%m-%d").to_string()), Ok(d));
        }
    }
}
