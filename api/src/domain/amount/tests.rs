//! Property tests: parse ∘ format is the identity, everything outside the
//! grammar is refused, checked arithmetic never wraps.
use super::*;
use proptest::prelude::*;

#[test]
fn examples() {
    assert_eq!(Money::parse("12.5").map(|m| m.minor()), Ok(1250));
    assert_eq!(Money::parse("12.5").map(|m| m.to_string()).as_deref(), Ok("12.50"));
    assert_eq!(
        Quantity::parse("100.500").map(|q| q.to_string()).as_deref(),
        Ok("100.5")
    );
    assert_eq!(Quantity::parse("40").map(|q| q.to_string()).as_deref(), Ok("40"));
    assert_eq!(Share::parse("0.3").map(|s| s.to_string()).as_deref(), Ok("0.3"));
    assert_eq!(SignedQuantity::parse("-12.5").map(|q| q.minor()), Ok(-12_500));
    for bad in [
        "1e2", "1_000", "1.234", "-1", " 1", "1.", ".5", "+1", "", "0x10", "1,5", "１",
    ] {
        assert!(Money::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(Money::parse("-1"), Err(AmountError::Negative));
    assert!(matches!(
        Money::parse("79000000000000000000000000000"),
        Err(AmountError::TooLarge { .. })
    ));
    assert!(Share::parse("1.5").is_err());
    assert!(Share::parse("1").is_ok());
    assert!(serde_json::from_str::<Money>("100").is_err());
    assert!(serde_json::from_str::<Money>("1.5").is_err());
    assert_eq!(serde_json::from_str::<Money>("\"1.5\"").ok(), Money::parse("1.5").ok());
    assert_eq!(serde_json::to_string(&Money::ZERO).ok().as_deref(), Some("\"0.00\""));
}

#[test]
fn line_amount_rounds_half_up_and_refuses_overflow() {
    let p = |s| Money::parse(s).unwrap_or_default();
    let q = |s| Quantity::parse(s).unwrap_or_default();
    assert_eq!(Money::line_amount(p("12.50"), q("1.5")).map(|m| m.minor()), Ok(1875));
    assert_eq!(Money::line_amount(p("3.33"), q("1.5")).map(|m| m.minor()), Ok(500));
    assert!(Money::line_amount(p("99999999.00"), q("900000000")).is_err());
}

fn money_text() -> impl Strategy<Value = String> {
    (0i64..=MAX_FEN / 100, proptest::option::of(0u32..100)).prop_map(|(i, f)| match f {
        None => i.to_string(),
        Some(f) if f % 10 == 0 && f < 10 => format!("{i}.{f}"),
        Some(f) => format!("{i}.{f:02}"),
    })
}

proptest! {
    #[test]
    fn money_format_parse_is_identity(fen in 0i64..=MAX_FEN) {
        let m = Money::from_minor(fen).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
    }

    #[test]
    fn money_parse_format_keeps_value(s in money_text()) {
        let m = Money::parse(&s).map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        prop_assert_eq!(m.to_decimal(), s.parse::<Decimal>().unwrap_or_default());
    }

    #[test]
    fn quantity_format_parse_is_identity(milli in 0i64..=MAX_MILLI) {
        let q = Quantity::from_minor(milli).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Quantity::parse(&q.to_string()), Ok(q));
    }

    #[test]
    fn signed_quantity_format_parse_is_identity(milli in -MAX_MILLI..=MAX_MILLI) {
        let q = SignedQuantity::from_minor(milli).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(SignedQuantity::parse(&q.to_string()), Ok(q));
    }

    #[test]
    fn share_format_parse_is_identity(ppm in 0i64..=PPM) {
        let s = Share::from_minor(ppm).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Share::parse(&s.to_string()), Ok(s));
    }

    /// Anything outside `^[0-9]+(\.[0-9]{1,2})?$` is refused.
    #[test]
    fn money_refuses_outside_grammar(s in "\\PC{0,30}") {
        let in_grammar = {
            let (i, f) = s.split_once('.').map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
            !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit())
                && f.is_none_or(|f| (1..=2).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()))
        };
        if !in_grammar {
            prop_assert!(Money::parse(&s).is_err());
        }
    }

    #[test]
    fn quantity_refuses_near_misses(i in 0u64..1_000_000, tail in "[eE_,+ ]|\\.[0-9]{4,6}|\\.") {
        let s = format!("{i}{tail}");
        prop_assert!(Quantity::parse(&s).is_err());
    }

    #[test]
    fn checked_arithmetic_never_wraps(a in any::<i64>(), b in any::<i64>(), q in any::<i64>()) {
        if let (Ok(x), Ok(y)) = (Money::from_minor(a), Money::from_minor(b)) {
            match x.checked_add(y) {
                Ok(s) => prop_assert_eq!(i128::from(s.minor()), i128::from(a) + i128::from(b)),
                Err(_) => prop_assert!(i128::from(a) + i128::from(b) > i128::from(MAX_FEN)),
            }
            match x.checked_sub(y) {
                Ok(s) => prop_assert_eq!(s.minor(), a - b),
                Err(_) => prop_assert!(a < b),
            }
            if let Ok(qty) = Quantity::from_minor(q) {
                match Money::line_amount(x, qty) {
                    Ok(m) => prop_assert!(m.minor() >= 0 && m.minor() <= MAX_FEN),
                    Err(_) => prop_assert!(i128::from(a) * i128::from(q) / 1000 >= i128::from(MAX_FEN)),
                }
            }
        } else {
            prop_assert!(!(0..=MAX_FEN).contains(&a) || !(0..=MAX_FEN).contains(&b));
        }
    }
}
