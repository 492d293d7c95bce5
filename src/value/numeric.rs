//! PostgreSQL NUMERIC in its binary wire form → exact decimal text.
//!
//! Decoding through a big-decimal type loses the column's display scale
//! (`1.50::numeric(5,2)` would read back as `1.5000`); reading the wire
//! format ourselves keeps exactly the digits PostgreSQL would print.

const SIGN_NEGATIVE: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_POS_INF: u16 = 0xD000;
const SIGN_NEG_INF: u16 = 0xF000;

pub fn pg_numeric_to_string(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i16 as i64;
    let sign = word(4)?;
    let dscale = word(6)? as i64;
    match sign {
        SIGN_NAN => return Some("NaN".into()),
        SIGN_POS_INF => return Some("Infinity".into()),
        SIGN_NEG_INF => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Option<_>>()?;
    let group = |i: i64| -> u16 {
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut out = String::new();
    if sign == SIGN_NEGATIVE && digits.iter().any(|d| *d != 0) {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                out.push_str(&group(i).to_string());
            } else {
                out.push_str(&format!("{:04}", group(i)));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut frac = String::new();
        let mut i = weight + 1;
        while (frac.len() as i64) < dscale {
            frac.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        frac.truncate(dscale as usize);
        out.push_str(&frac);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(ndigits: &[u16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend((ndigits.len() as u16).to_be_bytes());
        b.extend(weight.to_be_bytes());
        b.extend(sign.to_be_bytes());
        b.extend(dscale.to_be_bytes());
        for d in ndigits {
            b.extend(d.to_be_bytes());
        }
        b
    }

    #[test]
    fn keeps_the_display_scale() {
        assert_eq!(
            pg_numeric_to_string(&encode(&[1, 5000], 0, 0, 2)).unwrap(),
            "1.50"
        );
        assert_eq!(
            pg_numeric_to_string(&encode(&[1, 5000], 0, 0, 1)).unwrap(),
            "1.5"
        );
        assert_eq!(pg_numeric_to_string(&encode(&[], 0, 0, 0)).unwrap(), "0");
        assert_eq!(
            pg_numeric_to_string(&encode(&[], 0, 0, 3)).unwrap(),
            "0.000"
        );
    }

    #[test]
    fn large_small_and_negative() {
        // 12345678901234567890.1234567890
        let d = encode(&[1234, 5678, 9012, 3456, 7890, 1234, 5678, 9000], 4, 0, 10);
        assert_eq!(
            pg_numeric_to_string(&d).unwrap(),
            "12345678901234567890.1234567890"
        );
        // -0.0001
        assert_eq!(
            pg_numeric_to_string(&encode(&[1], -1, SIGN_NEGATIVE, 4)).unwrap(),
            "-0.0001"
        );
        // 0.00000123
        assert_eq!(
            pg_numeric_to_string(&encode(&[123], -2, 0, 8)).unwrap(),
            "0.00000123"
        );
        // 10000 (weight 1, trailing zero groups stripped)
        assert_eq!(
            pg_numeric_to_string(&encode(&[1], 1, 0, 0)).unwrap(),
            "10000"
        );
        assert_eq!(
            pg_numeric_to_string(&encode(&[], 0, SIGN_NAN, 0)).unwrap(),
            "NaN"
        );
    }

    #[test]
    fn truncated_input_is_none() {
        assert_eq!(pg_numeric_to_string(&[0, 1, 0]), None);
        assert_eq!(pg_numeric_to_string(&encode(&[1], 0, 0, 0)[..9]), None);
    }
}
