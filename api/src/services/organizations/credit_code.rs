//! Unified social credit codes (统一社会信用代码, GB 32100-2015).

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
