//! SPICE numbers: `1.5`, `-2e-3`, `10k`, `4.7u`, `2.2µ`, `1MEG`, `3mil`,
//! `10kOhm`. Scale suffixes are case-insensitive, so `M` is milli and `MEG`
//! is mega (the classic SPICE trap); letters after the suffix are units and
//! are ignored (`1uF`, `10kOhm`, `5V`).

/// Scale factor of a suffix at the start of `s` (already past the digits),
/// and its length in bytes.
fn suffix(s: &str) -> (f64, usize) {
    let b = s.as_bytes();
    let starts_ci =
        |word: &[u8]| b.len() >= word.len() && b[..word.len()].eq_ignore_ascii_case(word);
    if starts_ci(b"meg") {
        return (1e6, 3);
    }
    if starts_ci(b"mil") {
        return (25.4e-6, 3);
    }
    if s.starts_with('µ') || s.starts_with('μ') {
        return (1e-6, 2);
    }
    match b.first().map(u8::to_ascii_lowercase) {
        Some(b'f') => (1e-15, 1),
        Some(b'p') => (1e-12, 1),
        Some(b'n') => (1e-9, 1),
        Some(b'u') => (1e-6, 1),
        Some(b'm') => (1e-3, 1),
        Some(b'k') => (1e3, 1),
        Some(b'g') => (1e9, 1),
        Some(b't') => (1e12, 1),
        _ => (1.0, 0),
    }
}

/// `text * scale`, correctly rounded: a power-of-ten scale is folded into
/// the decimal exponent before conversion, so `5u` is exactly the double
/// nearest 5e-6 (a multiplication would give 4.9999999999999996e-6).
fn scaled(text: &str, scale: f64) -> Option<f64> {
    let k = match scale {
        1.0 => return text.parse().ok(),
        1e-15 => -15,
        1e-12 => -12,
        1e-9 => -9,
        1e-6 => -6,
        1e-3 => -3,
        1e3 => 3,
        1e6 => 6,
        1e9 => 9,
        1e12 => 12,
        _ => return text.parse::<f64>().ok().map(|m| m * scale),
    };
    let (mant, exp) = match text.find(['e', 'E']) {
        Some(p) => (&text[..p], text[p + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    let e = exp.checked_add(k)?;
    // Assemble `mant e exp` on the stack: no allocation on the hot path.
    let mut buf = [0u8; 96];
    let mut w = std::io::Cursor::new(&mut buf[..]);
    use std::io::Write;
    if write!(w, "{mant}e{e}").is_err() {
        return text.parse::<f64>().ok().map(|m| m * scale);
    }
    let len = w.position() as usize;
    std::str::from_utf8(&buf[..len]).ok()?.parse().ok()
}

/// Parse an unsigned SPICE number at the start of `s`. Returns the value and
/// the number of bytes consumed, including scale suffix and unit letters.
/// `None` if `s` does not start with a digit or `.digit`.
pub fn number_prefix(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        frac_digits = j - i - 1;
        if int_digits > 0 || frac_digits > 0 {
            i = j;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    // Exponent only if digits follow; otherwise `e` would be a unit letter.
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let d0 = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > d0 {
            i = j;
        }
    }
    let digits_end = i;
    let (scale, n) = suffix(&s[i..]);
    i += n;
    let value = scaled(&s[..digits_end], scale)?;
    // Unit letters (`Ohm`, `F`, `V`, `Ω`) carry no value.
    let rest = &s[i..];
    let unit_len: usize = rest
        .char_indices()
        .find(|&(_, c)| !c.is_alphabetic())
        .map_or(rest.len(), |(k, _)| k);
    Some((value, i + unit_len))
}

/// Parse a whole token as a (possibly signed) SPICE number.
pub fn parse_number(s: &str) -> Option<f64> {
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let (v, n) = number_prefix(body)?;
    (n == body.len()).then_some(sign * v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        // Suffixes are folded into the exponent: results are exact.
        a == b || (a - b).abs() <= 1e-16 * b.abs()
    }

    #[test]
    fn engineering_suffixes() {
        let cases = [
            ("1", 1.0),
            ("1.5", 1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("2e3", 2e3),
            ("2E-3", 2e-3),
            ("1f", 1e-15),
            ("1p", 1e-12),
            ("1n", 1e-9),
            ("1u", 1e-6),
            ("1µ", 1e-6),
            ("1μ", 1e-6),
            ("1m", 1e-3),
            ("1M", 1e-3),
            ("1k", 1e3),
            ("1K", 1e3),
            ("1meg", 1e6),
            ("1MEG", 1e6),
            ("1Meg", 1e6),
            ("1g", 1e9),
            ("1t", 1e12),
            ("1mil", 25.4e-6),
            ("10kOhm", 1e4),
            ("1uF", 1e-6),
            ("5V", 5.0),
            ("1F", 1e-15),
            ("2.5e-3k", 2.5),
            ("5u", 5e-6),
            ("10u", 1e-5),
            ("1.1n", 1.1e-9),
            ("-3k", -3e3),
            ("+3", 3.0),
            ("1Ω", 1.0),
        ];
        for (s, want) in cases {
            let got = parse_number(s).unwrap_or(f64::NAN);
            assert!(close(got, want), "{s}: got {got}, want {want}");
        }
    }

    #[test]
    fn rejects_non_numbers() {
        for s in ["", "k", ".", "-", "1.2.3", "1k5", "e3", "a1", "1e3.5"] {
            assert_eq!(parse_number(s), None, "{s}");
        }
    }

    #[test]
    fn prefix_reports_consumed_length() {
        assert_eq!(number_prefix("10k*2"), Some((1e4, 3)));
        assert_eq!(number_prefix("1e+2)"), Some((100.0, 4)));
        assert_eq!(number_prefix("3meg "), Some((3e6, 4)));
        assert_eq!(number_prefix("x"), None);
    }
}
