//! Netlist file encodings. SPICE tools on Windows write UTF-16LE (LTspice
//! does, with or without a byte-order mark) and older files are Latin-1
//! (`µ` as byte 0xB5). We detect, in order: UTF-8 BOM, UTF-16LE/BE BOM,
//! BOM-less UTF-16LE (many zero bytes at odd offsets), valid UTF-8, and
//! fall back to Latin-1 (read as Windows-1252, its superset).

use encoding_rs::{UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The encoding a file was decoded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
}

/// BOM-less UTF-16LE heuristic: ASCII text in UTF-16LE has a zero high
/// byte in (nearly) every odd position; UTF-8 and Latin-1 netlists never
/// contain NUL bytes.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(1024) & !1];
    if sample.len() < 4 {
        return false;
    }
    let odd_zero = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    let even_zero = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    odd_zero * 10 >= (sample.len() / 2) * 6 && even_zero * 10 < sample.len() / 2
}

/// Decode a netlist file. Takes the bytes by value so the common UTF-8 case
/// costs no copy.
pub fn decode(bytes: Vec<u8>) -> (String, TextEncoding) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return match std::str::from_utf8(rest) {
            Ok(s) => (s.to_string(), TextEncoding::Utf8),
            Err(_) => latin1(rest),
        };
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        let (s, _, _) = UTF_16LE.decode(&bytes);
        return (s.into_owned(), TextEncoding::Utf16Le);
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        let (s, _, _) = UTF_16BE.decode(&bytes);
        return (s.into_owned(), TextEncoding::Utf16Be);
    }
    if looks_like_utf16le(&bytes) {
        let (s, _) = UTF_16LE.decode_without_bom_handling(&bytes);
        return (s.into_owned(), TextEncoding::Utf16Le);
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, TextEncoding::Utf8),
        Err(e) => latin1(e.as_bytes()),
    }
}

fn latin1(bytes: &[u8]) -> (String, TextEncoding) {
    let (s, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    (s.into_owned(), TextEncoding::Latin1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn detects_each_encoding() {
        let text = "title\nR1 a 0 4.7µ\n";
        assert_eq!(
            decode(text.as_bytes().to_vec()),
            (text.into(), TextEncoding::Utf8)
        );
        assert_eq!(
            decode(utf16le(text, true)),
            (text.into(), TextEncoding::Utf16Le)
        );
        assert_eq!(
            decode(utf16le(text, false)),
            (text.into(), TextEncoding::Utf16Le)
        );
        let latin: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
        assert_eq!(decode(latin), (text.into(), TextEncoding::Latin1));
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend_from_slice(text.as_bytes());
        assert_eq!(decode(bom8), (text.into(), TextEncoding::Utf8));
    }
}
