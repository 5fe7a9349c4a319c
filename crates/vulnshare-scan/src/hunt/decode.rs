//! Peels the transport encodings attackers wrap around a lookup (URL, `\uXXXX`, `\xXX`, octal,
//! JSON string escapes, HTML entities) so the interpreter sees what log4j would have seen.
//!
//! Each pass decodes every recognised escape once, left to right; passes repeat until nothing
//! changes or the layer limit is reached, which handles double and triple encodings and mixes such
//! as `%5Cu0024` (URL-encoded `\u0024`).

use std::borrow::Cow;

/// Decodes `input` repeatedly, at most `max_layers` passes; returns the text and the passes used.
/// Text without any escape (most lines) is returned as it is, without a copy.
pub(crate) fn decode_layers(input: &[u8], max_layers: u8) -> (Cow<'_, [u8]>, u8) {
    let mut current = Cow::Borrowed(input);
    let mut layers = 0;
    while layers < max_layers {
        match decode_once(&current) {
            Some(next) => {
                current = Cow::Owned(next);
                layers += 1;
            }
            None => break,
        }
    }
    (current, layers)
}

/// Decodes every escape in `input` once; `None` when the input holds no escape at all.
///
/// Text between escapes is copied a run at a time, and nothing is allocated before the first
/// escape that decodes: many candidate lines hold a `%`, `&` or `\` that starts no escape (a
/// query string, a Windows path), and copying them byte by byte into a new line was most of
/// the decoder's time.
pub(crate) fn decode_once(input: &[u8]) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let mut changed = false;
    // What one escape decodes to, before it is known to decode.
    let mut decoded: Vec<u8> = Vec::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(offset) = memchr::memchr3(b'%', b'\\', b'&', &input[from..]) {
        let at = from + offset;
        let rest = &input[at..];
        decoded.clear();
        let consumed = match rest[0] {
            b'%' => percent(rest, &mut decoded),
            b'\\' => backslash(rest, &mut decoded),
            _ => entity(rest, &mut decoded),
        };
        match consumed {
            Some(consumed) => {
                if !changed {
                    changed = true;
                    out.reserve(input.len());
                }
                out.extend_from_slice(&input[copied..at]);
                out.extend_from_slice(&decoded);
                copied = at + consumed;
                from = copied;
            }
            None => from = at + 1,
        }
    }
    if !changed {
        return None;
    }
    out.extend_from_slice(&input[copied..]);
    Some(out)
}

fn hex_value(byte: u8) -> Option<u32> {
    (byte as char).to_digit(16)
}

fn hex_number(digits: &[u8]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0u32, |acc, &d| Some(acc * 16 + hex_value(d)?))
}

fn push_char(out: &mut Vec<u8>, code: u32) {
    let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// `%XX` (a byte) and the IIS-style `%uXXXX` (a code point).
fn percent(rest: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    if rest.len() >= 6
        && (rest[1] | 0x20) == b'u'
        && let Some(code) = hex_number(&rest[2..6])
    {
        push_char(out, code);
        return Some(6);
    }
    let byte = hex_number(rest.get(1..3)?)?;
    out.push(byte as u8);
    Some(3)
}

/// `\uXXXX` (with surrogate pairs), `\xXX`, three-digit octal and the JSON single-letter escapes.
fn backslash(rest: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    match *rest.get(1)? {
        b'u' | b'U' => {
            let high = hex_number(rest.get(2..6)?)?;
            if (0xD800..0xDC00).contains(&high)
                && rest.get(6) == Some(&b'\\')
                && matches!(rest.get(7), Some(b'u' | b'U'))
                && let Some(low) = rest.get(8..12).and_then(hex_number)
                && (0xDC00..0xE000).contains(&low)
            {
                push_char(out, 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00));
                return Some(12);
            }
            push_char(out, high);
            Some(6)
        }
        // Raw bytes rather than code points, so `\xc4\xb1` becomes the UTF-8 of `ı`.
        b'x' | b'X' => {
            out.push(hex_number(rest.get(2..4)?)? as u8);
            Some(4)
        }
        b'0'..=b'3' => {
            let digits = rest.get(1..4)?;
            if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                return None;
            }
            let value = digits
                .iter()
                .fold(0u32, |acc, &d| acc * 8 + u32::from(d - b'0'));
            out.push(value as u8);
            Some(4)
        }
        b'"' | b'\\' | b'/' | b'\'' => {
            out.push(rest[1]);
            Some(2)
        }
        b'n' => simple(out, b'\n'),
        b't' => simple(out, b'\t'),
        b'r' => simple(out, b'\r'),
        b'b' => simple(out, 0x08),
        b'f' => simple(out, 0x0C),
        _ => None,
    }
}

fn simple(out: &mut Vec<u8>, byte: u8) -> Option<usize> {
    out.push(byte);
    Some(2)
}

/// Named entities worth decoding: the ones that can spell a lookup, plus the ones that wrap them.
const NAMED_ENTITIES: &[(&str, char)] = &[
    ("dollar", '$'),
    ("lbrace", '{'),
    ("lcub", '{'),
    ("rbrace", '}'),
    ("rcub", '}'),
    ("colon", ':'),
    ("sol", '/'),
    ("period", '.'),
    ("hyphen", '-'),
    ("minus", '-'),
    ("amp", '&'),
    ("quot", '"'),
    ("apos", '\''),
    ("lt", '<'),
    ("gt", '>'),
    ("percnt", '%'),
    ("bsol", '\\'),
    ("num", '#'),
];

/// `&#36;`, `&#x24;` (the `;` optional, as browsers accept) and the named entities above.
fn entity(rest: &[u8], out: &mut Vec<u8>) -> Option<usize> {
    if rest.get(1) == Some(&b'#') {
        let (radix, start) = match rest.get(2) {
            Some(b'x' | b'X') => (16, 3),
            _ => (10, 2),
        };
        let digits = rest[start..]
            .iter()
            .take(8)
            .take_while(|d| (**d as char).is_digit(radix))
            .count();
        if digits == 0 {
            return None;
        }
        let text = std::str::from_utf8(&rest[start..start + digits]).ok()?;
        let code = u32::from_str_radix(text, radix).ok()?;
        push_char(out, code);
        let end = start + digits;
        return Some(if rest.get(end) == Some(&b';') {
            end + 1
        } else {
            end
        });
    }
    let semicolon = memchr::memchr(b';', &rest[1..rest.len().min(9)])? + 1;
    let name = std::str::from_utf8(&rest[1..semicolon]).ok()?;
    let (_, c) = NAMED_ENTITIES
        .iter()
        .find(|(entity, _)| entity.eq_ignore_ascii_case(name))?;
    push_char(out, u32::from(*c));
    Some(semicolon + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(s: &str) -> String {
        String::from_utf8(decode_layers(s.as_bytes(), 4).0.into_owned()).unwrap()
    }

    #[test]
    fn url_encoding_once_twice_thrice_and_partial() {
        assert_eq!(decode("%24%7Bjndi:x%7D"), "${jndi:x}");
        assert_eq!(decode("%2524%257Bjndi%257D"), "${jndi}");
        assert_eq!(decode("%252524%25257B"), "${");
        assert_eq!(decode("%24{jndi:x}"), "${jndi:x}");
        assert_eq!(decode("%u0024%u007B"), "${");
        assert_eq!(decode_layers(b"%252524", 4).1, 3);
    }

    #[test]
    fn backslash_escapes() {
        assert_eq!(decode(r"\u0024\u007bjndi\u007D"), "${jndi}");
        assert_eq!(decode(r"\x24\x7Bjndi\x7d"), "${jndi}");
        assert_eq!(decode(r"\044\173jndi\175"), "${jndi}");
        assert_eq!(decode(r"\\u0024"), "$");
        assert_eq!(decode(r"\xc4\xb1"), "ı");
        assert_eq!(decode(r"\ud83d\ude00"), "😀");
    }

    #[test]
    fn json_string_escapes() {
        assert_eq!(decode(r#"ldap:\/\/x\"y\\z"#), "ldap://x\"y\\z");
        assert_eq!(decode(r"a\tb\nc"), "a\tb\nc");
    }

    #[test]
    fn html_entities() {
        assert_eq!(decode("&#36;&#123;jndi&#125;"), "${jndi}");
        assert_eq!(decode("&#x24;&#X7b;"), "${");
        assert_eq!(decode("&dollar;&lbrace;jndi&colon;x&rbrace;"), "${jndi:x}");
        assert_eq!(decode("&DOLLAR;&lcub;"), "${");
        assert_eq!(decode("&amp;#36;"), "$");
        assert_eq!(decode("&#036&#x7B"), "${");
    }

    #[test]
    fn plain_text_is_untouched() {
        assert!(decode_once(b"GET /index.html HTTP/1.1").is_none());
        assert_eq!(decode("100% sure & ready \\q"), "100% sure & ready \\q");
        assert_eq!(decode("C:\\new"), "C:\new");
    }

    #[test]
    fn text_around_escapes_is_kept_as_it_is() {
        assert!(decode_once(b"GET /?a=1&b=2 100% C:\\q &x; &#; %zz").is_none());
        assert_eq!(decode("a=1&b=2 %24 &#36;&q \\q%7B%"), "a=1&b=2 $ $&q \\q{%");
        assert_eq!(decode("%24"), "$");
        assert_eq!(decode("x%"), "x%");
    }

    #[test]
    fn layer_limit_is_respected() {
        let (out, layers) = decode_layers(b"%25252524", 2);
        assert_eq!(layers, 2);
        assert_eq!(&*out, b"%2524");
    }
}
