//! Finds who sent a request: the client IP of a common/combined access log line, of a JSON log
//! line with a client-address field, or of a syslog line that names one (`client: 1.2.3.4`).

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// JSON field names (lower-cased, without `_`, `-` and `.`) that hold the client address;
/// nested objects are flattened, so `{"client":{"ip":..}}` reads as `clientip`.
const JSON_FIELDS: &[&str] = &[
    "clientip",
    "clientaddr",
    "clientaddress",
    "remoteaddr",
    "remoteip",
    "remoteaddress",
    "sourceip",
    "sourceaddress",
    "srcip",
    "cip",
    "realip",
    "xforwardedfor",
    "httpxforwardedfor",
    "ip",
];

/// Nested objects deeper than this are not searched for a client field.
const MAX_JSON_DEPTH: usize = 3;

/// Markers after which syslog-style lines name the client.
const TEXT_MARKERS: &[&str] = &["client: ", "client=", "src=", "remote_addr=", "from "];

/// The client IP the line names, if it is a format that names one.
pub(crate) fn source_ip(line: &str) -> Option<IpAddr> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('{')
        && let Some(found) = json_source(trimmed)
    {
        return found;
    }
    text_source(line)
}

/// The client IP of an access log or syslog line.
fn text_source(line: &str) -> Option<IpAddr> {
    let trimmed = line.trim_start();
    // Common and combined logs start with the client; with a vhost first, it comes second.
    let mut tokens = trimmed.split(' ');
    let first = tokens.next().unwrap_or_default();
    if let Some(ip) = parse_ip(first) {
        return Some(ip);
    }
    if (first.contains(':') || first.contains('.'))
        && let Some(ip) = tokens.next().and_then(parse_ip)
        && trimmed.contains(" - ")
    {
        return Some(ip);
    }
    // Searchers built once: `str::find` would set one up per marker and line.
    static FINDERS: LazyLock<Vec<Finder<'static>>> =
        LazyLock::new(|| TEXT_MARKERS.iter().map(Finder::new).collect());
    TEXT_MARKERS
        .iter()
        .zip(FINDERS.iter())
        .find_map(|(marker, finder)| {
            let at = finder.find(line.as_bytes())? + marker.len();
            let token = line[at..]
                .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
                .next()?;
            parse_ip(token)
        })
}

/// The client address of a JSON object line: `None` when the line is not one JSON object (the
/// text formats are tried then), `Some(None)` when it is one without a client field.
///
/// The object is read, not built: strings stay borrowed from the line and only the fields
/// that can name the client, and objects they may be nested in, are looked at. The answer is
/// the one a walk over the parsed document gives, fields in name order (the order of a
/// `serde_json` map) and the last of duplicate names winning, and the syntax accepted is
/// `serde_json`'s, with its nesting limit.
fn json_source(text: &str) -> Option<Option<IpAddr>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let found = ObjectSeed { path: "", depth: 0 }
        .deserialize(&mut deserializer)
        .ok()?;
    deserializer.end().ok()?;
    Some(found)
}

/// What one field of an object contributes to the search.
enum Field {
    /// A string under a client-address name: its address, if it holds one.
    Address(Option<IpAddr>),
    /// An object searched in turn: the address found in it.
    Nested(Option<IpAddr>),
    /// Anything else.
    Other,
}

/// Reads an object (at `depth`, its fields named after `path`) and finds its client address.
#[derive(Clone, Copy)]
struct ObjectSeed<'p> {
    path: &'p str,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Option<IpAddr>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Option<IpAddr>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Names with their contributions, in document order; most are `Other`.
        // Sized for a typical log object, so that neither grows field by field.
        let mut fields: Vec<(Cow<'de, str>, Field)> = Vec::with_capacity(8);
        let mut name = String::with_capacity(32);
        while let Some(Key(key)) = map.next_key()? {
            name.clear();
            name.push_str(self.path);
            push_field_name(&mut name, &key);
            let field = map.next_value_seed(FieldSeed {
                name: &name,
                depth: self.depth,
                is_address: JSON_FIELDS.contains(&name.as_str()),
            })?;
            fields.push((key, field));
        }
        if fields
            .iter()
            .all(|(_, field)| matches!(field, Field::Other))
        {
            return Ok(None);
        }
        // A map keeps the last of duplicate names, in name order: a stable sort keeps the
        // document order among equal names.
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        // The fields kept are the last of each name, in name order (no list of them is built).
        let kept = || {
            fields
                .iter()
                .enumerate()
                .filter(|&(i, (key, _))| fields.get(i + 1).is_none_or(|next| next.0 != *key))
                .map(|(_, (_, field))| field)
        };
        let address = kept().find_map(|field| match field {
            Field::Address(ip) => *ip,
            _ => None,
        });
        Ok(address.or_else(|| {
            kept().find_map(|field| match field {
                Field::Nested(ip) => *ip,
                _ => None,
            })
        }))
    }
}

/// Appends a JSON field name as matched: without `_`, `-` and `.`, lower-cased.
fn push_field_name(name: &mut String, key: &str) {
    if key.is_ascii() {
        name.extend(
            key.bytes()
                .filter(|b| !matches!(b, b'_' | b'-' | b'.'))
                .map(|b| char::from(b.to_ascii_lowercase())),
        );
        return;
    }
    name.extend(
        key.chars()
            .filter(|c| !matches!(c, '_' | '-' | '.'))
            .flat_map(char::to_lowercase),
    );
}

/// Reads one field's value.
struct FieldSeed<'n> {
    /// The field's flattened name.
    name: &'n str,
    /// Depth of the object holding the field.
    depth: usize,
    /// The name is one of [`JSON_FIELDS`].
    is_address: bool,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Field;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if !self.is_address {
            return Ok(Field::Other);
        }
        Ok(Field::Address(
            value.split(',').next().and_then(|s| parse_ip(s.trim())),
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if self.depth >= MAX_JSON_DEPTH {
            return skip_map(map).map(|_| Field::Other);
        }
        ObjectSeed {
            path: self.name,
            depth: self.depth + 1,
        }
        .visit_map(map)
        .map(Field::Nested)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        skip_seq(seq).map(|_| Field::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
}

/// An object key, borrowed from the line unless it holds escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads a value through, keeping nothing. Unlike [`IgnoredAny`] on `serde_json`, it goes
/// through `deserialize_any`, so nesting counts against the parser's recursion limit exactly
/// as when a document is built.
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SkipVisitor;
        impl<'de> Visitor<'de> for SkipVisitor {
            type Value = Skip;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
                Ok(Skip)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Skip, A::Error> {
                skip_seq(seq)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Skip, A::Error> {
                skip_map(map)
            }
        }
        deserializer.deserialize_any(SkipVisitor)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Skip, A::Error> {
    while seq.next_element::<Skip>()?.is_some() {}
    Ok(Skip)
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Skip, A::Error> {
    while map.next_entry::<IgnoredAny, Skip>()?.is_some() {}
    Ok(Skip)
}

/// Parses `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`.
fn parse_ip(token: &str) -> Option<IpAddr> {
    let token = token.trim_matches(|c| c == '"' || c == '\'');
    if let Ok(ip) = token.parse() {
        return Some(ip);
    }
    if let Some(rest) = token.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = token.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<String> {
        source_ip(s).map(|ip| ip.to_string())
    }

    #[test]
    fn access_logs() {
        let combined =
            r#"203.0.113.7 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x""#;
        assert_eq!(ip(combined).as_deref(), Some("203.0.113.7"));
        let vhost = r#"example.org:443 2001:db8::1 - - [10/Dec/2021:10:00:00 +0000] "GET / HTTP/1.1" 200 5"#;
        assert_eq!(ip(vhost).as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn json_logs() {
        assert_eq!(
            ip(r#"{"client_ip":"198.51.100.2","msg":"x"}"#).as_deref(),
            Some("198.51.100.2")
        );
        let forwarded = r#"{"http":{"x-forwarded-for":"192.0.2.1, 10.0.0.1"}}"#;
        assert_eq!(ip(forwarded).as_deref(), Some("192.0.2.1"));
        assert_eq!(
            ip(r#"{"client":{"ip":"192.0.2.9:5050"}}"#).as_deref(),
            Some("192.0.2.9")
        );
        assert_eq!(ip(r#"{"remoteAddr":"[::1]:80"}"#).as_deref(), Some("::1"));
    }

    #[test]
    fn syslog_lines() {
        let nginx =
            "2021/12/10 10:00:00 [error] 1#1: *5 open() failed, client: 192.0.2.44, server: x";
        assert_eq!(ip(nginx).as_deref(), Some("192.0.2.44"));
        assert_eq!(
            ip("<134>Dec 10 host sshd[1]: Failed password from 192.0.2.5 port 22").as_deref(),
            Some("192.0.2.5")
        );
        assert_eq!(ip("Dec 10 host app: nothing here"), None);
    }

    /// The client address as found by building the whole document, the way it was first
    /// written: the reader must give the same answer for every line.
    fn reference(line: &str) -> Option<IpAddr> {
        use serde_json::Value;

        fn walk(value: &Value, path: &str, depth: usize) -> Option<IpAddr> {
            let Value::Object(map) = value else {
                return None;
            };
            let mut nested = Vec::new();
            for (key, field) in map {
                let mut name = path.to_string();
                push_field_name(&mut name, key);
                match field {
                    Value::String(s) if JSON_FIELDS.contains(&name.as_str()) => {
                        if let Some(ip) = s.split(',').next().and_then(|s| parse_ip(s.trim())) {
                            return Some(ip);
                        }
                    }
                    Value::Object(_) if depth < MAX_JSON_DEPTH => nested.push((name, field)),
                    _ => {}
                }
            }
            nested
                .into_iter()
                .find_map(|(name, field)| walk(field, &name, depth + 1))
        }

        let trimmed = line.trim_start();
        if trimmed.starts_with('{')
            && let Ok(value) = serde_json::from_str::<Value>(trimmed)
        {
            return walk(&value, "", 0);
        }
        text_source(line)
    }

    fn same_as_reference(line: &str) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('{') {
            let parses = serde_json::from_str::<serde_json::Value>(trimmed).is_ok();
            assert_eq!(json_source(trimmed).is_some(), parses, "{line:?}");
        }
        assert_eq!(source_ip(line), reference(line), "{line:?}");
    }

    #[test]
    fn json_reader_escapes_nesting_and_duplicates() {
        let cases = [
            // Escaped names and values.
            r#"{"client\u005fip":"198.51.100.7"}"#,
            r#"{"client_ip":"198.51.100.\u0038"}"#,
            r#"{"msg":"a \"quoted\" \\ text","ip":"192.0.2.1"}"#,
            // Name order decides, not document order; nested objects come after fields.
            r#"{"src_ip":"192.0.2.1","client_ip":"192.0.2.2"}"#,
            r#"{"a":{"ip":"192.0.2.3"},"z_ip":"x","remote_ip":"192.0.2.4"}"#,
            r#"{"b":{"ip":"192.0.2.5"},"a":{"ip":"192.0.2.6"}}"#,
            r#"{"a":{"x":1},"b":{"client":{"ip":"192.0.2.7"}}}"#,
            // Four levels are searched, a fifth is not.
            r#"{"a":{"b":{"c":{"ip":"192.0.2.8"}}}}"#,
            r#"{"a":{"b":{"c":{"d":{"ip":"192.0.2.9"}}}}}"#,
            // The last of duplicate names wins, whatever its type.
            r#"{"ip":"192.0.2.10","ip":"192.0.2.11"}"#,
            r#"{"ip":"192.0.2.12","ip":5}"#,
            r#"{"ip":5,"ip":"192.0.2.13"}"#,
            r#"{"ip":"nope","ip":"192.0.2.14","client_ip":"x"}"#,
            r#"{"c":{"ip":"192.0.2.15"},"c":{"ip":"192.0.2.16"}}"#,
            r#"{"c":{"ip":"192.0.2.17"},"c":null}"#,
            // Addresses in arrays, numbers and objects under an address name are not read.
            r#"{"ip":["192.0.2.18"],"client":[{"ip":"192.0.2.19"}]}"#,
            r#"{"ip":{"v4":"192.0.2.20"},"n":-1.5e3,"t":true,"f":false,"z":null}"#,
            r#"{"ip":{"ip":"192.0.2.21"}}"#,
            r#"{"Client-IP":"192.0.2.22","X.Forwarded.For":"192.0.2.23"}"#,
            r#"{"ıp":"192.0.2.24","İP":"192.0.2.25"}"#,
            r#"{}"#,
            r#"  {"ip":"192.0.2.26"}  "#,
        ];
        for case in cases {
            same_as_reference(case);
        }
        assert_eq!(ip(cases[3]).as_deref(), Some("192.0.2.2"));
        assert_eq!(ip(cases[9]).as_deref(), Some("192.0.2.11"));
        assert_eq!(ip(cases[10]), None);
    }

    #[test]
    fn json_reader_falls_back_to_text_on_bad_json() {
        for case in [
            // Truncated by the logger: not JSON, so the text formats are tried.
            r#"{"client_ip":"192.0.2.1","msg":"cut off"#,
            r#"{"client_ip":"192.0.2.1"} trailing from 192.0.2.2"#,
            r#"{"client_ip":"192.0.2.1",} from 192.0.2.3"#,
            r#"{"msg":"\ud800 lone surrogate","ip":"192.0.2.4"} from 192.0.2.5"#,
            r#"{"n":1e999,"ip":"192.0.2.6"}"#,
            "{\"ctl\":\"tab\tinside\",\"ip\":\"192.0.2.7\"}",
            "{",
            "{\"",
            "{\"ip\"",
            "{\"ip\":",
        ] {
            same_as_reference(case);
        }
        assert_eq!(
            ip(r#"{"client_ip":"192.0.2.1"} trailing from 192.0.2.2"#).as_deref(),
            Some("192.0.2.2")
        );
    }

    #[test]
    fn json_reader_survives_hostile_nesting() {
        // Past serde_json's nesting limit the line is not JSON (no stack overflow either).
        for depth in [1, 2, 3, 4, 5, 100, 127, 128, 129, 5_000] {
            for inner in ["{}", "[]", r#"{"ip":"192.0.2.1"}"#] {
                let objects = format!(
                    "{}{inner}{} from 192.0.2.9",
                    r#"{"a":"#.repeat(depth),
                    "}".repeat(depth)
                );
                same_as_reference(&objects);
                let arrays = format!(
                    r#"{{"ip":"192.0.2.2","x":{}{inner}{}}}"#,
                    "[".repeat(depth),
                    "]".repeat(depth)
                );
                same_as_reference(&arrays);
            }
        }
        let wide = format!("{{{}\"ip\":\"192.0.2.3\"}}", r#""ip":{},"#.repeat(20_000));
        same_as_reference(&wide);
    }

    #[test]
    fn json_reader_agrees_on_corpus_lines_cut_and_damaged() {
        let mut rng = crate::hunt::corpus::Rng::new(5);
        let mut lines = 0;
        for line in crate::hunt::corpus::generate(3, 400) {
            let json = format!(
                r#"{{"@timestamp":"2021-12-10T10:00:00Z","http":{{"x_forwarded_for":"{}, 10.0.0.1"}},"message":{},"client":{{"ip":"203.0.113.{}"}}}}"#,
                rng.below(256),
                serde_json::to_string(&line.text).unwrap(),
                rng.below(256)
            );
            same_as_reference(&json);
            for _ in 0..20 {
                let mut bytes = json.clone().into_bytes();
                match rng.below(3) {
                    0 => bytes.truncate(rng.below(bytes.len())),
                    1 => {
                        let at = rng.below(bytes.len());
                        bytes[at] = *rng.pick(b"{}[]\",:0 \\x");
                    }
                    _ => {
                        let at = rng.below(bytes.len());
                        bytes.remove(at);
                    }
                }
                same_as_reference(&String::from_utf8_lossy(&bytes));
                lines += 1;
            }
        }
        assert!(lines >= 8_000, "{lines}");
    }
}
