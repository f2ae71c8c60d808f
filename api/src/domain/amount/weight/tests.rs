//! Property tests of weights and weighed amounts: no input panics or wraps, and the
//! amount is the exact product rounded half up to the fen.
use super::*;
use proptest::prelude::*;

fn w(s: &str) -> Weight {
    Weight::parse(s).unwrap_or_default()
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap_or_default()
}

#[test]
fn examples() {
    // 101.255 kg at 20.00/kg = 2025.10 exactly.
    assert_eq!(
        Money::weighed_amount(m("20.00"), w("101.255")).map(|a| a.to_string()),
        Ok("2025.10".into())
    );
    // 0.001 kg at 5.00/kg = 0.005 -> half up -> 0.01.
    assert_eq!(Money::weighed_amount(m("5.00"), w("0.001")).map(|a| a.minor()), Ok(1));
    // 0.001 kg at 4.99/kg = 0.00499 -> 0.00.
    assert_eq!(Money::weighed_amount(m("4.99"), w("0.001")).map(|a| a.minor()), Ok(0));
    assert_eq!(Weight::of_pieces(w("100"), Quantity(3000)), Ok(w("300")));
    assert!(w("115").within_tolerance(w("100"), 15));
    assert!(w("85").within_tolerance(w("100"), 15));
    assert!(!w("115.001").within_tolerance(w("100"), 15));
    assert!(!w("84.999").within_tolerance(w("100"), 15));
    assert!(!w("300").beyond_sanity(w("100")) && w("300.001").beyond_sanity(w("100")));
    assert!(!w("0").is_sensible_nominal() && w("5000").is_sensible_nominal() && !w("5000.001").is_sensible_nominal());
    assert!(Weight::parse("1.2345").is_err() && Weight::parse("-1").is_err() && Weight::parse("1e3").is_err());
    assert!(Money::weighed_amount(m("99999999.00"), w("900000000")).is_err());
}

proptest! {
    #[test]
    fn pro_rata_shares_add_up_and_never_panic(fen in 0i64..=MAX_FEN, whole in 0i64..=MAX_MILLI, a in any::<u64>(), b in any::<i64>()) {
        let total = Money(fen);
        let w = Quantity(whole);
        if whole == 0 {
            prop_assert!(total.pro_rata(w, w).is_err());
        } else {
            let k = Quantity((a % (whole as u64 + 1)) as i64);
            prop_assert_eq!(total.pro_rata(w, w), Ok(total));
            prop_assert_eq!(total.pro_rata(Quantity::ZERO, w), Ok(Money::ZERO));
            let part = total.pro_rata(k, w);
            prop_assert!(part.is_ok_and(|p| p <= total));
            let _ = Quantity::from_minor(b).map(|q| total.pro_rata(q, w));
            let kg = Weight(fen % (MAX_MILLI + 1));
            prop_assert_eq!(kg.pro_rata(w, w), Ok(kg));
            prop_assert!(kg.pro_rata(k, w).is_ok_and(|p| p <= kg));
        }
    }

    #[test]
    fn weighed_amount_is_the_exact_product_rounded_half_up(fen in 0i64..=MAX_FEN, grams in 0i64..=MAX_MILLI) {
        let (p, g) = (Money(fen), Weight(grams));
        let exact = i128::from(fen) * i128::from(grams); // in thousandths of a fen
        match Money::weighed_amount(p, g) {
            Ok(a) => {
                let back = i128::from(a.minor()) * 1000;
                // |exact - a| <= half a fen, and exactly half rounds up.
                prop_assert!(back - exact <= 500 && exact - back < 500, "{} {}", exact, back);
                prop_assert!(a.minor() <= MAX_FEN);
            }
            Err(_) => prop_assert!((exact + 500) / 1000 > i128::from(MAX_FEN)),
        }
    }

    #[test]
    fn weight_helpers_never_panic(a in any::<i64>(), b in any::<i64>(), pct in any::<u8>()) {
        let wa = Weight::from_minor(a);
        let wb = Weight::from_minor(b);
        if let (Ok(x), Ok(y)) = (wa, wb) {
            let _ = x.within_tolerance(y, pct);
            let _ = x.beyond_sanity(y);
            let _ = x.is_sensible_nominal();
            let _ = x.checked_add(y);
            let _ = x.checked_sub(y);
            if let Ok(q) = Quantity::from_minor(b) {
                if let Ok(total) = Weight::of_pieces(x, q) {
                    prop_assert!(total.minor() <= MAX_MILLI);
                }
            }
        } else {
            prop_assert!(a.unsigned_abs() > MAX_MILLI as u64 || a < 0 || b.unsigned_abs() > MAX_MILLI as u64 || b < 0);
        }
    }

    #[test]
    fn weight_parse_never_panics(s in "\\PC{0,30}") {
        let _ = Weight::parse(&s);
    }

    #[test]
    fn weight_format_parse_is_identity(grams in 0i64..=MAX_MILLI) {
        let x = Weight(grams);
        prop_assert_eq!(Weight::parse(&x.to_string()), Ok(x));
    }

    #[test]
    fn tolerance_is_symmetric_in_grams(expected in 1i64..=1_000_000_000, d in 0i64..=1_000_000, pct in 0u8..=100) {
        let e = Weight(expected);
        let up = Weight::from_minor(expected + d);
        let down = Weight::from_minor(expected - d);
        if let (Ok(u), Ok(dn)) = (up, down) {
            prop_assert_eq!(u.within_tolerance(e, pct), dn.within_tolerance(e, pct));
        }
    }
}
